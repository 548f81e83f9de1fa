use super::*;

fn claims(exp: i64) -> AccessClaims {
    AccessClaims {
        sub: "u1".into(),
        iat: exp - 900,
        exp,
        sid: "s".into(),
        roles: vec!["customer".into()],
        perms: vec!["cart:use".into()],
        quotas: BTreeMap::new(),
    }
}

fn now_secs() -> i64 {
    crate::ports::system_now() / 1000
}

#[tokio::test]
async fn signs_and_verifies_and_rejects_tampering() {
    let storage = Storage::temporary(1).unwrap();
    let ring = KeyRing::open(&storage, 3600, 900).await.unwrap();
    let token = ring.sign(&claims(now_secs() + 900)).unwrap();
    assert_eq!(ring.verify(&token, now_secs()).unwrap().sub, "u1");
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","iat":1,"exp":99999999999,"sid":"s","roles":["admin"],"perms":["identity:admin"],"quotas":{}}"#);
    let forged = parts.join(".");
    assert_eq!(ring.verify(&forged, now_secs()).unwrap_err().code(), "invalid_token");
    let other = KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap();
    let foreign = other.sign(&claims(now_secs() + 900)).unwrap();
    assert_eq!(
        ring.verify_fetching(&foreign, now_secs()).await.unwrap_err().code(),
        "invalid_token"
    );
    assert_eq!(ring.verify("garbage", now_secs()).unwrap_err().code(), "invalid_token");
}

#[tokio::test]
async fn expired_tokens_are_refused_even_when_cached() {
    let storage = Storage::temporary(1).unwrap();
    let ring = KeyRing::open(&storage, 3600, 900).await.unwrap();
    let token = ring.sign(&claims(now_secs() + 10)).unwrap();
    assert!(ring.verify(&token, now_secs()).is_ok());
    let later = now_secs() + 10 + LEEWAY_SECS as i64 + 1;
    assert_eq!(ring.verify(&token, later).unwrap_err().code(), "token_expired");
    let stale = ring.sign(&claims(now_secs() - 3600)).unwrap();
    assert_eq!(ring.verify(&stale, now_secs()).unwrap_err().code(), "token_expired");
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_publishes_both_keys() {
    let storage = Storage::temporary(1).unwrap();
    let ring = KeyRing::open(&storage, 3600, 900).await.unwrap();
    let old = ring.sign(&claims(now_secs() + 900)).unwrap();
    ring.rotate(crate::ports::system_now()).await.unwrap();
    let new = ring.sign(&claims(now_secs() + 900)).unwrap();
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&old), kid(&new));
    assert!(ring.verify(&old, now_secs()).is_ok());
    assert!(ring.verify(&new, now_secs()).is_ok());
    let jwks = ring.jwks();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [kid(&new), kid(&old)]);
    assert!(!jwks.to_string().contains("pkcs8") && !jwks.to_string().contains("\"d\""));
}

#[tokio::test]
async fn keys_survive_a_restart_and_retired_keys_are_dropped_after_their_tokens_expire() {
    let dir = tempfile::tempdir().unwrap();
    let token;
    let t0 = crate::ports::system_now();
    {
        let storage = Storage::open(dir.path(), 1, Default::default()).unwrap();
        let ring = KeyRing::open(&storage, 3600, 900).await.unwrap();
        token = ring.sign(&claims(now_secs() + 900)).unwrap();
        storage.flush_now().unwrap();
    }
    let storage = Storage::open(dir.path(), 1, Default::default()).unwrap();
    let ring = KeyRing::open(&storage, 3600, 900).await.unwrap();
    assert!(ring.verify(&token, now_secs()).is_ok(), "same key after restart");
    ring.rotate(t0).await.unwrap();
    // Far past the old key's retirement plus the token lifetime.
    ring.rotate(t0 + 2 * 3_600_000).await.unwrap();
    assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
}

struct Peers(Vec<(String, [u8; 32])>);

