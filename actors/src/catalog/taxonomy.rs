//! Who may change the shared taxonomy: tags and attribute definitions
//! belong to the seller who created them; only they, or a holder of
//! `catalog:admin`, rename, move, retype or delete one — and once other
//! sellers' products use it, only `catalog:admin`. Pure.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A tag's or attribute's creator, and the other sellers' products using it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxonomyRecord {
    pub owner: String,
    pub foreign_users: BTreeSet<String>,
}

impl TaxonomyRecord {
    pub fn new(owner: String) -> Self {
        Self {
            owner,
            foreign_users: BTreeSet::new(),
        }
    }

    /// Product `product` of seller `by` starts or stops using it; the
    /// creator's own products do not count.
    pub fn used(&self, product: &str, by: &str, uses: bool) -> Self {
        let mut next = self.clone();
        if by != self.owner {
            if uses {
                next.foreign_users.insert(product.to_string());
            } else {
                next.foreign_users.remove(product);
            }
        }
        next
    }
}

/// Who is changing a tag or an attribute.
#[derive(Debug, Clone, Copy)]
pub struct Editor<'a> {
    pub id: &'a str,
    /// Holds `catalog:admin`.
    pub admin: bool,
}

/// The creator may edit their own while no other seller's product uses
/// it (403 `in_use_by_others`); one without a recorded creator (made
/// before creators were kept) only an administrator may (403 `not_owner`).
pub fn may_edit(record: Option<&TaxonomyRecord>, caller: &str) -> Result<()> {
    match record {
        Some(r) if r.owner == caller && r.foreign_users.is_empty() => Ok(()),
        Some(r) if r.owner == caller => Err(Error::forbidden(
            "in_use_by_others",
            "other sellers' products use it: only a catalog administrator (catalog:admin) may change it",
        )),
        _ => Err(Error::forbidden(
            "not_owner",
            "only its creator or a catalog administrator (catalog:admin) may change it",
        )),
    }
}

#[cfg(test)]
#[path = "taxonomy_tests.rs"]
mod tests;
