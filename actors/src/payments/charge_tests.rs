use super::*;
use crate::orders::fixtures::{NOW, order};
use proptest::prelude::*;

/// The fixture order: l1 holds 2 units until NOW + 100, l2 holds 3 until
/// NOW + 200, at 2.50 USD each. Reservations here last an hour longer.
fn lasting() -> Order {
    let mut o = order();
    for l in &mut o.lines {
        l.held_until += 3_600_000;
    }
    o
}

fn line(id: &str, quantity: u64) -> ChargeLine {
    ChargeLine {
        line_id: id.into(),
        quantity,
    }
}

fn none() -> BTreeMap<String, u64> {
    BTreeMap::new()
}

#[test]
fn by_default_every_unit_not_paid_nor_charged_is_taken() {
    let all = chargeable(&lasting(), None, &none(), NOW).unwrap();
    assert_eq!(all.lines, [line("l1", 2), line("l2", 3)]);
    assert_eq!(all.amount.to_string(), "12.50");
    let live = BTreeMap::from([("l1".to_string(), 1)]);
    let rest = chargeable(&lasting(), None, &live, NOW).unwrap();
    assert_eq!(
        rest.lines,
        [line("l1", 1), line("l2", 3)],
        "a live charge holds one unit of l1"
    );
    let mut paid = lasting();
    paid.lines[1].paid = 3;
    paid.lines[1].status = LineStatus::Paid;
    assert_eq!(chargeable(&paid, None, &none(), NOW).unwrap().lines, [line("l1", 2)]);
}

#[test]
fn asked_lines_are_checked_summed_and_priced_once() {
    let asked = [line("l2", 1), line("l2", 1)];
    let two = chargeable(&lasting(), Some(&asked), &none(), NOW).unwrap();
    assert_eq!(
        (two.lines, two.amount.to_string()),
        (vec![line("l2", 2)], "5.00".to_string())
    );
    let err = chargeable(&lasting(), Some(&[line("l9", 1), line("l1", 0)]), &none(), NOW).unwrap_err();
    match err {
        Error::Validation { fields } => {
            assert!(fields.contains_key("lines[0].line_id") && fields.contains_key("lines[1].quantity"))
        }
        other => panic!("{other:?}"),
    }
    let live = BTreeMap::from([("l1".to_string(), 2)]);
    let taken = chargeable(&lasting(), Some(&[line("l1", 1)]), &live, NOW).unwrap_err();
    assert_eq!(taken.code(), "already_charged", "a unit is never in two live charges");
    assert!(
        chargeable(&lasting(), Some(&[line("l1", 3)]), &none(), NOW).is_err(),
        "more than ordered"
    );
}

#[test]
fn ending_reservations_cancelled_and_expired_orders_are_not_charged() {
    // l1's reservation ends at NOW + 100: within the minute.
    assert_eq!(
        chargeable(&order(), Some(&[line("l1", 1)]), &none(), NOW)
            .unwrap_err()
            .code(),
        "reservation_ending"
    );
    let mut cancelled = lasting();
    cancelled.cancelled = true;
    assert_eq!(
        chargeable(&cancelled, None, &none(), NOW).unwrap_err().code(),
        "order_cancelled"
    );
    let mut expired = lasting();
    for l in &mut expired.lines {
        l.status = LineStatus::Expired;
    }
    assert_eq!(
        chargeable(&expired, None, &none(), NOW).unwrap_err().code(),
        "order_expired"
    );
    let all = BTreeMap::from([("l1".to_string(), 2), ("l2".to_string(), 3)]);
    assert_eq!(
        chargeable(&lasting(), None, &all, NOW).unwrap_err().code(),
        "already_charged"
    );
}

proptest! {
    /// Whatever charges are asked one after another, no line's units in
    /// live charges ever exceed what it ordered, and each charge's amount
    /// is its units times the unit price.
    #[test]
    fn charges_never_take_more_units_than_were_ordered(asks in proptest::collection::vec((0..2usize, 1..4u64), 1..12)) {
        let order = lasting();
        let mut live: BTreeMap<String, u64> = BTreeMap::new();
        for (which, quantity) in asks {
            let id = ["l1", "l2"][which];
            if let Ok(c) = chargeable(&order, Some(&[line(id, quantity)]), &live, NOW) {
                prop_assert_eq!(c.amount.amount(), rust_decimal::Decimal::new(250, 2) * rust_decimal::Decimal::from(quantity));
                *live.entry(id.to_string()).or_default() += quantity;
            }
            for l in &order.lines {
                prop_assert!(live.get(&l.line_id).copied().unwrap_or(0) <= l.quantity);
            }
        }
    }
}
