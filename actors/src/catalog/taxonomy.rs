//! Who may change the shared taxonomy: tags and attribute definitions
//! belong to the seller who created them; only they, or a holder of
//! `catalog:admin`, rename, move, retype or delete one — and once other
//! sellers' products use it, only `catalog:admin`. Pure.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A tag's or attribute's creator, and how many other sellers' products
/// use it (each is a member record of its entity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxonomyRecord {
    pub owner: String,
    pub foreign_uses: u64,
}

/// The record as schema version 1 stored it: every product in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaxonomyRecordV1 {
    pub owner: String,
    pub foreign_users: BTreeSet<String>,
}

impl TaxonomyRecord {
    pub fn new(owner: String) -> Self {
        Self { owner, foreign_uses: 0 }
    }

    /// A product of seller `by`, counted already (`member`) or not, starts
    /// or stops using it: the record after, or `None` if unchanged; the
    /// creator's own products do not count.
    pub fn used(&self, by: &str, member: bool, uses: bool) -> Option<Self> {
        if by == self.owner {
            return None;
        }
        let starts = super::attributes::use_change(member, uses)?;
        let mut next = self.clone();
        next.foreign_uses = if starts {
            next.foreign_uses + 1
        } else {
            next.foreign_uses.saturating_sub(1)
        };
        Some(next)
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
        Some(r) if r.owner == caller && r.foreign_uses == 0 => Ok(()),
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
