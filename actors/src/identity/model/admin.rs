//! Who may administer whom. Pure rules, used by the administration flows:
//!
//! - acting on a user (disabling, enabling, replacing roles, setting
//!   quotas) needs every permission that user holds now, so a weaker
//!   administrator cannot overpower a stronger one;
//! - changing or deleting a role needs its current permissions (and, for a
//!   change, the new ones);
//! - nobody raises their own quotas;
//! - the last full administrator is never disabled or demoted (that one
//!   is decided by the roster: `roster.rs`).

use super::access;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// The caller may act on a user only holding every permission the user
/// holds now (403 `outranked`).
pub fn may_manage(caller: &BTreeSet<String>, target: &BTreeSet<String>) -> Result<()> {
    let missing = access::missing_permissions(caller, target);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "outranked",
            format!("this user holds permissions you do not: {}", missing.join(", ")),
        ))
    }
}

/// Quota overrides `next` for a user whose overrides are `current`: anyone
/// who may manage the user may set them, but nobody raises their own
/// (403 `own_quota`).
pub fn may_set_quotas(own: bool, current: &BTreeMap<String, u64>, next: &BTreeMap<String, u64>) -> Result<()> {
    if !own {
        return Ok(());
    }
    let (before, after) = (access::effective_quotas(current), access::effective_quotas(next));
    let raised: Vec<&str> = after
        .iter()
        .filter(|(name, limit)| before.get(*name).is_some_and(|b| *limit > b))
        .map(|(name, _)| name.as_str())
        .collect();
    if raised.is_empty() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "own_quota",
            format!("nobody raises their own quotas: {}", raised.join(", ")),
        ))
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
