use super::*;
use std::str::FromStr;

const DAY: Millis = 86_400_000;

fn rate(r: &str) -> Decimal {
    Decimal::from_str(r).unwrap()
}

fn earned(charges: &[(&str, i64, Millis)]) -> Balance {
    charges.iter().fold(Balance::default(), |b, (id, gross, at)| {
        b.earn(id, "USD", *gross, *at).unwrap()
    })
}

fn pay_all(balance: &Balance, now: Millis) -> Balance {
    let lines = balance.payable("s1", now, 0, rate("0.1"));
    lines.iter().fold(balance.clone(), |b, line| b.paid(line, now).unwrap())
}

#[test]
fn fees_round_half_even_once_per_line() {
    assert_eq!(fee(1000, rate("0.1")), 100);
    assert_eq!(fee(25, rate("0.1")), 2, "2.5 rounds to even");
    assert_eq!(fee(35, rate("0.1")), 4, "3.5 rounds to even");
    assert_eq!(fee(999, rate("0")), 0);
    assert_eq!(fee(0, rate("0.1")), 0);
}

#[test]
fn a_charge_becomes_payable_after_the_hold_minus_the_fee() {
    let b = earned(&[("c1", 10_000, 0), ("c2", 5_000, 3 * DAY)]);
    assert!(b.payable("s1", 7 * DAY - 1, 7 * DAY, rate("0.1")).is_empty());
    let lines = b.payable("s1", 7 * DAY, 7 * DAY, rate("0.1"));
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(
        (
            line.charge_id.as_str(),
            line.share,
            line.fee,
            line.amount,
            line.key.as_str()
        ),
        ("c1", 10_000, 1_000, 9_000, "payout:s1:c1")
    );
    assert_eq!(
        b.payable("s1", 10 * DAY, 7 * DAY, rate("0.1")).len(),
        2,
        "both, oldest first"
    );
}

#[test]
fn a_charge_is_paid_out_once() {
    let b = earned(&[("c1", 10_000, 0)]);
    let line = b.payable("s1", DAY, 0, rate("0.1")).remove(0);
    let paid = b.paid(&line, DAY).unwrap();
    assert!(paid.payable("s1", 2 * DAY, 0, rate("0.1")).is_empty());
    assert_eq!(
        paid.paid(&line, 2 * DAY).unwrap(),
        paid,
        "recording it again changes nothing"
    );
    let other = PayoutLine { amount: 1, ..line };
    assert!(paid.paid(&other, 2 * DAY).is_err(), "never a second amount");
}

#[test]
fn a_refund_before_the_payout_shrinks_the_share() {
    let b = earned(&[("c1", 10_000, 0)]);
    let (b, recovery) = b.refund("c1", 4_000, rate("0.1")).unwrap();
    assert_eq!(recovery, Recovery::None);
    let line = b.payable("s1", DAY, 0, rate("0.1")).remove(0);
    assert_eq!((line.share, line.fee, line.amount), (6_000, 600, 5_400));
    // A refund that failed gives the share back.
    let back = b.refund_failed("c1", 4_000).unwrap();
    assert_eq!(back.payable("s1", DAY, 0, rate("0.1"))[0].share, 10_000);
    assert!(b.refund("c1", 6_001, rate("0.1")).is_err(), "never more than the share");
    assert!(b.refund("nope", 1, rate("0.1")).is_err());
}

#[test]
fn a_refund_after_the_payout_reverses_the_store_part() {
    let b = pay_all(&earned(&[("c1", 10_000, 0)]), DAY);
    let (b, recovery) = b.refund("c1", 4_000, rate("0.1")).unwrap();
    assert_eq!(
        recovery,
        Recovery::Reverse {
            charge_id: "c1".into(),
            amount: 3_600
        },
        "the refund minus the fee on it"
    );
    let done = b.reversed("c1", 3_600, true).unwrap();
    assert_eq!(done.earnings["c1"].paid.as_ref().unwrap().reversed, 3_600);
    assert!(done.debt.is_empty());
    assert!(done.reversed("c1", 1, true).is_err(), "only what was asked");
}

#[test]
fn a_refused_reversal_becomes_a_debt_netted_from_the_next_payout() {
    let b = pay_all(&earned(&[("c1", 10_000, 0)]), DAY);
    let (b, _) = b.refund("c1", 4_000, rate("0.1")).unwrap();
    let b = b.reversed("c1", 3_600, false).unwrap();
    assert_eq!(b.debt["USD"], 3_600);
    let b = b
        .earn("c2", "USD", 3_000, DAY)
        .unwrap()
        .earn("c3", "USD", 5_000, DAY + 1)
        .unwrap();
    let lines = b.payable("s1", 2 * DAY, 0, rate("0.1"));
    assert_eq!(
        lines.iter().map(|l| (l.debt_netted, l.amount)).collect::<Vec<_>>(),
        [(2_700, 0), (900, 3_600)],
        "the oldest line first takes what it can"
    );
    let b = lines.iter().fold(b, |b, l| b.paid(l, 2 * DAY).unwrap());
    assert!(b.debt.is_empty(), "{:?}", b.debt);
}

#[test]
fn debts_are_per_currency() {
    let b = pay_all(&earned(&[("c1", 10_000, 0)]), DAY);
    let (b, _) = b.refund("c1", 10_000, rate("0.1")).unwrap();
    let b = b.reversed("c1", 9_000, false).unwrap();
    let b = b.earn("e1", "EUR", 5_000, DAY).unwrap();
    let line = b.payable("s1", 2 * DAY, 0, rate("0.1")).remove(0);
    assert_eq!((line.debt_netted, line.amount), (0, 4_500));
}

