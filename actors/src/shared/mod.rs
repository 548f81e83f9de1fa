//! Shapes that belong to no domain and mean the same in every one: money
//! and currencies, contacts and addresses, order lines and their bounds,
//! pages of a listing.

pub mod contact;
pub mod lines;
pub mod money;
pub mod page;
