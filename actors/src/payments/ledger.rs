//! An order's payment ledger: the one writer that decides which units a
//! new charge may take and how a refund is spread, so a unit is never in
//! two live charges and refunds never exceed what was captured, however
//! many requests race. It keeps each charge's claim with the charge's whole
//! intent, so a charge whose creation was cut short (a crash between the
//! claim and the charge) is created later from here, never lost and never
//! left holding units. Pure.

use super::charge::{ChargeLine, chargeable};
use super::model::ChargeStatus;
use super::record::Intent;
use super::refund::{PaidShare, RefundPart, allocate};
use crate::error::{Error, FieldErrors, Result};
use crate::orders::model::Order;
use crate::orders::record::key_reused;
use crate::ports::Millis;
use crate::shared::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A claim not yet confirmed by its charge is created again after this.
pub const DELIVERY_GRACE: Millis = 30_000;

/// A charge's claim on units of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub intent: Intent,
    pub request_hash: u64,
    /// What the charge last told the ledger.
    pub status: ChargeStatus,
    /// The charge confirmed it exists.
    pub delivered: bool,
}

impl Claim {
    /// Its units still count against the order: not failed nor cancelled.
    fn holds(&self) -> bool {
        !matches!(self.status, ChargeStatus::Failed | ChargeStatus::Canceled)
    }
}

/// A refund's claim on captured units, per charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundClaim {
    pub refund_id: String,
    pub request_hash: u64,
    pub store_id: String,
    pub reason: String,
    pub lines: Vec<ChargeLine>,
    /// Each charge's part: its units and amount (in the order's currency).
    pub parts: Vec<(String, Vec<ChargeLine>, String)>,
    pub currency: String,
    pub created_at: Millis,
    /// The refund failed at the processor: its units may be refunded again.
    pub failed: bool,
    /// The refund confirmed it exists.
    pub delivered: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Charges asked of the order, failed ones too (bounded by the buyer's
    /// `max_charges_per_order`).
    pub attempts: u64,
    /// In the order they were asked.
    pub claims: Vec<Claim>,
    pub refunds: Vec<RefundClaim>,
}

/// What asking for a charge came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The same key and body were asked before: that charge.
    Replay(Box<Claim>),
    /// A new claim, with the ledger that records it.
    New(Box<Claim>, Ledger),
}

/// What asking for a refund came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refunding {
    Replay(Box<RefundClaim>),
    New(Box<RefundClaim>, Ledger),
}

impl Ledger {
    pub fn claim(&self, charge_id: &str) -> Option<&Claim> {
        self.claims.iter().find(|c| c.intent.charge_id == charge_id)
    }

    pub fn refund(&self, refund_id: &str) -> Option<&RefundClaim> {
        self.refunds.iter().find(|r| r.refund_id == refund_id)
    }

    /// Units of each line that live charges hold beyond what the order
    /// already counts as paid by them.
    pub fn live(&self, order: &Order) -> BTreeMap<String, u64> {
        let mut live: BTreeMap<String, u64> = BTreeMap::new();
        for claim in self.claims.iter().filter(|c| c.holds()) {
            let told = order.payments.get(&claim.intent.charge_id);
            for line in &claim.intent.lines {
                let counted = told.and_then(|u| u.paid.get(&line.line_id)).copied().unwrap_or(0);
                *live.entry(line.line_id.clone()).or_default() += line.quantity.saturating_sub(counted);
            }
        }
        live
    }

    /// A charge asked with `intent` (its lines and amount not yet decided:
    /// `asked` is what the buyer named, `None` for every unpaid unit).
    pub fn open(
        &self,
        order: &Order,
        mut intent: Intent,
        asked: Option<&[ChargeLine]>,
        request_hash: u64,
        limit: u64,
        now: Millis,
    ) -> Result<Opened> {
        if let Some(done) = self.claim(&intent.charge_id) {
            return if done.request_hash == request_hash {
                Ok(Opened::Replay(Box::new(done.clone())))
            } else {
                Err(key_reused())
            };
        }
        if self.attempts >= limit {
            return Err(Error::forbidden(
                "quota_exceeded",
                format!(
                    "quota max_charges_per_order reached: limit {limit}, usage {}",
                    self.attempts
                ),
            ));
        }
        let taken = chargeable(order, asked, &self.live(order), now)?;
        let mut stores: Vec<String> = taken
            .lines
            .iter()
            .filter_map(|l| order.line(&l.line_id).map(|o| o.store_id.clone()))
            .collect();
        stores.sort();
        stores.dedup();
        intent.stores = stores;
        intent.lines = taken.lines;
        intent.amount = taken.amount.to_string();
        intent.currency = order.currency.clone();
        let claim = Claim {
            intent,
            request_hash,
            status: ChargeStatus::Processing,
            delivered: false,
        };
        let mut next = self.clone();
        next.attempts += 1;
        next.claims.push(claim.clone());
        Ok(Opened::New(Box::new(claim), next))
    }

