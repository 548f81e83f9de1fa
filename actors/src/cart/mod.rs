//! Carts: one entity per user holding the lines they mean to buy; the
//! service quotes every line at the current price when the cart is shown.

mod actor;
pub mod model;
pub mod service;

pub use service::Carts;
