//! The shop's actors: the entity runtime and the business domains.
//!
//! A tour:
//! - [`runtime`] — addressing, shard hosts, activation and passivation,
//!   storage with versioned records, group commit, and the [`runtime::Router`]
//!   every request goes through. Its guarantees are written at the top of it.
//! - [`identity`] — accounts, sign-in, tokens, roles, permissions and quotas.
//!   Its rules live in `identity/model.rs`; `actor.rs` holds the entities,
//!   `ports.rs` the mailer and password hasher, `keys.rs` the JWT key ring and
//!   `service.rs` the flows that span several entities.
//! - [`catalog`] — the tag tree (products, attributes and search follow).
//! - [`storefront`] — stores, their staff and opening hours.
//! - [`money`] — decimal amounts, currencies, exchange rates, rounding once.
//! - [`ports`] — ports shared by every domain (the clock).
//! - [`error`] — the one error type of the platform.

pub mod cart;
pub mod catalog;
pub mod domains;
pub mod error;
pub mod identity;
pub mod inventory;
pub mod orders;
pub mod ports;
pub mod quota;
pub mod runtime;
pub mod search;
pub mod shared;
pub mod storefront;

pub use error::{Error, Result};
