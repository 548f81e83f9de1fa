use super::*;
use crate::orders::fixtures::{NOW, line, order};
use crate::shared::{lines, money};
use rust_decimal::Decimal;

fn pay(units: &[(&str, u64)], version: u64) -> ChargeUpdate {
    ChargeUpdate {
        version,
        paid: units.iter().map(|(l, n)| (l.to_string(), *n)).collect(),
        captured: true,
    }
}

fn settle(line: &str, sold: u64) -> StockStep {
    StockStep::Settle {
        store_id: if line == "l1" { "s1" } else { "s2" }.into(),
        product_id: format!("p-{line}"),
        hold: format!("h-{line}"),
        sold,
    }
}

#[test]
fn totals_are_sums_of_rounded_lines_per_store() {
    let o = order();
    assert_eq!(o.total().unwrap(), "12.50");
    assert_eq!(
        o.totals().unwrap(),
        BTreeMap::from([("s1".into(), "5.00".into()), ("s2".into(), "7.50".into())])
    );
    assert_eq!(o.status(), OrderStatus::AwaitingPayment);
    assert_eq!(o.next_expiry(), Some(NOW + 100));
}

#[test]
fn stored_money_that_does_not_read_is_an_error_never_zero() {
    let mut o = order();
    o.lines[1].line_total = "7,50".into();
    assert!(matches!(o.total(), Err(Error::Internal(_))), "{:?}", o.total());
    assert!(o.totals().is_err() && o.view(None).is_err());
    let mut o = order();
    o.lines[0].unit_price = String::new();
    let (o, _, _) = o.pay("c", pay(&[("l1", 2)], 1), NOW);
    assert!(
        matches!(o.request_return(ret("r", &[("l1", 1)]), NOW), Err(Error::Internal(_))),
        "a refund is never computed from a price read as zero"
    );
    let mut o = order();
    o.currency = "XXX".into();
    assert!(matches!(o.total(), Err(Error::Internal(_))));
}

#[test]
fn store_staff_see_only_their_stores_part() {
    let (o, _, _) = order().pay("c", pay(&[("l1", 2)], 1), NOW);
    let whole = o.view(None).unwrap();
    assert_eq!((whole.order.lines.len(), whole.total.as_str()), (2, "12.50"));
    assert_eq!(whole.status, OrderStatus::PartiallyPaid);
    let s1 = o.view(Some(&["s1".to_string()])).unwrap();
    assert_eq!(
        s1.order.lines.iter().map(|l| l.line_id.as_str()).collect::<Vec<_>>(),
        ["l1"]
    );
    assert_eq!((s1.status, s1.total.as_str()), (OrderStatus::Paid, "5.00"));
    assert_eq!(s1.totals.keys().collect::<Vec<_>>(), ["s1"]);
    let s2 = o.view(Some(&["s2".to_string()])).unwrap();
    assert_eq!((s2.status, s2.total.as_str()), (OrderStatus::AwaitingPayment, "7.50"));
    // Each sees the shipping contact; staff only their stores' methods and
    // no billing.
    let mut both = o.clone();
    both.shipping.methods = [("s1", "standard"), ("s2", "express")]
        .map(|(s, m)| (s.to_string(), m.to_string()))
        .into();
    let staff = both.view(Some(&["s2".to_string()])).unwrap();
    assert_eq!(staff.order.shipping.methods.keys().collect::<Vec<_>>(), ["s2"]);
    assert_eq!((staff.order.shipping.contact.name.as_str(), staff.billing), ("A", None));
    let buyer = both.view(None).unwrap();
    assert_eq!(buyer.order.shipping.methods.len(), 2);
    assert_eq!(
        buyer.billing.map(|b| b.contact.email),
        Some("a@example.com".to_string())
    );
    let (shipped, _) = s1.order.ship("s1", shipment(&["l1"]), NOW).unwrap();
    assert!(
        shipped
            .view(Some(&["s2".to_string()]))
            .unwrap()
            .order
            .shipments
            .is_empty()
    );
}

