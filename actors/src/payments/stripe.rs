//! The Stripe adapter: PaymentIntents (created with `confirm=true`, a
//! `capture_method` and our ids in `metadata`), `/capture`, `/cancel`, and
//! Refunds, over Stripe's HTTP API — form-encoded bodies, the secret key as
//! a Bearer token, an `Idempotency-Key` on every POST. Stripe's status names
//! map to ours by `events.rs`'s one table. Errors: a card error (402) fails
//! the charge with its decline code; 409, 429, 5xx, 401/403 and anything
//! that did not answer leave the outcome unknown (the caller sends the same
//! request again, with the same key); other refusals are final. Raw card
//! numbers are never sent: only payment method ids.

use super::events::{metadata, refund_status_of, status_of};
use super::ports::*;
use super::processors::Secret;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone)]
pub struct Stripe {
    client: reqwest::Client,
    base_url: String,
    key: Secret,
}

fn unknown(why: impl Into<String>) -> ProcessorError {
    ProcessorError::Unknown(why.into())
}

fn refused(code: &str, message: impl Into<String>) -> ProcessorError {
    ProcessorError::Refused {
        code: code.into(),
        message: message.into(),
    }
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_string)
}

/// A PaymentIntent as ours.
pub fn payment_of(v: &Value) -> Result<ProcessorPayment, ProcessorError> {
    let id = text(v, "id").ok_or_else(|| unknown("a payment intent without an id"))?;
    let stripe_status = text(v, "status").unwrap_or_default();
    let status = status_of(&stripe_status).ok_or_else(|| unknown(format!("unknown status {stripe_status:?}")))?;
    let amount_minor = v.get("amount").and_then(Value::as_i64).unwrap_or(0);
    let captured_minor = v.get("amount_received").and_then(Value::as_i64).unwrap_or(
        if status == super::model::ChargeStatus::Succeeded {
            amount_minor
        } else {
            0
        },
    );
    let redirect_url = v
        .get("next_action")
        .and_then(|a| a.get("redirect_to_url"))
        .and_then(|r| text(r, "url"));
    let decline = v.get("last_payment_error").filter(|e| e.is_object()).map(|e| Decline {
        code: text(e, "decline_code")
            .or_else(|| text(e, "code"))
            .unwrap_or_else(|| "payment_failed".into()),
        message: text(e, "message").unwrap_or_default(),
    });
    Ok(ProcessorPayment {
        id,
        status,
        amount_minor,
        captured_minor,
        currency: text(v, "currency").unwrap_or_default().to_uppercase(),
        redirect_url,
        decline: (status == super::model::ChargeStatus::Failed)
            .then_some(decline)
            .flatten(),
        metadata: metadata(v),
    })
}

/// A Refund as ours.
pub fn refund_of(v: &Value) -> Result<ProcessorRefund, ProcessorError> {
    let id = text(v, "id").ok_or_else(|| unknown("a refund without an id"))?;
    let stripe_status = text(v, "status").unwrap_or_default();
    Ok(ProcessorRefund {
        id,
        payment_id: text(v, "payment_intent").unwrap_or_default(),
        amount_minor: v.get("amount").and_then(Value::as_i64).unwrap_or(0),
        status: refund_status_of(&stripe_status)
            .ok_or_else(|| unknown(format!("unknown refund status {stripe_status:?}")))?,
        metadata: metadata(v),
    })
}

/// What an answer that is not a success means.
pub fn error_of(status: u16, body: &Value) -> ProcessorError {
    let error = body.get("error").cloned().unwrap_or(Value::Null);
    let kind = text(&error, "type").unwrap_or_default();
    let message = text(&error, "message").unwrap_or_else(|| format!("Stripe answered {status}"));
    match status {
        402 => refused(
            &text(&error, "decline_code")
                .or_else(|| text(&error, "code"))
                .unwrap_or_else(|| "card_declined".into()),
            message,
        ),
        _ if kind == "idempotency_error" => refused("idempotency_error", message),
        401 | 403 | 409 | 429 => unknown(format!("Stripe answered {status}: {message}")),
        s if s >= 500 => unknown(format!("Stripe answered {status}: {message}")),
        _ => refused(
            &text(&error, "code").unwrap_or_else(|| "invalid_request".into()),
            message,
        ),
    }
}

