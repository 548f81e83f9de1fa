//! What payments do to an order: a charge's update (units paid, held or
//! captured, and unpaid again when an authorization is voided) and the
//! refunds that gave money back. Pure, like the rest of the order model.

use super::model::{ChargeUpdate, LineStatus, Order, PaymentOutcome, StockStep};
use crate::ports::Millis;
use std::collections::BTreeMap;

impl Order {
    /// Units of `line_id` whose money was given back.
    pub fn refunded(&self, line_id: &str) -> u64 {
        self.refunds.values().filter_map(|lines| lines.get(line_id)).sum()
    }

    /// A refund succeeded for `units` of some lines. Idempotent per refund:
    /// `None` when it was recorded already (or names no line of this order).
    pub fn refund_recorded(&self, refund_id: &str, units: &BTreeMap<String, u64>, now: Millis) -> Option<Self> {
        if self.refunds.contains_key(refund_id) {
            return None;
        }
        let known: BTreeMap<String, u64> = units
            .iter()
            .filter(|(line_id, units)| **units > 0 && self.line(line_id).is_some())
            .map(|(l, u)| (l.clone(), *u))
            .collect();
        if known.is_empty() {
            return None;
        }
        let mut next = self.clone();
        next.refunds.insert(refund_id.to_string(), known);
        next.updated_at = now;
        Some(next)
    }

    /// Applies a charge's update (cumulative units per line). Idempotent
    /// per charge: an update no newer than the last one applied changes
    /// nothing. A line fully paid sells its hold.
    pub fn pay(&self, charge_id: &str, update: ChargeUpdate, now: Millis) -> (Self, Vec<StockStep>, PaymentOutcome) {
        let mut outcome = PaymentOutcome::default();
        if self
            .payments
            .get(charge_id)
            .is_some_and(|c| c.version >= update.version)
        {
            outcome.stale = true;
            return (self.clone(), Vec::new(), outcome);
        }
        let (mut next, mut steps) = self.expire(now);
        let previous = next.payments.get(charge_id).cloned();
        let mut applied = BTreeMap::new();
        for (line_id, &units) in &update.paid {
            let before = previous
                .as_ref()
                .and_then(|c| c.paid.get(line_id))
                .copied()
                .unwrap_or(0);
            let refuse = |why: &str| (line_id.clone(), why.to_string());
            let Some(line) = next.line_mut(line_id) else {
                outcome.refused.push(refuse("unknown_line"));
                continue;
            };
            // Only an authorization never captured is unpaid again (voided).
            let voidable = !update.captured && !previous.as_ref().is_some_and(|p| p.captured);
            if units < before {
                let removed = before - units;
                match line.status {
                    _ if !voidable => {
                        outcome.refused.push(refuse("paid_units_cannot_decrease"));
                        applied.insert(line_id.clone(), before);
                        continue;
                    }
                    LineStatus::Held | LineStatus::Cancelled => line.paid = line.paid.saturating_sub(removed),
                    LineStatus::Paid => {
                        line.paid = line.paid.saturating_sub(removed);
                        // The hold was sold when paid: the units go back.
                        steps.push(StockStep::Restock {
                            store_id: line.store_id.clone(),
                            product_id: line.product_id.clone(),
                            return_line: format!("{}:unpaid/{charge_id}/{}/{}", self.id, line.line_id, update.version),
                            quantity: removed,
                        });
                        if line.paid == 0 {
                            line.status = LineStatus::Expired;
                        }
                    }
                    _ => {
                        outcome.refused.push(refuse("paid_units_cannot_decrease"));
                        applied.insert(line_id.clone(), before);
                        continue;
                    }
                }
                applied.insert(line_id.clone(), units);
                outcome.accepted.push(line_id.clone());
                continue;
            }
            let added = units - before;
            if added > 0 && line.status != LineStatus::Held {
                outcome
                    .refused
                    .push(refuse(&format!("line is {}", line.status.as_str())));
                applied.insert(line_id.clone(), before);
                continue;
            }
            if line.paid + added > line.quantity {
                outcome.refused.push(refuse("more_than_ordered"));
                applied.insert(line_id.clone(), before);
                continue;
            }
            line.paid += added;
            if line.paid == line.quantity && line.status == LineStatus::Held {
                line.status = LineStatus::Paid;
                steps.push(Self::settle(line, line.quantity));
            }
            applied.insert(line_id.clone(), units);
            outcome.accepted.push(line_id.clone());
        }
        next.payments.insert(
            charge_id.to_string(),
            ChargeUpdate {
                version: update.version,
                paid: applied,
                captured: update.captured,
            },
        );
        next.updated_at = now;
        (next, steps, outcome)
    }
}
