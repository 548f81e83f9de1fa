//! A cart's rules. Pure: callers pass prices and the time.
//!
//! A line is one product of one store with chosen attribute values; setting
//! the same product, store and values again changes that line's quantity.
//! The unit price seen when the line was last set is kept, so showing the
//! cart can say when the price has moved since.

use crate::error::{Error, Result};
use crate::ports::Millis;
use crate::shared::lines::{CART_LINES_MAX as MAX_LINES, LineSpec, QUANTITY_MAX};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub line_id: String,
    pub spec: LineSpec,
    /// Unit price (store currency) when the line was last set.
    pub unit_price: String,
    pub currency: String,
    pub set_at: Millis,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
}

/// The id of the line for a product of a store with these attribute values:
/// the same choice is always the same line.
pub fn line_id(spec: &LineSpec) -> String {
    let mut text = format!("{}\0{}", spec.store_id, spec.product_id);
    for (attribute, value) in &spec.attributes {
        text.push_str(&format!("\0{attribute}\0{value}"));
    }
    format!("ln_{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

pub fn check_quantity(quantity: u32) -> Result<()> {
    if quantity > QUANTITY_MAX {
        return Err(Error::invalid("quantity", format!("must be 0 to {QUANTITY_MAX}")));
    }
    Ok(())
}

impl Cart {
    /// Sets a line's quantity at the given unit price; 0 removes the line.
    pub fn set(&self, spec: LineSpec, unit_price: &str, currency: &str, now: Millis) -> Result<Self> {
        check_quantity(spec.quantity)?;
        let id = line_id(&spec);
        let mut next = self.clone();
        let at = next.lines.iter().position(|l| l.line_id == id);
        match (at, spec.quantity) {
            (Some(i), 0) => {
                next.lines.remove(i);
            }
            (None, 0) => {}
            (at, _) => {
                let line = CartLine {
                    line_id: id,
                    spec,
                    unit_price: unit_price.to_string(),
                    currency: currency.to_string(),
                    set_at: now,
                };
                match at {
                    Some(i) => next.lines[i] = line,
                    None if next.lines.len() >= MAX_LINES => {
                        return Err(Error::invalid(
                            "lines",
                            format!("a cart holds at most {MAX_LINES} lines"),
                        ));
                    }
                    None => next.lines.push(line),
                }
            }
        }
        Ok(next)
    }

    pub fn remove(&self, line_id: &str) -> Result<Self> {
        if !self.lines.iter().any(|l| l.line_id == line_id) {
            return Err(Error::not_found("cart line"));
        }
        Ok(self.without(&[line_id.to_string()]))
    }

    /// The cart without these lines (they were ordered).
    pub fn without(&self, line_ids: &[String]) -> Self {
        Self {
            lines: self
                .lines
                .iter()
                .filter(|l| !line_ids.contains(&l.line_id))
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
