//! The JSON shapes of the API. Requests reject unknown fields so that a typo
//! in a field name is an error rather than a silent no-op.

use actors::identity::model::Address;
use actors::identity::{Profile, RoleView, TokenPair};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 UTC, e.g. `2026-11-24T23:39:28.123Z`.
pub fn rfc3339(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

mod catalog;
mod groups;
mod identity;
mod inventory;
mod media;
mod ops;
mod orders;
mod payments;
mod payouts;
mod storefront;

pub use catalog::*;
pub use groups::*;
pub use identity::*;
pub use inventory::*;
pub use media::*;
pub use ops::*;
pub use orders::*;
pub use payments::*;
pub use payouts::*;
pub use storefront::*;
