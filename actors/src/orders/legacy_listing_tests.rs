//! Orders placed before stores listed them through their sales books were
//! listed only in the old `store:{id}` index: a store's book counts them
//! in on first use, so its listing and dashboard still show them.

use super::actor::{OrderCommand, OrderEntity, OrderReply};
use super::fixtures::order;
use super::index::{IndexCommand, OrderIndex};
use crate::domains::{DomainSettings, Domains};
use crate::identity::Ports;
use crate::identity::ports::{FileOutbox, HashCost, PasswordHasher};
use crate::ports::SystemClock;
use crate::runtime::{RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use crate::storefront::model::StoreSpec;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_only_in_the_old_store_index_are_listed_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::temporary(4).unwrap();
    let hasher = PasswordHasher::new(HashCost {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let settings = || DomainSettings {
        ports: Ports {
            hasher: hasher.clone(),
            mailer: Arc::new(FileOutbox::new(dir.path().join("outbox"), "shop@example.com".into()).unwrap()),
            clock: Arc::new(SystemClock),
        },
        key_rotation_secs: 3600,
        access_token_ttl_secs: 900,
        placement_lease: 60_000,
        search_index_bytes: Default::default(),
        payments: Default::default(),
        webhook_endpoint: Default::default(),
        media: crate::media::service::MediaSettings {
            data_dir: dir.path().to_path_buf(),
            max_upload_bytes: 1 << 20,
            upload_expiry: 60_000,
            free_disk_headroom: 0,
            default_variants: Vec::new(),
            max_source_pixels: crate::media::variants::DEFAULT_MAX_PIXELS,
            job_workers: 0,
        },
    };
    let builder = RuntimeBuilder::new(storage.clone(), Tunables::default(), RuntimeMetrics::default());
    let runtime = Domains::register_entities(builder, &settings()).start().await.unwrap();
    let domains = Domains::start(&runtime, &storage, settings()).await.unwrap();
    let spec = StoreSpec {
        name: Some("Corner".into()),
        currency: Some("USD".into()),
        timezone: Some("UTC".into()),
        ..Default::default()
    };
    let store = domains.storefront.create("ann", 5, spec).await.unwrap();
    // An order placed the old way: confirmed, listed in `store:{id}`, its
    // sales step never carried out (older versions had none).
    let router = runtime.router();
    let mut placed = order();
    for line in &mut placed.lines {
        line.store_id = store.id.clone();
    }
    let attempt = match router
        .ask::<OrderEntity>(
            "o",
            OrderCommand::Begin {
                buyer: "u".into(),
                request_hash: 1,
                lines: vec![(store.id.clone(), "p1".into())],
            },
        )
        .await
        .unwrap()
    {
        OrderReply::Attempt(n) => n,
        other => panic!("{other:?}"),
    };
    let confirm = OrderCommand::Confirm {
        attempt,
        order: Box::new(placed.clone()),
    };
    router.ask::<OrderEntity>("o", confirm).await.unwrap();
    let name = format!("store:{}", store.id);
    router
        .ask::<OrderIndex>(&name, IndexCommand::Add((placed.created_at, "o".into())))
        .await
        .unwrap();

    let limit = crate::shared::page::Limit::new(10).unwrap();
    let (listed, _) = domains.orders.of_store("ann", &store.id, None, limit).await.unwrap();
    assert_eq!(listed.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["o"]);
    let (_, dashboard) = domains.orders.dashboard("ann", &store.id).await.unwrap();
    assert_eq!(dashboard["awaiting_payment"].orders, 1);
    assert_eq!(dashboard["awaiting_payment"].units, 5, "both lines, now the store's");
}
