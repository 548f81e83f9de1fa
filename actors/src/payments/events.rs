//! Webhook events, one format for every adapter (Stripe's): `{id, type,
//! data: {object}}`. A payment event carries the payment as the processor
//! saw it when it sent the event; events are never ordered by id — the
//! charge applies only forward moves (`model.rs`). Stripe's status names
//! map to ours by one table ([`status_of`]). Pure.

use super::account::Reported;
use super::model::ChargeStatus;
use super::ports::{ProcessorAccount, ProcessorDispute, ProcessorPayment, ProcessorRefund, RefundStatus};
use crate::error::{Error, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Stripe's PaymentIntent status names and ours, the one table both
/// directions read. `requires_payment_method` is where a declined attempt
/// leaves a payment; the first name of each of ours is what we send.
const STATUSES: [(&str, ChargeStatus); 7] = [
    ("requires_action", ChargeStatus::RequiresAction),
    ("processing", ChargeStatus::Processing),
    ("requires_confirmation", ChargeStatus::Processing),
    ("requires_capture", ChargeStatus::Authorized),
    ("succeeded", ChargeStatus::Succeeded),
    ("requires_payment_method", ChargeStatus::Failed),
    ("canceled", ChargeStatus::Canceled),
];

/// Our state of a payment, from a Stripe PaymentIntent status name.
pub fn status_of(stripe: &str) -> Option<ChargeStatus> {
    STATUSES.iter().find(|(name, _)| *name == stripe).map(|(_, ours)| *ours)
}

/// The Stripe status name of ours (what the sandbox reports).
pub fn stripe_status(ours: ChargeStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(_, status)| *status == ours)
        .map_or("processing", |(name, _)| name)
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
    /// A payment is now `status` at the processor; `metadata` is what we
    /// gave it (our charge's id).
    Payment {
        id: String,
        status: ChargeStatus,
        metadata: BTreeMap<String, String>,
    },
    /// A refund is now `status`; `metadata` names our refund.
    Refund {
        id: String,
        status: RefundStatus,
        metadata: BTreeMap<String, String>,
    },
    /// A dispute was opened, its funds withdrawn or reinstated, or it
    /// closed (`charge.dispute.*`).
    Dispute { id: String, payment_id: String },
    /// A connected account changed (`account.updated`).
    Account(ProcessorAccount),
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

/// An object's `metadata` (string values only).
pub(crate) fn metadata(object: &Value) -> BTreeMap<String, String> {
    object
        .get("metadata")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The event Stripe would send about `payment` now (what the sandbox
/// delivers): `payment_intent.<what happened>`.
pub fn payment_event(event_id: &str, payment: &ProcessorPayment) -> Vec<u8> {
    let happened = match payment.status {
        ChargeStatus::RequiresAction => "requires_action",
        ChargeStatus::Processing => "processing",
        ChargeStatus::Authorized => "amount_capturable_updated",
        ChargeStatus::Succeeded => "succeeded",
        ChargeStatus::Failed => "payment_failed",
        ChargeStatus::Canceled => "canceled",
    };
    let object = json!({
        "id": payment.id,
        "object": "payment_intent",
        "status": stripe_status(payment.status),
        "amount": payment.amount_minor,
        "amount_received": payment.captured_minor,
        "currency": payment.currency.to_lowercase(),
        "metadata": payment.metadata,
    });
    event(event_id, &format!("payment_intent.{happened}"), object)
}

/// A connected account from Stripe's Account object (`None` without an id).
pub fn account_of(v: &Value) -> Option<ProcessorAccount> {
    let flag = |field: &str| v.get(field).and_then(Value::as_bool).unwrap_or(false);
    let requirements = v.get("requirements").cloned().unwrap_or(Value::Null);
    Some(ProcessorAccount {
        id: v.get("id").and_then(Value::as_str)?.to_string(),
        reported: Reported {
            charges_enabled: flag("charges_enabled"),
            payouts_enabled: flag("payouts_enabled"),
            details_submitted: flag("details_submitted"),
            currently_due: requirements
                .get("currently_due")
                .and_then(Value::as_array)
                .map(|due| due.iter().filter_map(|d| d.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            disabled_reason: requirements
                .get("disabled_reason")
                .and_then(Value::as_str)
                .map(str::to_string),
        },
        metadata: metadata(v),
    })
}

/// Stripe's Account object for `account` (what the sandbox reports).
pub fn account_json(account: &ProcessorAccount) -> Value {
    let r = &account.reported;
    json!({
        "id": account.id,
        "object": "account",
        "type": "express",
        "charges_enabled": r.charges_enabled,
        "payouts_enabled": r.payouts_enabled,
        "details_submitted": r.details_submitted,
        "requirements": {"currently_due": r.currently_due, "disabled_reason": r.disabled_reason},
        "metadata": account.metadata,
    })
}

/// The event Stripe would send about `account` now.
pub fn account_event(event_id: &str, account: &ProcessorAccount) -> Vec<u8> {
    event(event_id, "account.updated", account_json(account))
}

/// The event Stripe would send about `dispute` (`created`,
/// `funds_withdrawn`, `funds_reinstated`, `closed`).
pub fn dispute_event(event_id: &str, happened: &str, dispute: &ProcessorDispute) -> Vec<u8> {
    let object = json!({
        "id": dispute.id,
        "object": "dispute",
        "amount": dispute.amount_minor,
        "currency": dispute.currency.to_lowercase(),
        "payment_intent": dispute.payment_id,
        "status": dispute.status,
        "reason": dispute.reason,
    });
    event(event_id, &format!("charge.dispute.{happened}"), object)
}

/// The event Stripe would send about `refund` now.
pub fn refund_event(event_id: &str, refund: &ProcessorRefund) -> Vec<u8> {
    let status = match refund.status {
        RefundStatus::Pending => "pending",
        RefundStatus::Succeeded => "succeeded",
        RefundStatus::Failed => "failed",
    };
    let object = json!({
        "id": refund.id,
        "object": "refund",
        "status": status,
        "amount": refund.amount_minor,
        "payment_intent": refund.payment_id,
        "metadata": refund.metadata,
    });
    event(event_id, "refund.updated", object)
}

fn event(event_id: &str, kind: &str, object: Value) -> Vec<u8> {
    json!({"id": event_id, "object": "event", "type": kind, "data": {"object": object}})
        .to_string()
        .into_bytes()
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
        Event::Payment {
            id,
            status,
            metadata: metadata(object),
        }
    } else if kind.starts_with("refund.") || kind == "charge.refund.updated" {
        let id = text(object, "id").ok_or_else(|| malformed("names no refund"))?;
        let status = text(object, "status")
            .as_deref()
            .and_then(refund_status_of)
            .ok_or_else(|| malformed("has no known refund status"))?;
        Event::Refund {
            id,
            status,
            metadata: metadata(object),
        }
    } else if kind.starts_with("charge.dispute.") {
        Event::Dispute {
            id: text(object, "id").ok_or_else(|| malformed("names no dispute"))?,
            payment_id: text(object, "payment_intent").unwrap_or_default(),
        }
    } else if kind == "account.updated" {
        Event::Account(account_of(object).ok_or_else(|| malformed("names no account"))?)
    } else {
        Event::Other
    };
    Ok(Webhook { event_id, event })
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
