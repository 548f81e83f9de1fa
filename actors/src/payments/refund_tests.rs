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
