use super::*;
use crate::orders::fixtures::{NOW, order};
use crate::payments::charge::ChargeLine;
use crate::payments::ports::CaptureMode;
use crate::payments::record::Intent;

/// The fixture order with store currencies: `l1` (2 × 2.50 USD, store s1,
/// 4.60 EUR), `l2` (3 × 2.50 USD, store s2, in USD).
fn priced_order() -> Order {
    let mut o = order();
    o.lines[0].store_currency = "EUR".into();
    o.lines[0].store_line_total = "4.60".into();
    o.lines[1].store_line_total = "7.50".into();
    o
}

fn charge_of(lines: &[(&str, u64)], captured: i64) -> Charge {
    let intent = Intent {
        charge_id: "ch_1".into(),
        order_id: "o".into(),
        buyer: "u".into(),
        stores: vec!["s1".into(), "s2".into()],
        lines: lines
            .iter()
            .map(|(id, q)| ChargeLine {
                line_id: id.to_string(),
                quantity: *q,
            })
            .collect(),
        amount: "12.50".into(),
        currency: "USD".into(),
        unit_prices: BTreeMap::new(),
        payment_method: "pm_card_visa".into(),
        processor: "sandbox".into(),
        capture: CaptureMode::Automatic,
        return_url: None,
        created_at: NOW,
    };
    let mut charge = Charge::new(intent, NOW, 60_000, DAY).unwrap();
    charge.captured_minor = captured;
    charge.processor_payment_id = Some("sbx_pi_1".into());
    charge
}

fn gross(earned: &[(String, Earned)]) -> Vec<(&str, i64, &str, i64)> {
    earned
        .iter()
        .map(|(s, e)| (s.as_str(), e.earning.gross, e.store_currency.as_str(), e.store_gross))
        .collect()
}

#[test]
fn a_charge_earns_each_store_its_lines_in_both_currencies() {
    let earned = earnings_of(&charge_of(&[("l1", 2), ("l2", 3)], 1_250), &priced_order()).unwrap();
    assert_eq!(gross(&earned), [("s1", 500, "EUR", 460), ("s2", 750, "USD", 750)]);
    let (_, e) = &earned[0];
    assert_eq!((e.charge_id.as_str(), e.order_id.as_str()), ("ch_1", "o"));
    assert_eq!(e.payment_id.as_deref(), Some("sbx_pi_1"));
    assert_eq!((e.earning.refunded, e.earning.paid.is_none()), (0, true));
    // Part of a line: its part of the store's total.
    let one = earnings_of(&charge_of(&[("l1", 1)], 250), &priced_order()).unwrap();
    assert_eq!(gross(&one), [("s1", 250, "EUR", 230)]);
}

#[test]
fn a_charge_that_took_less_than_its_lines_is_shared_in_proportion() {
    // 10.00 of 12.50 taken: 4.00 and 6.00.
    let mut charge = charge_of(&[("l1", 2), ("l2", 3)], 1_000);
    let earned = earnings_of(&charge, &priced_order()).unwrap();
    assert_eq!(gross(&earned), [("s1", 400, "EUR", 368), ("s2", 600, "USD", 600)]);
    // Lines given back: what is left is shared; the last store takes the rounding.
    charge.captured_minor = 1_250;
    charge.auto_refund = Some(crate::payments::record::AutoRefund {
        reason: "expired".into(),
        amount_minor: 249,
        refund: None,
    });
    let earned = earnings_of(&charge, &priced_order()).unwrap();
    let total: i64 = earned.iter().map(|(_, e)| e.earning.gross).sum();
    assert_eq!(total, 1_001);
    assert_eq!(gross(&earned)[0].1, 400, "500 × 1001 / 1250, rounded down");
    // A line not in the order is a fault, never a guess.
    assert!(earnings_of(&charge_of(&[("nope", 1)], 100), &priced_order()).is_err());
}

fn earned(charge: &str, gross: i64) -> Earned {
    Earned {
        charge_id: charge.into(),
        order_id: "o".into(),
        earning: Earning {
            currency: "USD".into(),
            captured_at: NOW,
            gross,
            refunded: 0,
            paid: None,
        },
        processor: "sandbox".into(),
        payment_id: None,
        transfer_id: None,
        disputed: false,
        lines: vec![SoldLine {
            line_id: "l1".into(),
            product_id: "p1".into(),
            units: 1,
            gross,
        }],
        returned: BTreeMap::new(),
        pending_refunds: Default::default(),
        store_currency: "EUR".into(),
        store_gross: gross * 92 / 100,
    }
}