proptest::proptest! {
    /// No order the bounds allow can overflow: the dearest unit (a price and
    /// every surcharge at their maximum), the most units, the most lines
    /// and the most lopsided exchange rate still price, total and refund.
    #[test]
    fn no_total_within_the_bounds_overflows(
        cents in 0u64..=100_000_000_000,
        surcharges in 0usize..=money::SURCHARGES_MAX,
        quantity in 1u32..=lines::QUANTITY_MAX,
        count in 1usize..=lines::ORDER_LINES_MAX,
        rate_up in proptest::bool::ANY,
    ) {
        use crate::storefront::offers::quote;
        let usd = Currency::parse("USD").unwrap();
        let price = Money::new(Decimal::new(cents as i64, 2).min(money::PRICE_MAX), usd);
        let unit = Money::sum(std::iter::repeat_n(price, surcharges + 1), usd).unwrap();
        let krw = BTreeMap::from([("KRW".to_string(), money::RATE_MAX.to_string())]);
        let rates = money::RateSet::parse(1, "USD", &krw, 0).unwrap();
        let to = if rate_up { "KRW" } else { "USD" };
        let q = quote(unit, quantity, to, Some(&rates)).unwrap();
        let mut o = order();
        o.currency = to.into();
        o.lines = (0..count)
            .map(|i| Line {
                quantity: u64::from(quantity),
                unit_price: q.unit_price.clone(),
                line_total: q.line_total.clone(),
                ..line(&format!("l{i}"), "s1", u64::from(quantity), NOW + 100)
            })
            .collect();
        proptest::prop_assert!(o.total().is_ok() && o.totals().is_ok());
        let all: Vec<(String, u64)> = o.lines.iter().map(|l| (l.line_id.clone(), l.quantity)).collect();
        proptest::prop_assert!(o.refund(all.iter().map(|(id, q)| (id.as_str(), *q))).is_ok());
    }
}

#[test]
fn the_largest_order_the_bounds_allow_totals_exactly() {
    let usd = Currency::parse("USD").unwrap();
    let dearest = Money::sum(
        std::iter::repeat_n(Money::new(money::PRICE_MAX, usd), money::SURCHARGES_MAX + 1),
        usd,
    )
    .unwrap();
    let line_total = dearest.times(u64::from(lines::QUANTITY_MAX)).unwrap();
    let mut o = order();
    o.lines = (0..lines::ORDER_LINES_MAX)
        .map(|i| Line {
            line_total: line_total.to_string(),
            ..line(&format!("l{i}"), "s1", 1, NOW)
        })
        .collect();
    // 21 × 10^9 × 10^4 × 100 = 2.1 × 10^16, exactly.
    assert_eq!(o.total().unwrap(), "21000000000000000.00");
}

#[test]
fn payments_are_idempotent_per_charge_and_sell_full_lines() {
    let (o, steps, out) = order().pay("c1", pay(&[("l1", 1)], 1), NOW);
    assert_eq!(
        (o.status(), steps.len(), out.accepted.len()),
        (OrderStatus::PartiallyPaid, 0, 1)
    );
    let (same, steps, out) = o.pay("c1", pay(&[("l1", 1)], 1), NOW);
    assert!(out.stale && steps.is_empty() && same == o);
    let (o, steps, _) = o.pay("c1", pay(&[("l1", 2)], 2), NOW);
    assert_eq!(steps, vec![settle("l1", 2)]);
    assert_eq!(o.lines[0].status, LineStatus::Paid);
    let (o2, _, out) = o.pay("c2", pay(&[("l1", 1), ("nope", 1), ("l2", 4)], 1), NOW);
    assert_eq!(
        out.refused,
        vec![
            ("l1".to_string(), "line is paid".to_string()),
            ("l2".to_string(), "more_than_ordered".to_string()),
            ("nope".to_string(), "unknown_line".to_string())
        ]
    );
    assert_eq!(o2.lines[1].paid, 0);
    let (o3, _, out) = o.pay("c1", pay(&[("l1", 1)], 3), NOW);
    assert_eq!(out.refused[0].1, "paid_units_cannot_decrease");
    assert_eq!(o3.lines[0].paid, 2);
    let (o, _, _) = o.pay("c3", pay(&[("l2", 3)], 1), NOW);
    assert_eq!(o.status(), OrderStatus::Paid);
}

#[test]
fn unpaid_holds_expire_and_partly_paid_lines_keep_what_was_paid() {
    let (o, _, _) = order().pay("c", pay(&[("l2", 1)], 1), NOW);
    let (early, steps) = o.expire(NOW + 99);
    assert!(steps.is_empty() && early == o);
    let (o, steps) = o.expire(NOW + 150);
    assert_eq!(steps, vec![settle("l1", 0)]);
    assert_eq!(o.lines[0].status, LineStatus::Expired);
    assert_eq!(o.status(), OrderStatus::PartiallyPaid);
    let (o, steps) = o.expire(NOW + 200);
    assert_eq!(steps, vec![settle("l2", 1)]);
    assert_eq!((o.lines[1].status, o.status()), (LineStatus::Paid, OrderStatus::Paid));
    let (late, _, out) = o.pay("c", pay(&[("l1", 2)], 2), NOW + 300);
    assert_eq!(out.refused[0].1, "line is expired");
    assert_eq!(late.lines[0].paid, 0);
    let (all_gone, _) = order().expire(NOW + 500);
    assert_eq!(all_gone.status(), OrderStatus::Expired);
}

