//! Identity driven through its entities (in-memory mailboxes, temporary
//! sled), without HTTP.

use super::actor::UniqueKeys;
use super::model::KeyRequest;
use super::model::{Millis, STALE_CLAIM_AFTER};
use super::ports::{Clock, HashCost, Mail, Mailer, PasswordHasher, system_now};
use super::service::Ports;
use super::*;
use crate::error::{Error, Result};
use crate::runtime::{Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct MemoryMailer(Mutex<Vec<Mail>>);

impl Mailer for MemoryMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>> {
        self.0.lock().unwrap().push(mail);
        Box::pin(async { Ok(()) })
    }
}

impl MemoryMailer {
    /// The token on the last line of the last mail to `to`.
    fn token_for(&self, to: &str) -> String {
        let mails = self.0.lock().unwrap();
        let mail = mails.iter().rev().find(|m| m.to == to).expect("a mail was sent");
        mail.body
            .lines()
            .find(|l| l.contains('.') && !l.contains(' '))
            .expect("the mail carries a token")
            .to_string()
    }
}

/// A clock the test moves forward.
struct TestClock(Mutex<Millis>);

impl Clock for TestClock {
    fn now(&self) -> Millis {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn advance(&self, by: Millis) {
        *self.0.lock().unwrap() += by;
    }
}

struct Shop {
    identity: Identity,
    mailer: Arc<MemoryMailer>,
    clock: Arc<TestClock>,
    _runtime: Runtime,
}

const PASSWORD: &str = "correct horse battery";

async fn shop() -> Shop {
    let storage = Storage::temporary(16).unwrap();
    // A cheap argon2 cost keeps the suite fast; the rules are the same.
    let hasher = PasswordHasher::new(HashCost {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let mailer = Arc::new(MemoryMailer::default());
    let clock = Arc::new(TestClock(Mutex::new(system_now())));
    let ports = Ports {
        hasher,
        mailer: mailer.clone(),
        clock: clock.clone(),
    };
    let builder = RuntimeBuilder::new(storage.clone(), Tunables::default(), RuntimeMetrics::default());
    let runtime = Identity::register_entities(builder, &ports).start().await.unwrap();
    let keys = Arc::new(KeyRing::open(&storage, 3600, 900).await.unwrap());
    let identity = Identity::new(runtime.router(), keys, ports);
    Shop {
        identity,
        mailer,
        clock,
        _runtime: runtime,
    }
}

fn account<'a>(username: &'a str, email: &'a str) -> NewAccount<'a> {
    NewAccount {
        username,
        email,
        password: PASSWORD,
        display_name: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_username_have_exactly_one_winner() {
    let shop = shop().await;
    let attempts = (0..20).map(|i| {
        let identity = shop.identity.clone();
        tokio::spawn(async move {
            let email = format!("racer{i}@example.com");
            identity.register(account("Racer", &email)).await
        })
    });
    let results: Vec<_> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1);
    for loser in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(loser.code(), "username_taken");
    }
    // The losers' e-mail claims were released: those addresses are free.
    let loser_email = (0..20)
        .map(|i| format!("racer{i}@example.com"))
        .find(|e| results.iter().all(|r| r.as_ref().map_or(true, |p| &p.email != e)))
        .unwrap();
    shop.identity.register(account("someone", &loser_email)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_claim_of_a_user_that_never_existed_is_taken_over() {
    let shop = shop().await;
    let router = shop.identity.router_for_tests();
    // A registration that died after claiming, long ago.
    router
        .ask::<UniqueKeys>("username:ghost", KeyRequest::Claim { owner: "nobody".into() })
        .await
        .unwrap();
    let err = shop
        .identity
        .register(account("ghost", "g@example.com"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "username_taken", "a fresh claim is respected");
    shop.clock.advance(STALE_CLAIM_AFTER);
    shop.identity.register(account("ghost", "g@example.com")).await.unwrap();
    shop.identity.login("ghost", PASSWORD, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_by_username_or_email_and_the_same_error_for_unknown_users() {
    let shop = shop().await;
    shop.identity
        .register(account("carol", "Carol@Example.com"))
        .await
        .unwrap();
    shop.identity.login("CAROL", PASSWORD, None).await.unwrap();
    shop.identity.login("carol@example.com", PASSWORD, None).await.unwrap();
    let wrong = shop
        .identity
        .login("carol", "not the password", None)
        .await
        .unwrap_err();
    let unknown = shop.identity.login("nobody", PASSWORD, None).await.unwrap_err();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.code(), "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_slows_the_guesser_only_and_unknown_accounts_alike() {
    let shop = shop().await;
    shop.identity
        .register(account("dave", "dave@example.com"))
        .await
        .unwrap();
    let guesser = Some(std::net::IpAddr::from([203, 0, 113, 9]));
    let owner = Some(std::net::IpAddr::from([198, 51, 100, 7]));
    for name in ["dave", "nobody"] {
        for _ in 0..4 {
            let err = shop.identity.login(name, "wrong password!", guesser).await.unwrap_err();
            assert_eq!(err.code(), "invalid_credentials", "{name}");
        }
        match shop.identity.login(name, PASSWORD, guesser).await.unwrap_err() {
            Error::RateLimited { retry_after_secs, .. } => assert_eq!(retry_after_secs, 1, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    shop.identity
        .login("dave", PASSWORD, owner)
        .await
        .expect("the owner elsewhere is not locked out");
    shop.clock.advance(1_000);
    shop.identity
        .login("dave", PASSWORD, guesser)
        .await
        .expect("after the wait");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_a_replayed_token_revokes_the_session() {
    let shop = shop().await;
    shop.identity
        .register(account("erin", "erin@example.com"))
        .await
        .unwrap();
    let first = shop.identity.login("erin", PASSWORD, None).await.unwrap();
    let second = shop.identity.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(first.refresh_token, second.refresh_token);
    // An attacker replays the spent token: the whole family dies.
    let replay = shop.identity.refresh(&first.refresh_token).await.unwrap_err();
    assert_eq!(replay.code(), "invalid_refresh_token");
    assert_eq!(
        shop.identity.refresh(&second.refresh_token).await.unwrap_err().code(),
        "invalid_refresh_token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_and_reset_tokens_arrive_by_mail_and_work_once() {
    let shop = shop().await;
    shop.identity.register(account("fay", "fay@example.com")).await.unwrap();
    let token = shop.mailer.token_for("fay@example.com");
    shop.identity.verify_email(&token).await.unwrap();
    assert_eq!(
        shop.identity.verify_email(&token).await.unwrap_err().code(),
        "invalid_token"
    );

    let session = shop.identity.login("fay", PASSWORD, None).await.unwrap();
    shop.identity.request_password_reset("FAY@example.com");
    let mut reset = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        reset = shop.mailer.token_for("fay@example.com");
        if reset != token {
            break;
        }
    }
    assert_ne!(reset, token, "a reset mail was sent");
    shop.identity
        .confirm_password_reset(&reset, "a brand new secret")
        .await
        .unwrap();
    assert!(
        shop.identity
            .confirm_password_reset(&reset, "another new secret")
            .await
            .is_err()
    );
    assert!(shop.identity.login("fay", PASSWORD, None).await.is_err());
    shop.identity.login("fay", "a brand new secret", None).await.unwrap();
    assert!(
        shop.identity.refresh(&session.refresh_token).await.is_err(),
        "a reset signs out every session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_roles_grant_their_permissions_and_only_by_holders() {
    let shop = shop().await;
    let admin = shop
        .identity
        .register_with_roles(account("root", "root@example.com"), vec!["admin".into()])
        .await
        .unwrap();
    let seller = shop
        .identity
        .register_with_roles(account("sam", "sam@example.com"), vec!["seller".into()])
        .await
        .unwrap();
    let (admin, seller) = (claims_of(&admin), claims_of(&seller));
    let role = shop
        .identity
        .create_role(&admin, "Support", &["identity:admin".into()])
        .await
        .unwrap();
    assert_eq!(role.name, "support");
    let denied = shop
        .identity
        .create_role(&seller, "ops", &["cluster:admin".into()])
        .await
        .unwrap_err();
    assert_eq!(denied.code(), "permission_not_held");
    let denied = shop
        .identity
        .set_roles(&seller, &seller.sub, &[("admin".into(), None)])
        .await
        .unwrap_err();
    assert_eq!(denied.code(), "permission_not_held");

    let promoted = shop
        .identity
        .set_roles(
            &admin,
            &seller.sub,
            &[("seller".into(), None), ("support".into(), None)],
        )
        .await
        .unwrap();
    assert!(promoted.permissions.contains("identity:admin") && promoted.permissions.contains("catalog:write"));
    let denied = shop.identity.delete_role(&seller, "support").await.unwrap_err();
    assert_eq!(
        denied.code(),
        "permission_not_held",
        "a seller lacks what the role holds"
    );
    shop.identity.delete_role(&admin, "support").await.unwrap();
    let after = shop.identity.get_user(&seller.sub).await.unwrap();
    assert!(
        !after.permissions.contains("identity:admin"),
        "a deleted role grants nothing"
    );
    let names: Vec<String> = shop
        .identity
        .list_roles()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["customer", "seller", "admin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_administrators_demoting_or_deleting_each_other_at_once_leave_one() {
    let shop = shop().await;
    let mut admins = Vec::new();
    for name in ["ann", "bob"] {
        let profile = shop
            .identity
            .register_with_roles(account(name, &format!("{name}@example.com")), vec!["admin".into()])
            .await
            .unwrap();
        admins.push(claims_of(&profile));
    }
    let (ann, bob) = (&admins[0], &admins[1]);
    for round in 0..20 {
        let customer = [("customer".to_string(), None)];
        let (by_ann, by_bob) = match round % 3 {
            0 => tokio::join!(
                shop.identity.set_roles(ann, &bob.sub, &customer),
                shop.identity.set_roles(bob, &ann.sub, &customer),
            ),
            1 => tokio::join!(
                shop.identity.set_disabled(ann, &bob.sub, true),
                shop.identity.set_disabled(bob, &ann.sub, true),
            ),
            _ => tokio::join!(
                shop.identity.delete_user(ann, &bob.sub),
                shop.identity.delete_user(bob, &ann.sub),
            ),
        };
        let refused: Vec<String> = [&by_ann, &by_bob]
            .iter()
            .filter_map(|outcome| outcome.as_ref().err().map(|e| e.code().to_string()))
            .collect();
        assert_eq!(
            refused,
            ["last_admin"],
            "round {round}: exactly one demotion is refused"
        );
        let ann_now = shop.identity.get_user(&ann.sub).await.unwrap();
        let bob_now = shop.identity.get_user(&bob.sub).await.unwrap();
        let full = |p: &Profile| !p.disabled && p.deleted_at.is_none() && p.roles.iter().any(|r| r == "admin");
        assert!(
            full(&ann_now) != full(&bob_now),
            "round {round}: one administrator remains"
        );
        // The demoted one is made an administrator again for the next round.
        let (keeper, demoted) = if full(&ann_now) { (ann, bob) } else { (bob, ann) };
        shop.identity.restore_user(keeper, &demoted.sub).await.unwrap();
        shop.identity.set_disabled(keeper, &demoted.sub, false).await.unwrap();
        shop.identity
            .set_roles(keeper, &demoted.sub, &[("admin".to_string(), None)])
            .await
            .unwrap();
    }
}

#[test]
fn a_user_stored_by_schema_version_1_reads_at_grants_revision_0() {
    use super::actor::Users;
    use super::model::UserV1;
    use crate::runtime::Entity;
    let v1 = UserV1 {
        id: "u1".into(),
        username: "ann".into(),
        email: "ann@example.com".into(),
        email_verified: true,
        display_name: None,
        password_hash: "hash".into(),
        roles: vec!["admin".into()],
        quota_overrides: Default::default(),
        phones: Vec::new(),
        addresses: Vec::new(),
        created_at: 1,
        disabled: false,
        failed_logins: vec![5, 6],
        sessions: Vec::new(),
        email_token: None,
        reset: None,
    };
    let body = crate::runtime::encode(&v1).unwrap();
    let user = Users::upgrade(1, &body).unwrap();
    assert_eq!((user.username.as_str(), user.grants_revision), ("ann", 0));
    assert!(user.is_full_admin());
    assert!(Users::upgrade(7, &body).is_err());
}

#[test]
fn a_user_stored_by_schema_version_2_reads_in_no_group() {
    use super::actor::Users;
    use super::model::UserV2;
    use crate::runtime::Entity;
    let v2 = UserV2 {
        id: "u2".into(),
        username: "bea".into(),
        email: "bea@example.com".into(),
        email_verified: false,
        display_name: Some("Bea".into()),
        password_hash: "hash".into(),
        roles: vec!["customer".into()],
        quota_overrides: [("max_stores".to_string(), 9)].into_iter().collect(),
        phones: vec!["+14155550100".into()],
        addresses: Vec::new(),
        created_at: 2,
        disabled: false,
        grants_revision: 4,
        sessions: Vec::new(),
        email_token: None,
        reset: None,
    };
    let body = crate::runtime::encode(&v2).unwrap();
    let user = Users::upgrade(2, &body).unwrap();
    assert_eq!((user.username.as_str(), user.grants_revision), ("bea", 4));
    assert_eq!((user.quota_overrides["max_stores"], user.phones.len()), (9, 1));
    assert!(user.groups.is_empty());
}

#[test]
fn a_user_stored_by_schema_version_3_reads_not_deleted() {
    use super::actor::Users;
    use super::model::{UserV2, UserV3};
    use crate::runtime::{Entity, encode};
    let registration = super::model::Registration::parse("cid", "cid@example.com", PASSWORD, None).unwrap();
    let mut today = super::model::User::new("u3".into(), registration, "hash".into(), [1; 32], 3);
    today.groups = ["g1".to_string()].into();
    today.role_expiry = [("seller".to_string(), 99)].into();
    let v3 = UserV3 {
        v2: UserV2 {
            id: today.id.clone(),
            username: today.username.clone(),
            email: today.email.clone(),
            email_verified: today.email_verified,
            display_name: None,
            password_hash: today.password_hash.clone(),
            roles: today.roles.clone(),
            quota_overrides: Default::default(),
            phones: Vec::new(),
            addresses: Vec::new(),
            created_at: today.created_at,
            disabled: false,
            grants_revision: 0,
            sessions: Vec::new(),
            email_token: today.email_token,
            reset: None,
        },
        groups: today.groups.clone(),
        role_expiry: today.role_expiry.clone(),
        quota_expiry: Default::default(),
    };
    let body = encode(&v3).unwrap();
    // Version 3 records are version 4's without the trailing deletion time
    // and purge failures (`None` and 0, one byte each).
    let mut current = encode(&today).unwrap();
    assert_eq!((current.pop(), current.pop()), (Some(0), Some(0)));
    assert_eq!(body, current);
    let user = Users::upgrade(3, &body).unwrap();
    assert_eq!(user, today);
    assert!(!user.is_deleted());
}

/// Claims for a signed-in `profile`.
fn claims_of(profile: &Profile) -> AccessClaims {
    AccessClaims {
        sub: profile.id.clone(),
        iat: 0,
        exp: i64::MAX,
        sid: "s".into(),
        roles: profile.roles.clone(),
        perms: profile.permissions.iter().cloned().collect(),
        quotas: profile.quotas.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_keeps_its_names_until_its_purge_frees_them() {
    use super::model::lifecycle::ACCOUNT_RETENTION;
    let shop = shop().await;
    let router = shop.identity.router_for_tests();
    let admin = shop
        .identity
        .register_with_roles(account("root", "root@example.com"), vec!["admin".into()])
        .await
        .unwrap();
    let ann = shop.identity.register(account("ann", "ann@example.com")).await.unwrap();
    let ann_claims = claims_of(&ann);
    let wrong = shop.identity.delete_me(&ann_claims, "not my password", None).await;
    assert_eq!(wrong.unwrap_err().code(), "validation_failed");
    assert!(
        shop.identity.login("ann", PASSWORD, None).await.is_ok(),
        "nothing changed"
    );

    shop.identity.delete_me(&ann_claims, PASSWORD, None).await.unwrap();
    let login = shop.identity.login("ann", PASSWORD, None).await.unwrap_err();
    assert_eq!(login.code(), "account_deleted");
    let taken = shop.identity.register(account("ann", "other@example.com")).await;
    assert_eq!(taken.unwrap_err().code(), "username_taken");
    let taken = shop.identity.register(account("ann2", "ANN@example.com")).await;
    assert_eq!(taken.unwrap_err().code(), "email_taken");
    // A password reset or a profile change of a deleted account does nothing.
    shop.identity.request_password_reset("ann@example.com");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        shop.mailer
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|m| m.subject != "Reset your password")
    );

    // Not purged a moment before the window ends; purged at its end.
    shop.clock.advance(ACCOUNT_RETENTION - 1);
    crate::runtime::alarms_tick(&router, shop.clock.now()).await;
    let kept = shop.identity.get_user(&ann.id).await.unwrap();
    assert!(kept.deleted_at.is_some());
    shop.clock.advance(1);
    crate::runtime::alarms_tick(&router, shop.clock.now()).await;
    let gone = shop.identity.get_user(&ann.id).await.unwrap_err();
    assert_eq!(gone.code(), "not_found");
    let restore = shop.identity.restore_user(&claims_of(&admin), &ann.id).await;
    assert_eq!(restore.unwrap_err().code(), "not_found");
    // Both names are free again.
    let again = shop.identity.register(account("ann", "ann@example.com")).await.unwrap();
    assert_ne!(again.id, ann.id);
}
