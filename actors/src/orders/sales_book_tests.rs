//! A store's sales book on a temporary database: each order counted once,
//! listed newest first, paged by member name.

use super::*;
use crate::orders::model::OrderStatus;
use crate::runtime::{Router, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use std::sync::Arc;

fn figure(status: OrderStatus, units: u64, revenue: &str) -> StoreFigure {
    StoreFigure {
        status,
        units,
        revenue: revenue.into(),
    }
}

async fn apply(router: &Router, order: &str, created_at: Millis, figure: StoreFigure, if_absent: bool) -> SalesBook {
    let apply = SalesCommand::Apply {
        order_id: order.into(),
        created_at,
        figure,
        if_absent,
    };
    match router.ask::<StoreSales>("s1", apply).await.unwrap() {
        SalesReply::Book(book) => book,
        other => panic!("{other:?}"),
    }
}

async fn page(router: &Router, after: Option<String>, limit: u32) -> Vec<String> {
    match router
        .ask::<StoreSales>("s1", SalesCommand::Page { after, limit })
        .await
        .unwrap()
    {
        SalesReply::Orders(keys) => keys,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_book_counts_each_order_once_and_lists_the_newest_first() {
    let builder = RuntimeBuilder::new(
        Storage::temporary(2).unwrap(),
        Tunables::default(),
        RuntimeMetrics::default(),
    );
    let context = builder.context();
    let runtime = builder
        .register(Arc::new(StoreSales { context }))
        .start()
        .await
        .unwrap();
    let router = runtime.router();
    let awaiting = figure(OrderStatus::AwaitingPayment, 2, "20.00");
    apply(&router, "o1", 100, awaiting.clone(), false).await;
    apply(&router, "o2", 300, awaiting.clone(), false).await;
    let book = apply(&router, "o3", 200, awaiting.clone(), false).await;
    assert_eq!(book.by_status[&OrderStatus::AwaitingPayment].orders, 3);
    // A retried step, and an older order counted in while seeding: no change.
    assert_eq!(apply(&router, "o2", 300, awaiting.clone(), false).await, book);
    let paid = figure(OrderStatus::Paid, 2, "20.00");
    assert_eq!(
        apply(&router, "o2", 300, paid.clone(), true).await,
        book,
        "counted already"
    );
    let book = apply(&router, "o2", 300, paid, false).await;
    assert_eq!(book.by_status[&OrderStatus::Paid].orders, 1);
    assert_eq!(book.by_status[&OrderStatus::AwaitingPayment].orders, 2);
    let first = page(&router, None, 2).await;
    assert_eq!(
        first.iter().map(|k| order_of(k)).collect::<Vec<_>>(),
        ["o2", "o3"],
        "newest first"
    );
    let rest = page(&router, first.last().cloned(), 2).await;
    assert_eq!(rest.iter().map(|k| order_of(k)).collect::<Vec<_>>(), ["o1"]);
    assert!(listing_key(300, "o2") < listing_key(200, "o3"));
}
