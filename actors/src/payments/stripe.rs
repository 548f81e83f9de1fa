//! The Stripe adapter: PaymentIntents (created with `confirm=true`, a
//! `capture_method` and our ids in `metadata`), `/capture`, `/cancel`, and
//! Refunds, over Stripe's HTTP API — form-encoded bodies, the secret key as
//! a Bearer token, an `Idempotency-Key` on every POST. Stripe's status names
//! map to ours by `events.rs`'s one table. Errors: a card error (402) fails
//! the charge with its decline code; 409, 429, 5xx, 401/403 and anything
//! that did not answer leave the outcome unknown (the caller sends the same
//! request again, with the same key); other refusals are final. Raw card
//! numbers are never sent: only payment method ids.

use super::events::{account_of, metadata, refund_status_of, status_of};
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

/// A Transfer as ours.
pub fn transfer_of(v: &Value) -> Result<ProcessorTransfer, ProcessorError> {
    Ok(ProcessorTransfer {
        id: text(v, "id").ok_or_else(|| unknown("a transfer without an id"))?,
        account_id: text(v, "destination").unwrap_or_default(),
        amount_minor: v.get("amount").and_then(Value::as_i64).unwrap_or(0),
        currency: text(v, "currency").unwrap_or_default().to_uppercase(),
        reversed_minor: v.get("amount_reversed").and_then(Value::as_i64).unwrap_or(0),
    })
}

/// A TransferReversal as ours.
pub fn reversal_of(v: &Value) -> Result<ProcessorReversal, ProcessorError> {
    Ok(ProcessorReversal {
        id: text(v, "id").ok_or_else(|| unknown("a reversal without an id"))?,
        transfer_id: text(v, "transfer").unwrap_or_default(),
        amount_minor: v.get("amount").and_then(Value::as_i64).unwrap_or(0),
    })
}

/// A Dispute as ours.
pub fn dispute_of(v: &Value) -> Result<ProcessorDispute, ProcessorError> {
    Ok(ProcessorDispute {
        id: text(v, "id").ok_or_else(|| unknown("a dispute without an id"))?,
        payment_id: text(v, "payment_intent").unwrap_or_default(),
        amount_minor: v.get("amount").and_then(Value::as_i64).unwrap_or(0),
        currency: text(v, "currency").unwrap_or_default().to_uppercase(),
        status: text(v, "status").unwrap_or_default(),
        reason: text(v, "reason").unwrap_or_default(),
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

    fn create_account(&self, account: CreateAccount) -> Answer<ProcessorAccount> {
        let this = self.clone();
        Box::pin(async move {
            let form = vec![
                ("type".to_string(), "express".to_string()),
                ("email".to_string(), account.email.clone()),
                ("capabilities[transfers][requested]".to_string(), "true".to_string()),
                ("metadata[store_id]".to_string(), account.store_id.clone()),
            ];
            let created = this.post("/v1/accounts", form, &account.idempotency_key).await?;
            account_of(&created).ok_or_else(|| unknown("an account without an id"))
        })
    }

    fn get_account(&self, account_id: &str) -> Answer<ProcessorAccount> {
        let this = self.clone();
        let id = account_id.to_string();
        Box::pin(async move {
            let read = this.get_json(&format!("/v1/accounts/{}", segment(&id)?)).await?;
            account_of(&read).ok_or_else(|| unknown("an account without an id"))
        })
    }

    fn account_link(&self, account_id: &str, return_url: &str, refresh_url: &str) -> Answer<AccountLink> {
        let this = self.clone();
        let form = vec![
            ("account".to_string(), account_id.to_string()),
            ("refresh_url".to_string(), refresh_url.to_string()),
            ("return_url".to_string(), return_url.to_string()),
            ("type".to_string(), "account_onboarding".to_string()),
        ];
        // Every link is new: its key only guards this one request.
        let key = format!("link:{account_id}:{}", super::processors::random_secret());
        Box::pin(async move {
            let link = this.post("/v1/account_links", form, &key).await?;
            Ok(AccountLink {
                url: text(&link, "url").ok_or_else(|| unknown("an account link without a url"))?,
                expires_at: link.get("expires_at").and_then(Value::as_i64).unwrap_or(0),
            })
        })
    }

    fn transfer(&self, transfer: CreateTransfer) -> Answer<ProcessorTransfer> {
        let this = self.clone();
        Box::pin(async move {
            let mut form = vec![
                ("amount".to_string(), transfer.amount_minor.to_string()),
                ("currency".to_string(), transfer.currency.to_lowercase()),
                ("destination".to_string(), transfer.account_id.clone()),
                ("transfer_group".to_string(), transfer.transfer_group.clone()),
            ];
            // `source_transaction` names a charge (`ch_…`): a payment
            // intent's is its latest charge.
            if let Some(payment) = &transfer.source_payment_id {
                let source = match payment.starts_with("pi_") {
                    true => {
                        let intent = this
                            .get_json(&format!("/v1/payment_intents/{}", segment(payment)?))
                            .await?;
                        text(&intent, "latest_charge")
                    }
                    false => Some(payment.clone()),
                };
                if let Some(source) = source {
                    form.push(("source_transaction".to_string(), source));
                }
            }
            let form = with_metadata(form, &transfer.metadata);
            transfer_of(&this.post("/v1/transfers", form, &transfer.idempotency_key).await?)
        })
    }

    fn reverse(&self, reversal: CreateReversal) -> Answer<ProcessorReversal> {
        let this = self.clone();
        Box::pin(async move {
            let path = format!("/v1/transfers/{}/reversals", segment(&reversal.transfer_id)?);
            let form = vec![("amount".to_string(), reversal.amount_minor.to_string())];
            reversal_of(&this.post(&path, form, &reversal.idempotency_key).await?)
        })
    }

    fn get_transfer(&self, transfer_id: &str) -> Answer<ProcessorTransfer> {
        let this = self.clone();
        let id = transfer_id.to_string();
        Box::pin(async move { transfer_of(&this.get_json(&format!("/v1/transfers/{}", segment(&id)?)).await?) })
    }

    fn get_dispute(&self, dispute_id: &str) -> Answer<ProcessorDispute> {
        let this = self.clone();
        let id = dispute_id.to_string();
        Box::pin(async move { dispute_of(&this.get_json(&format!("/v1/disputes/{}", segment(&id)?)).await?) })
    }

    fn list_disputes(&self, since: i64, page: Option<String>) -> Answer<DisputePage> {
        let this = self.clone();
        Box::pin(async move {
            let mut path = format!("/v1/disputes?limit=100&created%5Bgte%5D={since}");
            if let Some(after) = page {
                path.push_str(&format!("&starting_after={}", segment(&after)?));
            }
            let list = this.get_json(&path).await?;
            let disputes: Vec<ProcessorDispute> = list
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| unknown("a dispute list without data"))?
                .iter()
                .map(dispute_of)
                .collect::<Result<_, _>>()?;
            let more = list.get("has_more").and_then(Value::as_bool).unwrap_or(false);
            Ok(DisputePage {
                next: disputes.last().filter(|_| more).map(|d| d.id.clone()),
                disputes,
            })
        })
    }
}

#[cfg(test)]
#[path = "stripe_tests.rs"]
mod tests;
