//! A charge's record and every transition of it. The intent, with the
//! exact request the processor will be sent, is written before the
//! processor is called; the processor's answers only move the charge
//! forward; what must follow a change (telling the order and the ledger,
//! an automatic refund) is derived from the record and carried out once
//! the change is durable. Pure.

use super::charge::ChargeLine;
use super::minor;
use super::model::ChargeStatus;
use super::ports::{
    CaptureMode, CreatePayment, Decline, ProcessorError, ProcessorPayment, ProcessorRefund, RefundStatus,
};
use crate::error::Result;
use crate::ports::Millis;
use crate::shared::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Webhook event ids a charge remembers (the latest ones).
pub const EVENTS_KEPT: usize = 64;
/// The first retry of a failed step; doubled per failure up to [`RETRY_MAX`].
pub const RETRY_FIRST: Millis = 5_000;
pub const RETRY_MAX: Millis = 300_000;

/// What the buyer asked, decided by the order's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub charge_id: String,
    pub order_id: String,
    pub buyer: String,
    /// The stores whose lines it pays (their staff may see it).
    pub stores: Vec<String>,
    pub lines: Vec<ChargeLine>,
    /// In the order's currency.
    pub amount: String,
    pub currency: String,
    /// Each line's unit price (for a refund of some of its lines).
    pub unit_prices: BTreeMap<String, String>,
    pub payment_method: String,
    pub processor: String,
    pub capture: CaptureMode,
    pub return_url: Option<String>,
    pub created_at: Millis,
}

/// Whether the processor has answered the creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sent {
    /// Not sent yet (or sent, and the node stopped before the answer).
    NotYet,
    /// Sent; the outcome is unknown: send the same request again.
    Unknown,
    Answered,
}

/// A success the order could not take (its reservation ended): given back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRefund {
    pub reason: String,
    pub amount_minor: i64,
    pub refund: Option<ProcessorRefund>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub intent: Intent,
    pub request: CreatePayment,
    pub status: ChargeStatus,
    pub processor_payment_id: Option<String>,
    pub captured_minor: i64,
    /// Where the buyer authenticates, while `RequiresAction`.
    pub redirect_url: Option<String>,
    pub failure: Option<Decline>,
    pub sent: Sent,
    /// Webhook events applied (the latest [`EVENTS_KEPT`]).
    pub events: VecDeque<String>,
    /// The order counts the units as paid.
    pub told_order: bool,
    /// What the order's ledger was last told.
    pub told_ledger: Option<ChargeStatus>,
    pub auto_refund: Option<AutoRefund>,
    /// Failed attempts at the pending steps in a row (backoff).
    pub retries: u32,
    /// When the alarm wakes it: to retry steps, or to ask the processor.
    pub next_check: Option<Millis>,
    pub updated_at: Millis,
}

/// The request a charge sends the processor, derived once from its intent.
pub fn request(intent: &Intent) -> Result<CreatePayment> {
    let amount = Money::stored(&intent.amount, &intent.currency)?;
    Ok(CreatePayment {
        amount_minor: minor::to_minor(amount.amount(), &intent.currency)?,
        currency: intent.currency.clone(),
        idempotency_key: format!("charge:{}", intent.charge_id),
        payment_method: intent.payment_method.clone(),
        capture: intent.capture,
        metadata: BTreeMap::from([
            ("charge_id".to_string(), intent.charge_id.clone()),
            ("order_id".to_string(), intent.order_id.clone()),
        ]),
    })
}

impl Charge {
    /// A charge not yet sent.
    pub fn new(intent: Intent, now: Millis, check_every: Millis) -> Result<Self> {
        let request = request(&intent)?;
        Ok(Self {
            intent,
            request,
            status: ChargeStatus::Processing,
            processor_payment_id: None,
            captured_minor: 0,
            redirect_url: None,
            failure: None,
            sent: Sent::NotYet,
            events: VecDeque::new(),
            told_order: false,
            told_ledger: None,
            auto_refund: None,
            retries: 0,
            next_check: None,
            updated_at: now,
        }
        .scheduled(now, check_every))
    }

    /// The processor still has to be told (or asked again).
    pub fn must_send(&self) -> bool {
        self.sent != Sent::Answered
    }

    /// The order must learn that the units are paid.
    pub fn must_tell_order(&self) -> bool {
        self.status.pays() && !self.told_order
    }

    /// The ledger must learn the latest status.
    pub fn must_tell_ledger(&self) -> bool {
        self.told_ledger != Some(self.status)
    }

    /// An automatic refund still waits for the processor's answer.
    pub fn must_refund(&self) -> bool {
        self.auto_refund
            .as_ref()
            .is_some_and(|a| a.refund.as_ref().is_none_or(|r| r.status == RefundStatus::Pending))
    }

    /// Something must still be carried out.
    pub fn has_steps(&self) -> bool {
        self.must_send() || self.must_tell_order() || self.must_tell_ledger() || self.must_refund()
    }

