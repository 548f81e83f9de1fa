use super::*;

fn read(id: &str, status: &str) -> ProcessorDispute {
    ProcessorDispute {
        id: id.into(),
        payment_id: "pi_1".into(),
        amount_minor: 1_000,
        currency: "USD".into(),
        status: status.into(),
        reason: "fraudulent".into(),
    }
}

#[test]
fn a_dispute_is_open_until_won_or_lost_whatever_order_its_events_come_in() {
    let none = ChargeDisputes::default();
    assert!(!none.open());
    let opened = none.observe("sandbox", "ch_1", read("dp_1", "needs_response"), 10);
    assert!(opened.open());
    assert_eq!((opened.disputes[0].opened_at, opened.disputes[0].closed_at), (10, None));
    let reviewed = opened.observe("sandbox", "ch_1", read("dp_1", "under_review"), 20);
    assert!(reviewed.open() && reviewed.disputes.len() == 1);
    let lost = reviewed.observe("sandbox", "ch_1", read("dp_1", "lost"), 30);
    assert!(!lost.open() && lost.disputes[0].dispute.lost());
    assert_eq!((lost.disputes[0].opened_at, lost.disputes[0].closed_at), (10, Some(30)));
    // A late event reads back the same closed dispute: nothing moves.
    assert_eq!(lost.observe("sandbox", "ch_1", read("dp_1", "lost"), 40), lost);
    // A second dispute of the charge opens it again.
    let again = lost.observe("sandbox", "ch_1", read("dp_2", "warning_needs_response"), 50);
    assert!(again.open() && again.disputes.len() == 2);
    let won = again.observe("sandbox", "ch_1", read("dp_2", "won"), 60);
    assert!(!won.open() && !won.disputes[1].dispute.lost());
    // Seen first closed (the opening events lost): closed from the start.
    let late = ChargeDisputes::default().observe("sandbox", "ch_1", read("dp_3", "won"), 70);
    assert_eq!(late.disputes[0].closed_at, Some(70));
}

#[test]
fn a_lost_amount_is_shared_by_gross_never_more_than_a_store_earned() {
    let gross = [("s1".to_string(), 500), ("s2".to_string(), 750)];
    assert_eq!(split(1_250, &gross), [("s1".to_string(), 500), ("s2".to_string(), 750)]);
    assert_eq!(split(1_000, &gross), [("s1".to_string(), 400), ("s2".to_string(), 600)]);
    assert_eq!(split(1, &gross), [("s1".to_string(), 0), ("s2".to_string(), 1)]);
    assert_eq!(
        split(9_999, &gross),
        [("s1".to_string(), 500), ("s2".to_string(), 750)],
        "clamped to the charge"
    );
    assert_eq!(split(100, &[("s".to_string(), 0)]), [("s".to_string(), 0)]);
    for amount in 0..=1_250 {
        let parts = split(amount, &gross);
        assert_eq!(parts.iter().map(|(_, p)| p).sum::<i64>(), amount);
    }
}
