//! The shop's actors: the entity runtime and the business domains.
//!
//! A tour:
//! - [`runtime`] — addressing, shard hosts, activation and passivation,
//!   storage with versioned records, group commit, alarms, node services
//!   and the [`runtime::Router`] every request goes through. Its guarantees
//!   are written at the top of it.
//! - [`domains`] — every domain declared once: its entities and service.
//! - The domains, each with the same rooms (`model.rs` pure rules,
//!   `actor.rs` thin entities private to the domain, `service.rs` what the
//!   edge and other domains call): [`identity`] (accounts, tokens, roles,
//!   quotas), [`catalog`] (tags, attributes, products), [`search`],
//!   [`storefront`] (stores, offers, exchange rates), [`inventory`] (stock
//!   and holds), [`cart`], [`orders`], [`payments`] and [`media`].
//! - [`shared`] — shapes that belong to no domain: money, contacts and
//!   addresses, order lines and their bounds, pages.
//! - [`quota`] — things a user owns counted against a quota.
//! - [`ports`] — ports shared by every domain (the clock).
//! - [`error`] — the one error type of the platform.
//! - [`faults`] — pause points for crash tests.

pub mod cart;
pub mod catalog;
pub mod domains;
pub mod error;
pub mod faults;
pub mod identity;
pub mod inventory;
pub mod media;
pub mod orders;
pub mod payments;
pub mod ports;
pub mod quota;
pub mod runtime;
pub mod search;
pub mod shared;
pub mod storefront;

pub use error::{Error, Result};
