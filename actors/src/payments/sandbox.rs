//! The built-in processor: deterministic, behaving like a card processor's
//! test mode with Stripe's test payment methods. `pm_card_visa` (or a raw
//! 4242… number) succeeds; `pm_card_chargeDeclined` (4000000000000002) is
//! declined; `pm_card_authenticationRequired` (4000000000003220) waits for
//! the buyer to authenticate ([`Sandbox::authenticate`]). It counts the
//! payments it created per idempotency key, so tests can prove "exactly
//! one". In memory: a sandbox forgets everything when the node stops.

use super::model::ChargeStatus;
use super::ports::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a payment method does at the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Succeeds,
    Declined,
    NeedsAuthentication,
}

/// The behaviour of `method`, or `None` for one the sandbox does not know.
pub fn behaviour(method: &str) -> Option<Behaviour> {
    match method {
        "pm_card_visa" | "pm_card_mastercard" => Some(Behaviour::Succeeds),
        "pm_card_chargeDeclined" | "4000000000000002" => Some(Behaviour::Declined),
        "pm_card_authenticationRequired" | "4000000000003220" => Some(Behaviour::NeedsAuthentication),
        raw if raw.starts_with("4242") && raw.len() == 16 && raw.bytes().all(|b| b.is_ascii_digit()) => {
            Some(Behaviour::Succeeds)
        }
        _ => None,
    }
}

#[derive(Default)]
struct Books {
    payments: HashMap<String, ProcessorPayment>,
    /// How each payment is captured, as created.
    capture: HashMap<String, CaptureMode>,
    by_key: HashMap<String, String>,
    created_per_key: HashMap<String, u32>,
    refunds: HashMap<String, ProcessorRefund>,
    refunds_by_key: HashMap<String, String>,
    next: u64,
}

/// The sandbox processor. Cheap to clone (shared books).
#[derive(Clone, Default)]
pub struct Sandbox {
    books: Arc<Mutex<Books>>,
    /// Where a buyer authenticates (the platform's sandbox endpoint).
    authenticate_url: String,
}

fn refused(code: &str, message: impl Into<String>) -> ProcessorError {
    ProcessorError::Refused {
        code: code.into(),
        message: message.into(),
    }
}

