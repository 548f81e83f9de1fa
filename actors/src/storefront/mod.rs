//! Storefronts: stores, their staff and opening hours (offers and prices
//! follow). Rules in `model.rs`, entities in `actor.rs`, flows in
//! `service.rs`.

mod actor;
pub mod model;
pub mod offers;
pub mod service;

pub use service::Storefront;
