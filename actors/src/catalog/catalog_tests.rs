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

/// Records written before products carried listings and the tag tree
/// counted revisions still load, as they were.
#[test]
fn records_of_schema_version_1_are_upgraded() {
    use super::actor::{Products, TagTrees};
    use super::model::{Tag, TagTree};
    use super::products::{Product, ProductVersion};
    use crate::runtime::{Envelope, encode, from_envelope};
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct ProductV1 {
        id: String,
        owner_id: String,
        created_at: i64,
        deleted: bool,
        versions: Vec<ProductVersion>,
    }
    let version = ProductVersion {
        version: 3,
        name: "Lamp".into(),
        description: "Bright".into(),
        visible: true,
        tag_ids: vec!["t".into()],
        attributes: Vec::new(),
        media_ids: Vec::new(),
        updated_at: 9,
    };
    let old = ProductV1 {
        id: "p".into(),
        owner_id: "o".into(),
        created_at: 5,
        deleted: false,
        versions: vec![version.clone()],
    };
    let envelope = Envelope {
        schema_version: 1,
        body: encode(&old).unwrap(),
    };
    let product: Product = from_envelope::<Products>(envelope).unwrap();
    assert_eq!(
        (product.id.as_str(), product.owner_id.as_str(), product.created_at),
        ("p", "o", 5)
    );
    assert_eq!(product.versions, vec![version]);
    assert!(product.listings.is_empty());

    #[derive(serde::Serialize)]
    struct TreeV1 {
        tags: BTreeMap<String, Tag>,
    }
    let tag = Tag {
        id: "t".into(),
        name: "Shoes".into(),
        parent: None,
        created_at: 1,
    };
    let old = TreeV1 {
        tags: BTreeMap::from([("t".to_string(), tag.clone())]),
    };
    let envelope = Envelope {
        schema_version: 1,
        body: encode(&old).unwrap(),
    };
    let tree: TagTree = from_envelope::<TagTrees>(envelope).unwrap();
    assert_eq!(tree.tags.get("t"), Some(&tag));
    assert_eq!(tree.revision, 1);
    let grown = tree.create("u".into(), "Hats", None, 2).unwrap();
    assert_eq!(grown.revision, 2, "every change counts");
}
