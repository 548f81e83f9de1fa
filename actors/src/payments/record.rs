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
use crate::orders::model::{ChargeUpdate, LineStatus, Order};
use crate::ports::Millis;
use crate::shared::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Webhook event ids a charge remembers (the latest ones).
pub const EVENTS_KEPT: usize = 64;
/// The first retry of a failed step; doubled per failure up to [`RETRY_MAX`].
pub const RETRY_FIRST: Millis = 5_000;
pub const RETRY_MAX: Millis = 300_000;

/// What an authorization needs (see [`Charge::authorization_step`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationStep {
    /// Take this much of it (minor units).
    Capture(i64),
    /// Release it, for this reason.
    Void(String),
}

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
    /// The version of the last update the order took (see
    /// [`Charge::order_update`]).
    pub told_order: Option<u64>,
    /// Of an authorization, what cannot be captured: the amount of lines
    /// the order could not take (their reservation ended).
    pub uncapturable_minor: i64,
    /// Until then an authorization waits for its capture (a shipment).
    pub authorization_until: Millis,
    /// Why an authorization was voided.
    pub void_reason: Option<String>,
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
    /// A charge not yet sent; an authorization of it waits for its
    /// capture for `authorization_ms`.
    pub fn new(intent: Intent, now: Millis, check_every: Millis, authorization_ms: Millis) -> Result<Self> {
        let request = request(&intent)?;
        let authorization_until = intent.created_at + authorization_ms;
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
            told_order: None,
            uncapturable_minor: 0,
            authorization_until,
            void_reason: None,
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

    /// What the order is to learn of this charge now: its units paid
    /// (held on the card, version 1; or captured, version 2), or — after
    /// it learnt they were paid — unpaid again (voided, version 3).
    pub fn order_update(&self) -> Option<ChargeUpdate> {
        let units = |paid: bool| {
            self.intent
                .lines
                .iter()
                .map(|l| (l.line_id.clone(), if paid { l.quantity } else { 0 }))
                .collect()
        };
        let (version, paid, captured) = match self.status {
            ChargeStatus::Authorized => (1, true, false),
            ChargeStatus::Succeeded => (2, true, true),
            ChargeStatus::Canceled | ChargeStatus::Failed if self.told_order.is_some() => (3, false, false),
            _ => return None,
        };
        Some(ChargeUpdate {
            version,
            paid: units(paid),
            captured,
        })
    }

    /// The order must learn something of the charge.
    pub fn must_tell_order(&self) -> bool {
        self.order_update()
            .is_some_and(|u| self.told_order.is_none_or(|told| told < u.version))
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
        } else if self.status == ChargeStatus::Authorized {
            // Voided at once when nothing can be captured or its time is
            // up (backing off while the processor fails); otherwise looked
            // at every `check_every` and when its time is up.
            let urgent = self.uncapturable_minor >= self.request.amount_minor || self.authorization_until <= now;
            Some(match (urgent, self.retries) {
                (true, 0) => now,
                (true, _) => now + backoff,
                (false, _) => (now + check_every).min(self.authorization_until),
            })
        } else if !self.status.is_final() {
            Some(now + check_every)
        } else {
            None
        };
        self
    }

    /// Whether this record differs from `before` only by steps struck as
    /// done (the order and the ledger told) and the alarm that follows.
    pub fn only_struck_from(&self, before: &Charge) -> bool {
        let bookkeeping = |c: &Charge| Charge {
            told_order: None,
            told_ledger: None,
            retries: 0,
            next_check: None,
            ..c.clone()
        };
        self.told_order >= before.told_order && bookkeeping(self) == bookkeeping(before)
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

    /// The order took update `version`; `refused` are the lines it could
    /// not take (their reservation ended): their money goes back — refunded
    /// if captured, left uncaptured (and voided if that is all) if only
    /// authorized.
    pub fn order_told(&self, version: u64, refused: &[(String, String)]) -> Result<Self> {
        let mut next = self.clone();
        next.told_order = Some(version);
        if refused.is_empty() || next.auto_refund.is_some() || !self.status.pays() {
            return Ok(next);
        }
        let currency = &self.intent.currency;
        let all = self
            .intent
            .lines
            .iter()
            .all(|l| refused.iter().any(|(id, _)| *id == l.line_id));
        let amount_minor = if all {
            self.request.amount_minor
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
            minor::to_minor(sum.amount(), currency)?.min(self.request.amount_minor)
        };
        if self.status == ChargeStatus::Authorized {
            next.uncapturable_minor = amount_minor;
            return Ok(next);
        }
        let why: Vec<String> = refused.iter().map(|(line, why)| format!("{line}: {why}")).collect();
        next.auto_refund = (amount_minor > 0).then(|| AutoRefund {
            reason: format!(
                "the order could not take the payment (the reservation ended): {}",
                why.join(", ")
            ),
            amount_minor: amount_minor.min(self.captured_minor),
            refund: None,
        });
        Ok(next)
    }

    /// What an authorization needs now, given its order: captured once
    /// any of its lines shipped; voided if the order was cancelled, if
    /// nothing of it can be captured, or once it waited too long.
    pub fn authorization_step(&self, order: &Order, now: Millis) -> Option<AuthorizationStep> {
        if self.status != ChargeStatus::Authorized {
            return None;
        }
        let capturable = self.request.amount_minor - self.uncapturable_minor;
        if capturable <= 0 {
            return Some(AuthorizationStep::Void(
                "the order could not take the payment (the reservation ended)".into(),
            ));
        }
        let statuses: Vec<LineStatus> = self
            .intent
            .lines
            .iter()
            .filter_map(|l| order.line(&l.line_id).map(|o| o.status))
            .collect();
        if statuses
            .iter()
            .any(|s| matches!(s, LineStatus::Shipped | LineStatus::Delivered))
        {
            return Some(AuthorizationStep::Capture(capturable));
        }
        if order.cancelled
            || statuses
                .iter()
                .all(|s| matches!(s, LineStatus::Cancelled | LineStatus::Expired))
        {
            return Some(AuthorizationStep::Void("the order was cancelled".into()));
        }
        if now >= self.authorization_until {
            return Some(AuthorizationStep::Void(
                "the authorization was not captured in time (no shipment)".into(),
            ));
        }
        None
    }

    /// The idempotency keys of a capture and of a void.
    pub fn capture_key(&self) -> String {
        format!("capture:{}", self.intent.charge_id)
    }

    pub fn void_key(&self) -> String {
        format!("void:{}", self.intent.charge_id)
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
