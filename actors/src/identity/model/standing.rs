//! What an access token still stands on. A token is signed for 15 minutes,
//! but the account can change meanwhile: every authenticated request is
//! checked against the account as it is now (cached for at most
//! [`STANDING_FRESH`]), so a disabled account, a signed-out session, or
//! changed roles, permissions or quotas stop a token at once.

use super::{Millis, User};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// How long the edge may rely on a standing it read.
pub const STANDING_FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// An account's state as far as its tokens are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub disabled: bool,
    /// The sessions (refresh-token families) still signed in.
    pub sessions: BTreeSet<String>,
    pub roles: Vec<String>,
    pub permissions: BTreeSet<String>,
    pub quotas: BTreeMap<String, u64>,
    /// When a grant it rests on ends (a role or quota granted until a
    /// time): a cached standing is read anew from then.
    pub until: Option<Millis>,
}

impl User {
    /// The account's standing now: its `roles`, their `permissions` and
    /// its `quotas` (its own and its groups').
    pub fn standing(
        &self,
        roles: Vec<String>,
        permissions: BTreeSet<String>,
        quotas: BTreeMap<String, u64>,
        now: Millis,
    ) -> Standing {
        Standing {
            disabled: self.is_inactive(),
            sessions: self
                .sessions
                .iter()
                .filter(|s| s.expires_at > now)
                .map(|s| s.family.clone())
                .collect(),
            roles,
            permissions,
            quotas,
            until: None,
        }
    }
}

fn revoked(why: &str) -> Error {
    Error::unauthenticated("token_revoked", format!("this access token no longer holds: {why}"))
}

impl Standing {
    /// Whether a token of session `sid` carrying `roles`, `permissions`
    /// and `quotas` still holds: 403 `account_disabled`, or 401
    /// `token_revoked` (sign in again, or refresh to carry the new roles).
    pub fn admits(
        &self,
        sid: &str,
        roles: &[String],
        permissions: &[String],
        quotas: &BTreeMap<String, u64>,
    ) -> Result<()> {
        if self.disabled {
            return Err(Error::forbidden("account_disabled", "this account is disabled"));
        }
        if !self.sessions.contains(sid) {
            return Err(revoked("its session was signed out"));
        }
        // Tokens carry distinct permissions, so equal counts and inclusion
        // mean the same set (no set built per request).
        let same_permissions =
            permissions.len() == self.permissions.len() && permissions.iter().all(|p| self.permissions.contains(p));
        if roles != self.roles.as_slice() || !same_permissions || *quotas != self.quotas {
            return Err(revoked(
                "the account's roles, permissions or quotas changed; refresh it",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "standing_tests.rs"]
mod tests;
