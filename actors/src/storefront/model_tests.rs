use super::*;

const T0: Millis = 1_795_000_000_000; // 2026-11-18T…Z

fn spec() -> StoreSpec {
    StoreSpec {
        name: Some(" Corner Shop ".into()),
        currency: Some("twd".into()),
        timezone: Some("Asia/Taipei".into()),
        ..Default::default()
    }
}

fn address() -> Address {
    Address {
        line1: "1 Main St".into(),
        line2: None,
        city: "Taipei".into(),
        region: None,
        postal_code: "100".into(),
        country: "TW".into(),
    }
}

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Validation { fields } => fields.into_keys().collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_new_store_is_a_draft_supervised_by_its_creator() {
    let s = Store::create("s1".into(), "alice", &spec(), T0).unwrap();
    assert_eq!(
        (s.name.as_str(), s.currency.as_str(), s.status),
        ("Corner Shop", "TWD", StoreStatus::Draft)
    );
    assert_eq!(s.supervisor_id, "alice");
    assert_eq!(
        fields(Store::create("s".into(), "a", &StoreSpec::default(), T0).unwrap_err()),
        ["currency", "name", "timezone"]
    );
    let bad = StoreSpec {
        currency: Some("XYZ".into()),
        timezone: Some("Mars/Olympus".into()),
        ..spec()
    };
    assert_eq!(
        fields(Store::create("s".into(), "a", &bad, T0).unwrap_err()),
        ["currency", "timezone"]
    );
}

