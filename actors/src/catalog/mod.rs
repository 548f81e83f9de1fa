//! Catalog: the tag tree today; products with typed attributes and search
//! follow. Rules in `model.rs`, the entity in `actor.rs`, flows in
//! `service.rs`.

mod actor;
pub mod attributes;
pub mod model;
pub mod product_flows;
pub mod products;
pub mod service;
#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;

pub use service::Catalog;
