//! How a refund of some units is spread over the charges that paid them:
//! never more units of a line than its charges captured minus what every
//! refund not failed (pending ones too) gave back already. Pure.

use super::charge::ChargeLine;
use super::ledger::RefundClaim;
use super::ports::{ProcessorRefund, RefundStatus};
use crate::error::{Error, Result};
use crate::ports::Millis;
use crate::shared::money::Money;
use serde::{Deserialize, Serialize};
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

/// One charge's part of a refund, as sent to the processor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartState {
    pub charge_id: String,
    pub lines: Vec<ChargeLine>,
    /// In the order's currency.
    pub amount: String,
    /// Known once the charge is read: its processor and payment.
    pub processor: Option<String>,
    pub payment_id: Option<String>,
    pub refund: Option<ProcessorRefund>,
    /// The processor refused it for good.
    pub refused: Option<String>,
}

impl PartState {
    fn status(&self) -> RefundStatus {
        if self.refused.is_some() {
            return RefundStatus::Failed;
        }
        self.refund.as_ref().map_or(RefundStatus::Pending, |r| r.status)
    }

    /// Still waiting for the processor.
    pub fn open(&self) -> bool {
        self.status() == RefundStatus::Pending
    }

    /// The idempotency key of this part at the processor.
    pub fn key(&self, refund_id: &str) -> String {
        format!("refund:{refund_id}:{}", self.charge_id)
    }
}

/// A refund entity's record: its claim and each part's progress. Pure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    pub order_id: String,
    pub claim: RefundClaim,
    pub parts: Vec<PartState>,
    /// The ledger knows how it ended (only for a failure or a success).
    pub told_ledger: Option<RefundStatus>,
    /// The order knows the units' money went back.
    pub told_order: bool,
    pub retries: u32,
    pub next_check: Option<Millis>,
    pub updated_at: Millis,
}

impl RefundRecord {
    pub fn new(order_id: &str, claim: RefundClaim, now: Millis) -> Self {
        let parts = claim
            .parts
            .iter()
            .map(|(charge_id, lines, amount)| PartState {
                charge_id: charge_id.clone(),
                lines: lines.clone(),
                amount: amount.clone(),
                processor: None,
                payment_id: None,
                refund: None,
                refused: None,
            })
            .collect();
        Self {
            order_id: order_id.to_string(),
            claim,
            parts,
            told_ledger: None,
            told_order: false,
            retries: 0,
            next_check: Some(now),
            updated_at: now,
        }
    }

    /// Pending while any part is still out (it may yet give the money
    /// back); then failed if any part failed (what the others returned
    /// stays returned), else succeeded.
    pub fn status(&self) -> RefundStatus {
        let statuses: Vec<RefundStatus> = self.parts.iter().map(PartState::status).collect();
        if statuses.contains(&RefundStatus::Pending) {
            RefundStatus::Pending
        } else if statuses.contains(&RefundStatus::Failed) {
            RefundStatus::Failed
        } else {
            RefundStatus::Succeeded
        }
    }

    pub fn must_tell_ledger(&self) -> bool {
        self.told_ledger != Some(self.status())
    }

    pub fn must_tell_order(&self) -> bool {
        self.status() == RefundStatus::Succeeded && !self.told_order
    }

    pub fn has_steps(&self) -> bool {
        self.parts.iter().any(PartState::open) || self.must_tell_ledger() || self.must_tell_order()
    }

    /// Units of each line it gives back.
    pub fn units(&self) -> BTreeMap<String, u64> {
        let mut units = BTreeMap::new();
        for line in &self.claim.lines {
            *units.entry(line.line_id.clone()).or_default() += line.quantity;
        }
        units
    }

    /// The next wake-up: soon while work is left (backing off), none after.
    pub fn scheduled(mut self, now: Millis) -> Self {
        self.next_check = self.has_steps().then(|| {
            let doublings = self.retries.saturating_sub(1).min(10);
            now + super::record::RETRY_FIRST
                .saturating_mul(1 << doublings)
                .min(super::record::RETRY_MAX)
        });
        self
    }
}

#[cfg(test)]
#[path = "refund_tests.rs"]
mod tests;
