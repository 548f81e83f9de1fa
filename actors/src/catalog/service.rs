//! The catalog's flows, called by the edge.

use super::actor::{
    AttributeCommand, Attributes, OwnerCommand, ProductCommand, ProductQuota, Products, TAG_TREE, TagCommand, TagReply,
    TagTrees, TaxonomyOwners,
};
use super::attributes::{AttrValue, AttributeDef, AttributeSpec};
use super::model::{TagNode, TagTree, TagView};
use super::products::Product;
use super::products::{self, Listing};
use super::taxonomy::{self, Editor};
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::ports::Clock;
use crate::quota::Owners;
use crate::runtime::{Entity, Envelope, Router, RuntimeBuilder, ShardId, Storage, decode, from_envelope};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Catalog {
    pub(super) router: Router,
    pub(super) media: std::sync::Arc<dyn super::media::ProductMedia>,
}

impl Catalog {
    /// Registers the catalog's entity kinds with the runtime being built.
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        let context = builder.context();
        builder
            .register(Arc::new(TagTrees { clock: clock.clone() }))
            .register(Arc::new(Attributes {
                clock: clock.clone(),
                context: context.clone(),
            }))
            .register(Arc::new(Products {
                clock,
                context: context.clone(),
            }))
            .register(Arc::new(Owners::<ProductQuota>::new(context.clone())))
            .register(Arc::new(TaxonomyOwners { context }))
    }

    pub fn new(router: Router, media: std::sync::Arc<dyn super::media::ProductMedia>) -> Self {
        Self { router, media }
    }

    pub(super) async fn tags(&self, command: TagCommand) -> Result<TagReply> {
        self.router.ask::<TagTrees>(TAG_TREE, command).await
    }

    async fn tag(&self, command: TagCommand) -> Result<TagView> {
        expect_reply!(self.tags(command).await?, TagReply::Tag(view) => view)
    }

    /// Records `creator` as the owner of `key` (`tag:{id}`, `attribute:{id}`).
    async fn own(&self, key: &str, creator: &str) -> Result<()> {
        let set = OwnerCommand::Set(creator.to_string());
        self.router.ask::<TaxonomyOwners>(key, set).await.map(|_| ())
    }

    /// Only the creator of a tag or attribute, or a holder of
    /// `catalog:admin`, changes or deletes it (403 `not_owner`).
    async fn check_owner(&self, key: &str, caller: &Editor<'_>) -> Result<()> {
        if caller.admin {
            return Ok(());
        }
        let record = self.router.ask::<TaxonomyOwners>(key, OwnerCommand::Get).await?;
        taxonomy::may_edit(record.as_ref(), caller.id)
    }

    pub async fn create_tag(&self, creator: &str, name: &str, parent: Option<String>) -> Result<TagView> {
        let id = ulid::Ulid::new().to_string();
        self.own(&format!("tag:{id}"), creator).await?;
        self.tag(TagCommand::Create {
            id,
            name: name.to_string(),
            parent,
        })
        .await
    }

    pub async fn update_tag(
        &self,
        caller: &Editor<'_>,
        id: &str,
        name: Option<String>,
        parent: Option<Option<String>>,
    ) -> Result<TagView> {
        self.tag(TagCommand::View {
            id: id.to_string(),
            depth: 0,
        })
        .await?;
        self.check_owner(&format!("tag:{id}"), caller).await?;
        self.tag(TagCommand::Update {
            id: id.to_string(),
            name,
            parent,
        })
        .await
    }

    pub async fn delete_tag(&self, caller: &Editor<'_>, id: &str) -> Result<()> {
        self.tag(TagCommand::View {
            id: id.to_string(),
            depth: 0,
        })
        .await?;
        self.check_owner(&format!("tag:{id}"), caller).await?;
        self.tags(TagCommand::Delete { id: id.to_string() }).await.map(|_| ())
    }

    pub async fn view_tag(&self, id: &str, depth: usize) -> Result<TagView> {
        self.tag(TagCommand::View {
            id: id.to_string(),
            depth,
        })
        .await
    }

    pub async fn root_tags(&self, depth: usize) -> Result<Vec<TagNode>> {
        expect_reply!(self.tags(TagCommand::Roots { depth }).await?, TagReply::Roots(roots) => roots)
    }

    pub async fn create_attribute(&self, creator: &str, spec: AttributeSpec) -> Result<AttributeDef> {
        let id = ulid::Ulid::new().to_string();
        // Checked first, so that a refused definition records no owner.
        super::attributes::AttributeDef::create(id.clone(), &spec, 0)?;
        self.own(&format!("attribute:{id}"), creator).await?;
        self.router.ask::<Attributes>(&id, AttributeCommand::Create(spec)).await
    }

    pub async fn attribute(&self, id: &str) -> Result<AttributeDef> {
        self.router.ask::<Attributes>(id, AttributeCommand::Get).await
    }

    pub async fn update_attribute(&self, caller: &Editor<'_>, id: &str, spec: AttributeSpec) -> Result<AttributeDef> {
        self.attribute(id).await?;
        self.check_owner(&format!("attribute:{id}"), caller).await?;
        self.router.ask::<Attributes>(id, AttributeCommand::Update(spec)).await
    }

    pub async fn delete_attribute(&self, caller: &Editor<'_>, id: &str) -> Result<()> {
        self.attribute(id).await?;
        self.check_owner(&format!("attribute:{id}"), caller).await?;
        self.router
            .ask::<Attributes>(id, AttributeCommand::Delete)
            .await
            .map(|_| ())
    }

    /// Attributes whose name contains `q` (case-insensitive), by name, at
    /// most `limit`. Definitions are few; the listing reads them all.
    pub async fn find_attributes(&self, q: Option<&str>, limit: usize) -> Result<Vec<AttributeDef>> {
        let q = q.map(str::to_lowercase).unwrap_or_default();
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.router.scan::<Attributes>(cursor.as_ref(), 500).await?;
            found.extend(
                page.items
                    .into_iter()
                    .map(|(_, def)| def)
                    .filter(|d| d.name.to_lowercase().contains(&q)),
            );
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        found.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        found.truncate(limit);
        Ok(found)
    }

    /// What other domains may know of a product anyone can see: its
    /// current attribute values and version; `None` if there is no such
    /// visible product.
    pub async fn visible_product(&self, id: &str) -> Result<Option<VisibleProduct>> {
        match self.router.ask::<Products>(id, ProductCommand::Get).await {
            Ok(product) if product.readable_by(None) => {
                let current = product.current();
                Ok(Some(VisibleProduct {
                    values: current.attributes.clone(),
                    version: current.version,
                }))
            }
            Ok(_) | Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether a product exists (visible or not) and is not deleted.
    pub async fn product_exists(&self, id: &str) -> Result<bool> {
        match self.router.ask::<Products>(id, ProductCommand::Get).await {
            Ok(product) => Ok(!product.deleted),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Copies a store's price onto the product, for search (`None`: the
    /// store no longer offers it). Idempotent; a deleted product is left
    /// alone.
    pub async fn set_listing(&self, product_id: &str, store_id: &str, listing: Option<Listing>) -> Result<()> {
        let command = ProductCommand::List {
            store: store_id.to_string(),
            listing,
        };
        match self.router.ask::<Products>(product_id, command).await {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A visible product as other domains see it.
#[derive(Debug, Clone, PartialEq)]
pub struct VisibleProduct {
    /// Its current attribute values.
    pub values: Vec<(String, AttrValue)>,
    pub version: u32,
}

/// What a read model of the catalog (the search index) may use: the kind
/// under which products are stored, how to read one stored record, and the
/// tag tree when it changed.
impl Catalog {
    /// The entity kind of products, to watch and scan their records.
    pub const PRODUCT_KIND: &'static str = <Products as Entity>::KIND;

    /// A stored product record, upgraded to the current schema.
    pub fn product_from_record(envelope: Envelope) -> Result<Product> {
        from_envelope::<Products>(envelope)
    }

    /// A product as stored in `shard` of this node, with its stores'
    /// listings read from its member records (for the search index).
    pub fn product_with_listings(storage: &Storage, shard: ShardId, envelope: Envelope) -> Result<Product> {
        let mut product = Self::product_from_record(envelope)?;
        let listings = storage.members_with_prefix(shard, Self::PRODUCT_KIND, &product.id, products::LISTING_PREFIX)?;
        for (store, value) in listings {
            product.listings.insert(store, decode(&value)?);
        }
        Ok(product)
    }

    /// The tag tree if it changed since revision `known` (`None` if not, or
    /// if it could not be asked within `within`).
    pub async fn tag_tree_after(router: &Router, known: u64, within: Duration) -> Option<TagTree> {
        let ask = TagCommand::Snapshot { known };
        match router.ask_within::<TagTrees>(TAG_TREE, ask, within).await {
            Ok(TagReply::Tree(tree)) => tree,
            _ => None,
        }
    }
}