#[test]
fn statements_show_each_amount_in_the_store_currency_at_the_orders_rate() {
    let e = earned("ch_1", 1_000);
    assert_eq!(e.in_store_currency(1_000), 920);
    assert_eq!(e.in_store_currency(100), 92);
    assert_eq!(e.in_store_currency(5), 5, "4.6 rounds to 5");
    let same = Earned {
        store_currency: "USD".into(),
        ..earned("ch_2", 1_000)
    };
    assert_eq!(same.in_store_currency(333), 333);
    let funds = Funds::new(NOW);
    let lines = funds
        .balance([e.clone()].iter())
        .payable("s1", NOW, 0, Decimal::new(1, 1));
    let payout = Payout::new("po_1", 1, "u1", NOW, vec![(lines[0].clone(), &e)]);
    let line = &payout.lines[0];
    assert_eq!((line.line.share, line.line.fee, line.line.amount), (1_000, 100, 900));
    assert_eq!(line.store_amounts, [920, 92, 0, 828]);
    assert_eq!((payout.status, line.done), (PayoutStatus::InProgress, false));
}

#[test]
fn a_payout_is_paid_once_every_line_is_done_and_totals_what_was_transferred() {
    let (a, b) = (earned("ch_a", 1_000), earned("ch_b", 500));
    let funds = Funds::new(NOW);
    let lines = funds
        .balance([a.clone(), b.clone()].iter())
        .payable("s1", NOW, 0, Decimal::ZERO);
    let by: BTreeMap<_, _> = [("ch_a", &a), ("ch_b", &b)].into_iter().collect();
    let mut payout = Payout::new(
        "po",
        1,
        "u",
        NOW,
        lines
            .into_iter()
            .map(|l| (l.clone(), by[l.charge_id.as_str()]))
            .collect(),
    );
    assert_eq!(payout.next_lines(1), [0]);
    assert_eq!(payout.next_lines(5), [0, 1]);
    payout.lines[0].transfer_id = Some("tr_a".into());
    payout.lines[0].done = true;
    let payout = payout.finish_if_done(NOW + 1);
    assert_eq!(
        (payout.status, payout.next_lines(5)),
        (PayoutStatus::InProgress, vec![1])
    );
    let mut payout = payout;
    payout.lines[1].refused = Some("account_invalid: no".into());
    payout.lines[1].done = true;
    let payout = payout.finish_if_done(NOW + 2);
    assert_eq!((payout.status, payout.finished_at), (PayoutStatus::Paid, Some(NOW + 2)));
    assert_eq!(
        payout.totals(),
        BTreeMap::from([("USD".to_string(), 1_000)]),
        "the refused line moved nothing"
    );
}

#[test]
fn schedules_run_daily_weekly_or_never_and_steps_back_off() {
    assert_eq!(Every::parse("daily").unwrap().period(), Some(DAY));
    assert_eq!(Every::parse("weekly").unwrap().period(), Some(7 * DAY));
    assert_eq!(Every::parse("manual").unwrap().period(), None);
    assert!(Every::parse("hourly").is_err());
    let funds = Funds::new(NOW).schedule(Every::Daily, NOW);
    assert_eq!(funds.next_payout_at, Some(NOW + DAY));
    assert!(!funds.schedule_due(NOW + DAY - 1) && funds.schedule_due(NOW + DAY));
    // A node down for three days runs the schedule once, then tomorrow.
    let later = funds.advance_schedule(NOW + 3 * DAY + 5);
    assert_eq!(later.next_payout_at, Some(NOW + 4 * DAY));
    assert_eq!(later.scheduled(NOW).next_check, Some(NOW + 4 * DAY));
    assert_eq!(funds.schedule(Every::Manual, NOW).scheduled(NOW).next_check, None);
    // Steps left: at once, then backing off, never past the schedule.
    let mut busy = Funds::new(NOW);
    busy.running = Some(1);
    assert_eq!(busy.clone().scheduled(NOW).next_check, Some(NOW));
    busy.retries = 3;
    assert_eq!(
        busy.clone().scheduled(NOW).next_check,
        Some(NOW + 4 * crate::payments::record::RETRY_FIRST)
    );
    busy.retries = 40;
    assert_eq!(
        busy.clone().scheduled(NOW).next_check,
        Some(NOW + crate::payments::record::RETRY_MAX)
    );
}

