//! Product rules: fields, versions and ownership. Pure; the service resolves
//! tags and attribute definitions and hands them in.

use super::attributes::{AttrValue, AttributeDef};
use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const TAGS_MAX: usize = 20;
pub const ATTRIBUTES_MAX: usize = 50;
pub const MEDIA_MAX: usize = 20;

/// What a client sends for a product (create, replace, or the fields of an
/// edit that it sets).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductDraft {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visible: Option<bool>,
    pub tag_ids: Option<Vec<String>>,
    /// `(attribute_id, value as JSON text)`.
    pub attributes: Option<Vec<(String, String)>>,
    pub media_ids: Option<Vec<String>>,
}

/// One version of a product, as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductVersion {
    pub version: u32,
    pub name: String,
    pub description: String,
    pub visible: bool,
    pub tag_ids: Vec<String>,
    pub attributes: Vec<(String, AttrValue)>,
    pub media_ids: Vec<String>,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub owner_id: String,
    pub created_at: Millis,
    pub deleted: bool,
    /// The current version. Every version (this one too) is also a member
    /// record of the product's entity ([`version_member`]), so that a
    /// product edited a thousand times is written as cheaply as a new one.
    pub current: ProductVersion,
    /// How many stores list a base price for it; each listing is a member
    /// record ([`listing_member`]), mirrored from the stores' offers so
    /// search can filter and sort by price.
    pub listing_count: u64,
    /// The listings, by store: filled only where they are read from the
    /// member records (the search indexer), never stored in the record.
    #[serde(skip)]
    pub listings: BTreeMap<String, Listing>,
}

/// The member name of version `v` (zero-padded: member order is version
/// order).
pub fn version_member(v: u32) -> String {
    format!("v{v:010}")
}

/// The member name of `store`'s listing; every such name starts with
/// [`LISTING_PREFIX`].
pub fn listing_member(store: &str) -> String {
    format!("{LISTING_PREFIX}{store}")
}

pub const LISTING_PREFIX: &str = "l";

/// A member record a product command writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductMember {
    Version(ProductVersion),
    Listing(String, Option<Listing>),
}

/// A store's base price for a product, in the store's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub currency: String,
    /// Decimal string.
    pub price: String,
    pub valid_from: Option<Millis>,
    pub valid_until: Option<Millis>,
}

impl Listing {
    pub fn valid_at(&self, now: Millis) -> bool {
        crate::ports::within(self.valid_from, self.valid_until, now)
    }
}

/// A product as schema version 1 stored it (before listings).
#[derive(Serialize, Deserialize)]
pub struct ProductV1 {
    pub id: String,
    pub owner_id: String,
    pub created_at: Millis,
    pub deleted: bool,
    pub versions: Vec<ProductVersion>,
}

/// A product as schema version 2 stored it: every version and listing in
/// the record.
#[derive(Serialize, Deserialize)]
pub struct ProductV2 {
    pub id: String,
    pub owner_id: String,
    pub created_at: Millis,
    pub deleted: bool,
    pub versions: Vec<ProductVersion>,
    pub listings: BTreeMap<String, Listing>,
}

impl From<ProductV1> for ProductV2 {
    fn from(old: ProductV1) -> Self {
        Self {
            id: old.id,
            owner_id: old.owner_id,
            created_at: old.created_at,
            deleted: old.deleted,
            versions: old.versions,
            listings: BTreeMap::new(),
        }
    }
}

impl ProductV2 {
    /// The product and the member records its versions and listings
    /// become; `None` for a record without a version (never written).
    pub fn upgraded(self) -> Option<(Product, Vec<ProductMember>)> {
        let current = self.versions.last()?.clone();
        let mut members: Vec<ProductMember> = self.versions.into_iter().map(ProductMember::Version).collect();
        let listing_count = self.listings.len() as u64;
        members.extend(
            self.listings
                .into_iter()
                .map(|(store, l)| ProductMember::Listing(store, Some(l))),
        );
        let product = Product {
            id: self.id,
            owner_id: self.owner_id,
            created_at: self.created_at,
            deleted: self.deleted,
            current,
            listing_count,
            listings: BTreeMap::new(),
        };
        Some((product, members))
    }
}

impl Product {
    pub fn current(&self) -> &ProductVersion {
        &self.current
    }

    /// Whether `viewer` may read the current version: visible products to
    /// anyone, invisible ones to their owner only.
    pub fn readable_by(&self, viewer: Option<&str>) -> bool {
        !self.deleted && (self.current().visible || viewer == Some(self.owner_id.as_str()))
    }

