//! The catalog's entities. The whole tag tree is one entity, so moves and
//! cycle checks are decided by one single-threaded owner.

use super::attributes::{AttributeDef, AttributeDefV1, AttributeSpec};
use super::model::{TagNode, TagTree, TagTreeV1, TagView};
pub use super::products::ProductCommand;
use super::products::{self, Listing, Product, ProductChange, ProductMember, ProductV1, ProductV2};
use super::taxonomy::{TaxonomyRecord, TaxonomyRecordV1};
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::quota::Quota;
use crate::runtime::{Entity, EntityContext, MemberWrite, Outcome, decode, encode};

/// Persist and answer with the new state.
fn put<S: Clone>(state: S) -> Result<Outcome<S, S>> {
    Ok(Outcome::put(state))
}
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The key of the catalog's one tag tree.
pub const TAG_TREE: &str = "catalog";

pub struct TagTrees {
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TagCommand {
    Create {
        id: String,
        name: String,
        parent: Option<String>,
    },
    /// `parent: Some(None)` makes the tag a root.
    Update {
        id: String,
        name: Option<String>,
        parent: Option<Option<String>>,
    },
    Delete {
        id: String,
    },
    View {
        id: String,
        depth: usize,
    },
    Roots {
        depth: usize,
    },
    /// Views (with ancestors) of those of `ids` that exist.
    Lookup {
        ids: Vec<String>,
    },
    /// The whole tree, unless it is still at revision `known`.
    Snapshot {
        known: u64,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum TagReply {
    Tag(TagView),
    Roots(Vec<TagNode>),
    Deleted,
    Found(Vec<TagView>),
    Tree(Option<TagTree>),
}

impl Entity for TagTrees {
    const KIND: &'static str = "tag_tree";
    /// 2: the tree counts its revisions.
    const SCHEMA_VERSION: u32 = 2;
    type State = TagTree;
    type Command = TagCommand;
    type Reply = TagReply;

    fn upgrade(schema_version: u32, body: &[u8]) -> Result<TagTree> {
        match schema_version {
            1 => Ok(decode::<TagTreeV1>(body)?.into()),
            v => Err(Error::internal(format!("tag_tree: no upgrade from schema version {v}"))),
        }
    }

    async fn handle(
        &self,
        _key: &str,
        state: Option<&TagTree>,
        command: TagCommand,
    ) -> Result<Outcome<TagTree, TagReply>> {
        let empty = TagTree::default();
        let tree = state.unwrap_or(&empty);
        let changed = |next: TagTree, id: &str| -> Result<Outcome<TagTree, TagReply>> {
            let view = next.view(id, 1)?;
            Ok(Outcome::write(next, TagReply::Tag(view)))
        };
        match command {
            TagCommand::Create { id, name, parent } => {
                let next = tree.create(id.clone(), &name, parent, self.clock.now())?;
                changed(next, &id)
            }
            TagCommand::Update { id, name, parent } => changed(tree.update(&id, name.as_deref(), parent)?, &id),
            TagCommand::Delete { id } => Ok(Outcome::write(tree.delete(&id)?, TagReply::Deleted)),
            TagCommand::View { id, depth } => Ok(Outcome::read(TagReply::Tag(tree.view(&id, depth)?))),
            TagCommand::Roots { depth } => Ok(Outcome::read(TagReply::Roots(tree.roots(depth)))),
            TagCommand::Lookup { ids } => {
                let found = ids.iter().filter_map(|id| tree.view(id, 0).ok()).collect();
                Ok(Outcome::read(TagReply::Found(found)))
            }
            TagCommand::Snapshot { known } => Ok(Outcome::read(TagReply::Tree(
                (tree.revision != known).then(|| tree.clone()),
            ))),
        }
    }
}

/// One entity per attribute definition, keyed by its id.
pub struct Attributes {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AttributeCommand {
    Create(AttributeSpec),
    Update(AttributeSpec),
    Delete,
    Get,
    /// A product starts (`uses: true`) or stops using this attribute.
    /// Idempotent per product.
    Use {
        product: String,
        uses: bool,
    },
}

impl Entity for Attributes {
    const KIND: &'static str = "attribute";
    /// 2: the products using it are member records.
    const SCHEMA_VERSION: u32 = 2;
    type State = AttributeDef;
    type Command = AttributeCommand;
    type Reply = AttributeDef;

    fn upgrade_members(schema_version: u32, body: &[u8]) -> Result<Option<(AttributeDef, Vec<MemberWrite>)>> {
        if schema_version != 1 {
            return Ok(None);
        }
        let (def, users) = decode::<AttributeDefV1>(body)?.upgraded();
        Ok(Some((def, use_members(users))))
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&AttributeDef>,
        command: AttributeCommand,
    ) -> Result<Outcome<AttributeDef, AttributeDef>> {
        match (command, state) {
            (AttributeCommand::Create(spec), None) => {
                put(AttributeDef::create(key.to_string(), &spec, self.clock.now())?)
            }
            (AttributeCommand::Create(_), Some(_)) => {
                Err(Error::conflict("attribute_exists", "an attribute with this id exists"))
            }
            (_, None) => Err(Error::not_found("attribute")),
            (AttributeCommand::Update(spec), Some(def)) => put(def.update(&spec)?),
            (AttributeCommand::Delete, Some(def)) => {
                def.check_deletable()?;
                Ok(Outcome::delete(def.clone()))
            }
            (AttributeCommand::Get, Some(def)) => Ok(Outcome::read(def.clone())),
            (AttributeCommand::Use { product, uses }, Some(def)) => {
                let member = self.context.members(Self::KIND, key)?.contains(&product)?;
                Ok(match def.with_user(member, uses) {
                    Some(next) => Outcome::write(next.clone(), next).with_members(vec![use_member(product, uses)]),
                    None => Outcome::read(def.clone()),
                })
            }
        }
    }
}

/// One entity per product, holding every version.
pub struct Products {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
}

fn product_member(member: ProductMember) -> Result<MemberWrite> {
    Ok(match member {
        ProductMember::Version(v) => (products::version_member(v.version), Some(encode(&v)?)),
        ProductMember::Listing(store, listing) => {
            let value = listing.map(|l| encode(&l)).transpose()?;
            (products::listing_member(&store), value)
        }
    })
}

impl Entity for Products {
    const KIND: &'static str = "product";
    /// 2: products carry the stores' listings. 3: versions and listings
    /// are member records.
    const SCHEMA_VERSION: u32 = 3;
    type State = Product;
    type Command = ProductCommand;
    type Reply = Product;

    /// Reading an older record without moving its members (start-up moves
    /// them first: see `upgrade_members`).
    fn upgrade(schema_version: u32, body: &[u8]) -> Result<Product> {
        match Self::upgrade_members(schema_version, body)? {
            Some((product, _)) => Ok(product),
            None => Err(Error::internal(format!(
                "product: no upgrade from schema version {schema_version}"
            ))),
        }
    }

    fn upgrade_members(schema_version: u32, body: &[u8]) -> Result<Option<(Product, Vec<MemberWrite>)>> {
        let old: ProductV2 = match schema_version {
            1 => decode::<ProductV1>(body)?.into(),
            2 => decode::<ProductV2>(body)?,
            _ => return Ok(None),
        };
        let Some((product, members)) = old.upgraded() else {
            return Err(Error::internal("product: a stored product without a version"));
        };
        let members = members.into_iter().map(product_member).collect::<Result<_>>()?;
        Ok(Some((product, members)))
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&Product>,
        command: ProductCommand,
    ) -> Result<Outcome<Product, Product>> {
        if let (ProductCommand::Version(v), Some(product)) = (&command, state) {
            let at = Product {
                current: self
                    .context
                    .members(Self::KIND, key)?
                    .decoded(&products::version_member(*v))?
                    .ok_or_else(|| Error::not_found("product version"))?,
                ..product.clone()
            };
            return Ok(Outcome::read(at));
        }
        let listed: Option<Listing> = match &command {
            ProductCommand::List { store, .. } => self
                .context
                .members(Self::KIND, key)?
                .decoded(&products::listing_member(store))?,
            _ => None,
        };
        let (change, product, written) = products::decide(key, state, command, listed.as_ref(), self.clock.now())?;
        Ok(match change {
            ProductChange::Keep => Outcome::read(product),
            ProductChange::Put => {
                let written = written.into_iter().map(product_member).collect::<Result<_>>()?;
                Outcome::put(product).with_members(written)
            }
        })
    }
}

/// Who created a tag (`tag:{id}`) or an attribute (`attribute:{id}`), and
/// which other sellers' products use it (see `taxonomy.rs`). Kept beside
/// the tree and the definitions, so their records stay as they are; one
/// created before owners were kept has none (only `catalog:admin`).
pub struct TaxonomyOwners {
    pub context: EntityContext,
}

/// The member record of a product using a tag or attribute (or its removal).
fn use_member(product: String, uses: bool) -> MemberWrite {
    (product, uses.then(Vec::new))
}

/// Products as members, for records an older schema wrote.
fn use_members(products: std::collections::BTreeSet<String>) -> Vec<MemberWrite> {
    products.into_iter().map(|p| use_member(p, true)).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OwnerCommand {
    /// Records the creator; the first one stays.
    Set(String),
    Get,
    /// Product `product` of seller `by` starts (or stops) using it.
    Use {
        product: String,
        by: String,
        uses: bool,
    },
}

impl Entity for TaxonomyOwners {
    const KIND: &'static str = "taxonomy_owner";
    /// 2: the products using it are member records.
    const SCHEMA_VERSION: u32 = 2;
    type State = TaxonomyRecord;
    type Command = OwnerCommand;
    type Reply = Option<TaxonomyRecord>;

    fn upgrade_members(schema_version: u32, body: &[u8]) -> Result<Option<(TaxonomyRecord, Vec<MemberWrite>)>> {
        if schema_version != 1 {
            return Ok(None);
        }
        let v1: TaxonomyRecordV1 = decode(body)?;
        let record = TaxonomyRecord {
            owner: v1.owner,
            foreign_uses: v1.foreign_users.len() as u64,
        };
        Ok(Some((record, use_members(v1.foreign_users))))
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&TaxonomyRecord>,
        command: OwnerCommand,
    ) -> Result<Outcome<TaxonomyRecord, Option<TaxonomyRecord>>> {
        Ok(match (command, state) {
            (OwnerCommand::Set(owner), None) => {
                let record = TaxonomyRecord::new(owner);
                Outcome::write(record.clone(), Some(record))
            }
            (OwnerCommand::Use { product, by, uses }, Some(record)) => {
                let member = self.context.members(Self::KIND, key)?.contains(&product)?;
                match record.used(&by, member, uses) {
                    Some(next) => {
                        Outcome::write(next.clone(), Some(next)).with_members(vec![use_member(product, uses)])
                    }
                    None => Outcome::read(Some(record.clone())),
                }
            }
            (_, current) => Outcome::read(current.cloned()),
        })
    }
}

/// The products a seller owns, counted against `max_products`.
pub struct ProductQuota;

impl Quota for ProductQuota {
    const KIND: &'static str = "product_owner";
    const NAME: &'static str = "max_products";
}
