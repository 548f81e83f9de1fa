pub mod admin;
pub mod identity;
pub mod ops;
