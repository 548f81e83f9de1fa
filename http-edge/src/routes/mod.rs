pub mod admin;
pub mod catalog;
pub mod fx;
pub mod identity;
pub mod offers;
pub mod ops;
pub mod products;
pub mod stores;
