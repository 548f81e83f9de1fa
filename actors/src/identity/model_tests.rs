use super::access::*;
use super::fields::*;
use super::*;

const T0: Millis = 1_700_000_000_000;

fn registration() -> Registration {
    Registration::parse("Alice_1", "Alice@Example.com", "correct horse battery", Some("Alice")).unwrap()
}

fn user() -> User {
    User::new("u1".into(), registration(), "hash".into(), [7; 32], T0)
}

fn field_errors(err: Error) -> BTreeMap<String, String> {
    match err {
        Error::Validation { fields } => fields,
        other => panic!("expected validation error, got {other:?}"),
    }
}

#[test]
fn usernames_are_case_folded_and_bounded() {
    assert_eq!(username("  Alice.B-1_ ").unwrap(), "alice.b-1_");
    assert!(username("ab").is_err());
    assert!(username(&"a".repeat(33)).is_err());
    assert!(username(&"a".repeat(32)).is_ok());
    for bad in ["al ice", "al@ce", "ålice", "alice!"] {
        assert!(username(bad).is_err(), "{bad}");
    }
}

#[test]
fn emails_must_look_deliverable() {
    assert_eq!(email(" bob@example.com ").unwrap(), "bob@example.com");
    for bad in [
        "bob",
        "bob@",
        "@example.com",
        "bob@localhost",
        "bob@example.",
        "a b@example.com",
        "Bob <bob@example.com>",
    ] {
        assert!(email(bad).is_err(), "{bad}");
    }
    assert_eq!(email_key("Bob@Example.COM"), "bob@example.com");
    assert_eq!(claim_key_email("Bob@Example.COM"), claim_key_email("bob@example.com"));
}

#[test]
fn passwords_follow_the_policy() {
    assert!(password("correct horse battery", "alice").is_ok());
    assert!(password("short", "alice").unwrap_err().contains("12"));
    assert!(password(&"x1".repeat(65), "alice").unwrap_err().contains("128"));
    let long: String = (0..128u32)
        .map(|i| char::from(b'a' + ((i * 7 + i / 26) % 26) as u8))
        .collect();
    assert!(password(&long, "alice").is_ok(), "128 characters is fine");
    assert!(
        password("my name is ALICE ok", "alice")
            .unwrap_err()
            .contains("username")
    );
    for common in [
        "password1234",
        "Password2024!",
        "qwertyuiop123",
        "123456789012",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "iloveyou!!!!",
    ] {
        assert!(password(common, "zed").unwrap_err().contains("common"), "{common}");
    }
    // Length counts characters, not bytes.
    assert!(password("ééééééééééé", "alice").is_err());
    assert!(password("Ünïcödé wörds", "alice").is_ok());
}

#[test]
fn registration_reports_every_bad_field_at_once() {
    let fields = field_errors(Registration::parse("a", "nope", "short", Some("")).unwrap_err());
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(names, ["display_name", "email", "password", "username"]);
    let r = registration();
    assert_eq!(
        (r.username.as_str(), r.email.as_str()),
        ("alice_1", "Alice@Example.com")
    );
}

#[test]
fn phones_are_e164() {
    assert!(phone("+14155550100").is_ok());
    for bad in [
        "14155550100",
        "+0155550100",
        "+1415555",
        "+1415555010000000",
        "+1 415 555 0100",
    ] {
        assert!(phone(bad).is_err(), "{bad}");
    }
}

fn addr(country: &str) -> Address {
    Address {
        line1: "1 Main St".into(),
        line2: None,
        city: "Springfield".into(),
        region: Some("IL".into()),
        postal_code: "62701".into(),
        country: country.into(),
    }
}

#[test]
fn addresses_are_checked_field_by_field() {
    assert_eq!(address(&addr("us")).unwrap().country, "US");
    let mut bad = addr("XX");
    bad.city = " ".into();
    let reasons: Vec<&str> = address(&bad).unwrap_err().into_iter().map(|(f, _)| f).collect();
    assert_eq!(reasons, ["city", "country"]);
    assert!(is_country_code("TW") && is_country_code("GB") && !is_country_code("UK"));
}

