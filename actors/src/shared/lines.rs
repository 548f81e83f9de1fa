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

/// The same choice (store, product, attribute values) sent on several lines
/// is one line of their total quantity: each merged line with the position
/// of its first occurrence. Quantities add up saturating, so an absurd sum
/// is still refused by [`quantity`].
pub fn merged(lines: &[LineSpec]) -> Vec<(usize, LineSpec)> {
    let mut out: Vec<(usize, LineSpec)> = Vec::new();
    let mut at: std::collections::HashMap<(&str, &str, &BTreeMap<String, String>), usize> =
        std::collections::HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let choice = (line.store_id.as_str(), line.product_id.as_str(), &line.attributes);
        match at.get(&choice) {
            Some(&k) => out[k].1.quantity = out[k].1.quantity.saturating_add(line.quantity),
            None => {
                at.insert(choice, out.len());
                out.push((i, line.clone()));
            }
        }
    }
    out
}

/// A line of store `s1` for tests: `product`, optionally a `size`.
#[cfg(test)]
pub(crate) fn test_line(product: &str, size: Option<&str>, quantity: u32) -> LineSpec {
    LineSpec {
        store_id: "s1".into(),
        product_id: product.into(),
        attributes: size
            .map(|s| BTreeMap::from([("size".to_string(), s.to_string())]))
            .unwrap_or_default(),
        quantity,
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;
