use super::*;
use crate::orders::fixtures::{NOW, order};
use crate::orders::model::{OrderStatus, ShipmentRequest};

const KEY: &str = "ord_k";
const LEASE: Millis = 60_000;

fn lines() -> Vec<(String, String)> {
    vec![("s1".into(), "p1".into()), ("s2".into(), "p2".into())]
}

/// A record whose attempt `n` is placing since [`NOW`].
fn placing() -> (OrderRecord, u32) {
    match OrderRecord::begin(None, "u", 7, lines(), NOW).unwrap() {
        Begun::Attempt(n, record) => (record, n),
        other => panic!("{other:?}"),
    }
}

/// The steps releasing `lines` of `attempt`, then closing the attempt for
/// the buyer's open-orders quota.
fn released_lines(attempt: u32, lines: &[usize]) -> Vec<Step> {
    let settle = |i: usize| {
        Step::Stock(StockStep::Settle {
            store_id: format!("s{}", i + 1),
            product_id: format!("p{}", i + 1),
            hold: hold_id(KEY, attempt, i),
            sold: 0,
        })
    };
    let close = Step::Close { buyer: "u".into() };
    lines.iter().map(|&i| settle(i)).chain([close]).collect()
}

fn released(attempt: u32) -> Vec<Step> {
    released_lines(attempt, &[0, 1])
}

#[test]
fn the_first_begin_claims_the_key_and_a_second_is_in_flight() {
    let (record, attempt) = placing();
    assert_eq!((attempt, record.attempts, record.buyer.as_str()), (1, 1, "u"));
    assert!(matches!(record.phase, Phase::Placing { since: NOW, .. }));
    assert_eq!(record.due(LEASE), Some(NOW + LEASE), "the lease's end wakes it");
    let again = OrderRecord::begin(Some(&record), "u", 7, lines(), NOW + 1).unwrap_err();
    assert_eq!(again.code(), "request_in_flight");
    let other_body = OrderRecord::begin(Some(&record), "u", 8, lines(), NOW).unwrap_err();
    assert_eq!(other_body, key_reused());
    let other_buyer = OrderRecord::begin(Some(&record), "v", 7, lines(), NOW).unwrap_err();
    assert_eq!(other_buyer, key_reused());
}

