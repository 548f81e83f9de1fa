//! Carts: one entity per user holding the lines they mean to buy; the
//! service quotes every line at the current price when the cart is shown.
//!
//! - `model.rs` — the cart's rules (lines, quantities, the price last seen).
//! - `actor.rs` — the cart entity, private to this domain.
//! - `service.rs` — [`Carts`]: what the edge and orders ask of carts.

mod actor;
pub mod model;
pub mod service;

pub use service::Carts;
