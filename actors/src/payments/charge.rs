//! What a charge may take: the units of an order it pays for, and their
//! amount. A unit is never in two live charges and never charged once
//! paid; a line whose reservation is about to end, or an order that no
//! longer awaits payment, is not charged. Pure.

use crate::error::{Error, Result};
use crate::orders::model::{LineStatus, Order};
use crate::ports::Millis;
use crate::shared::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A line's reservation must last at least this much longer to be charged.
pub const RESERVATION_MARGIN: Millis = 60_000;

/// Units of one order line in a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeLine {
    pub line_id: String,
    pub quantity: u64,
}

/// The units a charge takes and their amount in the order's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chargeable {
    pub lines: Vec<ChargeLine>,
    pub amount: Money,
}

/// What a charge of `asked` (every unit not yet paid nor in a live
/// charge, if `None`) would take from `order` at `now`, given the units of
/// each line that `live` charges hold already.
pub fn chargeable(
    order: &Order,
    asked: Option<&[ChargeLine]>,
    live: &BTreeMap<String, u64>,
    now: Millis,
) -> Result<Chargeable> {
    if order.cancelled {
        return Err(Error::conflict("order_cancelled", "the order was cancelled"));
    }
    let free = |line_id: &str| -> Option<u64> {
        let line = order.line(line_id)?;
        let taken = line.paid.saturating_add(live.get(line_id).copied().unwrap_or(0));
        Some(match line.status {
            LineStatus::Held => line.quantity.saturating_sub(taken),
            _ => 0,
        })
    };
    let wanted: Vec<ChargeLine> = match asked {
        Some(lines) => {
            let mut fields = BTreeMap::new();
            for (i, l) in lines.iter().enumerate() {
                if order.line(&l.line_id).is_none() {
                    fields.insert(format!("lines[{i}].line_id"), "is not a line of this order".to_string());
                } else if l.quantity == 0 {
                    fields.insert(format!("lines[{i}].quantity"), "must be at least 1".to_string());
                }
            }
            if !fields.is_empty() {
                return Err(Error::Validation { fields });
            }
            lines.to_vec()
        }
        None => order
            .lines
            .iter()
            .filter_map(|l| {
                let quantity = free(&l.line_id)?;
                (quantity > 0).then(|| ChargeLine {
                    line_id: l.line_id.clone(),
                    quantity,
                })
            })
            .collect(),
    };
    if wanted.is_empty() {
        let expired = order.lines.iter().all(|l| l.status == LineStatus::Expired);
        return Err(if expired {
            Error::conflict("order_expired", "the order's reservations ended")
        } else {
            Error::conflict("already_charged", "every unit is paid or in a charge already")
        });
    }
    // The same line asked twice counts once, summed.
    let mut merged: BTreeMap<&str, u64> = BTreeMap::new();
    for l in &wanted {
        let entry = merged.entry(l.line_id.as_str()).or_default();
        *entry = entry.saturating_add(l.quantity);
    }
    let mut charged = Vec::new();
    let mut ending = Vec::new();
    for (line_id, quantity) in &merged {
        let Some(line) = order.line(line_id) else { continue };
        let available = free(line_id).unwrap_or(0);
        if *quantity > available {
            charged.push(format!("{line_id} ({available} chargeable)"));
        } else if line.held_until < now + RESERVATION_MARGIN {
            ending.push(line_id.to_string());
        }
    }
    if !charged.is_empty() {
        return Err(Error::conflict(
            "already_charged",
            format!("units paid or in a charge already: {}", charged.join(", ")),
        ));
    }
    if !ending.is_empty() {
        return Err(Error::conflict(
            "reservation_ending",
            format!("reservations end within a minute: {}", ending.join(", ")),
        ));
    }
    let currency = Currency::stored(&order.currency)?;
    let mut amount = Money::zero(currency);
    for (line_id, quantity) in &merged {
        let Some(line) = order.line(line_id) else { continue };
        let unit = Money::stored(&line.unit_price, &order.currency)?;
        amount = amount.checked_add(unit.times(*quantity)?)?;
    }
    Ok(Chargeable {
        lines: merged
            .into_iter()
            .map(|(line_id, quantity)| ChargeLine {
                line_id: line_id.to_string(),
                quantity,
            })
            .collect(),
        amount,
    })
}

#[cfg(test)]
#[path = "charge_tests.rs"]
mod tests;
