//! The stock entity driven by messages: holds, policies, idempotent ends and
//! expiry by alarm, including after a restart.

use super::*;
use crate::inventory::model::{Ended, HOLD_GRACE, MINUTE, StockView};
use crate::ports::ManualClock;
use crate::runtime::{Router, Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};

const NOW: Millis = 1_800_000_000_000;

async fn start(storage: Storage, clock: Arc<ManualClock>) -> Runtime {
    let builder = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default());
    let context = builder.context();
    builder
        .register(Arc::new(StockItems { clock, context }))
        .start()
        .await
        .unwrap()
}

/// A runtime whose stock `s1/p1` holds `units`, and its clock.
async fn stocked(units: i64) -> (Runtime, Router, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(NOW));
    let runtime = start(Storage::temporary(2).unwrap(), clock.clone()).await;
    let router = runtime.router();
    ask(
        &router,
        StockCommand::Adjust {
            delta: units,
            expires_at: None,
        },
    )
    .await;
    (runtime, router, clock)
}

async fn ask(router: &Router, command: StockCommand) -> StockReply {
    router.ask::<StockItems>("s1/p1", command).await.unwrap()
}

async fn view(router: &Router) -> StockView {
    match ask(router, StockCommand::Get).await {
        StockReply::Status(s) => s.view,
        other => panic!("{other:?}"),
    }
}