#[test]
fn new_users_are_unverified_customers() {
    let u = user();
    assert!(!u.email_verified && !u.disabled);
    assert_eq!(u.roles, ["customer"]);
    assert_eq!(u.quotas()["max_addresses"], 10);
}

#[test]
fn disabled_accounts_are_refused_and_lose_their_sessions() {
    let u = user().with_session("f1".into(), [1; 32], T0).with_disabled(true);
    assert_eq!(u.check_enabled().unwrap_err().code(), "account_disabled");
    assert!(u.sessions.is_empty());
    assert!(u.with_disabled(false).check_enabled().is_ok());
}

#[test]
fn refresh_tokens_rotate_and_reuse_is_detected() {
    let u = user().with_session("f1".into(), [1; 32], T0);
    assert_eq!(
        u.check_refresh(&[1; 32], T0),
        RefreshCheck::Current { family: "f1".into() }
    );
    let rotated = u.with_rotated("f1", [2; 32]);
    assert_eq!(
        rotated.check_refresh(&[2; 32], T0),
        RefreshCheck::Current { family: "f1".into() }
    );
    assert_eq!(
        rotated.check_refresh(&[1; 32], T0),
        RefreshCheck::Reused { family: "f1".into() }
    );
    assert_eq!(rotated.check_refresh(&[9; 32], T0), RefreshCheck::Unknown);
    let revoked = rotated.without_session("f1");
    assert_eq!(revoked.check_refresh(&[2; 32], T0), RefreshCheck::Unknown);
}

#[test]
fn refresh_tokens_expire() {
    let u = user().with_session("f1".into(), [1; 32], T0);
    assert!(matches!(
        u.check_refresh(&[1; 32], T0 + REFRESH_TOKEN_LIFETIME),
        RefreshCheck::Reused { .. }
    ));
}

#[test]
fn sessions_are_bounded_oldest_first() {
    let mut u = user();
    for i in 0..(MAX_SESSIONS + 3) {
        u = u.with_session(format!("f{i}"), [i as u8; 32], T0 + i as Millis);
    }
    assert_eq!(u.sessions.len(), MAX_SESSIONS);
    assert_eq!(u.sessions[0].family, "f3");
}

#[test]
fn spent_tokens_remembered_per_family_are_bounded() {
    let mut u = user().with_session("f".into(), [0; 32], T0);
    for i in 1..=(MAX_SPENT_PER_FAMILY + 10) {
        u = u.with_rotated("f", [(i % 250) as u8 + 1; 32]);
    }
    assert_eq!(u.sessions[0].spent.len(), MAX_SPENT_PER_FAMILY);
}