    /// Whether `viewer` may read `version`: its owner always; anyone else a
    /// version that was visible, while the product is visible now. A
    /// hidden product hides its history too. A deleted product's visible
    /// versions stay readable, so that orders can show what was bought.
    pub fn version_readable_by(&self, version: &ProductVersion, viewer: Option<&str>) -> bool {
        viewer == Some(self.owner_id.as_str()) || (version.visible && (self.deleted || self.current().visible))
    }

    pub fn check_owner(&self, caller: &str) -> Result<()> {
        if self.deleted {
            return Err(Error::not_found("product"));
        }
        if self.owner_id != caller {
            return Err(Error::forbidden("not_owner", "only the product's owner may change it"));
        }
        Ok(())
    }

    /// Edits require the version the client last saw (`If-Match`).
    pub fn check_version(&self, expected: Option<u32>) -> Result<()> {
        match expected {
            None => Err(Error::PreconditionRequired {
                message: "send If-Match with the version you are changing".into(),
            }),
            Some(v) if v != self.current().version => Err(Error::PreconditionFailed {
                message: format!("the product is at version {}, not {v}", self.current().version),
            }),
            Some(_) => Ok(()),
        }
    }

    /// A new version from `next` (already validated).
    pub fn with_version(&self, mut next: ProductVersion, now: Millis) -> Self {
        let mut product = self.clone();
        next.version = self.current().version + 1;
        next.updated_at = now;
        product.current = next;
        product
    }
}

/// The attribute ids a version uses.
pub fn attribute_ids(version: &ProductVersion) -> BTreeSet<String> {
    version.attributes.iter().map(|(id, _)| id.clone()).collect()
}

/// The attributes and tags a product version uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uses {
    pub attributes: BTreeSet<String>,
    pub tags: BTreeSet<String>,
}

impl Uses {
    pub fn of(version: &ProductVersion) -> Self {
        Self {
            attributes: attribute_ids(version),
            tags: version.tag_ids.iter().cloned().collect(),
        }
    }
}

/// Validates a draft into a version. `base` supplies unset fields (an edit);
/// `known_tags` are the tag ids that exist; `definitions` the attribute
/// definitions found among those the draft names.
/// Refuses a draft whose lists are longer than they may be, before any of
/// their items is looked up or checked (tags, attributes, media).
pub fn check_sizes(draft: &ProductDraft) -> Result<()> {
    let mut errors = FieldErrors::new();
    if draft.tag_ids.as_ref().is_some_and(|t| t.len() > TAGS_MAX) {
        errors.add("tag_ids", format!("at most {TAGS_MAX} tags"));
    }
    if draft.attributes.as_ref().is_some_and(|a| a.len() > ATTRIBUTES_MAX) {
        errors.add("attributes", format!("at most {ATTRIBUTES_MAX} attributes"));
    }
    if draft.media_ids.as_ref().is_some_and(|m| m.len() > MEDIA_MAX) {
        errors.add("media_ids", format!("at most {MEDIA_MAX} media"));
    }
    errors.into_result()
}

