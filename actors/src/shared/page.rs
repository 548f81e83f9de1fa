//! Pages of a listing: a size that cannot be 0, and one cursor format for
//! every listing (the URL-safe base64 of a position the listing defines),
//! opaque to clients.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::num::NonZeroUsize;

/// How many items one page holds: 1 to [`Limit::MAX`], never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Limit(NonZeroUsize);

impl Limit {
    pub const MAX: Limit = Limit(NonZeroUsize::MIN.saturating_add(99));
    pub const DEFAULT: Limit = Limit(NonZeroUsize::MIN.saturating_add(19));

    /// A page size a client asked for.
    pub fn new(n: usize) -> std::result::Result<Self, String> {
        match NonZeroUsize::new(n) {
            Some(n) if n <= Self::MAX.0 => Ok(Self(n)),
            _ => Err(format!("must be 1 to {}", Self::MAX.0)),
        }
    }

    pub fn get(self) -> usize {
        self.0.get()
    }
}

/// The cursor a client gets for `position`.
pub fn cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// The position a client's cursor names; a cursor this server did not
/// issue is 400 `invalid_cursor`.
pub fn position(cursor: &str) -> Result<String> {
    let invalid = || Error::bad_request("invalid_cursor", "the cursor is not one this server issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

/// A position that must parse as `T` (a number, say).
pub fn parsed_position<T: std::str::FromStr>(cursor: &str) -> Result<T> {
    position(cursor)?
        .parse()
        .map_err(|_| Error::bad_request("invalid_cursor", "the cursor is not one this server issued"))
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
