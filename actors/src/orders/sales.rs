//! Each store's sales figures, kept running by the orders themselves, so
//! that reading a store's dashboard costs the same for ten orders and a
//! million. Pure.
//!
//! Every transition of an order leaves, for each store whose part of it
//! changed, a step carrying that part's figure now (its status, units and
//! revenue): [`Order::store_figure`]. The store's book keeps each order's
//! last figure (a member record) and the totals per status; applying a
//! figure replaces the order's previous one, so applying it again changes
//! nothing. An order keeps at most one such step per store pending (a newer
//! one replaces it), so an older figure is never applied after a newer.

use super::model::{Order, OrderStatus, status_of, sum};
use crate::error::{Error, Result};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

/// One store's part of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreFigure {
    pub status: OrderStatus,
    pub units: u64,
    /// In the store's currency.
    pub revenue: String,
}

/// Orders, units and revenue of one status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub orders: u64,
    pub units: u64,
    /// An exact decimal in the store's currency.
    pub revenue: String,
}

/// A store's running figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesBook {
    /// Orders placed before the book existed have been counted in.
    pub seeded: bool,
    pub by_status: BTreeMap<OrderStatus, Totals>,
}

impl Order {
    /// Store `store`'s part of this order now (`None` if it has no lines).
    pub fn store_figure(&self, store: &str) -> Result<Option<StoreFigure>> {
        let lines: Vec<_> = self.lines.iter().filter(|l| l.store_id == store).collect();
        let Some(first) = lines.first() else {
            return Ok(None);
        };
        Ok(Some(StoreFigure {
            status: status_of(lines.iter().copied(), self.cancelled),
            units: lines.iter().map(|l| l.quantity).sum(),
            revenue: sum(lines.iter().map(|l| l.store_line_total.as_str()), &first.store_currency)?,
        }))
    }
}

fn amount(text: &str) -> Result<Decimal> {
    if text.is_empty() {
        return Ok(Decimal::ZERO);
    }
    Decimal::from_str(text).map_err(|_| Error::internal(format!("a stored revenue does not read: {text:?}")))
}

impl Totals {
    fn with(&self, figure: &StoreFigure, sign: i64) -> Result<Totals> {
        let revenue = amount(&self.revenue)? + Decimal::from(sign) * amount(&figure.revenue)?;
        let step = |n: u64, by: u64| {
            if sign > 0 {
                n.saturating_add(by)
            } else {
                n.saturating_sub(by)
            }
        };
        Ok(Totals {
            orders: step(self.orders, 1),
            units: step(self.units, figure.units),
            revenue: revenue.normalize().to_string(),
        })
    }
}

impl SalesBook {
    /// The book after an order's figure changed from `old` to `new`.
    pub fn apply(&self, old: Option<&StoreFigure>, new: Option<&StoreFigure>) -> Result<SalesBook> {
        let mut next = self.clone();
        for (figure, sign) in [(old, -1), (new, 1)] {
            if let Some(figure) = figure {
                let totals = next.by_status.entry(figure.status).or_default();
                *totals = totals.with(figure, sign)?;
                if totals.orders == 0 {
                    next.by_status.remove(&figure.status);
                }
            }
        }
        Ok(next)
    }
}

#[cfg(test)]
#[path = "sales_tests.rs"]
mod tests;
