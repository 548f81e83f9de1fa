//! The order entity driven by messages, with the stock entity it settles
//! holds on: claiming the key, a second placement in flight, an aborted
//! attempt, and a placement whose process died released by its alarm once
//! the lease ends.

use super::*;
use crate::orders::fixtures::{NOW, order};
use crate::orders::index::OrderIndexChunk;
use crate::ports::ManualClock;
use crate::runtime::{AlarmClock, Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use std::collections::BTreeMap;
use std::time::Duration;

const LEASE: Millis = 60_000;
const KEY: &str = "ord_k";

struct Shop {
    runtime: Runtime,
    router: Router,
    clock: Arc<ManualClock>,
}

async fn open() -> Shop {
    let clock = Arc::new(ManualClock::at(NOW));
    let storage = Storage::temporary(4).unwrap();
    let builder = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default());
    let context = builder.context();
    let runtime = Inventory::register_entities(builder, clock.clone())
        .register(Arc::new(OrderEntity {
            clock: clock.clone(),
            context: context.clone(),
            lease: LEASE,
            refunds: Arc::new(crate::orders::refunds::NoRefunds),
        }))
        .register(Arc::new(OrderIndex { context }))
        .register(Arc::new(OrderIndexChunk))
        .start()
        .await
        .unwrap();
    let router = runtime.router();
    Inventory::stock_up(&router, "s1", "p1", Some(10)).await;
    Shop { runtime, router, clock }
}

impl Shop {
    async fn ask(&self, command: OrderCommand) -> Result<OrderReply> {
        self.router.ask::<OrderEntity>(KEY, command).await
    }

    async fn begin(&self) -> Result<OrderReply> {
        self.ask(OrderCommand::Begin {
            buyer: "u".into(),
            request_hash: 7,
            lines: vec![("s1".into(), "p1".into())],
        })
        .await
    }

    /// What the placement does between Begin and Confirm: hold the line.
    async fn hold(&self, attempt: u32) {
        let held = Inventory::hold(&self.router, "s1", "p1", &hold_id(KEY, attempt, 0), 2).await;
        assert!(matches!(held, Ok(Ok(_))), "{held:?}");
    }

    /// Units the stock holds.
    async fn reserved(&self) -> u64 {
        Inventory::stock_up(&self.router, "s1", "p1", None).await.view.held
    }
}

fn attempt(reply: Result<OrderReply>) -> u32 {
    match reply {
        Ok(OrderReply::Attempt(n)) => n,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_claimed_once_and_an_aborted_attempt_gives_its_units_back() {
    let shop = open().await;
    let first = attempt(shop.begin().await);
    assert_eq!(first, 1);
    assert_eq!(shop.begin().await.unwrap_err().code(), "request_in_flight");
    shop.hold(first).await;
    assert_eq!(shop.reserved().await, 2);
    shop.ask(OrderCommand::Abort {
        attempt: first,
        untaken: Vec::new(),
    })
    .await
    .unwrap();
    shop.ask(OrderCommand::Flush).await.unwrap();
    assert_eq!(shop.reserved().await, 0, "the aborted attempt's hold is released");
    assert_eq!(
        shop.ask(OrderCommand::Get).await.unwrap_err().code(),
        "not_found",
        "nothing was placed"
    );
    let second = attempt(shop.begin().await);
    assert_eq!(second, 2, "the key is free again");
    shop.hold(second).await;
    let mut placed = order();
    placed.id = KEY.into();
    let confirm = OrderCommand::Confirm {
        attempt: second,
        order: Box::new(placed.clone()),
    };
    assert!(matches!(shop.ask(confirm).await, Ok(OrderReply::Order(o)) if *o == placed));
    match shop.begin().await {
        Ok(OrderReply::Order(o)) => assert_eq!(*o, placed, "a replay answers the order"),
        other => panic!("{other:?}"),
    }
    assert_eq!(shop.reserved().await, 2, "the placed order keeps its hold");
    shop.runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_whose_process_died_is_released_by_its_alarm_after_the_lease() {
    let shop = open().await;
    let alarms = AlarmClock::start(shop.router.clone(), shop.clock.clone(), Duration::from_millis(10));
    let first = attempt(shop.begin().await);
    shop.hold(first).await;
    // The placing process is gone: nobody confirms or aborts.
    shop.clock.advance(LEASE - 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(shop.reserved().await, 2, "inside the lease the hold stays");
    assert_eq!(shop.begin().await.unwrap_err().code(), "request_in_flight");
    shop.clock.advance(1);
    let mut released = false;
    for _ in 0..200 {
        if shop.reserved().await == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(released, "the alarm released the abandoned hold");
    let late = OrderCommand::Confirm {
        attempt: first,
        order: Box::new(order()),
    };
    assert_eq!(shop.ask(late).await.unwrap_err().code(), "placement_abandoned");
    assert_eq!(attempt(shop.begin().await), 2, "the key may be used again");
    alarms.stop().await;
    shop.runtime.shutdown().await.unwrap();
}

#[test]
fn a_record_stored_by_schema_version_1_reads_with_no_failures_counted() {
    use crate::orders::legacy::PhaseV2;
    use crate::orders::record::OrderRecordV1;
    let v1 = OrderRecordV1 {
        buyer: "u".into(),
        request_hash: 7,
        attempts: 2,
        phase: PhaseV2::Open,
        pending: Vec::new(),
        retry_at: NOW,
    };
    let body = crate::runtime::encode(&v1).unwrap();
    let record = OrderEntity::upgrade(1, &body).unwrap();
    assert_eq!((record.attempts, record.failures, record.retry_at), (2, 0, NOW));
    assert!(OrderEntity::upgrade(9, &body).is_err());
}

#[test]
fn an_order_stored_by_schema_version_2_reads_with_no_refunds() {
    use crate::orders::legacy::{OrderV2, PhaseV2};
    use crate::orders::record::{OrderRecordV2, Phase};
    let o = order();
    let old = OrderV2 {
        id: o.id.clone(),
        buyer: o.buyer.clone(),
        created_at: o.created_at,
        currency: o.currency.clone(),
        fx: o.fx.clone(),
        shipping: o.shipping.clone(),
        billing: o.billing.clone(),
        lines: o.lines.clone(),
        cancelled: false,
        payments: BTreeMap::new(),
        shipments: Vec::new(),
        returns: Vec::new(),
        updated_at: o.updated_at,
    };
    let v2 = OrderRecordV2 {
        buyer: "u".into(),
        request_hash: 7,
        attempts: 1,
        phase: PhaseV2::Placed(Box::new(old)),
        pending: Vec::new(),
        retry_at: NOW,
        failures: 3,
    };
    let body = crate::runtime::encode(&v2).unwrap();
    let record = OrderEntity::upgrade(2, &body).unwrap();
    assert_eq!(record.failures, 3);
    assert!(matches!(record.phase, Phase::Placed(ref placed) if **placed == o));
}