fn hold(id: &str, quantity: u64) -> StockCommand {
    StockCommand::Hold {
        id: id.into(),
        quantity,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_lasts_the_policys_reservation_time_and_repeats_identically() {
    let (_runtime, router, clock) = stocked(5).await;
    let policy = Policy {
        hold_minutes: 10,
        warranty_days: 7,
        min_per_order: 2,
        max_per_order: 3,
    };
    ask(&router, StockCommand::SetPolicy(policy)).await;
    let held = Held {
        quantity: 2,
        until: NOW + 10 * MINUTE,
        warranty_days: 7,
    };
    assert_eq!(ask(&router, hold("o1/0", 2)).await, StockReply::Holding(held.clone()));
    clock.advance(1_000);
    assert_eq!(
        ask(&router, hold("o1/0", 2)).await,
        StockReply::Holding(held),
        "a retry"
    );
    for (quantity, reason) in [(1, "policy: at least 2 per order"), (4, "policy: at most 3 per order")] {
        let StockReply::Refused(shortage) = ask(&router, hold("o2/0", quantity)).await else {
            panic!("refused")
        };
        assert_eq!((shortage.reason.as_str(), shortage.available), (reason, 3));
    }
    assert_eq!(view(&router).await.held, 2);
    ask(&router, hold("o3/0", 3)).await;
    let StockReply::Refused(shortage) = ask(&router, hold("o4/0", 2)).await else {
        panic!("refused")
    };
    assert_eq!((shortage.reason.as_str(), shortage.available), ("out_of_stock", 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sold_released_and_given_up_holds_end_once() {
    let (_runtime, router, _clock) = stocked(4).await;
    ask(&router, hold("a", 2)).await;
    ask(&router, hold("b", 1)).await;
    let sold = StockCommand::End {
        id: "a".into(),
        how: Ended::Sold,
    };
    ask(&router, sold.clone()).await;
    ask(&router, sold).await;
    let v = view(&router).await;
    assert_eq!((v.on_hand, v.held, v.available), (2, 1, 1));
    // Released before its hold arrived: the late request holds nothing.
    let given_up = StockCommand::End {
        id: "late".into(),
        how: Ended::Returned,
    };
    ask(&router, given_up).await;
    let StockReply::Refused(s) = ask(&router, hold("late", 1)).await else {
        panic!("refused")
    };
    assert_eq!(s.reason, "reservation_ended");
    ask(
        &router,
        StockCommand::Restock {
            return_line: "r1/0".into(),
            quantity: 2,
        },
    )
    .await;
    ask(
        &router,
        StockCommand::Restock {
            return_line: "r1/0".into(),
            quantity: 2,
        },
    )
    .await;
    assert_eq!(view(&router).await.on_hand, 4, "restocked once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alarm_returns_expired_holds_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(NOW));
    let storage = Storage::open(dir.path(), 2, RuntimeMetrics::default()).unwrap();
    let runtime = start(storage, clock.clone()).await;
    let router = runtime.router();
    ask(
        &router,
        StockCommand::Adjust {
            delta: 3,
            expires_at: None,
        },
    )
    .await;
    ask(&router, hold("a", 3)).await;
    drop(router);
    runtime.shutdown().await.unwrap();
    // Down while the hold fell due; the first tick after the restart returns it.
    clock.advance(15 * MINUTE + HOLD_GRACE);
    let storage = Storage::open(dir.path(), 2, RuntimeMetrics::default()).unwrap();
    let runtime = start(storage, clock.clone()).await;
    crate::runtime::alarms_tick(&runtime.router(), clock.now()).await;
    let shard = crate::runtime::shard_of("stock", "s1/p1", 2);
    let member = |name: &str| runtime.storage().member(shard, "stock", "s1/p1", name).unwrap();
    assert!(member("h:a").is_none(), "the wake wrote the expiry");
    let ended: (Ended, Millis) = crate::runtime::decode(&member("e:a").unwrap()).unwrap();
    assert_eq!(ended.0, Ended::Returned);
    let raw = runtime.storage().load(shard, "stock", "s1/p1").unwrap().unwrap();
    let record: StockRecord = crate::runtime::decode(&raw.body).unwrap();
    assert_eq!(record.next_due, None, "nothing more falls due");
    assert_eq!(view(&runtime.router()).await.available, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_are_member_records_so_a_thousand_of_them_leave_the_record_small() {
    let (runtime, router, clock) = stocked(5_000).await;
    let shard = crate::runtime::shard_of("stock", "s1/p1", 2);
    let size = || {
        runtime
            .storage()
            .load(shard, "stock", "s1/p1")
            .unwrap()
            .unwrap()
            .body
            .len()
    };
    ask(&router, hold("h0", 1)).await;
    let one = size();
    for i in 1..1_000 {
        // Holds that fall due a millisecond apart.
        clock.advance(1);
        ask(&router, hold(&format!("h{i}"), 1)).await;
    }
    assert!(
        size() <= one + 8,
        "the record does not grow with its holds: {one} → {}",
        size()
    );
    assert_eq!(view(&router).await.held, 1_000);
    // Settling one, and the earliest falling due, each touch only theirs.
    ask(
        &router,
        StockCommand::Settle {
            id: "h500".into(),
            sold: 1,
        },
    )
    .await;
    assert_eq!(view(&router).await.held, 999);
    clock.advance(15 * MINUTE + HOLD_GRACE - 999);
    crate::runtime::alarms_tick(&router, clock.now()).await;
    let left = view(&router).await;
    assert_eq!(
        (left.held, left.on_hand),
        (998, 4_999),
        "h0 (the earliest) expired, h500 sold"
    );
}

#[test]
fn a_stock_stored_by_schema_version_1_moves_its_holds_into_members() {
    use crate::inventory::model::{Hold, Stock};
    let mut stock = Stock::default();
    stock.holds.insert(
        "a".into(),
        Hold {
            quantity: 2,
            until: NOW + 10,
            taken: vec![(None, 2)],
        },
    );
    stock.ended.insert("b".into(), (Ended::Sold, NOW));
    stock.restocked.insert("ret/l1".into(), 3);
    let old = StockItem { stock, policy: None };
    let body = crate::runtime::encode(&old).unwrap();
    let (record, members) = StockItems::upgrade_members(1, &body).unwrap().unwrap();
    assert_eq!(record.next_due, Some(NOW + 10));
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "h:a",
            &format!("d:{:020}:a", NOW + 10)[..],
            "e:b",
            &format!("x:{:020}:b", NOW)[..],
            "r:ret/l1"
        ]
    );
    assert!(StockItems::upgrade_members(2, &body).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_holds_are_forgotten_once_they_are_old_enough() {
    let (runtime, router, clock) = stocked(5).await;
    ask(&router, hold("a", 1)).await;
    ask(
        &router,
        StockCommand::End {
            id: "a".into(),
            how: Ended::Sold,
        },
    )
    .await;
    let shard = crate::runtime::shard_of("stock", "s1/p1", 2);
    let member = |name: &str| runtime.storage().member(shard, "stock", "s1/p1", name).unwrap();
    assert!(member("e:a").is_some());
    // Within ENDED_KEPT a late request for the hold holds nothing.
    assert!(matches!(ask(&router, hold("a", 1)).await, StockReply::Refused(_)));
    clock.advance(crate::inventory::model::ENDED_KEPT);
    ask(&router, StockCommand::Get).await;
    assert!(member("e:a").is_none(), "forgotten");
    assert_eq!(view(&router).await.on_hand, 4);
}