#[test]
fn fee_rates_are_decimals_from_zero_to_below_one() {
    assert_eq!(fee_rate("0.1"), Ok(Decimal::new(1, 1)));
    assert_eq!(fee_rate(" 0 "), Ok(Decimal::ZERO));
    assert!(fee_rate("1").is_err());
    assert!(fee_rate("-0.1").is_err());
    assert!(fee_rate("ten").is_err());
}

#[test]
fn unpaid_earnings_list_oldest_first() {
    let mut names = [members::due(20, "b"), members::due(3, "z"), members::due(1_000, "a")];
    names.sort();
    let parsed: Vec<_> = names.iter().map(|n| members::parse_due(n).unwrap()).collect();
    assert_eq!(parsed, [(3, "z"), (20, "b"), (1_000, "a")]);
    assert!(members::parse_due(&members::payout(1)).is_none());
    assert!(members::payout(9) < members::payout(10));
}

#[test]
fn amounts_are_shared_in_proportion_and_add_up_exactly() {
    assert_eq!(share_out(100, &[1, 1, 1]), [33, 33, 34]);
    assert_eq!(share_out(10, &[0, 0]), [0, 10], "no weights: all to the last");
    assert_eq!(share_out(0, &[5, 5]), [0, 0]);
    for amount in [0, 1, 7, 999, 1_000_003] {
        for weights in [vec![3, 5, 11], vec![1], vec![0, 4]] {
            assert_eq!(share_out(amount, &weights).iter().sum::<i64>(), amount);
        }
    }
}

fn two_products() -> Earned {
    let mut e = earned("ch_1", 2_500);
    e.lines = vec![
        SoldLine {
            line_id: "l1".into(),
            product_id: "lamp".into(),
            units: 2,
            gross: 2_000,
        },
        SoldLine {
            line_id: "l2".into(),
            product_id: "vase".into(),
            units: 1,
            gross: 500,
        },
    ];
    e
}

#[test]
fn returns_count_against_the_products_whose_lines_went_back() {
    let mut e = two_products();
    e.returned(&[("l1".to_string(), 1)], 1_000);
    assert_eq!(e.returned["lamp"], (1, 1_000));
    assert!(!e.returned.contains_key("vase"));
    // No lines (a lost dispute): over every line by gross.
    e.returned(&[], 250);
    assert_eq!((e.returned["lamp"], e.returned["vase"]), ((1, 1_200), (0, 50)));
}

#[test]
fn sales_add_up_per_product_fees_and_payouts_spread_by_what_is_left() {
    let mut e = two_products();
    e.returned(&[("l1".to_string(), 1)], 1_000);
    e.earning.refunded = 1_000;
    e.earning.paid = Some(crate::payments::payout::Paid {
        transferred: 1_350,
        fee: 150,
        debt_netted: 0,
        reversed: 0,
        reversing: 0,
        at: NOW,
    });
    let rows = sales([e.clone()].iter(), 0, i64::MAX);
    let lamp = &rows[0];
    assert_eq!(
        (lamp.product_id.as_str(), lamp.units_sold, lamp.units_refunded),
        ("lamp", 2, 1)
    );
    assert_eq!(
        (lamp.gross, lamp.refunded, lamp.fees, lamp.net, lamp.paid_out),
        (2_000, 1_000, 100, 900, 900)
    );
    let vase = &rows[1];
    assert_eq!(
        (vase.gross, vase.refunded, vase.fees, vase.net, vase.paid_out),
        (500, 0, 50, 450, 450)
    );
    // Outside the window: nothing.
    assert!(sales([e.clone()].iter(), NOW + 1, i64::MAX).is_empty());
    // A reversal after the payout shows in what was paid out.
    if let Some(p) = e.earning.paid.as_mut() {
        p.reversed = 450;
    }
    let rows = sales([e].iter(), 0, i64::MAX);
    assert_eq!(rows.iter().map(|r| r.paid_out).sum::<i64>(), 900);
}

#[test]
fn a_charge_with_a_refund_pending_or_a_dispute_open_is_not_payable() {
    let mut e = earned("ch_1", 1_000);
    assert!(e.payable());
    e.pending_refunds.insert("rf_1".into());
    assert!(!e.payable());
    e.pending_refunds.clear();
    e.disputed = true;
    assert!(!e.payable());
}
