use super::*;
use proptest::prelude::*;

fn usd(text: &str) -> Money {
    Money::stored(text, "USD").unwrap()
}

fn share(charge: &str, line: &str, captured: u64, refunded: u64) -> PaidShare {
    PaidShare {
        charge_id: charge.into(),
        line_id: line.into(),
        captured,
        refunded,
        unit_price: usd("2.50"),
    }
}

fn line(id: &str, quantity: u64) -> ChargeLine {
    ChargeLine {
        line_id: id.into(),
        quantity,
    }
}

#[test]
fn a_refund_is_spread_over_the_charges_that_paid_the_units_earliest_first() {
    let paid = [
        share("ch_1", "l1", 2, 1),
        share("ch_2", "l1", 3, 0),
        share("ch_2", "l2", 1, 0),
    ];
    let parts = allocate(&[line("l1", 3), line("l2", 1)], &paid).unwrap();
    assert_eq!(
        parts,
        [
            RefundPart {
                charge_id: "ch_1".into(),
                lines: vec![line("l1", 1)],
                amount: usd("2.50")
            },
            RefundPart {
                charge_id: "ch_2".into(),
                lines: vec![line("l1", 2), line("l2", 1)],
                amount: usd("7.50")
            },
        ]
    );
}

#[test]
fn never_more_than_captured_minus_what_was_refunded() {
    let paid = [share("ch_1", "l1", 2, 1), share("ch_2", "l1", 1, 1)];
    let err = allocate(&[line("l1", 2)], &paid).unwrap_err();
    assert_eq!(err.code(), "refund_exceeds_captured");
    assert!(allocate(&[line("l1", 1)], &paid).is_ok(), "the one unit left");
    assert_eq!(
        allocate(&[line("l9", 1)], &paid).unwrap_err().code(),
        "refund_exceeds_captured"
    );
    assert!(allocate(&[], &paid).unwrap().is_empty());
}

proptest! {
    /// Refunds asked one after another never give back more units of a
    /// line than were captured, and each part's amount is its units times
    /// the unit price.
    #[test]
    fn successive_refunds_never_exceed_the_capture(asks in proptest::collection::vec(1..4u64, 1..15)) {
        let mut paid = vec![share("ch_1", "l1", 3, 0), share("ch_2", "l1", 2, 0)];
        for quantity in asks {
            if let Ok(parts) = allocate(&[line("l1", quantity)], &paid) {
                let mut given = 0;
                for part in &parts {
                    let units: u64 = part.lines.iter().map(|l| l.quantity).sum();
                    prop_assert_eq!(part.amount, usd("2.50").times(units).unwrap());
                    given += units;
                    if let Some(s) = paid.iter_mut().find(|s| s.charge_id == part.charge_id) {
                        s.refunded += units;
                    }
                }
                prop_assert_eq!(given, quantity);
            }
            prop_assert!(paid.iter().all(|s| s.refunded <= s.captured));
        }
    }
}

fn record() -> RefundRecord {
    let claim = RefundClaim {
        refund_id: "rf_1".into(),
        request_hash: 1,
        store_id: "s1".into(),
        reason: "damaged".into(),
        lines: vec![line("l1", 3)],
        parts: vec![
            ("c1".into(), vec![line("l1", 2)], "5.00".into()),
            ("c2".into(), vec![line("l1", 1)], "2.50".into()),
        ],
        currency: "USD".into(),
        created_at: 0,
        failed: false,
        delivered: false,
    };
    RefundRecord::new("o", claim, 0)
}

fn answered(id: &str, status: RefundStatus) -> Option<ProcessorRefund> {
    Some(ProcessorRefund {
        id: id.into(),
        payment_id: "pi".into(),
        amount_minor: 1,
        status,
        metadata: BTreeMap::new(),
    })
}

#[test]
fn a_refund_succeeds_once_every_part_did_and_fails_if_any_part_failed() {
    let mut r = record();
    assert_eq!(r.status(), RefundStatus::Pending);
    assert!(r.has_steps() && r.must_tell_ledger() && !r.must_tell_order());
    assert_eq!(r.next_check, Some(0), "sent at once");
    r.parts[0].refund = answered("re_1", RefundStatus::Succeeded);
    assert_eq!(r.status(), RefundStatus::Pending, "one part still out");
    r.parts[1].refund = answered("re_2", RefundStatus::Pending);
    assert_eq!(r.status(), RefundStatus::Pending);
    r.parts[1].refund = answered("re_2", RefundStatus::Succeeded);
    assert_eq!(r.status(), RefundStatus::Succeeded);
    assert!(r.must_tell_order() && r.must_tell_ledger());
    assert_eq!(r.units(), BTreeMap::from([("l1".to_string(), 3)]));
    r.told_order = true;
    r.told_ledger = Some(RefundStatus::Succeeded);
    assert!(!r.has_steps());
    assert_eq!(r.scheduled(10).next_check, None, "nothing left: no alarm");
    // A part the processor refused fails the refund (the ledger frees its units).
    let mut refused = record();
    refused.parts[0].refused = Some("charge_already_refunded: no".into());
    refused.parts[1].refund = answered("re_2", RefundStatus::Succeeded);
    assert_eq!(refused.status(), RefundStatus::Failed);
    assert!(!refused.must_tell_order(), "the order only hears of successes");
    assert_eq!(refused.parts[0].key("rf_1"), "refund:rf_1:c1");
    // Failed only once no part is out: a part still pending may yet give
    // the money back, so its store must not be told it failed.
    let mut mixed = record();
    mixed.parts[0].refused = Some("charge_already_refunded: no".into());
    mixed.parts[1].refund = answered("re_2", RefundStatus::Pending);
    assert_eq!(mixed.status(), RefundStatus::Pending);
    assert!(mixed.has_steps());
    mixed.parts[1].refund = answered("re_2", RefundStatus::Succeeded);
    assert_eq!(mixed.status(), RefundStatus::Failed);
    // While parts are open the alarm backs off.
    let mut slow = record();
    slow.retries = 3;
    assert_eq!(
        slow.scheduled(0).next_check,
        Some(4 * super::super::record::RETRY_FIRST)
    );
}
