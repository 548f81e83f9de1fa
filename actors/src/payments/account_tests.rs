use super::*;
use crate::shared::contact::Address;
use std::collections::BTreeMap;

fn store(status: StoreStatus, emails: &[&str], address: bool) -> Store {
    Store {
        id: "st1".into(),
        supervisor_id: "u1".into(),
        name: "Shop".into(),
        currency: "USD".into(),
        timezone: "UTC".into(),
        emails: emails.iter().map(|e| e.to_string()).collect(),
        phones: Vec::new(),
        address: address.then(|| Address {
            line1: "1 Main St".into(),
            line2: None,
            city: "Springfield".into(),
            region: None,
            postal_code: "12345".into(),
            country: "US".into(),
        }),
        status,
        staff: BTreeMap::new(),
        hours: Vec::new(),
        offer_count: 0,
        created_at: 0,
        updated_at: 0,
    }
}

fn account(status: AccountStatus, expires: Option<Millis>) -> Account {
    Account {
        processor: "sandbox".into(),
        account_id: "acct_1".into(),
        status,
        requirements: vec!["external_account".into()],
        onboarding_url: expires.map(|_| "https://connect.example/onboard".into()),
        onboarding_expires_at: expires,
        updated_at: 0,
    }
}

#[test]
fn only_an_active_store_with_contact_details_may_onboard() {
    assert!(may_onboard(&store(StoreStatus::Active, &["a@shop.example"], true)).is_ok());
    let refused = may_onboard(&store(StoreStatus::Draft, &[], false)).unwrap_err();
    assert_eq!(refused.code(), "validation_failed");
    let text = format!("{refused:?}");
    for field in ["status", "emails", "address"] {
        assert!(text.contains(field), "{field} named: {text}");
    }
    let no_address = format!(
        "{:?}",
        may_onboard(&store(StoreStatus::Active, &["a@shop.example"], false)).unwrap_err()
    );
    assert!(
        no_address.contains("address") && !no_address.contains("emails"),
        "{no_address}"
    );
}

#[test]
fn the_status_follows_what_the_processor_reports() {
    let mut r = Reported::default();
    assert_eq!(status_of(&r), AccountStatus::Pending, "nothing submitted yet");
    r.details_submitted = true;
    assert_eq!(status_of(&r), AccountStatus::Restricted, "submitted but not enabled");
    r.charges_enabled = true;
    r.payouts_enabled = true;
    assert_eq!(status_of(&r), AccountStatus::Active);
    r.disabled_reason = Some("requirements.past_due".into());
    assert_eq!(status_of(&r), AccountStatus::Restricted);
    let pending_with_reason = Reported {
        disabled_reason: Some("requirements.pending_verification".into()),
        ..Reported::default()
    };
    assert_eq!(status_of(&pending_with_reason), AccountStatus::Pending);
}

#[test]
fn an_active_account_drops_its_onboarding_link_and_takes_payments() {
    let pending = account(AccountStatus::Pending, Some(1_000));
    assert!(!pending.accepts_payments());
    let report = Reported {
        charges_enabled: true,
        payouts_enabled: true,
        details_submitted: true,
        ..Reported::default()
    };
    let active = pending.reported(&report, 500);
    assert_eq!(active.status, AccountStatus::Active);
    assert!(active.requirements.is_empty());
    assert_eq!(
        (active.onboarding_url.as_deref(), active.onboarding_expires_at),
        (None, None)
    );
    assert!(active.accepts_payments());
    assert_eq!(active.updated_at, 500);
}

#[test]
fn a_link_is_renewed_only_when_missing_or_expired_and_never_for_an_active_account() {
    assert!(!account(AccountStatus::Pending, Some(1_000)).needs_link(999));
    assert!(account(AccountStatus::Pending, Some(1_000)).needs_link(1_000));
    assert!(account(AccountStatus::Restricted, None).needs_link(0));
    assert!(!account(AccountStatus::Active, None).needs_link(0));
}
