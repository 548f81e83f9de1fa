//! Stock per store × product: batches, reservations, policies (issue 5:
//! stock and policies so far; reservations by orders come next).

pub mod actor;
pub mod model;
pub mod service;

pub use service::Inventory;