#[test]
fn activation_names_everything_missing() {
    let s = Store::create("s1".into(), "alice", &spec(), T0).unwrap();
    let activate = StoreSpec {
        active: Some(true),
        ..Default::default()
    };
    assert_eq!(
        fields(s.with_spec(&activate, T0).unwrap_err()),
        ["address", "emails", "phones"]
    );
    let complete = StoreSpec {
        emails: Some(vec!["shop@example.com".into()]),
        phones: Some(vec!["+886223456789".into()]),
        address: Some(Some(address())),
        active: Some(true),
        ..Default::default()
    };
    let active = s.with_spec(&complete, T0).unwrap();
    assert_eq!(active.status, StoreStatus::Active);
    // An active store cannot lose what activation needs.
    let strip = StoreSpec {
        phones: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(fields(active.with_spec(&strip, T0).unwrap_err()), ["phones"]);
    let back = StoreSpec {
        active: Some(false),
        phones: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(active.with_spec(&back, T0).unwrap().status, StoreStatus::Draft);
}

#[test]
fn contacts_are_checked_field_by_field() {
    let s = Store::create("s1".into(), "alice", &spec(), T0).unwrap();
    let bad = StoreSpec {
        emails: Some(vec!["nope".into()]),
        phones: Some(vec!["123".into()]),
        address: Some(Some(Address {
            country: "XX".into(),
            ..address()
        })),
        ..Default::default()
    };
    assert_eq!(
        fields(s.with_spec(&bad, T0).unwrap_err()),
        ["address.country", "emails[0]", "phones[0]"]
    );
}

#[test]
fn staff_rights_hold_inside_their_window() {
    let s = Store::create("s1".into(), "alice", &spec(), T0).unwrap();
    let window = StaffWindow {
        valid_from: T0,
        valid_until: Some(T0 + 1000),
    };
    let s = s.with_staff("bob", Some(window), T0).unwrap();
    assert!(s.check_staff("bob", T0).is_ok() && s.check_staff("bob", T0 + 999).is_ok());
    assert!(s.check_staff("bob", T0 - 1).is_err() && s.check_staff("bob", T0 + 1000).is_err());
    assert!(s.check_staff("alice", T0).is_ok(), "the supervisor always may");
    assert_eq!(s.check_supervisor("bob").unwrap_err().code(), "not_supervisor");
    let backwards = StaffWindow {
        valid_from: T0,
        valid_until: Some(T0),
    };
    assert!(s.with_staff("carl", Some(backwards), T0).is_err());
    let removed = s.with_staff("bob", None, T0).unwrap();
    assert!(removed.check_staff("bob", T0).is_err());
    assert!(removed.with_staff("bob", None, T0).is_err());
}

#[test]
fn a_week_of_hours_is_checked() {
    let ok = week(&[(1, "09:00".into(), "17:30".into()), (0, "10:00".into(), "12:00".into())]).unwrap();
    assert_eq!(ok.iter().map(|h| h.day).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(format_clock(ok[1].close), "17:30");
    let bad = week(&[
        (0, "09:00".into(), "09:00".into()),
        (0, "10:00".into(), "11:00".into()),
        (7, "10:00".into(), "11:00".into()),
        (2, "9:00".into(), "24:00".into()),
    ])
    .unwrap_err();
    assert_eq!(
        fields(bad),
        ["[0].close", "[1].day", "[2].day", "[3].close", "[3].open"]
    );
}

#[test]
fn open_now_is_decided_in_the_stores_time_zone() {
    // 2026-11-23 is a Monday. 01:30 UTC is 09:30 in Taipei (UTC+8).
    let monday_0130_utc = jiff::Timestamp::from_second(1_795_397_400).unwrap();
    assert_eq!(monday_0130_utc.to_string(), "2026-11-23T01:30:00Z");
    let now = monday_0130_utc.as_millisecond();
    let hours = week(&[(0, "09:00".into(), "17:00".into())]).unwrap();
    let taipei = Store::create("s".into(), "a", &spec(), T0)
        .unwrap()
        .with_hours(hours.clone(), T0);
    assert!(taipei.open_at(now));
    let london = Store::create(
        "s".into(),
        "a",
        &StoreSpec {
            timezone: Some("Europe/London".into()),
            ..spec()
        },
        T0,
    )
    .unwrap()
    .with_hours(hours, T0);
    assert!(!london.open_at(now), "01:30 in London: closed");
}

#[test]
fn a_transfer_changes_the_supervisor_only() {
    let s = Store::create("s1".into(), "alice", &spec(), T0).unwrap();
    let window = StaffWindow {
        valid_from: T0,
        valid_until: None,
    };
    let s = s
        .with_staff("bob", Some(window), T0)
        .unwrap()
        .with_staff("carl", Some(window), T0)
        .unwrap();
    let moved = s.with_supervisor("bob", T0 + 1).unwrap();
    assert_eq!(moved.supervisor_id, "bob");
    assert!(!moved.staff.contains_key("bob"), "a supervisor is not also staff");
    assert!(moved.staff.contains_key("carl"));
    assert!(moved.check_supervisor("alice").is_err());
    assert!(s.with_supervisor("alice", T0).is_err());
}

#[test]
fn only_the_supervisor_sees_contacts_and_staff() {
    let mut s = Store::create("s1".into(), "alice", &spec(), T0).unwrap();
    s.emails = vec!["shop@example.com".into()];
    s.address = Some(address());
    s.staff.insert(
        "bob".into(),
        StaffWindow {
            valid_from: T0,
            valid_until: Some(T0 + 10),
        },
    );
    for viewer in [None, Some("bob")] {
        let seen = s.view_for(viewer, T0);
        assert!(seen.supervisor.is_none(), "{viewer:?}");
        assert!(seen.store.emails.is_empty() && seen.store.address.is_none() && seen.store.staff.is_empty());
        assert_eq!(
            (seen.store.name.as_str(), seen.store.currency.as_str()),
            ("Corner Shop", "TWD")
        );
    }
    let own = s.view_for(Some("alice"), T0 + 10).supervisor.unwrap();
    assert_eq!(
        (own.emails, own.address),
        (vec!["shop@example.com".to_string()], Some(address()))
    );
    assert_eq!(own.staff.len(), 1);
    assert!(!own.staff[0].2, "bob's window has ended by then");
    assert_eq!(StoreStatus::parse("active"), Ok(true));
    assert!(StoreStatus::parse("open").is_err());
}

#[test]
fn only_the_user_offered_a_store_accepts_it_while_the_offer_stands() {
    let pending = PendingTransfer {
        from: "alice".into(),
        to: "bert".into(),
        since: T0,
    };
    assert!(pending.check_accept("bert", "alice").is_ok());
    assert_eq!(pending.check_accept("carl", "alice").unwrap_err().code(), "not_found");
    assert_eq!(
        pending.check_accept("bert", "dora").unwrap_err().code(),
        "transfer_stale"
    );
}

#[test]
fn a_store_counts_its_offers_and_refuses_one_past_the_most() {
    let s = Store::create("s1".into(), "alice", &spec(), T0).unwrap();
    let one = s.with_offer(false, T0 + 1).unwrap();
    assert_eq!((one.offer_count, one.updated_at), (1, T0 + 1));
    assert_eq!(
        one.with_offer(true, T0 + 2).unwrap().offer_count,
        1,
        "replacing an offer"
    );
    assert_eq!(one.without_offer(true, T0 + 3).unwrap().offer_count, 0);
    assert_eq!(one.without_offer(false, T0 + 3).unwrap_err().code(), "not_found");
    let full = Store {
        offer_count: OFFERS_MAX,
        ..one
    };
    assert_eq!(full.with_offer(false, T0).unwrap_err().code(), "too_many_offers");
    assert!(full.with_offer(true, T0).is_ok(), "replacing is fine when full");
}
