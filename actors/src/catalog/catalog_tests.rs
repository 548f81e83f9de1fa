//! The catalog's entities driven through the runtime, with temporary sled.

use super::Catalog;
use super::actor::{AttributeCommand, Attributes};
use super::attributes::AttributeSpec;
use crate::ports::SystemClock;
use crate::runtime::{Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use std::sync::Arc;

/// The catalog's entities on a temporary database, and its service.
async fn start() -> (Runtime, Catalog) {
    let storage = Storage::temporary(8).unwrap();
    let builder = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default());
    let runtime = Catalog::register_entities(builder, Arc::new(SystemClock))
        .start()
        .await
        .unwrap();
    let catalog = Catalog::new(runtime.router(), Arc::new(super::media::NoMedia));
    (runtime, catalog)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_in_use_keeps_its_kind_until_its_last_product_lets_go() {
    let (runtime, catalog) = start().await;
    let spec = AttributeSpec {
        name: Some("Size".into()),
        kind: Some("enum".into()),
        values: Some(vec!["S".into(), "M".into()]),
        unit: None,
    };
    let size = catalog.create_attribute("ann", spec).await.unwrap();
    let ann = super::taxonomy::Editor {
        id: "ann",
        admin: false,
    };
    let bob = super::taxonomy::Editor {
        id: "bob",
        admin: false,
    };
    let admin = super::taxonomy::Editor {
        id: "root",
        admin: true,
    };
    assert_eq!(
        catalog.delete_attribute(&bob, &size.id).await.unwrap_err().code(),
        "not_owner",
        "another seller cannot touch it"
    );
    let rename = AttributeSpec {
        name: Some("Sizes".into()),
        ..Default::default()
    };
    assert!(
        catalog.update_attribute(&admin, &size.id, rename).await.is_ok(),
        "catalog:admin can"
    );
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
            .update_attribute(&ann, &size.id, retype.clone())
            .await
            .unwrap_err()
            .code(),
        "attribute_in_use"
    );
    assert_eq!(
        catalog.delete_attribute(&ann, &size.id).await.unwrap_err().code(),
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
        catalog.update_attribute(&ann, &size.id, retype).await.is_ok(),
        "idempotent per product: two releases free it"
    );
    catalog.delete_attribute(&ann, &size.id).await.unwrap();
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
    assert_eq!((product.current(), product.listing_count), (&version, 0));

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_are_counted_versioned_owned_and_listed_by_their_entities() {
    use super::product_flows::Seller;
    use super::products::ProductDraft;
    let (runtime, catalog) = start().await;
    let draft = |name: &str, visible: bool| ProductDraft {
        name: Some(name.into()),
        visible: Some(visible),
        ..Default::default()
    };
    let alice = || Seller {
        id: "alice",
        max_products: 2,
    };
    let lamp = catalog.create_product(alice(), draft("Lamp", true)).await.unwrap();
    let hidden = catalog.create_product(alice(), draft("Draft", false)).await.unwrap();
    let over = catalog.create_product(alice(), draft("Desk", true)).await.unwrap_err();
    assert_eq!(over.code(), "quota_exceeded");
    assert!(
        catalog.product(&hidden.id, None).await.is_err(),
        "only its owner sees it"
    );
    assert!(catalog.product(&hidden.id, Some("alice")).await.is_ok());
    assert_eq!(catalog.visible_product(&hidden.id).await.unwrap(), None);
    let seen = catalog.visible_product(&lamp.id).await.unwrap().unwrap();
    assert_eq!(seen.version, 1);
    let renamed = catalog
        .change_product("alice", &lamp.id, Some(1), draft("Lamp 2", true), false)
        .await
        .unwrap();
    assert_eq!((renamed.version.version, renamed.version.name.as_str()), (2, "Lamp 2"));
    let stale = catalog.change_product("alice", &lamp.id, Some(1), draft("Lamp 3", true), false);
    assert!(stale.await.is_err(), "a change names the version it replaces");
    assert!(
        catalog.delete_product("bob", &lamp.id).await.is_err(),
        "only the owner deletes"
    );
    let (mine, next) = catalog
        .my_products("alice", None, crate::shared::page::Limit::DEFAULT)
        .await
        .unwrap();
    assert_eq!((mine.len(), next), (2, None));
    catalog.delete_product("alice", &lamp.id).await.unwrap();
    assert!(!catalog.product_exists(&lamp.id).await.unwrap());
    let desk = catalog.create_product(alice(), draft("Desk", true)).await;
    assert!(desk.is_ok(), "a deleted product no longer counts: {desk:?}");
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uses_stored_by_the_old_layout_move_into_member_records_at_start_up() {
    use super::attributes::{AttrKind, AttributeDefV1};
    use super::taxonomy::{Editor, TaxonomyRecordV1};
    use crate::runtime::{encode, seal, shard_of};
    let dir = tempfile::tempdir().unwrap();
    {
        // What schema version 1 wrote: the products using an attribute,
        // and other sellers' products using it, inside the records.
        let storage = Storage::open(dir.path(), 8, RuntimeMetrics::default()).unwrap();
        let def = AttributeDefV1 {
            id: "size".into(),
            name: "Size".into(),
            kind: AttrKind::String,
            values: Vec::new(),
            unit: None,
            used_by: ["p1".to_string(), "p2".to_string()].into(),
            created_at: 1,
        };
        storage
            .put(
                shard_of("attribute", "size", 8),
                "attribute",
                "size",
                seal(1, &encode(&def).unwrap()),
            )
            .unwrap();
        let owner = TaxonomyRecordV1 {
            owner: "ann".into(),
            foreign_users: ["p2".to_string()].into(),
        };
        let key = "attribute:size";
        storage
            .put(
                shard_of("taxonomy_owner", key, 8),
                "taxonomy_owner",
                key,
                seal(1, &encode(&owner).unwrap()),
            )
            .unwrap();
        storage.flushed().await.unwrap();
    }
    let storage = Storage::open(dir.path(), 8, RuntimeMetrics::default()).unwrap();
    let builder = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default());
    let runtime = Catalog::register_entities(builder, Arc::new(SystemClock))
        .start()
        .await
        .unwrap();
    assert_eq!(runtime.migrate_members().await.unwrap(), 2);
    let catalog = Catalog::new(runtime.router(), Arc::new(super::media::NoMedia));
    let ann = Editor {
        id: "ann",
        admin: false,
    };
    let admin = Editor {
        id: "root",
        admin: true,
    };
    assert_eq!(catalog.attribute("size").await.unwrap().uses, 2);
    assert_eq!(
        catalog.delete_attribute(&ann, "size").await.unwrap_err().code(),
        "in_use_by_others",
        "bob's p2 still counts for the owner record"
    );
    let router = runtime.router();
    for product in ["p1", "p2", "p2"] {
        let stop = AttributeCommand::Use {
            product: product.into(),
            uses: false,
        };
        router.ask::<Attributes>("size", stop).await.unwrap();
    }
    assert_eq!(
        catalog.attribute("size").await.unwrap().uses,
        0,
        "each member removed once"
    );
    assert!(catalog.delete_attribute(&admin, "size").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_listings_stored_inside_a_product_move_into_member_records_at_start_up() {
    use super::actor::Products;
    use super::products::{Listing, ProductCommand, ProductV2, ProductVersion};
    use crate::runtime::{encode, seal, shard_of};
    let version = |v: u32, name: &str| ProductVersion {
        version: v,
        name: name.into(),
        description: String::new(),
        visible: true,
        tag_ids: Vec::new(),
        attributes: Vec::new(),
        media_ids: Vec::new(),
        updated_at: i64::from(v),
    };
    let listing = Listing {
        currency: "USD".into(),
        price: "4.50".into(),
        valid_from: None,
        valid_until: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let shard = shard_of(Catalog::PRODUCT_KIND, "p", 8);
    {
        // What schema version 2 wrote: every version and listing inside.
        let storage = Storage::open(dir.path(), 8, RuntimeMetrics::default()).unwrap();
        let v2 = ProductV2 {
            id: "p".into(),
            owner_id: "ann".into(),
            created_at: 1,
            deleted: false,
            versions: vec![version(1, "Lamp"), version(2, "Lamp, brass")],
            listings: [("s1".to_string(), listing.clone())].into(),
        };
        storage
            .put(shard, Catalog::PRODUCT_KIND, "p", seal(2, &encode(&v2).unwrap()))
            .unwrap();
        storage.flushed().await.unwrap();
    }
    let storage = Storage::open(dir.path(), 8, RuntimeMetrics::default()).unwrap();
    let builder = RuntimeBuilder::new(storage.clone(), Tunables::default(), RuntimeMetrics::default());
    let runtime = Catalog::register_entities(builder, Arc::new(SystemClock))
        .start()
        .await
        .unwrap();
    assert_eq!(runtime.migrate_members().await.unwrap(), 1);
    let router = runtime.router();
    let now = router.ask::<Products>("p", ProductCommand::Get).await.unwrap();
    assert_eq!((now.current().name.as_str(), now.listing_count), ("Lamp, brass", 1));
    let first = router.ask::<Products>("p", ProductCommand::Version(1)).await.unwrap();
    assert_eq!(first.current().name, "Lamp", "an old version stays readable");
    let missing = router
        .ask::<Products>("p", ProductCommand::Version(3))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "not_found");
    // The search index reads the listings from their member records.
    let record = storage.load(shard, Catalog::PRODUCT_KIND, "p").unwrap().unwrap();
    let indexed = Catalog::product_with_listings(&storage, shard, record).unwrap();
    assert_eq!(indexed.listings, [("s1".to_string(), listing)].into());
    // Unlisting writes one member and counts down.
    let unlist = ProductCommand::List {
        store: "s1".into(),
        listing: None,
    };
    assert_eq!(router.ask::<Products>("p", unlist).await.unwrap().listing_count, 0);
    let record = storage.load(shard, Catalog::PRODUCT_KIND, "p").unwrap().unwrap();
    assert!(
        Catalog::product_with_listings(&storage, shard, record)
            .unwrap()
            .listings
            .is_empty()
    );
}
