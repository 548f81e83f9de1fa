//! Charges, refunds and the sandbox.

use super::*;
use actors::payments::charge::ChargeLine;
use actors::payments::minor;
use actors::payments::ports::RefundStatus;
use actors::payments::record::Charge;
use actors::payments::refund::RefundRecord;
use actors::payments::service::{ChargeRequest, RefundRequest};

#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct ChargeLineDto {
    pub line_id: String,
    pub quantity: u64,
}

impl From<ChargeLineDto> for ChargeLine {
    fn from(l: ChargeLineDto) -> Self {
        ChargeLine {
            line_id: l.line_id,
            quantity: l.quantity,
        }
    }
}

impl From<&ChargeLine> for ChargeLineDto {
    fn from(l: &ChargeLine) -> Self {
        ChargeLineDto {
            line_id: l.line_id.clone(),
            quantity: l.quantity,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChargeRequest {
    /// Default: every unit not yet paid nor in a live charge.
    pub lines: Option<Vec<ChargeLineDto>>,
    /// A processor's payment method id (`pm_card_visa` …); raw card numbers
    /// only with the sandbox.
    pub payment_method: String,
    /// Default: `[payments] default_processor`.
    pub processor: Option<String>,
    /// Where the buyer returns after authenticating.
    pub return_url: Option<String>,
}

impl From<CreateChargeRequest> for ChargeRequest {
    fn from(r: CreateChargeRequest) -> Self {
        ChargeRequest {
            lines: r.lines.map(|ls| ls.into_iter().map(Into::into).collect()),
            payment_method: r.payment_method,
            processor: r.processor,
            return_url: r.return_url,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClientAction {
    /// `redirect`: send the buyer to `url` to authenticate.
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct FailureDto {
    /// The processor's decline code, e.g. `card_declined`.
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct AutoRefundDto {
    pub reason: String,
    pub amount: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChargeResponse {
    pub id: String,
    pub order_id: String,
    /// `requires_action`, `processing`, `authorized`, `succeeded`,
    /// `failed`, `canceled`, or `disputed` while a dispute is open.
    pub status: String,
    pub amount: String,
    pub currency: String,
    pub lines: Vec<ChargeLineDto>,
    pub processor: String,
    pub processor_payment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_action: Option<ClientAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureDto>,
    /// A success the order could not take (its reservation ended), given back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<AutoRefundDto>,
    /// Why an authorization was voided (`canceled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub void_reason: Option<String>,
    /// Until when an authorization waits for its capture (a shipment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_before: Option<String>,
    /// Disputes of the payment by the buyer's bank.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disputes: Vec<DisputeDto>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeDto {
    pub id: String,
    pub amount: String,
    pub currency: String,
    /// The processor's: `needs_response`, `under_review`, `won`, `lost`…
    pub status: String,
    pub reason: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
}

impl ChargeResponse {
    /// With the charge's disputes: `disputed` while one is open.
    pub fn with_disputes(mut self, disputes: &actors::payments::dispute::ChargeDisputes) -> Self {
        if disputes.open() {
            self.status = "disputed".into();
        }
        self.disputes = disputes
            .disputes
            .iter()
            .map(|d| DisputeDto {
                id: d.dispute.id.clone(),
                amount: money(d.dispute.amount_minor, &d.dispute.currency),
                currency: d.dispute.currency.clone(),
                status: d.dispute.status.clone(),
                reason: d.dispute.reason.clone(),
                opened_at: rfc3339(d.opened_at),
                closed_at: d.closed_at.map(rfc3339),
            })
            .collect();
        self
    }
}

pub fn refund_status(status: RefundStatus) -> String {
    match status {
        RefundStatus::Pending => "pending",
        RefundStatus::Succeeded => "succeeded",
        RefundStatus::Failed => "failed",
    }
    .to_string()
}

impl From<&Charge> for ChargeResponse {
    fn from(c: &Charge) -> Self {
        let currency = &c.intent.currency;
        ChargeResponse {
            id: c.intent.charge_id.clone(),
            order_id: c.intent.order_id.clone(),
            status: c.status.as_str().to_string(),
            amount: c.intent.amount.clone(),
            currency: currency.clone(),
            lines: c.intent.lines.iter().map(Into::into).collect(),
            processor: c.intent.processor.clone(),
            processor_payment_id: c.processor_payment_id.clone(),
            client_action: c.redirect_url.as_ref().map(|url| ClientAction {
                kind: "redirect".into(),
                url: url.clone(),
            }),
            failure: c.failure.as_ref().map(|f| FailureDto {
                code: f.code.clone(),
                message: f.message.clone(),
            }),
            refund: c.auto_refund.as_ref().map(|a| AutoRefundDto {
                reason: a.reason.clone(),
                amount: minor::from_minor(a.amount_minor, currency).to_string(),
                status: refund_status(a.refund.as_ref().map_or(RefundStatus::Pending, |r| r.status)),
            }),
            void_reason: c.void_reason.clone(),
            capture_before: (c.status == actors::payments::model::ChargeStatus::Authorized)
                .then(|| rfc3339(c.authorization_until)),
            disputes: Vec::new(),
            created_at: rfc3339(c.intent.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChargeList {
    pub items: Vec<ChargeResponse>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthenticateRequest {
    pub succeed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxPaymentDto {
    pub id: String,
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxCountDto {
    /// Payments the sandbox created under the charge's idempotency key.
    pub created: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundRequest {
    pub order_id: String,
    pub lines: Vec<ChargeLineDto>,
    pub reason: String,
}

impl From<CreateRefundRequest> for RefundRequest {
    fn from(r: CreateRefundRequest) -> Self {
        RefundRequest {
            order_id: r.order_id,
            lines: r.lines.into_iter().map(Into::into).collect(),
            reason: r.reason,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RefundChargeDto {
    pub charge_id: String,
    pub amount: String,
}

#[derive(Serialize, ToSchema)]
pub struct RefundResponse {
    pub id: String,
    pub order_id: String,
    pub store_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub amount: String,
    pub currency: String,
    pub lines: Vec<ChargeLineDto>,
    pub charges: Vec<RefundChargeDto>,
    pub reason: String,
    pub created_at: String,
}

impl TryFrom<&RefundRecord> for RefundResponse {
    type Error = actors::Error;
    fn try_from(r: &RefundRecord) -> Result<Self, actors::Error> {
        let claim = &r.claim;
        let amount = actors::orders::model::sum(claim.parts.iter().map(|(_, _, a)| a.as_str()), &claim.currency)?;
        Ok(RefundResponse {
            id: claim.refund_id.clone(),
            order_id: r.order_id.clone(),
            store_id: claim.store_id.clone(),
            status: refund_status(r.status()),
            amount,
            currency: claim.currency.clone(),
            lines: claim.lines.iter().map(Into::into).collect(),
            charges: claim
                .parts
                .iter()
                .map(|(charge_id, _, amount)| RefundChargeDto {
                    charge_id: charge_id.clone(),
                    amount: amount.clone(),
                })
                .collect(),
            reason: claim.reason.clone(),
            created_at: rfc3339(claim.created_at),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct RefundList {
    pub items: Vec<RefundResponse>,
}
