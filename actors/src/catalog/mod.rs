//! Catalog: the tag tree, typed attributes, and products with every
//! version kept.
//!
//! - `model.rs` (tags), `attributes.rs`, `products.rs` — the rules, pure.
//! - `actor.rs` — the entities (tag tree, attributes, products, and the
//!   product quota), private to this domain.
//! - `service.rs`, `product_flows.rs` — [`Catalog`]: the edge's flows, and
//!   what other domains may ask (a visible product, listings, the read
//!   model the search index follows).
//! - `media.rs` — the port through which products name media assets.

mod actor;
pub mod attributes;
pub mod media;
pub mod model;
pub mod product_flows;
pub mod products;
pub mod service;
pub mod taxonomy;
#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;

pub use service::Catalog;
