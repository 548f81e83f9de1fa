//! The catalog's entities driven through the runtime, with temporary sled.

use super::Catalog;
use super::actor::{AttributeCommand, Attributes};
use super::attributes::AttributeSpec;
use crate::ports::SystemClock;
use crate::runtime::{RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_in_use_keeps_its_kind_until_its_last_product_lets_go() {
    let storage = Storage::temporary(8).unwrap();
    let builder = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default());
    let runtime = Catalog::register_entities(builder, Arc::new(SystemClock))
        .start()
        .await
        .unwrap();
    let catalog = Catalog::new(runtime.router());
    let spec = AttributeSpec {
        name: Some("Size".into()),
        kind: Some("enum".into()),
        values: Some(vec!["S".into(), "M".into()]),
        unit: None,
    };
    let size = catalog.create_attribute(spec).await.unwrap();
    let router = runtime.router();
    for product in ["p1", "p1", "p2"] {
        let uses = AttributeCommand::Use {
            product: product.into(),
            uses: true,
        };
        router.ask::<Attributes>(&size.id, uses).await.unwrap();
    }
    let retype = AttributeSpec {
        kind: Some("string".into()),
        ..Default::default()
    };
    assert_eq!(
        catalog
            .update_attribute(&size.id, retype.clone())
            .await
            .unwrap_err()
            .code(),
        "attribute_in_use"
    );
    assert_eq!(
        catalog.delete_attribute(&size.id).await.unwrap_err().code(),
        "attribute_in_use"
    );
    for product in ["p1", "p2"] {
        let stops = AttributeCommand::Use {
            product: product.into(),
            uses: false,
        };
        router.ask::<Attributes>(&size.id, stops).await.unwrap();
    }
    assert!(
        catalog.update_attribute(&size.id, retype).await.is_ok(),
        "idempotent per product: two releases free it"
    );
    catalog.delete_attribute(&size.id).await.unwrap();
    assert_eq!(catalog.attribute(&size.id).await.unwrap_err().code(), "not_found");
}