    /// The charge reports `status` (and that it exists): only forward
    /// moves change the claim. `None` when nothing changes.
    pub fn settle(&self, charge_id: &str, status: ChargeStatus) -> Option<Ledger> {
        let mut next = self.clone();
        let claim = next.claims.iter_mut().find(|c| c.intent.charge_id == charge_id)?;
        let moved = claim.status.advanced(status);
        if moved.is_none() && claim.delivered {
            return None;
        }
        claim.delivered = true;
        if let Some(status) = moved {
            claim.status = status;
        }
        Some(next)
    }

    /// Claims whose charge has not confirmed it exists, asked before
    /// `now - DELIVERY_GRACE`: to be created (again, idempotently).
    pub fn undelivered(&self, now: Millis) -> Vec<&Claim> {
        self.claims
            .iter()
            .filter(|c| !c.delivered && c.intent.created_at + DELIVERY_GRACE <= now)
            .collect()
    }

    /// Refund claims not confirmed by their refund, asked before
    /// `now - DELIVERY_GRACE`.
    pub fn undelivered_refunds(&self, now: Millis) -> Vec<&RefundClaim> {
        self.refunds
            .iter()
            .filter(|r| !r.delivered && r.created_at + DELIVERY_GRACE <= now)
            .collect()
    }

    /// When the ledger wants waking: the first undelivered claim's grace end.
    pub fn due(&self) -> Option<Millis> {
        let charges = self.claims.iter().filter(|c| !c.delivered).map(|c| c.intent.created_at);
        let refunds = self.refunds.iter().filter(|r| !r.delivered).map(|r| r.created_at);
        charges.chain(refunds).min().map(|at| at + DELIVERY_GRACE)
    }

    /// Each succeeded charge's captured units of each line, with what
    /// refunds not failed took back already, earliest charge first.
    fn paid_shares(&self, order: &Order) -> Result<Vec<PaidShare>> {
        let mut shares = Vec::new();
        for claim in self.claims.iter().filter(|c| c.status == ChargeStatus::Succeeded) {
            for line in &claim.intent.lines {
                let Some(ordered) = order.line(&line.line_id) else {
                    continue;
                };
                let refunded = self
                    .refunds
                    .iter()
                    .filter(|r| !r.failed)
                    .flat_map(|r| r.parts.iter())
                    .filter(|(charge, _, _)| *charge == claim.intent.charge_id)
                    .flat_map(|(_, lines, _)| lines.iter())
                    .filter(|l| l.line_id == line.line_id)
                    .map(|l| l.quantity)
                    .sum();
                shares.push(PaidShare {
                    charge_id: claim.intent.charge_id.clone(),
                    line_id: line.line_id.clone(),
                    captured: line.quantity,
                    refunded,
                    unit_price: Money::stored(&ordered.unit_price, &order.currency)?,
                });
            }
        }
        Ok(shares)
    }

    /// Store `store_id` refunds `lines` of its own: spread over the charges
    /// that captured them, never more than captured minus what refunds not
    /// failed (pending ones too) took back.
    #[allow(clippy::too_many_arguments)]
    pub fn ask_refund(
        &self,
        order: &Order,
        refund_id: &str,
        request_hash: u64,
        store_id: &str,
        lines: &[ChargeLine],
        reason: &str,
        now: Millis,
    ) -> Result<Refunding> {
        if let Some(done) = self.refund(refund_id) {
            return if done.request_hash == request_hash {
                Ok(Refunding::Replay(Box::new(done.clone())))
            } else {
                Err(key_reused())
            };
        }
        let mut errors = FieldErrors::new();
        if lines.is_empty() {
            errors.add("lines", "name at least one line");
        }
        if reason.trim().is_empty() || reason.chars().count() > 500 {
            errors.add("reason", "must be 1 to 500 characters");
        }
        for (i, l) in lines.iter().enumerate() {
            if order.line(&l.line_id).is_none_or(|o| o.store_id != store_id) {
                errors.add(format!("lines[{i}].line_id"), "no line of this store has this id");
            } else if l.quantity == 0 {
                errors.add(format!("lines[{i}].quantity"), "must be at least 1");
            }
        }
        errors.into_result()?;
        let parts: Vec<RefundPart> = allocate(lines, &self.paid_shares(order)?)?;
        let claim = RefundClaim {
            refund_id: refund_id.to_string(),
            request_hash,
            store_id: store_id.to_string(),
            reason: reason.trim().to_string(),
            lines: lines.to_vec(),
            parts: parts
                .into_iter()
                .map(|p| (p.charge_id, p.lines, p.amount.to_string()))
                .collect(),
            currency: order.currency.clone(),
            created_at: now,
            failed: false,
            delivered: false,
        };
        let mut next = self.clone();
        next.refunds.push(claim.clone());
        Ok(Refunding::New(Box::new(claim), next))
    }

    /// The refund reports that it exists and whether it failed at the
    /// processor (its units may then be refunded again; a failure is
    /// final). `None` when nothing changes.
    pub fn refund_settled(&self, refund_id: &str, failed: bool) -> Option<Ledger> {
        let mut next = self.clone();
        let claim = next.refunds.iter_mut().find(|r| r.refund_id == refund_id)?;
        if claim.delivered && claim.failed >= failed {
            return None;
        }
        claim.delivered = true;
        claim.failed |= failed;
        Some(next)
    }
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
