//! The cart entity driven by messages: lines set, changed, removed and
//! dropped once ordered, kept across a restart, and gone when emptied.

use super::*;
use crate::ports::ManualClock;
use crate::runtime::{Router, Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use std::collections::BTreeMap;

async fn start(dir: &std::path::Path) -> Runtime {
    let storage = Storage::open(dir, 4, RuntimeMetrics::default()).unwrap();
    RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default())
        .register(Arc::new(CartEntity {
            clock: Arc::new(ManualClock::at(1_000)),
        }))
        .start()
        .await
        .unwrap()
}

fn set(product: &str, quantity: u32, price: &str) -> CartCommand {
    CartCommand::Set {
        spec: LineSpec {
            store_id: "s1".into(),
            product_id: product.into(),
            attributes: BTreeMap::new(),
            quantity,
        },
        unit_price: price.into(),
        currency: "USD".into(),
    }
}

async fn ask(router: &Router, command: CartCommand) -> Result<Vec<CartLine>> {
    router.ask::<CartEntity>("u1", command).await
}

fn products(lines: &[CartLine]) -> Vec<(&str, u32)> {
    lines
        .iter()
        .map(|l| (l.spec.product_id.as_str(), l.spec.quantity))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_keeps_its_lines_across_a_restart_and_forgets_ordered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = start(dir.path()).await;
    let router = runtime.router();
    assert!(ask(&router, CartCommand::Get).await.unwrap().is_empty());
    ask(&router, set("lamp", 1, "10.00")).await.unwrap();
    ask(&router, set("desk", 2, "20.00")).await.unwrap();
    let lines = ask(&router, set("lamp", 3, "9.00")).await.unwrap();
    assert_eq!(
        products(&lines),
        [("lamp", 3), ("desk", 2)],
        "the same choice is the same line"
    );
    assert_eq!(lines[0].unit_price, "9.00", "the price seen when last set");
    drop(router);
    runtime.shutdown().await.unwrap();

    let runtime = start(dir.path()).await;
    let router = runtime.router();
    let kept = ask(&router, CartCommand::Get).await.unwrap();
    assert_eq!(kept, lines, "persisted");
    let unknown = ask(&router, CartCommand::Remove { line_id: "ln_x".into() }).await;
    assert_eq!(unknown.unwrap_err().code(), "not_found");
    let ordered = vec![kept[0].line_id.clone(), "ln_gone".to_string()];
    let left = ask(&router, CartCommand::Drop { line_ids: ordered }).await.unwrap();
    assert_eq!(
        products(&left),
        [("desk", 2)],
        "ordered lines leave, unknown ones are ignored"
    );
    let empty = ask(&router, set("desk", 0, "")).await.unwrap();
    assert!(empty.is_empty(), "quantity 0 removes the line");
    drop(router);
    runtime.shutdown().await.unwrap();

    let runtime = start(dir.path()).await;
    assert!(
        ask(&runtime.router(), CartCommand::Get).await.unwrap().is_empty(),
        "an emptied cart is gone"
    );
    runtime.shutdown().await.unwrap();
}
