//! Who may change the shared taxonomy: tags and attribute definitions
//! belong to the seller who created them; only they, or a holder of
//! `catalog:admin`, rename, move, retype or delete one. Pure.

use crate::error::{Error, Result};

/// Who is changing a tag or an attribute.
#[derive(Debug, Clone, Copy)]
pub struct Editor<'a> {
    pub id: &'a str,
    /// Holds `catalog:admin`.
    pub admin: bool,
}

/// The creator may edit their own; one without a recorded creator (made
/// before creators were kept) only an administrator may.
pub fn may_edit(owner: Option<&str>, caller: &str) -> Result<()> {
    if owner == Some(caller) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "not_owner",
            "only its creator or a catalog administrator (catalog:admin) may change it",
        ))
    }
}

#[cfg(test)]
#[path = "taxonomy_tests.rs"]
mod tests;
