//! Stock per store × product: batches with expiry, holds for order lines
//! (sold, returned or expired, each once), restocked returns and the
//! store's policy per product. The API calls a hold a "reservation".
//!
//! - `model.rs` — the rules: batches, holds, policies, and what one stock
//!   entity decides when asked to hold.
//! - `actor.rs` — the stock entity (one per store × product), private to
//!   this domain.
//! - `service.rs` — what staff and other domains ask of stock.

mod actor;
pub mod model;
pub mod service;

pub use service::Inventory;