impl Sandbox {
    /// A sandbox whose buyers authenticate at `authenticate_url/{id}`.
    pub fn new(authenticate_url: &str) -> Self {
        Self {
            books: Arc::default(),
            authenticate_url: authenticate_url.trim_end_matches('/').to_string(),
        }
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many payments the sandbox created for `key` (at most one).
    pub fn created_for(&self, key: &str) -> u32 {
        self.books().created_per_key.get(key).copied().unwrap_or(0)
    }

    /// Completes a payment waiting for the buyer: authenticated (it goes on
    /// as its capture mode says) or not (declined).
    pub fn authenticate(&self, payment_id: &str, succeed: bool) -> Result<ProcessorPayment, ProcessorError> {
        let mut books = self.books();
        let capture = books.capture.get(payment_id).copied().unwrap_or(CaptureMode::Automatic);
        let payment = books
            .payments
            .get_mut(payment_id)
            .ok_or_else(|| refused("resource_missing", "no such payment"))?;
        if payment.status != ChargeStatus::RequiresAction {
            return Err(refused(
                "payment_intent_unexpected_state",
                "the payment does not wait for authentication",
            ));
        }
        payment.redirect_url = None;
        if succeed {
            settle(payment, capture);
        } else {
            payment.status = ChargeStatus::Failed;
            payment.decline = Some(Decline {
                code: "authentication_failed".into(),
                message: "the buyer did not authenticate".into(),
            });
        }
        Ok(payment.clone())
    }

    fn create_now(&self, request: CreatePayment) -> Result<ProcessorPayment, ProcessorError> {
        let mut books = self.books();
        if let Some(id) = books.by_key.get(&request.idempotency_key).cloned() {
            return books
                .payments
                .get(&id)
                .cloned()
                .ok_or_else(|| refused("resource_missing", "lost payment"));
        }
        let Some(behaviour) = behaviour(&request.payment_method) else {
            return Err(refused(
                "payment_method_unknown",
                "the sandbox does not know this payment method",
            ));
        };
        if request.amount_minor <= 0 {
            return Err(refused("amount_too_small", "the amount must be positive"));
        }
        books.next += 1;
        let id = format!("sbx_pi_{:06}", books.next);
        let mut payment = ProcessorPayment {
            id: id.clone(),
            status: ChargeStatus::Processing,
            amount_minor: request.amount_minor,
            captured_minor: 0,
            currency: request.currency,
            redirect_url: None,
            decline: None,
            metadata: request.metadata,
        };
        match behaviour {
            Behaviour::Succeeds => settle(&mut payment, request.capture),
            Behaviour::Declined => {
                payment.status = ChargeStatus::Failed;
                payment.decline = Some(Decline {
                    code: "card_declined".into(),
                    message: "your card was declined".into(),
                });
            }
            Behaviour::NeedsAuthentication => {
                payment.status = ChargeStatus::RequiresAction;
                payment.redirect_url = Some(format!("{}/{id}", self.authenticate_url));
            }
        }
        books.capture.insert(id.clone(), request.capture);
        books.by_key.insert(request.idempotency_key.clone(), id.clone());
        *books.created_per_key.entry(request.idempotency_key).or_default() += 1;
        books.payments.insert(id, payment.clone());
        Ok(payment)
    }

    fn payment(&self, id: &str) -> Result<ProcessorPayment, ProcessorError> {
        self.books()
            .payments
            .get(id)
            .cloned()
            .ok_or_else(|| refused("resource_missing", "no such payment"))
    }

    fn capture_now(&self, id: &str, amount: Option<i64>) -> Result<ProcessorPayment, ProcessorError> {
        let mut books = self.books();
        let payment = books
            .payments
            .get_mut(id)
            .ok_or_else(|| refused("resource_missing", "no such payment"))?;
        match payment.status {
            ChargeStatus::Authorized => {
                let amount = amount.unwrap_or(payment.amount_minor);
                if amount <= 0 || amount > payment.amount_minor {
                    return Err(refused("amount_too_large", "more than was authorized"));
                }
                payment.captured_minor = amount;
                payment.status = ChargeStatus::Succeeded;
                Ok(payment.clone())
            }
            // A repeated capture answers the captured payment.
            ChargeStatus::Succeeded => Ok(payment.clone()),
            _ => Err(refused(
                "payment_intent_unexpected_state",
                "only an authorized payment is captured",
            )),
        }
    }

    fn cancel_now(&self, id: &str) -> Result<ProcessorPayment, ProcessorError> {
        let mut books = self.books();
        let payment = books
            .payments
            .get_mut(id)
            .ok_or_else(|| refused("resource_missing", "no such payment"))?;
        match payment.status {
            ChargeStatus::RequiresAction | ChargeStatus::Processing | ChargeStatus::Authorized => {
                payment.status = ChargeStatus::Canceled;
                payment.redirect_url = None;
                Ok(payment.clone())
            }
            ChargeStatus::Canceled => Ok(payment.clone()),
            _ => Err(refused(
                "payment_intent_unexpected_state",
                "a settled payment is not cancelled",
            )),
        }
    }

    fn refund_now(&self, id: &str, amount: i64, key: &str) -> Result<ProcessorRefund, ProcessorError> {
        let mut books = self.books();
        if let Some(refund_id) = books.refunds_by_key.get(key).cloned() {
            return books
                .refunds
                .get(&refund_id)
                .cloned()
                .ok_or_else(|| refused("resource_missing", "lost refund"));
        }
        let captured = books
            .payments
            .get(id)
            .ok_or_else(|| refused("resource_missing", "no such payment"))?
            .captured_minor;
        let refunded: i64 = books
            .refunds
            .values()
            .filter(|r| r.payment_id == id && r.status != RefundStatus::Failed)
            .map(|r| r.amount_minor)
            .sum();
        if amount <= 0 || refunded + amount > captured {
            return Err(refused("charge_already_refunded", "more than is left to refund"));
        }
        books.next += 1;
        let refund = ProcessorRefund {
            id: format!("sbx_re_{:06}", books.next),
            payment_id: id.to_string(),
            amount_minor: amount,
            status: RefundStatus::Succeeded,
        };
        books.refunds_by_key.insert(key.to_string(), refund.id.clone());
        books.refunds.insert(refund.id.clone(), refund.clone());
        Ok(refund)
    }
}

/// A payment the card allows: taken at once, or held to be captured.
fn settle(payment: &mut ProcessorPayment, capture: CaptureMode) {
    match capture {
        CaptureMode::Automatic => {
            payment.status = ChargeStatus::Succeeded;
            payment.captured_minor = payment.amount_minor;
        }
        CaptureMode::Manual => payment.status = ChargeStatus::Authorized,
    }
}

fn ready<T: Send + 'static>(answer: Result<T, ProcessorError>) -> Answer<T> {
    Box::pin(async move { answer })
}

impl PaymentProcessor for Sandbox {
    fn create(&self, payment: CreatePayment) -> Answer<ProcessorPayment> {
        ready(self.create_now(payment))
    }

    fn get(&self, payment_id: &str) -> Answer<ProcessorPayment> {
        ready(self.payment(payment_id))
    }

    fn capture(&self, payment_id: &str, amount_minor: Option<i64>, _key: &str) -> Answer<ProcessorPayment> {
        ready(self.capture_now(payment_id, amount_minor))
    }

    fn cancel(&self, payment_id: &str, _key: &str) -> Answer<ProcessorPayment> {
        ready(self.cancel_now(payment_id))
    }

    fn refund(&self, payment_id: &str, amount_minor: i64, key: &str) -> Answer<ProcessorRefund> {
        ready(self.refund_now(payment_id, amount_minor, key))
    }

    fn get_refund(&self, refund_id: &str) -> Answer<ProcessorRefund> {
        let found = self.books().refunds.get(refund_id).cloned();
        ready(found.ok_or_else(|| refused("resource_missing", "no such refund")))
    }
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
