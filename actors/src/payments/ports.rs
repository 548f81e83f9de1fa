//! What lies outside: payment processors. One port, [`PaymentProcessor`],
//! and its adapters: `sandbox.rs` (built in, deterministic, the default);
//! the Stripe adapter follows. Amounts cross the port in the currency's
//! minor units (`minor.rs`).

use super::model::ChargeStatus;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A raw card number (digits, spaces or dashes; 12 to 19 digits): only the
/// sandbox takes one; every other adapter refuses to send it anywhere.
pub fn is_card_number(method: &str) -> bool {
    let digits = method.chars().filter(char::is_ascii_digit).count();
    method.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') && (12..=19).contains(&digits)
}

/// When the money is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaptureMode {
    /// At once, when the payment succeeds.
    Automatic,
    /// Held (authorized) until captured or cancelled.
    Manual,
}

/// A payment to create. Sent again unchanged (same key) when an earlier
/// attempt's outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePayment {
    pub amount_minor: i64,
    pub currency: String,
    pub idempotency_key: String,
    pub payment_method: String,
    pub capture: CaptureMode,
    /// Our charge and order ids.
    pub metadata: BTreeMap<String, String>,
}

/// Why a processor declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decline {
    pub code: String,
    pub message: String,
}

/// A payment as the processor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorPayment {
    pub id: String,
    pub status: ChargeStatus,
    pub amount_minor: i64,
    pub captured_minor: i64,
    pub currency: String,
    /// Where the buyer authenticates, while `RequiresAction`.
    pub redirect_url: Option<String>,
    pub decline: Option<Decline>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

/// A refund to make. Sent again unchanged (same key) when an earlier
/// attempt's outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRefund {
    pub payment_id: String,
    pub amount_minor: i64,
    pub idempotency_key: String,
    /// Our refund's id.
    pub metadata: BTreeMap<String, String>,
}

/// A refund as the processor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorRefund {
    pub id: String,
    pub payment_id: String,
    pub amount_minor: i64,
    pub status: RefundStatus,
    pub metadata: BTreeMap<String, String>,
}

/// What went wrong talking to a processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessorError {
    /// The outcome is unknown (a timeout, 409, 429, 5xx): retry later with
    /// the same idempotency key, never a new one.
    Unknown(String),
    /// The processor refused the request itself (an unknown payment, an
    /// amount above what may be captured or refunded, a raw card number
    /// where only payment methods are taken): retrying will not help.
    Refused { code: String, message: String },
}

pub type Answer<T> = BoxFuture<'static, Result<T, ProcessorError>>;

/// A payment processor.
pub trait PaymentProcessor: Send + Sync {
    /// Creates and confirms a payment; the same key answers the same
    /// payment (idempotent), however often it is sent.
    fn create(&self, payment: CreatePayment) -> Answer<ProcessorPayment>;
    fn get(&self, payment_id: &str) -> Answer<ProcessorPayment>;
    /// Captures an authorized payment, all of it or `amount_minor`.
    fn capture(&self, payment_id: &str, amount_minor: Option<i64>, idempotency_key: &str) -> Answer<ProcessorPayment>;
    /// Cancels (voids) a payment not yet captured.
    fn cancel(&self, payment_id: &str, idempotency_key: &str) -> Answer<ProcessorPayment>;
    /// Refunds part of what was captured; several refunds may follow.
    fn refund(&self, refund: CreateRefund) -> Answer<ProcessorRefund>;
    fn get_refund(&self, refund_id: &str) -> Answer<ProcessorRefund>;

    /// Verifies a webhook's `Stripe-Signature` against `secrets` at `now`
    /// (unix seconds) and parses it. Every adapter so far speaks Stripe's
    /// scheme (`signature.rs`, `events.rs`); one that does not overrides it.
    fn webhook(
        &self,
        signature_header: Option<&str>,
        body: &[u8],
        secrets: &[String],
        now: i64,
    ) -> crate::error::Result<super::events::Webhook> {
        super::signature::verify(signature_header, body, secrets, now)?;
        super::events::parse(body)
    }
}