#[test]
fn only_unpaid_orders_cancel_and_every_hold_returns() {
    let (o, steps) = order().cancel(NOW).unwrap();
    assert_eq!(steps, vec![settle("l1", 0), settle("l2", 0)]);
    assert_eq!(o.status(), OrderStatus::Cancelled);
    assert_eq!(o.cancel(NOW).unwrap().1, vec![], "twice is once");
    let (paid, _, _) = order().pay("c", pay(&[("l1", 1)], 1), NOW);
    assert!(matches!(paid.cancel(NOW), Err(Error::Conflict { .. })));
}

fn hold(units: &[(&str, u64)], version: u64) -> ChargeUpdate {
    ChargeUpdate {
        captured: false,
        ..pay(units, version)
    }
}

fn restock(line: &str, key: &str, quantity: u64) -> StockStep {
    StockStep::Restock {
        store_id: if line == "l1" { "s1" } else { "s2" }.into(),
        product_id: format!("p-{line}"),
        return_line: key.into(),
        quantity,
    }
}

#[test]
fn an_order_paid_only_by_authorizations_still_cancels_and_its_sold_units_go_back() {
    let (held, steps, _) = order().pay("c", hold(&[("l1", 2)], 1), NOW);
    assert_eq!(steps, vec![settle("l1", 2)], "the paid line sells its hold");
    assert!(held.only_authorized());
    let (o, steps) = held.cancel(NOW).unwrap();
    assert_eq!(steps, vec![restock("l1", "o:cancel/l1", 2), settle("l2", 0)]);
    assert!(o.cancelled && o.lines.iter().all(|l| l.status == LineStatus::Cancelled));
    // The void that follows unpays the cancelled line and moves no stock.
    let (voided, steps, outcome) = o.pay("c", hold(&[("l1", 0)], 3), NOW);
    assert!(steps.is_empty() && outcome.refused.is_empty());
    assert_eq!(voided.lines[0].paid, 0);
    // Captured, or shipped: no longer.
    let (taken, _, _) = order().pay("c", pay(&[("l1", 2)], 2), NOW);
    assert!(!taken.only_authorized() && matches!(taken.cancel(NOW), Err(Error::Conflict { .. })));
    let (shipped, _) = held.ship("s1", shipment(&["l1"]), NOW).unwrap();
    assert!(matches!(shipped.cancel(NOW), Err(Error::Conflict { .. })));
}

#[test]
fn a_voided_authorization_unpays_its_units_and_gives_them_back() {
    let (held, _, _) = order().pay("c", hold(&[("l1", 2)], 1), NOW);
    let (unpaid, steps, outcome) = held.pay("c", hold(&[("l1", 0)], 3), NOW + 1);
    assert_eq!(outcome.accepted, ["l1"]);
    assert_eq!(steps, vec![restock("l1", "o:unpaid/c/l1/3", 2)]);
    assert_eq!((unpaid.lines[0].paid, unpaid.lines[0].status), (0, LineStatus::Expired));
    // A shipped line is never unpaid.
    let (shipped, _) = held.ship("s1", shipment(&["l1"]), NOW).unwrap();
    let (same, steps, outcome) = shipped.pay("c", hold(&[("l1", 0)], 3), NOW + 1);
    assert!(steps.is_empty());
    assert_eq!(
        outcome.refused,
        [("l1".to_string(), "paid_units_cannot_decrease".to_string())]
    );
    assert_eq!(same.lines[0].paid, 2);
}

fn shipment(lines: &[&str]) -> ShipmentRequest {
    ShipmentRequest {
        line_ids: lines.iter().map(|l| l.to_string()).collect(),
        carrier: " UPS ".into(),
        tracking: "1Z".into(),
    }
}