impl KeySource for Peers {
    fn fetch(&self) -> BoxFuture<'_, Vec<(String, [u8; 32])>> {
        Box::pin(async { self.0.clone() })
    }
}

#[tokio::test]
async fn tokens_signed_by_another_node_verify_after_one_key_refresh() {
    let here = KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap();
    let there = KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap();
    let token = there.sign(&claims(now_secs() + 900)).unwrap();
    assert_eq!(here.verify(&token, now_secs()).unwrap_err().code(), "unknown_key");
    here.set_key_source(Arc::new(Peers(there.own_public_keys())));
    assert_eq!(here.verify_fetching(&token, now_secs()).await.unwrap().sub, "u1");
    assert!(here.verify(&token, now_secs()).is_ok(), "remembered");
}

/// A peer that answers slowly and counts how often it was asked.
struct SlowPeers(Vec<(String, [u8; 32])>, std::sync::atomic::AtomicUsize);

impl KeySource for SlowPeers {
    fn fetch(&self) -> BoxFuture<'_, Vec<(String, [u8; 32])>> {
        Box::pin(async {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            self.0.clone()
        })
    }
}

#[tokio::test]
async fn a_burst_of_tokens_from_another_node_all_verify_with_one_refresh() {
    // The first requests through an edge that has not seen a peer's key
    // arrive together: none may be refused while the key is being fetched.
    let here = Arc::new(KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap());
    let there = KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap();
    let peers = Arc::new(SlowPeers(there.own_public_keys(), Default::default()));
    here.set_key_source(peers.clone());
    let tokens: Vec<String> = (0..20)
        .map(|i| there.sign(&claims(now_secs() + 900 + i)).unwrap())
        .collect();
    let verified = futures::future::join_all(tokens.iter().map(|t| {
        let here = here.clone();
        async move { here.verify_fetching(t, now_secs()).await }
    }))
    .await;
    assert!(
        verified.iter().all(|v| v.as_ref().is_ok_and(|c| c.sub == "u1")),
        "{verified:?}"
    );
    assert_eq!(peers.1.load(std::sync::atomic::Ordering::SeqCst), 1);
    // A token signed by a key nobody has is refused without a second
    // refresh within the second.
    let stranger = KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap();
    let forged = stranger.sign(&claims(now_secs() + 900)).unwrap();
    assert_eq!(
        here.verify_fetching(&forged, now_secs()).await.unwrap_err().code(),
        "invalid_token"
    );
    assert_eq!(peers.1.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn peers_keys_learned_survive_a_restart_until_no_token_can_need_them() {
    let storage = Storage::temporary(1).unwrap();
    let there = KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap();
    let token = there.sign(&claims(now_secs() + 900)).unwrap();
    let now = crate::ports::system_now();
    {
        let here = KeyRing::open(&storage, 3600, 900).await.unwrap();
        here.learn(there.own_public_keys(), now).unwrap();
        assert!(here.verify(&token, now_secs()).is_ok());
        // Its own keys are not learned as foreign ones.
        here.learn(here.own_public_keys(), now).unwrap();
    }
    // Restarted, with the issuer unreachable (no key source): still valid.
    let restarted = KeyRing::open(&storage, 3600, 900).await.unwrap();
    assert_eq!(restarted.verify(&token, now_secs()).unwrap().sub, "u1");
    // A key learned longer ago than a rotation plus a token's life is gone.
    let old = KeyRing::open(&Storage::temporary(1).unwrap(), 3600, 900).await.unwrap();
    let stale = old.sign(&claims(now_secs() + 900)).unwrap();
    restarted
        .learn(old.own_public_keys(), now - (3600 + 900 + 31) * 1000)
        .unwrap();
    assert!(restarted.verify(&stale, now_secs()).is_ok(), "kept while running");
    let again = KeyRing::open(&storage, 3600, 900).await.unwrap();
    assert_eq!(again.verify(&stale, now_secs()).unwrap_err().code(), "unknown_key");
    assert!(again.verify(&token, now_secs()).is_ok());
}
