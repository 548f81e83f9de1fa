use super::*;
use proptest::prelude::*;

const NOW: Millis = 1_000 * DAY;

fn stocked(batches: &[(Option<Millis>, i64)]) -> Stock {
    batches
        .iter()
        .fold(Stock::default(), |s, (e, n)| s.adjust(*n, *e, NOW).unwrap())
}

fn holds(stock: &Stock) {
    for b in &stock.batches {
        assert!(b.held <= b.quantity, "{b:?}");
    }
    let held: u64 = stock.holds.values().map(|r| r.quantity).sum();
    assert_eq!(held, stock.held(), "holds match what batches hold");
    for r in stock.holds.values() {
        assert_eq!(r.taken.iter().map(|(_, n)| n).sum::<u64>(), r.quantity);
    }
}

#[test]
fn policies_have_sensible_defaults_and_bounds() {
    assert!(Policy::default().check().is_ok());
    let bad = Policy {
        hold_minutes: 0,
        warranty_days: 4000,
        min_per_order: 3,
        max_per_order: 2,
    };
    let Err(Error::Validation { fields }) = bad.check() else {
        panic!("accepted")
    };
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["max_per_order", "reservation_minutes", "warranty_days"]
    );
    let p = Policy {
        min_per_order: 2,
        max_per_order: 5,
        ..Policy::default()
    };
    assert!(p.refuses(1).is_some() && p.refuses(6).is_some() && p.refuses(3).is_none());
}

#[test]
fn holds_take_from_the_batches_that_expire_first_and_skip_expired_ones() {
    let stock = stocked(&[(None, 5), (Some(NOW + 10 * DAY), 3), (Some(NOW + DAY), 2)]);
    assert_eq!(stock.batches[0].expires_at, Some(NOW + DAY), "earliest expiry first");
    let later = NOW + 2 * DAY;
    let stock = stock.hold("r1", 4, later + MINUTE, later).unwrap();
    assert_eq!(
        stock.holds["r1"].taken,
        vec![(Some(NOW + 10 * DAY), 3), (None, 1)],
        "the batch that expired is skipped"
    );
    let view = stock.view(later);
    assert_eq!((view.on_hand, view.held, view.available), (8, 4, 4));
    holds(&stock);
}

#[test]
fn a_hold_is_made_once_and_refused_beyond_what_is_free() {
    let stock = stocked(&[(None, 3)]);
    let once = stock.hold("r", 2, NOW + MINUTE, NOW).unwrap();
    assert_eq!(
        once.hold("r", 2, NOW + MINUTE, NOW).unwrap(),
        once,
        "a repeat changes nothing"
    );
    let short = once.hold("s", 2, NOW + MINUTE, NOW).unwrap_err();
    assert_eq!((short.reason.as_str(), short.available), ("insufficient_stock", 1));
    let none = once.hold("s", 1, NOW + MINUTE, NOW).unwrap().hold("t", 1, NOW, NOW);
    assert_eq!(none.unwrap_err().reason, "out_of_stock");
}

#[test]
fn sold_units_leave_and_returned_units_come_back_once() {
    let stock = stocked(&[(None, 5)]).hold("a", 2, NOW + MINUTE, NOW).unwrap();
    let stock = stock.hold("b", 2, NOW + MINUTE, NOW).unwrap();
    let sold = stock.end("a", Ended::Sold, NOW);
    assert_eq!((sold.on_hand(NOW), sold.available(NOW)), (3, 1));
    assert_eq!(sold.end("a", Ended::Returned, NOW), sold, "an ended hold stays ended");
    assert_eq!(
        sold.hold("a", 2, NOW + MINUTE, NOW).unwrap(),
        sold,
        "and is not made again"
    );
    let given_up = sold.end("never", Ended::Returned, NOW);
    assert_eq!(
        given_up.hold("never", 1, NOW + MINUTE, NOW).unwrap(),
        given_up,
        "a hold given up before it arrived is not made"
    );
    assert_eq!(given_up.available(NOW), sold.available(NOW));
    let released = sold.end("b", Ended::Returned, NOW);
    assert_eq!((released.on_hand(NOW), released.available(NOW)), (3, 3));
    holds(&released);
}

#[test]
fn due_holds_expire_and_give_their_units_back() {
    let stock = stocked(&[(None, 4)]);
    let stock = stock.hold("early", 1, NOW + MINUTE, NOW).unwrap();
    let stock = stock.hold("late", 2, NOW + 10 * MINUTE, NOW).unwrap();
    assert_eq!(stock.next_due(), Some(NOW + MINUTE));
    let (after, due) = stock.expire(NOW + 5 * MINUTE);
    assert_eq!(due, ["early"]);
    assert_eq!((after.available(NOW), after.held()), (2, 2));
    assert_eq!(after.ended["early"].0, Ended::Returned);
    assert_eq!(after.expire(NOW + 5 * MINUTE).1, Vec::<String>::new());
}

