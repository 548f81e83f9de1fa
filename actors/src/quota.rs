//! Things a user owns, counted against one of their quotas (`max_products`,
//! `max_stores`). Kept by one entity per owner, so the count is exact.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    pub ids: BTreeSet<String>,
}

impl Owned {
    /// Counts `id` against `limit` of the quota named `quota`; idempotent for
    /// an id already counted.
    pub fn with(&self, id: &str, limit: u64, quota: &str) -> Result<Self> {
        if self.ids.contains(id) {
            return Ok(self.clone());
        }
        if self.ids.len() as u64 >= limit {
            return Err(Error::forbidden(
                "quota_exceeded",
                format!("quota {quota} reached: limit {limit}, usage {}", self.ids.len()),
            ));
        }
        let mut next = self.clone();
        next.ids.insert(id.to_string());
        Ok(next)
    }

    pub fn without(&self, id: &str) -> Self {
        let mut next = self.clone();
        next.ids.remove(id);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thing_counts_once_against_its_quota() {
        let owned = Owned::default().with("a", 2, "max_products").unwrap();
        let owned = owned
            .with("a", 2, "max_products")
            .unwrap()
            .with("b", 2, "max_products")
            .unwrap();
        let err = owned.with("c", 2, "max_products").unwrap_err();
        assert_eq!(err.code(), "quota_exceeded");
        assert!(err.to_string().contains("max_products reached: limit 2, usage 2"));
        assert!(owned.without("a").with("c", 2, "max_products").is_ok());
    }
}
