use super::*;
use crate::orders::fixtures::{NOW, order};
use crate::orders::model::ChargeUpdate;
use crate::payments::ports::CaptureMode;

/// The fixture order (l1: 2 units at s1, l2: 3 units at s2, 2.50 each),
/// reserved for an hour more.
fn lasting() -> Order {
    let mut o = order();
    for l in &mut o.lines {
        l.held_until += 3_600_000;
    }
    o
}

fn intent(id: &str) -> Intent {
    Intent {
        charge_id: id.into(),
        order_id: "o".into(),
        buyer: "u".into(),
        stores: Vec::new(),
        lines: Vec::new(),
        amount: String::new(),
        currency: String::new(),
        unit_prices: BTreeMap::new(),
        payment_method: "pm_card_visa".into(),
        processor: "sandbox".into(),
        capture: CaptureMode::Automatic,
        return_url: None,
        created_at: NOW,
    }
}

fn line(id: &str, quantity: u64) -> ChargeLine {
    ChargeLine {
        line_id: id.into(),
        quantity,
    }
}

fn open(ledger: &Ledger, id: &str, asked: Option<&[ChargeLine]>, hash: u64) -> Result<Opened> {
    ledger.open(&lasting(), intent(id), asked, hash, 5, NOW)
}

fn opened(ledger: &Ledger, id: &str, asked: Option<&[ChargeLine]>) -> (Claim, Ledger) {
    match open(ledger, id, asked, 1).unwrap() {
        Opened::New(claim, next) => (*claim, next),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_claim_takes_units_no_other_live_claim_holds_and_a_key_names_one_claim() {
    let (claim, ledger) = opened(&Ledger::default(), "c1", Some(&[line("l1", 1)]));
    assert_eq!(claim.intent.lines, [line("l1", 1)]);
    assert_eq!(
        (claim.intent.amount.as_str(), claim.intent.currency.as_str()),
        ("2.50", "USD")
    );
    assert_eq!(claim.intent.stores, ["s1"]);
    assert_eq!(ledger.attempts, 1);
    // The same key and body: the same claim, nothing new; another body: 422.
    assert!(matches!(open(&ledger, "c1", Some(&[line("l1", 1)]), 1).unwrap(), Opened::Replay(c) if *c == claim));
    assert!(matches!(open(&ledger, "c1", None, 2), Err(Error::Validation { .. })));
    // The rest: one unit of l1 and l2 whole, across both stores.
    let (rest, ledger) = opened(&ledger, "c2", None);
    assert_eq!(rest.intent.lines, [line("l1", 1), line("l2", 3)]);
    assert_eq!(rest.intent.amount, "10.00");
    assert_eq!(rest.intent.stores, ["s1", "s2"]);
    assert!(matches!(open(&ledger, "c3", None, 1), Err(Error::Conflict { code, .. }) if code == "already_charged"));
    // A failed charge gives its units back.
    let ledger = ledger.settle("c2", ChargeStatus::Failed).unwrap();
    let (again, _) = opened(&ledger, "c3", None);
    assert_eq!(again.intent.lines, [line("l1", 1), line("l2", 3)]);
}

#[test]
fn units_the_order_counts_as_paid_by_a_charge_are_not_counted_twice() {
    let (_, ledger) = opened(&Ledger::default(), "c1", Some(&[line("l1", 2)]));
    let mut o = lasting();
    assert_eq!(ledger.live(&o), BTreeMap::from([("l1".to_string(), 2)]));
    // The order learnt of the payment before the ledger did.
    o.lines[0].paid = 2;
    o.payments.insert(
        "c1".into(),
        ChargeUpdate {
            version: 1,
            paid: BTreeMap::from([("l1".to_string(), 2)]),
            captured: true,
        },
    );
    assert_eq!(ledger.live(&o), BTreeMap::from([("l1".to_string(), 0)]));
    let ledger = ledger.settle("c1", ChargeStatus::Succeeded).unwrap();
    assert_eq!(ledger.live(&o), BTreeMap::from([("l1".to_string(), 0)]));
    let Opened::New(rest, _) = ledger.open(&o, intent("c2"), None, 1, 5, NOW).unwrap() else {
        panic!()
    };
    assert_eq!(rest.intent.lines, [line("l2", 3)]);
}

#[test]
fn attempts_are_bounded_by_the_quota_failed_ones_too() {
    let mut ledger = Ledger::default();
    for i in 0..5 {
        let (_, next) = opened(&ledger, &format!("c{i}"), Some(&[line("l1", 1)]));
        ledger = next.settle(&format!("c{i}"), ChargeStatus::Failed).unwrap();
    }
    assert!(matches!(open(&ledger, "c5", None, 1), Err(Error::Forbidden { code, .. }) if code == "quota_exceeded"));
    // A replay of an earlier key is still answered.
    assert!(matches!(
        open(&ledger, "c0", Some(&[line("l1", 1)]), 1),
        Ok(Opened::Replay(_))
    ));
}

#[test]
fn settling_moves_a_claim_forward_only_and_confirms_it() {
    let (_, ledger) = opened(&Ledger::default(), "c1", None);
    assert_eq!(ledger.due(), Some(NOW + DELIVERY_GRACE));
    assert_eq!(ledger.undelivered(NOW).len(), 0);
    assert_eq!(ledger.undelivered(NOW + DELIVERY_GRACE).len(), 1);
    // The first report confirms the claim even when it does not move it.
    let confirmed = ledger.settle("c1", ChargeStatus::RequiresAction).unwrap();
    assert_eq!(confirmed.claims[0].status, ChargeStatus::Processing);
    assert_eq!(confirmed.due(), None);
    assert!(confirmed.settle("c1", ChargeStatus::RequiresAction).is_none());
    let done = confirmed.settle("c1", ChargeStatus::Succeeded).unwrap();
    assert!(
        done.settle("c1", ChargeStatus::Failed).is_none(),
        "a final state is never left"
    );
    assert!(done.settle("c9", ChargeStatus::Failed).is_none());
}

/// c1 paid l1 ×2, c2 paid l2 ×3; both succeeded.
fn paid() -> Ledger {
    let (_, ledger) = opened(&Ledger::default(), "c1", Some(&[line("l1", 2)]));
    let (_, ledger) = opened(&ledger, "c2", None);
    let ledger = ledger.settle("c1", ChargeStatus::Succeeded).unwrap();
    ledger.settle("c2", ChargeStatus::Succeeded).unwrap()
}

fn ask(ledger: &Ledger, id: &str, store: &str, lines: &[ChargeLine]) -> Result<Refunding> {
    ledger.ask_refund(&lasting(), id, 1, store, lines, "damaged", NOW)
}

#[test]
fn refunds_spread_over_captured_units_and_never_exceed_them() {
    let ledger = paid();
    let Refunding::New(first, ledger) = ask(&ledger, "r1", "s2", &[line("l2", 2)]).unwrap() else {
        panic!()
    };
    assert_eq!(
        first.parts,
        [("c2".to_string(), vec![line("l2", 2)], "5.00".to_string())]
    );
    assert!(matches!(
        ask(&ledger, "r1", "s2", &[line("l2", 2)]),
        Ok(Refunding::Replay(_))
    ));
    let over = ask(&ledger, "r2", "s2", &[line("l2", 2)]);
    assert!(matches!(over, Err(Error::Conflict { code, .. }) if code == "refund_exceeds_captured"));
    // A pending refund counts; a failed one gives its units back.
    let ledger = ledger.refund_settled("r1", true).unwrap();
    assert!(ledger.refund_settled("r1", true).is_none());
    let Refunding::New(again, _) = ask(&ledger, "r2", "s2", &[line("l2", 3)]).unwrap() else {
        panic!()
    };
    assert_eq!(again.parts[0].2, "7.50");
    // Only the store's own lines, with a reason.
    assert!(matches!(
        ask(&ledger, "r3", "s1", &[line("l2", 1)]),
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        ledger.ask_refund(&lasting(), "r3", 1, "s1", &[line("l1", 1)], " ", NOW),
        Err(Error::Validation { .. })
    ));
    // Units never captured (a charge still processing) are not refunded.
    let (_, pending) = opened(&Ledger::default(), "c1", None);
    assert!(matches!(
        ask(&pending, "r1", "s1", &[line("l1", 1)]),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn refund_claims_not_confirmed_are_delivered_again() {
    let Refunding::New(_, ledger) = ask(&paid(), "r1", "s1", &[line("l1", 1)]).unwrap() else {
        panic!()
    };
    let ledger = Ledger {
        claims: ledger
            .claims
            .iter()
            .map(|c| Claim {
                delivered: true,
                ..c.clone()
            })
            .collect(),
        ..ledger
    };
    assert_eq!(ledger.due(), Some(NOW + DELIVERY_GRACE));
    assert_eq!(ledger.undelivered_refunds(NOW + DELIVERY_GRACE).len(), 1);
    let confirmed = ledger.refund_settled("r1", false).unwrap();
    assert_eq!(confirmed.due(), None);
}