#[test]
fn ended_holds_are_remembered_for_a_while_then_forgotten() {
    let stock = stocked(&[(None, 2000)]);
    let mut stock = stock.hold("r0", 1, NOW + MINUTE, NOW).unwrap();
    stock = stock.end("r0", Ended::Sold, NOW);
    stock = stock.end("gave-up", Ended::Returned, NOW);
    // Within the window a late request changes nothing.
    let late = NOW + ENDED_KEPT - 1;
    assert_eq!(stock.hold("r0", 1, late + MINUTE, late).unwrap(), stock);
    assert_eq!(stock.hold("gave-up", 1, late + MINUTE, late).unwrap(), stock);
    assert_eq!(stock.settle("r0", 1, late), stock);
    // A thousand orders later, only the recent ones are remembered.
    for i in 1..=1000 {
        let at = NOW + ENDED_KEPT + i * 1000;
        stock = stock.hold(&format!("r{i}"), 1, at + MINUTE, at).unwrap();
        stock = stock.settle(&format!("r{i}"), 1, at);
    }
    assert!(!stock.ended.contains_key("r0") && !stock.ended.contains_key("gave-up"));
    assert_eq!(stock.ended.len() as i64, ENDED_KEPT / 1000);
    assert_eq!((stock.on_hand(NOW), stock.held()), (2000 - 1001, 0));
    holds(&stock);
}

#[test]
fn stock_cannot_be_removed_below_what_is_held() {
    let stock = stocked(&[(None, 5)]).hold("r", 3, NOW + MINUTE, NOW).unwrap();
    assert_eq!(stock.adjust(-3, None, NOW).unwrap_err().code(), "below_reserved");
    let fewer = stock.adjust(-2, None, NOW).unwrap();
    assert_eq!((fewer.on_hand(NOW), fewer.held(), fewer.available(NOW)), (3, 3, 0));
    assert_eq!(stock.adjust(0, None, NOW).unwrap_err().code(), "validation_failed");
    assert!(stock.adjust(1, Some(NOW), NOW).is_err(), "an already expired batch");
}

#[test]
fn held_units_of_a_batch_that_expires_stay_promised() {
    let stock = stocked(&[(Some(NOW + MINUTE), 3)])
        .hold("r", 2, NOW + DAY, NOW)
        .unwrap();
    let later = NOW + 2 * MINUTE;
    assert_eq!((stock.on_hand(later), stock.held(), stock.available(later)), (2, 2, 0));
    let sold = stock.end("r", Ended::Sold, later);
    assert!(sold.batches.is_empty(), "the expired rest is gone");
    assert_eq!(sold.view(later).on_hand, 0);
}

#[test]
fn returns_are_restocked_once() {
    let stock = stocked(&[(None, 1)]);
    let back = stock.restock("ret1/line1", 2, NOW).unwrap();
    assert_eq!(back.available(NOW), 3);
    assert_eq!(back.restock("ret1/line1", 2, NOW).unwrap(), back);
}

#[derive(Debug, Clone)]
enum Op {
    Adjust(i64, Option<u8>),
    Reserve(u8, u64, u8),
    Sell(u8),
    Settle(u8, u64),
    Release(u8),
    Expire,
    Tick(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (-20i64..30, proptest::option::of(0u8..20)).prop_map(|(n, e)| Op::Adjust(n, e)),
        (0u8..12, 0u64..15, 0u8..20).prop_map(|(id, n, until)| Op::Reserve(id, n, until)),
        (0u8..12).prop_map(Op::Sell),
        (0u8..12, 0u64..15).prop_map(|(id, n)| Op::Settle(id, n)),
        (0u8..12).prop_map(Op::Release),
        Just(Op::Expire),
        (0u8..5).prop_map(Op::Tick),
    ]
}

