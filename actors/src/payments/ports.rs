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

/// A connected (merchant) account to open for a store. Sent again
/// unchanged (same key) when an earlier attempt's outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAccount {
    pub store_id: String,
    pub email: String,
    pub idempotency_key: String,
}

/// A connected account as the processor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorAccount {
    pub id: String,
    pub reported: super::account::Reported,
    /// What we gave it (our store's id).
    pub metadata: BTreeMap<String, String>,
}

/// Where a store finishes onboarding, until `expires_at` (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLink {
    pub url: String,
    pub expires_at: i64,
}

/// Money to move from the platform to a connected account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTransfer {
    pub account_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub idempotency_key: String,
    /// `order_<id>`: the transfers of one order's money.
    pub transfer_group: String,
    /// The payment the money came from (the processor's id), if the
    /// processor holds it.
    pub source_payment_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// A transfer as the processor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorTransfer {
    pub id: String,
    pub account_id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// Taken back by reversals so far.
    pub reversed_minor: i64,
}

/// Money taken back from a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateReversal {
    pub transfer_id: String,
    pub amount_minor: i64,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorReversal {
    pub id: String,
    pub transfer_id: String,
    pub amount_minor: i64,
}

/// A buyer's dispute of a payment, as the processor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorDispute {
    pub id: String,
    pub payment_id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// Stripe's names: `warning_needs_response`, `needs_response`,
    /// `under_review`, `won`, `lost`, `warning_closed`…
    pub status: String,
    pub reason: String,
}

impl ProcessorDispute {
    /// Still being fought.
    pub fn open(&self) -> bool {
        !matches!(self.status.as_str(), "won" | "lost" | "warning_closed")
    }

    /// The platform lost the money for good.
    pub fn lost(&self) -> bool {
        self.status == "lost"
    }
}

/// A page of a processor's disputes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisputePage {
    pub disputes: Vec<ProcessorDispute>,
    /// Where the next page starts (`None`: this was the last).
    pub next: Option<String>,
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

    /// Opens a store's connected account; the same key answers the same
    /// account.
    fn create_account(&self, account: CreateAccount) -> Answer<ProcessorAccount>;
    fn get_account(&self, account_id: &str) -> Answer<ProcessorAccount>;
    /// A fresh onboarding link for the account.
    fn account_link(&self, account_id: &str, return_url: &str, refresh_url: &str) -> Answer<AccountLink>;
    /// Moves money to a connected account; the same key answers the same
    /// transfer.
    fn transfer(&self, transfer: CreateTransfer) -> Answer<ProcessorTransfer>;
    /// Takes money back from a transfer; refused (`balance_insufficient`)
    /// when the account's balance is short.
    fn reverse(&self, reversal: CreateReversal) -> Answer<ProcessorReversal>;
    fn get_dispute(&self, dispute_id: &str) -> Answer<ProcessorDispute>;
    /// Disputes created at or after `since` (unix seconds), a page at a
    /// time (`page`: the previous page's `next`); a processor may answer
    /// older ones too.
    fn list_disputes(&self, since: i64, page: Option<String>) -> Answer<DisputePage>;
    fn get_transfer(&self, transfer_id: &str) -> Answer<ProcessorTransfer>;

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
