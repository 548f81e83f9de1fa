//! Webhook events, one format for every adapter (Stripe's): `{id, type,
//! data: {object}}`. A payment event carries the payment as the processor
//! saw it when it sent the event; events are never ordered by id — the
//! charge applies only forward moves (`model.rs`). Stripe's status names
//! map to ours by one table ([`status_of`]). Pure.

use super::model::ChargeStatus;
use super::ports::RefundStatus;
use crate::error::{Error, Result};
use serde_json::Value;

/// Our state of a payment, from a Stripe PaymentIntent status name.
/// `requires_payment_method` is where a declined attempt leaves it.
pub fn status_of(stripe: &str) -> Option<ChargeStatus> {
    Some(match stripe {
        "requires_action" => ChargeStatus::RequiresAction,
        "requires_confirmation" | "processing" => ChargeStatus::Processing,
        "requires_capture" => ChargeStatus::Authorized,
        "succeeded" => ChargeStatus::Succeeded,
        "requires_payment_method" => ChargeStatus::Failed,
        "canceled" => ChargeStatus::Canceled,
        _ => return None,
    })
}

/// A refund's state, from a Stripe Refund status name.
pub fn refund_status_of(stripe: &str) -> Option<RefundStatus> {
    Some(match stripe {
        "pending" | "requires_action" => RefundStatus::Pending,
        "succeeded" => RefundStatus::Succeeded,
        "failed" | "canceled" => RefundStatus::Failed,
        _ => return None,
    })
}

/// What an event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A payment is now `status` at the processor.
    Payment { id: String, status: ChargeStatus },
    /// A refund is now `status`.
    Refund { id: String, status: RefundStatus },
    /// An event type the platform does not act on.
    Other,
}

/// A parsed webhook: the event's id (processed at most once) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub event_id: String,
    pub event: Event,
}

fn malformed(why: &str) -> Error {
    Error::bad_request("malformed_webhook", format!("the webhook body {why}"))
}

/// Parses a webhook body (already verified, see `signature.rs`).
pub fn parse(body: &[u8]) -> Result<Webhook> {
    let value: Value = serde_json::from_slice(body).map_err(|_| malformed("is not JSON"))?;
    let text = |v: &Value, field: &str| v.get(field).and_then(Value::as_str).map(str::to_string);
    let event_id = text(&value, "id").ok_or_else(|| malformed("has no id"))?;
    let kind = text(&value, "type").ok_or_else(|| malformed("has no type"))?;
    let object = value
        .get("data")
        .and_then(|d| d.get("object"))
        .ok_or_else(|| malformed("has no data.object"))?;
    let event = if kind.starts_with("payment_intent.") {
        let id = text(object, "id").ok_or_else(|| malformed("names no payment"))?;
        let status = text(object, "status")
            .as_deref()
            .and_then(status_of)
            .ok_or_else(|| malformed("has no known payment status"))?;
        Event::Payment { id, status }
    } else if kind.starts_with("refund.") || kind == "charge.refund.updated" {
        let id = text(object, "id").ok_or_else(|| malformed("names no refund"))?;
        let status = text(object, "status")
            .as_deref()
            .and_then(refund_status_of)
            .ok_or_else(|| malformed("has no known refund status"))?;
        Event::Refund { id, status }
    } else {
        Event::Other
    };
    Ok(Webhook { event_id, event })
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