proptest! {
    /// No interleaving of adjust, reserve, sell, settle, release and expire breaks
    /// `0 ≤ reserved ≤ on_hand`, and units are neither made nor lost.
    #[test]
    fn no_interleaving_breaks_the_stock_invariant(ops in proptest::collection::vec(op(), 1..80)) {
        let mut stock = Stock::default();
        let mut now = NOW;
        let (mut added, mut removed, mut sold) = (0u64, 0u64, 0u64);
        for op in ops {
            let before = stock.clone();
            match op {
                Op::Adjust(n, e) => {
                    if let Ok(next) = stock.adjust(n, e.map(|m| now + i64::from(m) * MINUTE), now) {
                        if n > 0 { added += n as u64 } else { removed += n.unsigned_abs() }
                        stock = next;
                    } else {
                        prop_assert!(n == 0 || n < 0 && n.unsigned_abs() > before.available(now) || e.is_some_and(|m| m == 0));
                    }
                }
                Op::Reserve(id, n, until) => {
                    match stock.hold(&format!("r{id}"), n, now + i64::from(until) * MINUTE, now) {
                        Ok(next) => stock = next,
                        Err(short) => prop_assert!(n == 0 || n > short.available),
                    }
                }
                Op::Sell(id) => {
                    let id = format!("r{id}");
                    if let Some(r) = stock.holds.get(&id) { sold += r.quantity; }
                    stock = stock.end(&id, Ended::Sold, now);
                }
                Op::Settle(id, n) => {
                    let id = format!("r{id}");
                    if let Some(r) = stock.holds.get(&id) { sold += n.min(r.quantity); }
                    stock = stock.settle(&id, n, now);
                }
                Op::Release(id) => stock = stock.end(&format!("r{id}"), Ended::Returned, now),
                Op::Expire => stock = stock.expire(now).0,
                Op::Tick(m) => now += i64::from(m) * MINUTE,
            }
            holds(&stock);
            prop_assert!(stock.held() <= stock.on_hand(now));
            prop_assert!(stock.available(now) <= stock.on_hand(now));
            // Units in batches: added − removed − sold − what expired unreserved.
            let in_batches: u64 = stock.batches.iter().map(|b| b.quantity).sum();
            prop_assert!(in_batches <= added - removed - sold);
        }
    }
}

#[test]
fn a_settled_hold_sells_what_was_paid_and_returns_the_rest_once() {
    let stock = stocked(&[(Some(NOW + DAY), 2), (None, 5)]);
    let stock = stock.hold("a", 4, NOW + MINUTE, NOW).unwrap();
    let settled = stock.settle("a", 3, NOW);
    assert_eq!(
        (settled.on_hand(NOW), settled.held(), settled.available(NOW)),
        (4, 0, 4)
    );
    assert_eq!(
        settled.view(NOW).batches,
        vec![(None, 4)],
        "sold from the earliest batch first"
    );
    assert_eq!(settled.settle("a", 1, NOW), settled, "once");
    holds(&settled);
}

#[test]
fn an_item_holds_for_the_policys_time_repeats_the_same_hold_and_refuses_what_it_must() {
    let now = 1_000_000;
    let mut item = StockItem {
        stock: stocked(&[(None, 5)]),
        policy: Some(Policy {
            hold_minutes: 10,
            warranty_days: 7,
            min_per_order: 2,
            max_per_order: 3,
        }),
    };
    let (next, held) = item.hold("o1/0", 2, now);
    let told = Held {
        quantity: 2,
        until: now + 10 * MINUTE,
        warranty_days: 7,
    };
    assert_eq!(held, Ok(told.clone()));
    assert_eq!(
        next.stock.holds["o1/0"].until,
        now + 10 * MINUTE + HOLD_GRACE,
        "the stock keeps a grace"
    );
    let (again, repeat) = next.hold("o1/0", 2, now + 1_000);
    assert_eq!((repeat, &again), (Ok(told), &next), "a repeat answers the same hold");
    item = again;
    for (quantity, reason) in [(1, "policy: at least 2 per order"), (4, "policy: at most 3 per order")] {
        let (same, refused) = item.hold("o2/0", quantity, now);
        assert_eq!(refused.unwrap_err().reason, reason);
        assert_eq!(same, item, "a refusal changes nothing");
    }
    let (item, _) = item.hold("o3/0", 3, now);
    let (_, short) = item.hold("o4/0", 2, now);
    assert_eq!(short.unwrap_err().available, 0);
    let ended = StockItem {
        stock: item.stock.settle("o3/0", 0, now),
        ..item
    };
    let (_, late) = ended.hold("o3/0", 3, now);
    assert_eq!(
        late.unwrap_err().reason,
        "reservation_ended",
        "a late request holds nothing"
    );
}

#[test]
fn ended_holds_are_bounded_keeping_the_most_recent() {
    let mut stock = stocked(&[(None, 1)]);
    for i in 0..(ENDED_MAX + 49) {
        stock
            .ended
            .insert(format!("gone{i:06}"), (Ended::Returned, 1_000 + i as Millis));
    }
    let stock = stock.settle(
        &format!("gone{:06}", ENDED_MAX + 49),
        0,
        1_000 + (ENDED_MAX + 49) as Millis,
    );
    assert_eq!(stock.ended.len(), ENDED_MAX);
    assert!(!stock.ended.contains_key("gone000000"), "the oldest is forgotten first");
    assert!(stock.ended.contains_key(&format!("gone{:06}", ENDED_MAX + 49)));
}