#[test]
fn stores_ship_their_paid_lines_and_deliveries_start_the_warranty() {
    let (o, _, _) = order().pay("c", pay(&[("l1", 2)], 1), NOW);
    assert!(
        matches!(o.ship("s2", shipment(&["l1"]), NOW), Err(Error::Validation { .. })),
        "not its line"
    );
    let (o2, _, _) = o.pay("d", pay(&[("l2", 3)], 1), NOW);
    let unpaid = o.ship("s2", shipment(&["l2"]), NOW);
    assert!(matches!(unpaid, Err(Error::Conflict { .. })));
    let (shipped, first) = o2.ship("s1", shipment(&["l1"]), NOW).unwrap();
    assert_eq!(first, "shp_1");
    assert_eq!(
        (
            shipped.shipments[0].carrier.as_str(),
            shipped.lines[0].shipment_id.as_deref()
        ),
        ("UPS", Some("shp_1"))
    );
    assert_eq!(
        shipped.status(),
        OrderStatus::Paid,
        "one store shipped, the other not yet"
    );
    let (shipped, second) = shipped.ship("s2", shipment(&["l2"]), NOW).unwrap();
    assert_eq!(second, "shp_2", "each shipment gets the order's next id");
    assert_eq!(shipped.status(), OrderStatus::Shipped);
    let later = NOW + 5 * DAY;
    let arrived = shipped.deliver("s1", "shp_1", later).unwrap();
    assert_eq!(arrived.lines[0].warranty_until(NOW), later + 10 * DAY);
    assert_eq!(arrived.deliver("s1", "shp_1", later + 1).unwrap(), arrived);
    assert!(
        arrived.deliver("s2", "shp_1", later).is_err(),
        "another store's shipment"
    );
    let arrived = arrived.deliver("s2", "shp_2", later).unwrap();
    assert_eq!(arrived.status(), OrderStatus::Delivered);
}

#[test]
fn an_order_as_placed_forgets_everything_that_happened_since() {
    let placed = order();
    let (paid, _, _) = placed.pay("c", pay(&[("l1", 2), ("l2", 3)], 1), NOW + 1);
    let (shipped, id) = paid.ship("s1", shipment(&["l1"]), NOW + 2).unwrap();
    let delivered = shipped.deliver("s1", &id, NOW + 3).unwrap();
    assert_ne!(delivered, placed);
    assert_eq!(delivered.as_placed(), placed);
    let (expired, _) = placed.expire(NOW + 1000);
    assert_eq!(expired.as_placed(), placed);
    assert_eq!(placed.cancel(NOW + 1).unwrap().0.as_placed(), placed);
}

fn ret(id: &str, lines: &[(&str, u64)]) -> Return {
    Return {
        id: id.into(),
        request_hash: 1,
        lines: lines
            .iter()
            .map(|(l, q)| ReturnLine {
                line_id: l.to_string(),
                quantity: *q,
                reason: "broken".into(),
                approved: None,
                rejected: None,
                decision_reason: None,
            })
            .collect(),
        refund_amount: "0".into(),
        created_at: NOW,
    }
}

#[test]
fn returns_take_paid_units_inside_the_warranty_and_decisions_settle_them() {
    let o = order();
    assert!(o.request_return(ret("r", &[("l1", 1)]), NOW).is_err(), "unpaid");
    let (o, _, _) = o.pay("c", pay(&[("l1", 2)], 1), NOW);
    assert!(o.request_return(ret("r", &[("l1", 3)]), NOW).is_err(), "more than paid");
    assert!(
        o.request_return(ret("r", &[("l1", 1)]), NOW + 11 * DAY).is_err(),
        "warranty over"
    );
    let o = o.request_return(ret("r1", &[("l1", 2)]), NOW).unwrap();
    assert!(
        o.request_return(ret("r2", &[("l1", 1)]), NOW).is_err(),
        "all units are being returned"
    );
    assert_eq!(o.returns[0].status(), "requested");
    let bad = [decision(1, 0, String::new(), true)];
    assert!(o.decide("s1", "r1", &bad, NOW).is_err(), "must add up");
    let other = [decision(2, 0, String::new(), true)];
    assert!(o.decide("s2", "r1", &other, NOW).is_err(), "another store's line");
    let split = [decision(1, 1, "one is fine".to_string(), true)];
    let (o, steps) = o.decide("s1", "r1", &split, NOW).unwrap();
    assert_eq!(
        steps,
        vec![StockStep::Restock {
            store_id: "s1".into(),
            product_id: "p-l1".into(),
            return_line: "r1/l1".into(),
            quantity: 1
        }]
    );
    assert_eq!(o.returns[0].status(), "partially_approved");
    assert_eq!(o.returns[0].approved_refund(&o).unwrap(), "2.50");
    assert!(o.decide("s1", "r1", &split, NOW).is_err(), "decided once");
    let o = o.request_return(ret("r2", &[("l1", 1)]), NOW).unwrap();
    assert_eq!(o.lines[0].returning, 2, "the rejected unit could be asked again");
    let keep = [decision(0, 1, String::new(), false)];
    let (o, steps) = o.decide("s1", "r2", &keep, NOW).unwrap();
    assert!(steps.is_empty());
    assert_eq!(o.returns[1].status(), "rejected");
}

fn decision(approve: u64, reject: u64, reason: impl Into<String>, restock: bool) -> Decision {
    Decision {
        line_id: "l1".into(),
        approve,
        reject,
        reason: reason.into(),
        restock,
    }
}
