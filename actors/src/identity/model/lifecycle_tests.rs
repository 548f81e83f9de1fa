use super::super::{Address, Registration};
use super::*;

const T0: Millis = 1_700_000_000_000;

fn user() -> User {
    let registration = Registration::parse("ann", "ann@example.com", "correct horse battery", Some("Ann")).unwrap();
    let mut user = User::new("u1".into(), registration, "hash".into(), [7; 32], T0)
        .with_session("fam1".into(), [1; 32], T0)
        .with_session("fam2".into(), [2; 32], T0)
        .with_reset([3; 32], T0);
    user.phones = vec!["+14155550100".into()];
    user.addresses = vec![Address {
        line1: "1 Main St".into(),
        line2: None,
        city: "Springfield".into(),
        region: None,
        postal_code: "12345".into(),
        country: "US".into(),
    }];
    user.roles = vec!["admin".into()];
    user
}

#[test]
fn deleting_disables_at_once_and_erases_phones_addresses_and_every_token() {
    let before = user();
    assert!(before.is_full_admin() && !before.is_inactive());
    let gone = before.deleted(T0 + 5);
    assert!(gone.is_deleted() && gone.is_inactive());
    assert!(!gone.is_full_admin(), "a deleted administrator administers nothing");
    assert!(gone.sessions.is_empty() && gone.reset.is_none() && gone.email_token.is_none());
    assert!(gone.phones.is_empty() && gone.addresses.is_empty());
    assert_eq!(
        gone.grants_revision,
        before.grants_revision + 1,
        "the roster sees the change"
    );
    assert_eq!(gone.check_enabled().unwrap_err().code(), "account_deleted");
    assert_eq!(gone.check_not_deleted().unwrap_err().code(), "account_deleted");
    // What identifies it stays until the purge (reserved, restorable).
    assert_eq!(
        (gone.username.as_str(), gone.email.as_str()),
        ("ann", "ann@example.com")
    );
    assert_eq!(gone.display_name.as_deref(), Some("Ann"));
    assert_eq!(gone.purge_at(), Some(T0 + 5 + ACCOUNT_RETENTION));
    assert!(
        gone.standing(vec![], Default::default(), Default::default(), T0 + 6)
            .disabled
    );
}

#[test]
fn deleting_twice_keeps_the_first_window() {
    let gone = user().deleted(T0);
    let again = gone.deleted(T0 + 1_000);
    assert_eq!(again, gone);
    assert_eq!(again.purge_at(), Some(T0 + ACCOUNT_RETENTION));
}

#[test]
fn a_deleted_account_is_restorable_until_its_window_ends() {
    let gone = user().deleted(T0);
    let last_moment = T0 + ACCOUNT_RETENTION - 1;
    assert!(!gone.is_purgeable(last_moment));
    let back = gone.purge_failed().restored(last_moment).unwrap();
    assert_eq!(back.purge_failures, 0);
    assert!(!back.is_deleted() && back.is_full_admin());
    assert_eq!(back.purge_at(), None);
    assert_eq!(back.grants_revision, gone.grants_revision + 1);
    assert_eq!(back.deleted(T0 + 1).purge_due(), Some(T0 + 1 + ACCOUNT_RETENTION));
    assert!(
        back.phones.is_empty() && back.sessions.is_empty(),
        "erased stays erased"
    );
    assert!(back.check_enabled().is_ok());

    assert!(gone.is_purgeable(T0 + ACCOUNT_RETENTION));
    let late = gone.restored(T0 + ACCOUNT_RETENTION).unwrap_err();
    assert_eq!(late.code(), "not_found");
}

#[test]
fn restoring_an_account_not_deleted_changes_nothing() {
    let alive = user();
    assert_eq!(alive.restored(T0).unwrap(), alive);
    assert!(!alive.is_purgeable(T0 + 10 * ACCOUNT_RETENTION));
    assert!(alive.check_not_deleted().is_ok());
}

#[test]
fn a_disabled_account_deleted_and_restored_is_disabled_again() {
    let disabled = user().with_disabled(true);
    let back = disabled.deleted(T0).restored(T0 + 1).unwrap();
    assert!(back.disabled && back.is_inactive() && !back.is_full_admin());
    assert_eq!(back.check_enabled().unwrap_err().code(), "account_disabled");
}

#[test]
fn a_failing_purge_is_tried_again_ever_later_up_to_an_hour() {
    let gone = user().deleted(T0);
    let end = T0 + ACCOUNT_RETENTION;
    assert_eq!(gone.purge_due(), Some(end));
    let once = gone.purge_failed();
    let twice = once.purge_failed();
    assert_eq!(
        (once.purge_due(), twice.purge_due()),
        (Some(end + 1000), Some(end + 2000))
    );
    let mut many = twice;
    for _ in 0..40 {
        many = many.purge_failed();
    }
    assert_eq!(many.purge_due(), Some(end + PURGE_RETRY_MAX));
    assert!(
        many.is_purgeable(end),
        "failures delay the tries, not the end of the window"
    );
    assert_eq!(user().purge_due(), None);
}