    /// The same charge with its next wake-up set: soon while steps are
    /// left (backing off; the processor is asked again no sooner than
    /// [`RETRY_FIRST`]), every `check_every` while the processor may still
    /// change it, never once settled.
    pub fn scheduled(mut self, now: Millis, check_every: Millis) -> Self {
        let doublings = self.retries.saturating_sub(1).min(10);
        let backoff = RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_MAX);
        self.next_check = if self.must_send() {
            Some(now + backoff)
        } else if self.has_steps() {
            // Telling the order and the ledger: at once the first time.
            Some(if self.retries == 0 { now } else { now + backoff })
        } else if !self.status.is_final() {
            Some(now + check_every)
        } else {
            None
        };
        self
    }

    /// The processor reports `payment`: its first answer sets the status
    /// (`processing` until then stands for "not answered yet"); after
    /// that only forward moves change it.
    pub fn observe(&self, payment: &ProcessorPayment, now: Millis) -> Self {
        let mut next = self.clone();
        next.sent = Sent::Answered;
        if next.processor_payment_id.is_none() {
            next.processor_payment_id = Some(payment.id.clone());
        }
        let moved = if self.must_send() {
            (payment.status != self.status).then_some(payment.status)
        } else {
            self.status.advanced(payment.status)
        };
        if let Some(status) = moved {
            next.status = status;
            next.updated_at = now;
        }
        next.captured_minor = next.captured_minor.max(payment.captured_minor);
        next.redirect_url = match next.status {
            ChargeStatus::RequiresAction => payment.redirect_url.clone().or(next.redirect_url),
            _ => None,
        };
        if next.status == ChargeStatus::Failed && next.failure.is_none() {
            next.failure = payment.decline.clone().or_else(|| {
                Some(Decline {
                    code: "payment_failed".into(),
                    message: "the processor declined the payment".into(),
                })
            });
        }
        next
    }

    /// Sending the creation failed: retried with the same request when the
    /// outcome is unknown; failed for good when the processor refused it.
    pub fn send_failed(&self, error: &ProcessorError, now: Millis) -> Self {
        let mut next = self.clone();
        match error {
            ProcessorError::Unknown(_) => next.sent = Sent::Unknown,
            ProcessorError::Refused { code, message } => {
                next.sent = Sent::Answered;
                next.status = ChargeStatus::Failed;
                next.failure = Some(Decline {
                    code: code.clone(),
                    message: message.clone(),
                });
                next.updated_at = now;
            }
        }
        next
    }

    /// Whether webhook event `event_id` was applied already.
    pub fn seen(&self, event_id: &str) -> bool {
        self.events.iter().any(|e| e == event_id)
    }

    /// The same charge, remembering `event_id`.
    pub fn with_event(mut self, event_id: &str) -> Self {
        if !self.seen(event_id) {
            self.events.push_back(event_id.to_string());
            while self.events.len() > EVENTS_KEPT {
                self.events.pop_front();
            }
        }
        self
    }

    /// The order took the payment; `refused` are the lines it could not
    /// take (their reservation ended): those units' money goes back.
    pub fn order_told(&self, refused: &[(String, String)]) -> Result<Self> {
        let mut next = self.clone();
        next.told_order = true;
        if refused.is_empty() || next.auto_refund.is_some() {
            return Ok(next);
        }
        let currency = &self.intent.currency;
        let all = self
            .intent
            .lines
            .iter()
            .all(|l| refused.iter().any(|(id, _)| *id == l.line_id));
        let amount_minor = if all {
            self.captured_minor
        } else {
            let mut sum = Money::zero(crate::shared::money::Currency::stored(currency)?);
            for line in self
                .intent
                .lines
                .iter()
                .filter(|l| refused.iter().any(|(id, _)| *id == l.line_id))
            {
                let unit = self.intent.unit_prices.get(&line.line_id).map_or("0", String::as_str);
                sum = sum.checked_add(Money::stored(unit, currency)?.times(line.quantity)?)?;
            }
            minor::to_minor(sum.amount(), currency)?.min(self.captured_minor)
        };
        let why: Vec<String> = refused.iter().map(|(line, why)| format!("{line}: {why}")).collect();
        next.auto_refund = (amount_minor > 0).then(|| AutoRefund {
            reason: format!(
                "the order could not take the payment (the reservation ended): {}",
                why.join(", ")
            ),
            amount_minor,
            refund: None,
        });
        Ok(next)
    }

    /// The processor answered the automatic refund.
    pub fn refunded(&self, refund: ProcessorRefund) -> Self {
        let mut next = self.clone();
        if let Some(auto) = next.auto_refund.as_mut() {
            auto.refund = Some(refund);
        }
        next
    }

    /// The idempotency key of the automatic refund.
    pub fn auto_refund_key(&self) -> String {
        format!("auto-refund:{}", self.intent.charge_id)
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
