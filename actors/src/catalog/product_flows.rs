//! The product flows: resolving tags and attribute definitions, the owner's
//! quota, versions, and the attribute-use bookkeeping.

use super::Catalog;
use super::actor::{
    AttributeCommand, Attributes, OwnerCommand, ProductCommand, ProductQuota, Products, TagCommand, TagReply,
    TaxonomyOwners,
};
use super::attributes::{AttrValue, AttributeDef};
use super::model::TagView;
use super::products::{self, Product, ProductDraft, ProductVersion, Uses};
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::quota;
use crate::shared::page::{self, Limit};
use std::collections::{BTreeMap, BTreeSet};

/// A product version as the API shows it: tags with their ancestors,
/// attribute values with their definitions.
#[derive(Debug, Clone)]
pub struct ProductView {
    pub id: String,
    pub owner_id: String,
    pub created_at: i64,
    pub version: ProductVersion,
    pub tags: Vec<TagView>,
    pub attributes: Vec<(AttributeDef, AttrValue)>,
    /// The media it names that anyone may see, with their URLs.
    pub media: Vec<super::media::ShownMedia>,
}

/// Who is asking: a user id and their `max_products` quota.
pub struct Seller<'a> {
    pub id: &'a str,
    pub max_products: u64,
}

impl Catalog {
    async fn definitions(&self, ids: impl Iterator<Item = &String>) -> Result<BTreeMap<String, AttributeDef>> {
        let mut found = BTreeMap::new();
        for id in ids.collect::<BTreeSet<_>>() {
            match self.router.ask::<Attributes>(id, AttributeCommand::Get).await {
                Ok(def) => {
                    found.insert(id.clone(), def);
                }
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    async fn tag_views(&self, ids: &[String]) -> Result<Vec<TagView>> {
        expect_reply!(self.tags(TagCommand::Lookup { ids: ids.to_vec() }).await?, TagReply::Found(views) => views)
    }

    async fn validated(
        &self,
        owner: &str,
        draft: &ProductDraft,
        base: Option<&ProductVersion>,
    ) -> Result<ProductVersion> {
        products::check_sizes(draft)?;
        // Media named anew must be public assets the owner may view.
        if let Some(ids) = draft.media_ids.clone().filter(|ids| !ids.is_empty()) {
            let refused = self.media.refusals(owner.to_string(), ids.clone()).await?;
            if !refused.is_empty() {
                let mut errors = crate::error::FieldErrors::new();
                for (i, id) in ids.iter().enumerate() {
                    if let Some(reason) = refused.get(id) {
                        errors.add(format!("media_ids[{i}]"), format!("{id}: {reason}"));
                    }
                }
                errors.into_result()?;
            }
        }
        // The tags the version will carry: the draft's, or those it keeps.
        let tag_ids = draft
            .tag_ids
            .clone()
            .or_else(|| base.map(|b| b.tag_ids.clone()))
            .unwrap_or_default();
        let known: BTreeSet<String> = self.tag_views(&tag_ids).await?.into_iter().map(|t| t.id).collect();
        let attribute_ids: Vec<String> = draft.attributes.iter().flatten().map(|(id, _)| id.clone()).collect();
        let definitions = self.definitions(attribute_ids.iter()).await?;
        products::validate(draft, base, &known, &definitions)
    }

    async fn view(&self, product: &Product, version: &ProductVersion) -> Result<ProductView> {
        let definitions = self.definitions(version.attributes.iter().map(|(id, _)| id)).await?;
        let attributes = version
            .attributes
            .iter()
            .filter_map(|(id, value)| definitions.get(id).map(|d| (d.clone(), value.clone())))
            .collect();
        Ok(ProductView {
            id: product.id.clone(),
            owner_id: product.owner_id.clone(),
            created_at: product.created_at,
            tags: self.tag_views(&version.tag_ids).await?,
            attributes,
            media: match version.media_ids.is_empty() {
                true => Vec::new(),
                false => self.media.shown(version.media_ids.clone()).await?,
            },
            version: version.clone(),
        })
    }

    /// Records which attributes a product starts and stops using.
    /// Tells the attributes and tags a product version stops or starts
    /// using (`before` → `after`), for their in-use rules.
    async fn track_uses(&self, product: &str, by: &str, before: &Uses, after: &Uses) -> Result<()> {
        for (ids, uses) in [
            (after.attributes.difference(&before.attributes), true),
            (before.attributes.difference(&after.attributes), false),
        ] {
            for id in ids {
                let command = AttributeCommand::Use {
                    product: product.to_string(),
                    uses,
                };
                match self.router.ask::<Attributes>(id, command).await {
                    Ok(_) | Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
                self.tell_owner(&format!("attribute:{id}"), product, by, uses).await?;
            }
        }
        for (ids, uses) in [
            (after.tags.difference(&before.tags), true),
            (before.tags.difference(&after.tags), false),
        ] {
            for id in ids {
                self.tell_owner(&format!("tag:{id}"), product, by, uses).await?;
            }
        }
        Ok(())
    }

    async fn tell_owner(&self, key: &str, product: &str, by: &str, uses: bool) -> Result<()> {
        let command = OwnerCommand::Use {
            product: product.to_string(),
            by: by.to_string(),
            uses,
        };
        self.router.ask::<TaxonomyOwners>(key, command).await.map(|_| ())
    }

    pub async fn create_product(&self, seller: Seller<'_>, draft: ProductDraft) -> Result<ProductView> {
        let first = self.validated(seller.id, &draft, None).await?;
        let id = ulid::Ulid::new().to_string();
        let create = ProductCommand::Create {
            owner: seller.id.to_string(),
            first,
        };
        let made = self.router.ask::<Products>(&id, create);
        let product =
            quota::counted::<ProductQuota, _>(&self.router, seller.id, &id, seller.max_products, made).await?;
        self.track_uses(&id, seller.id, &Uses::default(), &Uses::of(product.current()))
            .await?;
        self.view(&product, product.current()).await
    }

    /// The current version, if `viewer` may see it (404 otherwise).
    pub async fn product(&self, id: &str, viewer: Option<&str>) -> Result<ProductView> {
        let product = self.router.ask::<Products>(id, ProductCommand::Get).await?;
        if !product.readable_by(viewer) {
            return Err(Error::not_found("product"));
        }
        self.view(&product, product.current()).await
    }

    /// Any version, for orders to show what was bought, as
    /// [`Product::version_readable_by`] allows (404 otherwise).
    pub async fn product_version(&self, id: &str, version: u32, viewer: Option<&str>) -> Result<ProductView> {
        let product = self.router.ask::<Products>(id, ProductCommand::Get).await?;
        let at = self
            .router
            .ask::<Products>(id, ProductCommand::Version(version))
            .await?;
        let found = at.current();
        if !product.version_readable_by(found, viewer) {
            return Err(Error::not_found("product version"));
        }
        self.view(&product, found).await
    }

    /// A new version. `replace`: fields left out take their defaults (PUT);
    /// otherwise they stay as they are (PATCH).
    pub async fn change_product(
        &self,
        caller: &str,
        id: &str,
        expected: Option<u32>,
        draft: ProductDraft,
        replace: bool,
    ) -> Result<ProductView> {
        let product = self.router.ask::<Products>(id, ProductCommand::Get).await?;
        product.check_owner(caller)?;
        product.check_version(expected)?;
        let before = Uses::of(product.current());
        let next = self
            .validated(
                &product.owner_id,
                &draft,
                if replace { None } else { Some(product.current()) },
            )
            .await?;
        let change = ProductCommand::Change {
            caller: caller.to_string(),
            expected,
            next,
        };
        let changed = self.router.ask::<Products>(id, change).await?;
        self.track_uses(id, caller, &before, &Uses::of(changed.current()))
            .await?;
        self.view(&changed, changed.current()).await
    }

    pub async fn delete_product(&self, caller: &str, id: &str) -> Result<()> {
        let deleted = self
            .router
            .ask::<Products>(
                id,
                ProductCommand::Delete {
                    caller: caller.to_string(),
                },
            )
            .await?;
        self.track_uses(id, caller, &Uses::of(deleted.current()), &Uses::default())
            .await?;
        quota::uncount::<ProductQuota>(&self.router, caller, id).await
    }

    /// The caller's own products, by id (creation order), `limit` at a time.
    pub async fn my_products(
        &self,
        owner: &str,
        cursor: Option<&str>,
        limit: Limit,
    ) -> Result<(Vec<ProductView>, Option<String>)> {
        let after = cursor.map(page::position).transpose()?;
        // One more than a page tells whether more follow.
        let ids = quota::owned_page::<ProductQuota>(&self.router, owner, after.as_deref(), limit.get() + 1).await?;
        let mut items = Vec::new();
        for id in ids.iter().take(limit.get()) {
            let product = self.router.ask::<Products>(id, ProductCommand::Get).await?;
            items.push(self.view(&product, product.current()).await?);
        }
        // The last id shown, when more follow (a limit is never 0).
        let next = ids
            .get(limit.get())
            .and(ids.get(limit.get() - 1))
            .map(|last| page::cursor(last));
        Ok((items, next))
    }
}