pub fn validate(
    draft: &ProductDraft,
    base: Option<&ProductVersion>,
    known_tags: &BTreeSet<String>,
    definitions: &BTreeMap<String, AttributeDef>,
) -> Result<ProductVersion> {
    let mut errors = FieldErrors::new();
    let name = match (&draft.name, base) {
        (Some(n), _) => {
            let n = n.trim();
            if n.is_empty() || n.chars().count() > NAME_MAX {
                errors.add("name", format!("must be 1 to {NAME_MAX} characters"));
            }
            n.to_string()
        }
        (None, Some(b)) => b.name.clone(),
        (None, None) => {
            errors.add("name", "is required");
            String::new()
        }
    };
    let description = draft
        .description
        .clone()
        .or_else(|| base.map(|b| b.description.clone()))
        .unwrap_or_default();
    if description.chars().count() > DESCRIPTION_MAX {
        errors.add("description", format!("must be at most {DESCRIPTION_MAX} characters"));
    }
    let visible = draft.visible.or(base.map(|b| b.visible)).unwrap_or(false);
    let tag_ids = draft
        .tag_ids
        .clone()
        .or_else(|| base.map(|b| b.tag_ids.clone()))
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let unique_tags: Vec<String> = tag_ids.iter().filter(|t| seen.insert(*t)).cloned().collect();
    if unique_tags.len() > TAGS_MAX {
        errors.add("tag_ids", format!("at most {TAGS_MAX} tags"));
    }
    let unknown: Vec<&str> = unique_tags
        .iter()
        .filter(|t| !known_tags.contains(*t))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        errors.add("tag_ids", format!("unknown tags: {}", unknown.join(", ")));
    }
    let attributes = match &draft.attributes {
        Some(given) => {
            if given.len() > ATTRIBUTES_MAX {
                errors.add("attributes", format!("at most {ATTRIBUTES_MAX} attributes"));
            }
            let mut values = Vec::new();
            let mut seen = BTreeSet::new();
            for (i, (id, raw)) in given.iter().enumerate() {
                let field = format!("attributes[{i}]");
                // An attribute may carry several values (variants such as
                // sizes); the same value twice is a mistake.
                if !seen.insert((id.clone(), raw.clone())) {
                    errors.add(field, format!("attribute {id} is given the same value twice"));
                    continue;
                }
                let Some(def) = definitions.get(id) else {
                    errors.add(format!("{field}.attribute_id"), format!("unknown attribute: {id}"));
                    continue;
                };
                let value = serde_json::from_str::<serde_json::Value>(raw).unwrap_or(serde_json::Value::Null);
                if let Some(v) = errors.check(&format!("{field}.value"), def.check_value(&value)) {
                    values.push((id.clone(), v));
                }
            }
            values
        }
        None => base.map(|b| b.attributes.clone()).unwrap_or_default(),
    };
    let media_ids = draft
        .media_ids
        .clone()
        .or_else(|| base.map(|b| b.media_ids.clone()))
        .unwrap_or_default();
    if media_ids.len() > MEDIA_MAX {
        errors.add("media_ids", format!("at most {MEDIA_MAX} media"));
    }
    errors.into_result()?;
    Ok(ProductVersion {
        version: 1,
        name,
        description,
        visible,
        tag_ids: unique_tags,
        attributes,
        media_ids,
        updated_at: 0,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ProductCommand {
    /// Idempotent: a retry by the same owner returns the product.
    Create {
        owner: String,
        first: ProductVersion,
    },
    /// A new version by the owner, if the product is at `expected`.
    Change {
        caller: String,
        expected: Option<u32>,
        next: ProductVersion,
    },
    Delete {
        caller: String,
    },
    Get,
    /// The product as it read at version `v` (`current` is that version);
    /// 404 for a version it never had.
    Version(u32),
    /// Records (or with `None` forgets) the base price `store` asks. Not a
    /// new version: prices belong to stores. Idempotent.
    List {
        store: String,
        listing: Option<Listing>,
    },
}

/// What a command does to a product's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductChange {
    Keep,
    Put,
}

/// Decides a command on product `id` (`state`: `None` if never created;
/// `listed`: for `List`, the store's listing now): creating is idempotent
/// for the same owner; only the owner changes or deletes it, a change names
/// the version it replaces (`If-Match`); listings are the stores' prices,
/// not versions. Answers the change, the product after it, and the member
/// records to write.
pub fn decide(
    id: &str,
    state: Option<&Product>,
    command: ProductCommand,
    listed: Option<&Listing>,
    now: Millis,
) -> Result<(ProductChange, Product, Vec<ProductMember>)> {
    let keep = |p: &Product| Ok((ProductChange::Keep, p.clone(), Vec::new()));
    let new_version = |p: Product| {
        let member = ProductMember::Version(p.current.clone());
        Ok((ProductChange::Put, p, vec![member]))
    };
    match (command, state) {
        (ProductCommand::Create { owner, mut first }, None) => {
            first.version = 1;
            first.updated_at = now;
            new_version(Product {
                id: id.to_string(),
                owner_id: owner,
                created_at: now,
                deleted: false,
                current: first,
                listing_count: 0,
                listings: BTreeMap::new(),
            })
        }
        (ProductCommand::Create { owner, .. }, Some(p)) if p.owner_id == owner => keep(p),
        (ProductCommand::Create { .. }, Some(_)) => {
            Err(Error::conflict("product_exists", "a product with this id exists"))
        }
        (_, None) => Err(Error::not_found("product")),
        (ProductCommand::Change { caller, expected, next }, Some(p)) => {
            p.check_owner(&caller)?;
            p.check_version(expected)?;
            new_version(p.with_version(next, now))
        }
        (ProductCommand::Delete { caller }, Some(p)) => {
            p.check_owner(&caller)?;
            let deleted = Product {
                deleted: true,
                ..p.clone()
            };
            Ok((ProductChange::Put, deleted, Vec::new()))
        }
        (ProductCommand::Get | ProductCommand::Version(_), Some(p)) => keep(p),
        (ProductCommand::List { store, listing }, Some(p)) => {
            if listed == listing.as_ref() {
                return keep(p);
            }
            let mut next = p.clone();
            match (listed, &listing) {
                (None, Some(_)) => next.listing_count += 1,
                (Some(_), None) => next.listing_count = next.listing_count.saturating_sub(1),
                _ => {}
            }
            Ok((ProductChange::Put, next, vec![ProductMember::Listing(store, listing)]))
        }
    }
}

#[cfg(test)]
#[path = "products_tests.rs"]
mod tests;