#[test]
fn an_aborted_attempt_releases_its_holds_and_frees_the_key() {
    let (record, attempt) = placing();
    let stale = record.clone().abort(KEY, attempt + 1, &[], NOW);
    assert_eq!(stale, record, "only the attempt in flight can be aborted");
    let aborted = record.abort(KEY, attempt, &[], NOW + 5);
    assert_eq!(aborted.phase, Phase::Open);
    assert_eq!(aborted.pending, released(attempt));
    assert_eq!(aborted.due(LEASE), Some(NOW + 5), "the release is due at once");
    match OrderRecord::begin(Some(&aborted), "u", 7, lines(), NOW + 6).unwrap() {
        Begun::Attempt(n, next) => {
            assert_eq!(n, 2, "a new attempt holds under new hold ids");
            assert_eq!(next.pending, released(1), "the release is still owed");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_placement_past_its_lease_is_released_and_cannot_be_confirmed() {
    let (record, attempt) = placing();
    let early = record.clone().wake(KEY, NOW + LEASE - 1, LEASE);
    assert_eq!(early, record, "inside the lease nothing happens");
    let lapsed = record.wake(KEY, NOW + LEASE, LEASE);
    assert_eq!(
        (lapsed.phase.clone(), lapsed.pending.clone()),
        (Phase::Open, released(attempt))
    );
    let late = lapsed.confirm(attempt, order(), NOW + LEASE + 1).unwrap_err();
    assert_eq!(late.code(), "placement_abandoned");
}

#[test]
fn confirming_places_the_order_and_lists_it_once() {
    let (record, attempt) = placing();
    let (placed, answered) = record.confirm(attempt, order(), NOW).unwrap();
    assert_eq!(answered, order());
    let names: Vec<&Step> = placed
        .pending
        .iter()
        .filter(|s| matches!(s, Step::Index { .. }))
        .collect();
    assert_eq!(
        names,
        [&Step::Index { name: "buyer:u".into() }],
        "the stores list it through their sales books"
    );
    // Each store's sales book learns its part: awaiting payment.
    let sales: Vec<(&str, &StoreFigure)> = placed
        .pending
        .iter()
        .filter_map(|s| match s {
            Step::Sales { store_id, figure } => Some((store_id.as_str(), figure)),
            _ => None,
        })
        .collect();
    assert_eq!(sales.len(), 2);
    assert_eq!(
        (sales[0].0, sales[0].1.status, sales[0].1.units),
        ("s1", OrderStatus::AwaitingPayment, 2)
    );
    assert_eq!((sales[1].0, sales[1].1.units), ("s2", 3));
    let (again, same) = placed.clone().confirm(attempt, order(), NOW + 1).unwrap();
    assert_eq!(
        (again, same),
        (placed.clone(), order()),
        "a repeated confirm changes nothing"
    );
    match OrderRecord::begin(Some(&placed), "u", 7, lines(), NOW + 2).unwrap() {
        Begun::Placed(o) => assert_eq!(*o, order()),
        other => panic!("{other:?}"),
    }
    assert_eq!(placed.due(LEASE), Some(NOW), "the index steps are due");
    let flushed = placed.flushed(Vec::new(), NOW);
    assert_eq!(flushed.due(LEASE), Some(NOW + 100), "then the first hold's end");
}

#[test]
fn failed_steps_stay_pending_and_are_retried_later() {
    let (record, attempt) = placing();
    let aborted = record.abort(KEY, attempt, &[], NOW);
    let kept = released(attempt)[..1].to_vec();
    let after = aborted.flushed(kept.clone(), NOW + 10);
    assert_eq!(
        (after.pending.clone(), after.retry_at),
        (kept.clone(), NOW + 10 + RETRY_AFTER)
    );
    // Each failure in a row doubles the wait, up to RETRY_MAX.
    let again = after.flushed(kept.clone(), NOW + 20);
    assert_eq!(again.retry_at, NOW + 20 + 2 * RETRY_AFTER);
    let mut record = again;
    for _ in 0..30 {
        record = record.flushed(kept.clone(), NOW);
    }
    assert_eq!(record.retry_at, NOW + RETRY_MAX);
    let done = record.flushed(Vec::new(), NOW);
    assert_eq!(
        (done.failures, done.pending.len()),
        (0, 0),
        "a clean flush resets the backoff"
    );
}

#[test]
fn an_abort_releases_only_the_holds_that_may_have_been_taken() {
    let (record, attempt) = placing();
    let aborted = record.abort(KEY, attempt, &[1], NOW);
    assert_eq!(
        aborted.pending,
        released_lines(attempt, &[0]),
        "line 1 was refused by stock"
    );
    let (record, attempt) = placing();
    let nothing = record.abort(KEY, attempt, &[0, 1], NOW);
    assert_eq!(
        nothing.pending,
        released_lines(attempt, &[]),
        "only the quota is closed"
    );
    assert_eq!(nothing.phase, Phase::Open);
}

#[test]
fn only_the_buyer_cancels_and_expiry_comes_first() {
    let (record, attempt) = placing();
    let (placed, _) = record.confirm(attempt, order(), NOW).unwrap();
    let placed = placed.flushed(Vec::new(), NOW);
    assert_eq!(placed.clone().cancel("v", NOW).unwrap_err().code(), "not_found");
    let (cancelled, o) = placed.clone().cancel("u", NOW).unwrap();
    assert_eq!(o.status(), OrderStatus::Cancelled);
    let stock = |r: &OrderRecord| r.pending.iter().filter(|s| matches!(s, Step::Stock(_))).count();
    let sales = |r: &OrderRecord| {
        r.pending
            .iter()
            .filter_map(|s| match s {
                Step::Sales { store_id, figure } => Some((store_id.clone(), figure.status)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(stock(&cancelled), 2, "both holds go back");
    assert!(
        cancelled.pending.contains(&Step::Close { buyer: "u".into() }),
        "no longer open"
    );
    assert_eq!(
        sales(&cancelled),
        [
            ("s1".to_string(), OrderStatus::Cancelled),
            ("s2".to_string(), OrderStatus::Cancelled)
        ]
    );
    let expired = placed.expire(NOW + 150);
    assert_eq!(expired.placed().unwrap().lines[0].status.as_str(), "expired");
    assert_eq!(stock(&expired), 1, "the lapsed hold is settled");
    assert_eq!(
        sales(&expired),
        [("s1".to_string(), OrderStatus::Expired)],
        "only s1's part changed"
    );
    // A newer figure for a store replaces one still pending: cancelling
    // moves s1's part from expired to cancelled before the step ran.
    let (then_cancelled, _) = expired.cancel("u", NOW + 160).unwrap();
    assert_eq!(
        sales(&then_cancelled),
        [
            ("s1".to_string(), OrderStatus::Cancelled),
            ("s2".to_string(), OrderStatus::Cancelled)
        ],
        "one step per store, the newest"
    );
}

#[test]
fn shipments_are_numbered_by_the_record_one_at_a_time() {
    let (record, attempt) = placing();
    let (placed, _) = record.confirm(attempt, order(), NOW).unwrap();
    let update = ChargeUpdate {
        version: 1,
        paid: [("l1".to_string(), 2), ("l2".to_string(), 3)].into(),
        captured: true,
    };
    let (paid, _, outcome) = placed.pay("ch", update, NOW).unwrap();
    assert_eq!(outcome.accepted.len(), 2);
    assert!(
        paid.pending.contains(&Step::Close { buyer: "u".into() }),
        "paid: no longer open"
    );
    let ship = |line: &str| ShipmentRequest {
        line_ids: vec![line.into()],
        carrier: "UPS".into(),
        tracking: "1Z".into(),
    };
    let (one, _) = paid.ship("s1", ship("l1"), NOW).unwrap();
    let (two, o) = one.ship("s2", ship("l2"), NOW).unwrap();
    let ids: Vec<&str> = o.shipments.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["shp_1", "shp_2"]);
    assert_eq!(two.placed().unwrap(), &o);
}

#[test]
fn return_ids_follow_the_key_and_name_their_order() {
    let id = order_id("u", "k");
    let ret = return_id(&id, "r1").unwrap();
    assert_eq!(return_id(&id, "r1").unwrap(), ret, "the same key names the same return");
    assert_ne!(return_id(&id, "r2").unwrap(), ret);
    assert_eq!(order_of_return(&ret).unwrap(), id);
    assert_eq!(order_of_return("nope").unwrap_err().code(), "not_found");
    assert_eq!(return_id("x", "r1").unwrap_err().code(), "not_found");
}
