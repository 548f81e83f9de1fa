//! How a refund of some units is spread over the charges that paid them:
//! never more units of a line than its charges captured minus what every
//! refund not failed (pending ones too) gave back already. Pure.

use super::charge::ChargeLine;
use crate::error::{Error, Result};
use crate::shared::money::Money;
use std::collections::BTreeMap;

/// One charge's captured units of one line, and how many of them refunds
/// (pending or succeeded) took back already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidShare {
    pub charge_id: String,
    pub line_id: String,
    pub captured: u64,
    pub refunded: u64,
    pub unit_price: Money,
}

/// The part of a refund one charge pays back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPart {
    pub charge_id: String,
    pub lines: Vec<ChargeLine>,
    pub amount: Money,
}

/// Spreads a refund of `asked` over `paid` (in its order: the earliest
/// charges first); 409 `refund_exceeds_captured` if any line asks for more
/// than is left to refund.
pub fn allocate(asked: &[ChargeLine], paid: &[PaidShare]) -> Result<Vec<RefundPart>> {
    let mut wanted: BTreeMap<&str, u64> = BTreeMap::new();
    for l in asked {
        let entry = wanted.entry(l.line_id.as_str()).or_default();
        *entry = entry.saturating_add(l.quantity);
    }
    let mut parts: BTreeMap<&str, (Vec<ChargeLine>, Option<Money>)> = BTreeMap::new();
    let mut short = Vec::new();
    for (line_id, quantity) in &wanted {
        let mut left = *quantity;
        for share in paid.iter().filter(|s| s.line_id == *line_id) {
            let take = left.min(share.captured.saturating_sub(share.refunded));
            if take == 0 {
                continue;
            }
            left -= take;
            let part = parts.entry(share.charge_id.as_str()).or_insert((Vec::new(), None));
            part.0.push(ChargeLine {
                line_id: line_id.to_string(),
                quantity: take,
            });
            let amount = share.unit_price.times(take)?;
            part.1 = Some(match part.1 {
                Some(sum) => sum.checked_add(amount)?,
                None => amount,
            });
        }
        if left > 0 {
            short.push(format!("{line_id} ({} left to refund)", quantity - left));
        }
    }
    if !short.is_empty() {
        return Err(Error::conflict(
            "refund_exceeds_captured",
            format!("more than was captured and not yet refunded: {}", short.join(", ")),
        ));
    }
    let ordered = paid
        .iter()
        .map(|s| s.charge_id.as_str())
        .fold(Vec::new(), |mut ids, id| {
            if !ids.contains(&id) {
                ids.push(id);
            }
            ids
        });
    Ok(ordered
        .into_iter()
        .filter_map(|id| {
            let (lines, amount) = parts.remove(id)?;
            Some(RefundPart {
                charge_id: id.to_string(),
                lines,
                amount: amount?,
            })
        })
        .collect())
}

#[cfg(test)]
#[path = "refund_tests.rs"]
mod tests;
