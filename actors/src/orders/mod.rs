//! Orders: placing them (all-or-nothing holds across stock entities, one
//! exchange-rate snapshot, idempotent per `Idempotency-Key`), payment
//! updates, cancellation, expiry, shipments, returns and listings.
//!
//! - `model.rs`, `payment.rs`, `returns.rs` — an order's rules; `placement.rs` — a
//!   request checked into a placement and the order it becomes;
//!   `record.rs` — the order entity's record and every transition of it
//!   (the placement lease, pending steps). All pure.
//! - `actor.rs`, `index.rs` — the order entity and the buyer/store
//!   listings, private to this domain.
//! - `sales.rs` — each store's running sales figures, pure.
//! - `place.rs`, `service.rs` — [`Orders`]: placement and the later flows.

mod actor;
/// Orders for tests, here and in the payments domain.
#[cfg(test)]
pub(crate) mod fixtures;
mod index;
pub(crate) mod legacy;
pub mod model;
pub mod payment;
pub mod place;
pub mod placement;
pub mod record;
pub mod refunds;
pub mod returns;
pub mod sales;
mod sales_book;
pub mod service;

#[cfg(test)]
#[path = "legacy_listing_tests.rs"]
mod legacy_listing_tests;

pub use placement::PlaceRequest;
pub use service::Orders;
