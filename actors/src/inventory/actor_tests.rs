//! The stock entity driven by messages: holds, policies, idempotent ends and
//! expiry by alarm, including after a restart.

use super::*;
use crate::inventory::model::{Ended, HOLD_GRACE, MINUTE, StockView};
use crate::ports::ManualClock;
use crate::runtime::{Router, Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};

const NOW: Millis = 1_800_000_000_000;

async fn start(storage: Storage, clock: Arc<ManualClock>) -> Runtime {
    RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default())
        .register(Arc::new(StockItems { clock }))
        .start()
        .await
        .unwrap()
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
    let clock = Arc::new(ManualClock::at(NOW));
    let runtime = start(Storage::temporary(2).unwrap(), clock.clone()).await;
    let router = runtime.router();
    ask(
        &router,
        StockCommand::Adjust {
            delta: 5,
            expires_at: None,
        },
    )
    .await;
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
    let clock = Arc::new(ManualClock::at(NOW));
    let runtime = start(Storage::temporary(2).unwrap(), clock.clone()).await;
    let router = runtime.router();
    ask(
        &router,
        StockCommand::Adjust {
            delta: 4,
            expires_at: None,
        },
    )
    .await;
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
    let raw = runtime
        .storage()
        .load(crate::runtime::shard_of("stock", "s1/p1", 2), "stock", "s1/p1")
        .unwrap()
        .unwrap();
    let item: StockItem = crate::runtime::decode(&raw.body).unwrap();
    assert!(item.stock.holds.is_empty(), "the wake wrote the expiry");
    assert_eq!(item.stock.ended.get("a").map(|e| e.0), Some(Ended::Returned));
    assert_eq!(view(&runtime.router()).await.available, 3);
}
