//! Who may do what with an asset, and links that work without a token.
//! Pure.
//!
//! An asset is private unless made public. Its owner may do anything; a
//! grantee what their grant says (`manage` includes `transform`, which
//! includes `view`); when public, anyone — signed in or not — may view.
//! Everyone else is told the asset does not exist (404), never that it is
//! private.
//!
//! A signed link names the asset (and a variant), when it expires and the
//! ACL version it was issued under, with an HMAC-SHA256 of all that under
//! the cluster's link secret: it works without a token until it expires,
//! and any ACL change (the version moves) revokes every link issued before.

use crate::error::{Error, FieldErrors, Result};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;

/// Most grants one asset carries.
pub const MAX_GRANTS: usize = 100;
/// The longest a signed link lives, in seconds (7 days).
pub const MAX_LINK_SECS: i64 = 7 * 24 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    View,
    Transform,
    Manage,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rights {
    pub view: bool,
    pub transform: bool,
    pub manage: bool,
}

impl Rights {
    /// Whether these rights allow `action` (higher rights include lower).
    pub fn allow(self, action: Action) -> bool {
        match action {
            Action::View => self.view || self.transform || self.manage,
            Action::Transform => self.transform || self.manage,
            Action::Manage => self.manage,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    pub public: bool,
    pub grants: BTreeMap<String, Rights>,
    /// Moves with every change; links carry the version they were issued at.
    pub version: u64,
}

impl Acl {
    /// Whether `caller` (`None`: anonymous) may do `action` to an asset
    /// `owner` owns.
    pub fn allows(&self, owner: &str, caller: Option<&str>, action: Action) -> bool {
        if caller == Some(owner) {
            return true;
        }
        if action == Action::View && self.public {
            return true;
        }
        caller
            .and_then(|c| self.grants.get(c))
            .is_some_and(|rights| rights.allow(action))
    }

    /// `caller` replaces the ACL with `public` and `grants`: the owner or a
    /// `manage` grantee only (404 to anyone who may not even view, 403 to
    /// one who may view but not manage); nobody grants to the owner, at
    /// most [`MAX_GRANTS`], each giving at least one right.
    pub fn replaced(&self, owner: &str, caller: &str, public: bool, grants: BTreeMap<String, Rights>) -> Result<Acl> {
        if !self.allows(owner, Some(caller), Action::Manage) {
            return Err(match self.allows(owner, Some(caller), Action::View) {
                true => Error::forbidden("not_manager", "only the owner or a manage grantee may change access"),
                false => Error::not_found("media"),
            });
        }
        let mut errors = FieldErrors::new();
        if grants.len() > MAX_GRANTS {
            errors.add("grants", format!("at most {MAX_GRANTS}"));
        }
        for (user, rights) in &grants {
            if user == owner {
                errors.add(format!("grants[{user}]"), "the owner needs no grant");
            } else if user.trim().is_empty() {
                errors.add("grants", "a grant names a user");
            } else if *rights == Rights::default() {
                errors.add(
                    format!("grants[{user}]"),
                    "grants at least one of view, transform, manage",
                );
            }
        }
        errors.into_result()?;
        if self.public == public && self.grants == grants {
            return Ok(self.clone());
        }
        Ok(Acl {
            public,
            grants,
            version: self.version + 1,
        })
    }
}

/// What a signed link is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link<'a> {
    pub media_id: &'a str,
    /// `None`: the original.
    pub variant: Option<&'a str>,
    /// Unix seconds.
    pub expires: i64,
    pub acl_version: u64,
}

fn mac(secret: &[u8], link: &Link) -> Result<Hmac<Sha256>> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Error::internal("the link secret cannot key an HMAC"))?;
    let variant = link.variant.unwrap_or("");
    mac.update(format!("{}\n{variant}\n{}\n{}", link.media_id, link.expires, link.acl_version).as_bytes());
    Ok(mac)
}

/// The signature of `link` (hex).
pub fn sign(secret: &[u8], link: &Link) -> Result<String> {
    let tag = mac(secret, link)?.finalize().into_bytes();
    Ok(tag.iter().map(|b| format!("{b:02x}")).collect())
}

/// When a link asked to last `expires_in_secs` from `now` (unix seconds)
/// expires: 422 beyond [`MAX_LINK_SECS`] or below one second.
pub fn expiry(now: i64, expires_in_secs: i64) -> Result<i64> {
    if !(1..=MAX_LINK_SECS).contains(&expires_in_secs) {
        return Err(Error::invalid(
            "expires_in_secs",
            format!("must be 1 to {MAX_LINK_SECS} (7 days)"),
        ));
    }
    Ok(now + expires_in_secs)
}

/// Checks a link's `signature` at `now` against the asset's ACL version
/// now: 403 `invalid_link` when expired, revoked (issued under another
/// ACL) or tampered with; compared in constant time.
pub fn verify(secret: &[u8], link: &Link, current_version: u64, signature: &str, now: i64) -> Result<()> {
    let invalid = |why: &str| Error::forbidden("invalid_link", format!("this link {why}"));
    if now >= link.expires {
        return Err(invalid("has expired"));
    }
    if link.acl_version != current_version {
        return Err(invalid("was revoked (the asset's access changed)"));
    }
    let bytes: Option<Vec<u8>> = (signature.len() == 64)
        .then(|| {
            (0..64)
                .step_by(2)
                .map(|i| u8::from_str_radix(&signature[i..i + 2], 16).ok())
                .collect()
        })
        .flatten();
    let bytes = bytes.ok_or_else(|| invalid("is not signed"))?;
    mac(secret, link)?
        .verify_slice(&bytes)
        .map_err(|_| invalid("does not match its signature"))
}

#[cfg(test)]
#[path = "acl_tests.rs"]
mod tests;