#[test]
fn password_change_keeps_only_the_current_session() {
    let u = user()
        .with_session("a".into(), [1; 32], T0)
        .with_session("b".into(), [2; 32], T0)
        .with_reset([5; 32], T0);
    let changed = u.with_password("new".into(), Some("b"));
    assert_eq!(
        changed.sessions.iter().map(|s| s.family.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    assert_eq!(changed.password_hash, "new");
    assert!(changed.reset.is_none(), "a pending reset is void after a change");
    assert!(u.with_password("new".into(), None).sessions.is_empty());
}

#[test]
fn email_verification_needs_the_right_token_once() {
    let u = user();
    assert_eq!(u.verify_email(&[8; 32]).unwrap_err().code(), "invalid_token");
    let verified = u.verify_email(&[7; 32]).unwrap();
    assert!(verified.email_verified);
    assert!(verified.verify_email(&[7; 32]).is_err(), "single use");
}

#[test]
fn reset_tokens_are_single_use_and_expire_after_thirty_minutes() {
    let u = user().with_reset([5; 32], T0);
    assert!(u.check_reset(&[5; 32], T0 + 29 * MINUTE).is_ok());
    assert!(u.check_reset(&[5; 32], T0 + 30 * MINUTE).is_err());
    assert!(u.check_reset(&[6; 32], T0).is_err());
    let used = u.with_password("h".into(), None);
    assert!(used.check_reset(&[5; 32], T0).is_err());
    // A newer request replaces the older token, but not within moments.
    assert_eq!(u.begin_reset([6; 32], T0 + 1).unwrap_err().code(), "rate_limited");
    let again = u.begin_reset([6; 32], T0 + RESET_MIN_INTERVAL).unwrap();
    assert!(again.check_reset(&[5; 32], T0 + RESET_MIN_INTERVAL + 1).is_err());
    assert!(again.check_reset(&[6; 32], T0 + RESET_MIN_INTERVAL + 1).is_ok());
}

#[test]
fn profile_edits_are_validated_and_bounded_by_quotas() {
    let u = user();
    let patch = ProfilePatch {
        display_name: Some(Some("  Al  ".into())),
        phones: Some(vec!["+14155550100".into(), "+14155550100".into()]),
        addresses: Some(vec![addr("us")]),
    };
    let edited = u.with_profile(&patch).unwrap();
    assert_eq!(edited.display_name.as_deref(), Some("Al"));
    assert_eq!(edited.phones, ["+14155550100"], "duplicates collapse");
    assert_eq!(edited.addresses[0].country, "US");

    let cleared = edited
        .with_profile(&ProfilePatch {
            display_name: Some(None),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(cleared.display_name, None);
    assert_eq!(cleared.phones, edited.phones, "untouched fields stay");

    let too_many = ProfilePatch {
        addresses: Some(vec![addr("US"); 11]),
        ..Default::default()
    };
    assert!(field_errors(u.with_profile(&too_many).unwrap_err()).contains_key("addresses"));
    let raised = u.with_quota_overrides(BTreeMap::from([("max_addresses".into(), 11)]));
    assert_eq!(raised.with_profile(&too_many).unwrap().addresses.len(), 11);

    let bad = ProfilePatch {
        phones: Some(vec!["555".into()]),
        addresses: Some(vec![addr("ZZ")]),
        ..Default::default()
    };
    let fields = field_errors(u.with_profile(&bad).unwrap_err());
    assert!(fields.contains_key("phones[0]") && fields.contains_key("addresses[0].country"));
}

#[test]
fn builtin_roles_nest_and_admin_holds_everything() {
    let customer = builtin_permissions("customer").unwrap();
    let seller = builtin_permissions("seller").unwrap();
    let admin = builtin_permissions("admin").unwrap();
    assert!(customer.is_subset(&seller) && seller.is_subset(&admin));
    for p in ["catalog:write", "store:create", "media:upload"] {
        assert!(seller.contains(p) && !customer.contains(p));
    }
    assert_eq!(admin.len(), PERMISSIONS.len());
    assert!(builtin_permissions("ghost").is_none());
}

#[test]
fn custom_roles_are_checked() {
    assert_eq!(role_name(" Support ").unwrap(), "support");
    assert!(role_name("admin").is_err() && role_name("x").is_err() && role_name("a b").is_err());
    assert!(role_permissions(&["catalog:write".into()]).is_ok());
    assert!(
        role_permissions(&["catalog:destroy".into()])
            .unwrap_err()
            .contains("catalog:destroy")
    );
    assert!(role_permissions(&[]).is_err());
}

#[test]
fn nobody_grants_what_they_do_not_hold() {
    let seller = builtin_permissions("seller").unwrap();
    let admin = builtin_permissions("admin").unwrap();
    assert!(missing_permissions(&admin, &seller).is_empty());
    assert!(missing_permissions(&seller, &admin).contains(&"identity:admin".to_string()));
}

#[test]
fn quota_overrides_name_known_quotas() {
    let ok = BTreeMap::from([("max_stores".to_string(), 9)]);
    assert_eq!(effective_quotas(&quota_overrides(&ok).unwrap())["max_stores"], 9);
    assert_eq!(effective_quotas(&BTreeMap::new())["max_stores"], 3);
    let bad = BTreeMap::from([("max_cats".to_string(), 1)]);
    assert_eq!(quota_overrides(&bad).unwrap_err()[0].0, "max_cats");
}

#[test]
fn login_names_pick_their_claim() {
    assert_eq!(login_claim_key("Alice").as_deref(), Some("username:alice"));
    assert_eq!(login_claim_key("A@Example.com").as_deref(), Some("email:a@example.com"));
    assert_eq!(login_claim_key("no such thing!"), None);
}

#[test]
fn unconfirmed_claims_go_stale() {
    let claim = KeyOwner {
        owner: "u".into(),
        confirmed: false,
        since: T0,
    };
    assert!(!claim.is_stale(T0 + STALE_CLAIM_AFTER - 1));
    assert!(claim.is_stale(T0 + STALE_CLAIM_AFTER));
    assert!(
        !KeyOwner {
            confirmed: true,
            ..claim
        }
        .is_stale(T0 + 10 * STALE_CLAIM_AFTER)
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Parsing is idempotent and case-insensitive: what parses once
        /// parses to itself, and any casing of it names the same user.
        #[test]
        fn usernames_normalise_once(raw in "[A-Za-z0-9_.-]{3,32}") {
            let name = username(&raw).unwrap();
            prop_assert_eq!(username(&name).unwrap(), name.clone());
            prop_assert_eq!(username(&raw.to_uppercase()).unwrap(), name);
        }

        /// Rotating a family any number of times leaves exactly one current
        /// token, and every earlier one is recognised as reuse.
        #[test]
        fn every_spent_refresh_token_is_detected(rotations in 1usize..MAX_SPENT_PER_FAMILY) {
            let mut u = user().with_session("f".into(), [0; 32], T0);
            for i in 1..=rotations {
                u = u.with_rotated("f", [i as u8; 32]);
            }
            prop_assert_eq!(u.check_refresh(&[rotations as u8; 32], T0), RefreshCheck::Current { family: "f".into() });
            for spent in 0..rotations {
                prop_assert_eq!(u.check_refresh(&[spent as u8; 32], T0), RefreshCheck::Reused { family: "f".into() });
            }
        }
    }
}

#[test]
fn role_and_status_changes_bump_the_grants_revision_and_need_the_revision_read() {
    let u = user();
    assert_eq!(u.grants_revision, 0);
    assert!(u.check_grants_revision(0).is_ok());
    let admin = u.with_roles(vec!["admin".into()]);
    assert!(admin.is_full_admin());
    assert_eq!(admin.grants_revision, 1);
    assert_eq!(
        admin.check_grants_revision(0).unwrap_err().code(),
        "changed_concurrently"
    );
    let disabled = admin.with_disabled(true);
    assert_eq!(disabled.grants_revision, 2);
    assert!(
        !disabled.is_full_admin(),
        "a disabled administrator administers nothing"
    );
    let profile = ProfilePatch::default();
    assert_eq!(
        disabled.with_profile(&profile).unwrap().grants_revision,
        2,
        "other changes leave it"
    );
}

#[test]
fn roles_and_quota_overrides_granted_until_a_time_end_then() {
    let mut u = user().with_roles(vec!["customer".into(), "seller".into()]);
    u.role_expiry.insert("seller".into(), T0 + 10);
    u = u.with_quota_overrides([("max_stores".to_string(), 7), ("max_products".to_string(), 50)].into());
    u.quota_expiry.insert("max_stores".into(), T0 + 10);
    assert_eq!(u.live_roles(T0 + 9), ["customer", "seller"]);
    assert_eq!(u.live_roles(T0 + 10), ["customer"]);
    assert_eq!(
        (u.live_quotas(T0)["max_stores"], u.live_quotas(T0)["max_products"]),
        (7, 50)
    );
    let later = u.live_quotas(T0 + 10);
    assert_eq!(
        (later["max_stores"], later["max_products"]),
        (3, 50),
        "back to the default"
    );
}
