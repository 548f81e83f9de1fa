//! Order lines as buyers send them, and the bounds on lines and quantities
//! that keep every total far from overflowing (see [`super::money`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many units on one line (a cart line or an order line).
pub const QUANTITY_MAX: u32 = 10_000;
/// At most this many lines in one order.
pub const ORDER_LINES_MAX: usize = 100;
/// At most this many lines in one cart.
pub const CART_LINES_MAX: usize = 50;

/// One line to price: a product of a store, the chosen attribute values
/// (`attribute_id → value text`) and a quantity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineSpec {
    pub store_id: String,
    pub product_id: String,
    pub attributes: BTreeMap<String, String>,
    pub quantity: u32,
}

/// A line's quantity: 1 to [`QUANTITY_MAX`].
pub fn quantity(quantity: u32) -> Result<u32, String> {
    if (1..=QUANTITY_MAX).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(format!("must be 1 to {QUANTITY_MAX}"))
    }
}