#[test]
fn a_refund_beyond_what_is_left_of_the_transfer_is_owed() {
    // The payout was reduced by a debt, so less can be reversed.
    let b = earned(&[("c0", 1_000, 0)]);
    let b = pay_all(&b, DAY);
    let (b, _) = b.refund("c0", 1_000, rate("0.1")).unwrap();
    let b = b.reversed("c0", 900, false).unwrap();
    let b = b.earn("c1", "USD", 1_000, DAY).unwrap();
    let b = pay_all(&b, 2 * DAY);
    assert_eq!(b.earnings["c1"].paid.as_ref().unwrap().transferred, 0);
    let (b, recovery) = b.refund("c1", 1_000, rate("0.1")).unwrap();
    assert_eq!(recovery, Recovery::None, "nothing left to reverse");
    assert_eq!(b.debt["USD"], 900);
}

#[test]
fn two_refunds_at_once_never_reverse_more_than_was_transferred() {
    let b = pay_all(&earned(&[("c1", 10_000, 0)]), DAY);
    let (b, first) = b.refund("c1", 6_000, rate("0.1")).unwrap();
    let (b, second) = b.refund("c1", 4_000, rate("0.1")).unwrap();
    let amount = |r: &Recovery| match r {
        Recovery::Reverse { amount, .. } => *amount,
        Recovery::None => 0,
    };
    assert_eq!((amount(&first), amount(&second)), (5_400, 3_600));
    assert!(b.refund("c1", 1, rate("0.1")).is_err(), "the share is all refunded");
    let b = b
        .reversed("c1", 3_600, true)
        .unwrap()
        .reversed("c1", 5_400, true)
        .unwrap();
    let paid = b.earnings["c1"].paid.clone().unwrap();
    assert_eq!((paid.reversed, paid.reversing, paid.transferred), (9_000, 0, 9_000));
}

#[test]
fn earning_twice_is_one_earning() {
    let b = earned(&[("c1", 10_000, 0)]);
    assert_eq!(b.earn("c1", "USD", 10_000, 0).unwrap(), b);
    assert!(b.earn("c1", "USD", 9_000, 0).is_err());
    assert!(b.earn("c2", "USD", -1, 0).is_err());
}

#[test]
fn a_payout_computed_before_a_refund_is_refused() {
    let b = earned(&[("c1", 10_000, 0)]);
    let line = b.payable("s1", DAY, 0, rate("0.1")).remove(0);
    let (b, _) = b.refund("c1", 1_000, rate("0.1")).unwrap();
    assert!(b.paid(&line, DAY).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Earn(u8, i64),
        Refund(u8, i64),
        Reverse(bool),
        Payout,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..6, 0i64..20_000).prop_map(|(c, g)| Op::Earn(c, g)),
            (0u8..6, 1i64..8_000).prop_map(|(c, a)| Op::Refund(c, a)),
            any::<bool>().prop_map(Op::Reverse),
            Just(Op::Payout),
        ]
    }

    proptest! {
        /// Whatever happens, the money the store holds (transfers minus
        /// reversals minus what it owes) is exactly what its paid charges
        /// captured minus their refunds minus the fees the platform keeps;
        /// never a charge paid twice, never a negative transfer or debt.
        #[test]
        fn the_store_gets_exactly_its_share(ops in proptest::collection::vec(op(), 1..60), r in 0u32..30) {
            let rate = Decimal::new(i64::from(r), 2);
            let mut b = Balance::default();
            let mut pending: Vec<(String, i64)> = Vec::new();
            // Per paid charge: the fee kept (the payout's, minus the fees on
            // refunds after it).
            let mut kept: BTreeMap<String, i64> = BTreeMap::new();
            let mut transfers = 0;
            for (t, op) in ops.into_iter().enumerate() {
                let now = t as Millis;
                match op {
                    Op::Earn(c, gross) => {
                        if let Ok(next) = b.earn(&format!("c{c}"), "USD", gross, now) {
                            b = next;
                        }
                    }
                    Op::Refund(c, amount) => {
                        let id = format!("c{c}");
                        if let Ok((next, recovery)) = b.refund(&id, amount, rate) {
                            if let Some(k) = kept.get_mut(&id) {
                                *k -= fee(amount, rate);
                            }
                            b = next;
                            if let Recovery::Reverse { charge_id, amount } = recovery {
                                pending.push((charge_id, amount));
                            }
                        }
                    }
                    Op::Reverse(done) => {
                        if let Some((id, amount)) = pending.pop() {
                            b = b.reversed(&id, amount, done).unwrap();
                        }
                    }
                    Op::Payout => {
                        for line in b.payable("s1", now, 0, rate) {
                            prop_assert!(line.amount >= 0 && line.fee >= 0 && line.debt_netted >= 0);
                            kept.insert(line.charge_id.clone(), line.fee);
                            transfers += 1;
                            b = b.paid(&line, now).unwrap();
                        }
                    }
                }
            }
            // Reversals not yet answered are still owed back.
            let outstanding: i64 = pending.iter().map(|(_, a)| a).sum();
            prop_assert_eq!(outstanding, b.earnings.values().filter_map(|e| e.paid.as_ref()).map(|p| p.reversing).sum::<i64>());
            let paid = b.earnings.values().filter_map(|e| e.paid.as_ref().map(|p| (e, p)));
            let holds: i64 = paid.clone().map(|(_, p)| p.transferred - p.reversed).sum::<i64>()
                - b.debt.values().sum::<i64>() - outstanding;
            let owed: i64 = paid.clone().map(|(e, _)| e.gross - e.refunded).sum::<i64>()
                - kept.values().sum::<i64>();
            prop_assert_eq!(holds, owed);
            prop_assert_eq!(transfers, b.earnings.values().filter(|e| e.paid.is_some()).count());
            prop_assert!(b.debt.values().all(|d| *d >= 0));
        }
    }
}
