//! Orders: placing them (all-or-nothing holds across stock entities, one
//! exchange-rate snapshot, idempotent per `Idempotency-Key`), payment
//! updates, cancellation, expiry, shipments, returns and listings.

mod actor;
#[cfg(test)]
mod fixtures;
mod index;
pub mod model;
pub mod place;
pub mod placement;
pub mod record;
pub mod returns;
pub mod service;

pub use placement::PlaceRequest;
pub use service::Orders;
