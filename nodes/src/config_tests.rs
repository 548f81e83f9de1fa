use super::*;

#[test]
fn an_empty_file_gives_a_working_single_node() {
    let config = Config::parse("").unwrap();
    let node = config.node(None).unwrap();
    assert_eq!(node.http_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(config.cluster.shards, 256);
    assert_eq!(config.identity.access_token_ttl_secs, 900);
}

#[test]
fn the_shipped_file_parses() {
    let text = include_str!("../../cluster.toml");
    let config = Config::parse(text).unwrap();
    assert_eq!(config.node(Some("n1")).unwrap().http_addr.to_string(), "127.0.0.1:8080");
    assert!(config.node(Some("n9")).is_err());
}

#[test]
fn typos_are_errors_not_silent_defaults() {
    assert!(Config::parse("[runtime]\npassivate_afterr_secs = 3\n").is_err());
    assert!(Config::parse("[cluster]\nshards = 0\n").is_err());
}

#[test]
fn proxies_and_origins_are_checked_at_start() {
    let ok = "[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.168.0.7\"]\nforwarded_header = \"Forwarded\"\ncors_origins = [\"https://shop.example:8443\"]\n";
    let config = Config::parse(ok).unwrap();
    assert!(config.http.proxies().unwrap().trusts("10.2.3.4".parse().unwrap()));
    for bad in [
        "[http]\ntrusted_proxies = [\"10.0.0.0/40\"]\n",
        "[http]\nforwarded_header = \"x-real-ip\"\n",
        "[http]\ncors_origins = [\"https://shop.example/\"]\n",
    ] {
        let err = Config::parse(bad).unwrap_err();
        assert!(err.starts_with("http."), "{bad}: {err}");
    }
}

#[test]
fn payments_are_checked_and_secrets_never_come_from_the_file() {
    let config = Config::parse("").unwrap();
    let settings = config.payments.settings().unwrap();
    assert_eq!(settings.default_processor, "sandbox");
    assert_eq!(settings.reconcile_every, 60_000);
    assert_eq!(settings.sandbox.unwrap().webhook_secrets.len(), 1, "a fresh one");
    for bad in [
        "[payments]\ncapture = \"sometimes\"\n",
        "[payments]\ndefault_processor = \"acme\"\n",
        "[payments.sandbox]\nenabled = false\n",
        "[payments]\nreconcile_every_secs = 0\n",
    ] {
        let err = Config::parse(bad).unwrap_err();
        assert!(err.starts_with("payments."), "{bad}: {err}");
    }
    // Stripe's key is named, never written: unset, start-up says which.
    let stripe = "[payments]\ndefault_processor = \"stripe\"\n[payments.stripe]\nsecret_key_env = \"SHOP_TEST_UNSET_STRIPE_KEY\"\n";
    let config = Config::parse(stripe).unwrap();
    let err = config.payments.settings().unwrap_err();
    assert!(err.contains("SHOP_TEST_UNSET_STRIPE_KEY"), "{err}");
    assert!(Config::parse("[payments.stripe]\nsecret_key = \"sk_live_x\"\n").is_err());
}

#[test]
fn default_variants_are_read_and_checked() {
    let config = Config::parse(
        "[cluster]\nshards = 8\n[media]\ndefault_variants = [{ name = \"small\", width = 64, height = 48, fit = \"fill\", format = \"png\" }]\n",
    )
    .unwrap();
    assert_eq!(config.media.default_variants.len(), 1);
    assert_eq!(config.media.default_variants[0].height, 48);
    let refused = Config::parse(
        "[cluster]\nshards = 8\n[media]\ndefault_variants = [{ name = \"Big!\", width = 0, height = 48, fit = \"fill\", format = \"png\" }]\n",
    )
    .unwrap_err();
    assert!(refused.contains("media.default_variants"), "{refused}");
    // The shipped file's defaults hold.
    let shipped = Config::parse(include_str!("../../cluster.toml")).unwrap();
    assert_eq!(shipped.media.default_variants, MediaSection::default().default_variants);
}