impl Stripe {
    pub fn new(base_url: &str, key: Secret) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
        }
    }

    async fn answer(request: reqwest::RequestBuilder) -> Result<Value, ProcessorError> {
        let response = request
            .send()
            .await
            .map_err(|e| unknown(format!("Stripe did not answer: {e}")))?;
        let status = response.status().as_u16();
        let body: Value = response
            .json()
            .await
            .map_err(|e| unknown(format!("Stripe's answer did not read: {e}")))?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(error_of(status, &body))
        }
    }

    async fn post(&self, path: &str, form: Vec<(String, String)>, key: &str) -> Result<Value, ProcessorError> {
        let request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(self.key.expose())
            .header("Idempotency-Key", key)
            .form(&form);
        Self::answer(request).await
    }

    async fn get_json(&self, path: &str) -> Result<Value, ProcessorError> {
        let request = self
            .client
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(self.key.expose());
        Self::answer(request).await
    }
}

fn with_metadata(mut form: Vec<(String, String)>, metadata: &BTreeMap<String, String>) -> Vec<(String, String)> {
    form.extend(metadata.iter().map(|(k, v)| (format!("metadata[{k}]"), v.clone())));
    form
}

/// A path segment as sent (Stripe's ids are `[A-Za-z0-9_]`).
fn segment(id: &str) -> Result<&str, ProcessorError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(id)
    } else {
        Err(refused("resource_missing", "not a Stripe id"))
    }
}

impl PaymentProcessor for Stripe {
    fn create(&self, payment: CreatePayment) -> Answer<ProcessorPayment> {
        let this = self.clone();
        Box::pin(async move {
            if super::ports::is_card_number(&payment.payment_method) {
                return Err(refused(
                    "raw_card_refused",
                    "send a payment method id, never a card number",
                ));
            }
            let capture = match payment.capture {
                CaptureMode::Automatic => "automatic",
                CaptureMode::Manual => "manual",
            };
            let form = vec![
                ("amount".to_string(), payment.amount_minor.to_string()),
                ("currency".to_string(), payment.currency.to_lowercase()),
                ("payment_method".to_string(), payment.payment_method.clone()),
                ("confirm".to_string(), "true".to_string()),
                ("capture_method".to_string(), capture.to_string()),
            ];
            let form = with_metadata(form, &payment.metadata);
            let created = this.post("/v1/payment_intents", form, &payment.idempotency_key).await?;
            payment_of(&created)
        })
    }

    fn get(&self, payment_id: &str) -> Answer<ProcessorPayment> {
        let this = self.clone();
        let id = payment_id.to_string();
        Box::pin(async move { payment_of(&this.get_json(&format!("/v1/payment_intents/{}", segment(&id)?)).await?) })
    }

    fn capture(&self, payment_id: &str, amount_minor: Option<i64>, idempotency_key: &str) -> Answer<ProcessorPayment> {
        let this = self.clone();
        let (id, key) = (payment_id.to_string(), idempotency_key.to_string());
        Box::pin(async move {
            let form = amount_minor
                .map(|a| vec![("amount_to_capture".to_string(), a.to_string())])
                .unwrap_or_default();
            let path = format!("/v1/payment_intents/{}/capture", segment(&id)?);
            payment_of(&this.post(&path, form, &key).await?)
        })
    }

    fn cancel(&self, payment_id: &str, idempotency_key: &str) -> Answer<ProcessorPayment> {
        let this = self.clone();
        let (id, key) = (payment_id.to_string(), idempotency_key.to_string());
        Box::pin(async move {
            let path = format!("/v1/payment_intents/{}/cancel", segment(&id)?);
            payment_of(&this.post(&path, Vec::new(), &key).await?)
        })
    }

    fn refund(&self, refund: CreateRefund) -> Answer<ProcessorRefund> {
        let this = self.clone();
        Box::pin(async move {
            let form = vec![
                ("payment_intent".to_string(), refund.payment_id.clone()),
                ("amount".to_string(), refund.amount_minor.to_string()),
            ];
            let form = with_metadata(form, &refund.metadata);
            refund_of(&this.post("/v1/refunds", form, &refund.idempotency_key).await?)
        })
    }

    fn get_refund(&self, refund_id: &str) -> Answer<ProcessorRefund> {
        let this = self.clone();
        let id = refund_id.to_string();
        Box::pin(async move { refund_of(&this.get_json(&format!("/v1/refunds/{}", segment(&id)?)).await?) })
    }
}

#[cfg(test)]
#[path = "stripe_tests.rs"]
mod tests;
