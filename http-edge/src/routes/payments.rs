//! Charges, webhooks, refunds and the sandbox over HTTP. HTTP mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::orders::idempotency_key;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The quota `max_charges_per_order` as the caller's token carries it
/// (its default when a token from before it existed carries none).
fn charge_limit(caller: &Caller) -> u64 {
    const NAME: &str = "max_charges_per_order";
    caller.0.quotas.get(NAME).copied().unwrap_or_else(|| {
        actors::identity::model::access::QUOTAS
            .iter()
            .find(|(name, _)| *name == NAME)
            .map_or(0, |(_, default)| *default)
    })
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/charges", tag = "payments", security(("bearer" = [])), request_body = CreateChargeRequest,
    params(("Idempotency-Key" = String, Header, description = "Required; the same key and body answer the same charge")),
    responses((status = 201, body = ChargeResponse),
              (status = 403, description = "quota_exceeded: max_charges_per_order attempts used", body = ErrorBody),
              (status = 409, description = "already_charged, reservation_ending, order_cancelled or order_expired", body = ErrorBody),
              (status = 422, description = "unknown lines or quantities, a raw card number outside the sandbox, or the key reused with another body", body = ErrorBody)))]
pub async fn charge(
    State(s): State<EdgeState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<CreateChargeRequest>,
) -> ApiResult<(StatusCode, Json<ChargeResponse>)> {
    let key = idempotency_key(&headers)?;
    let limit = charge_limit(&caller);
    let charge = s
        .domains
        .payments
        .charge(&caller.0.sub, &id, &key, r.into(), limit)
        .await?;
    Ok((StatusCode::CREATED, Json((&charge).into())))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/charges", tag = "payments", security(("bearer" = [])),
    responses((status = 200, description = "the buyer sees every charge; store staff those paying their lines", body = ChargeList), (status = 404, body = ErrorBody)))]
pub async fn order_charges(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ChargeList>> {
    let charges = s.domains.payments.order_charges(&caller.0.sub, &id).await?;
    Ok(Json(ChargeList {
        items: charges.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/charges/{id}", tag = "payments", security(("bearer" = [])),
    responses((status = 200, description = "for the buyer, staff of a store in it, or payment:admin", body = ChargeResponse), (status = 404, body = ErrorBody)))]
pub async fn get_charge(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ChargeResponse>> {
    let admin = caller.0.has("payment:admin");
    let charge = s.domains.payments.get_charge(&caller.0.sub, admin, &id).await?;
    let disputes = s.domains.payments.charge_disputes(&id).await?;
    Ok(Json(ChargeResponse::from(&charge).with_disputes(&disputes)))
}

#[utoipa::path(post, path = "/api/v1/payments/webhooks/{processor}", tag = "payments", security(()),
    request_body(content = Object, content_type = "application/json", description = "the processor's event (Stripe's format), verified on its raw bytes"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<HMAC-SHA256 hex>")),
    responses((status = 200, description = "applied, or seen before"), (status = 400, description = "malformed_webhook", body = ErrorBody),
              (status = 401, description = "invalid_signature: missing, wrong or older than 300 s", body = ErrorBody),
              (status = 503, description = "the processor could not be asked; send again", body = ErrorBody)))]
pub async fn webhook(
    State(s): State<EdgeState>,
    ApiPath(processor): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    s.domains.payments.webhook(&processor, signature, &body).await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(post, path = "/api/v1/payments/sandbox/authenticate/{processor_payment_id}", tag = "payments", security(()), request_body = AuthenticateRequest,
    responses((status = 200, description = "the buyer authenticated (or failed to); the platform learns by webhook", body = SandboxPaymentDto),
              (status = 404, description = "no sandbox, or no payment waiting", body = ErrorBody)))]
pub async fn sandbox_authenticate(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<AuthenticateRequest>,
) -> ApiResult<Json<SandboxPaymentDto>> {
    let payment = s.domains.payments.sandbox_authenticate(&id, r.succeed).await?;
    Ok(Json(SandboxPaymentDto {
        id: payment.id,
        status: payment.status.as_str().to_string(),
    }))
}

#[utoipa::path(get, path = "/api/v1/payments/sandbox/charges/{id}/created", tag = "payments", security(("bearer" = ["payment:admin"])),
    responses((status = 200, description = "how many payments the sandbox created for the charge (one, however often it was sent)", body = SandboxCountDto),
              (status = 404, description = "no sandbox", body = ErrorBody)))]
pub async fn sandbox_created(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SandboxCountDto>> {
    let created = s.domains.payments.sandbox_created(&id).await?;
    Ok(Json(SandboxCountDto { created }))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/refunds", tag = "payments", security(("bearer" = [])), request_body = CreateRefundRequest,
    params(("Idempotency-Key" = String, Header, description = "Required; the same key and body answer the same refund")),
    responses((status = 201, body = RefundResponse), (status = 403, description = "not staff of the store", body = ErrorBody),
              (status = 409, description = "refund_exceeds_captured", body = ErrorBody),
              (status = 422, description = "lines not of this store, bad quantities or reason", body = ErrorBody)))]
pub async fn refund(
    State(s): State<EdgeState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<CreateRefundRequest>,
) -> ApiResult<(StatusCode, Json<RefundResponse>)> {
    let key = idempotency_key(&headers)?;
    let record = s.domains.payments.refund(&caller.0.sub, &id, &key, r.into()).await?;
    Ok((StatusCode::CREATED, Json((&record).try_into()?)))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/refunds", tag = "payments", security(("bearer" = [])),
    responses((status = 200, description = "the buyer sees every refund; store staff their store's", body = RefundList), (status = 404, body = ErrorBody)))]
pub async fn order_refunds(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RefundList>> {
    let refunds = s.domains.payments.order_refunds(&caller.0.sub, &id).await?;
    Ok(Json(RefundList {
        items: refunds.iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
    }))
}

pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(charge, order_charges))
        .routes(routes!(get_charge))
        .routes(routes!(webhook))
        .routes(routes!(sandbox_authenticate))
        .routes(routes!(sandbox_created))
        .routes(routes!(refund))
        .routes(routes!(order_refunds))
}
