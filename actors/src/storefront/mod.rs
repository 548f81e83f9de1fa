//! Storefronts: stores, their staff and opening hours, their offers
//! (prices with per-attribute surcharges and validity windows) and the
//! exchange rates prices are converted with.
//!
//! - `model.rs`, `offers.rs` — the rules, pure.
//! - `actor.rs` — the entities (stores, the store quota, exchange rates),
//!   private to this domain.
//! - `service.rs` — [`Storefront`]: the edge's flows, and pricing a line
//!   for carts and orders (with a typed [`service::PriceProblem`]).

mod actor;
pub mod model;
pub mod offers;
pub mod service;

pub use service::Storefront;
