//! Merchant accounts, payouts and their schedule, and the sandbox's
//! connected accounts over HTTP. HTTP mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::orders::idempotency_key;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn admin(caller: &Caller) -> bool {
    caller.0.has("payment:admin")
}

#[utoipa::path(put, path = "/api/v1/stores/{id}/payment-account", tag = "payments", security(("bearer" = [])), request_body = PaymentAccountRequest,
    responses((status = 200, description = "the store's one account at the processor (reused when asked again), with a fresh onboarding link while it is not active and its link is missing or expired", body = PaymentAccountDto),
              (status = 403, description = "not the store's supervisor", body = ErrorBody),
              (status = 409, description = "payment_account_exists: the store has an account at another processor", body = ErrorBody),
              (status = 422, description = "the store is not active or lacks an e-mail or address (each named), or a bad URL or processor", body = ErrorBody)))]
pub async fn put_account(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<PaymentAccountRequest>,
) -> ApiResult<Json<PaymentAccountDto>> {
    let account = s
        .domains
        .payments
        .onboard(
            &caller.0.sub,
            admin(&caller),
            &id,
            r.processor,
            &r.return_url,
            &r.refresh_url,
        )
        .await?;
    Ok(Json((&account).into()))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/payment-account", tag = "payments", security(("bearer" = [])),
    responses((status = 200, description = "the account, refreshed from its processor", body = PaymentAccountDto),
              (status = 403, description = "not the store's supervisor", body = ErrorBody),
              (status = 404, description = "the store has no account yet", body = ErrorBody)))]
pub async fn get_account(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PaymentAccountDto>> {
    let account = s
        .domains
        .payments
        .payment_account(&caller.0.sub, admin(&caller), &id)
        .await?;
    Ok(Json((&account).into()))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/payouts", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required; the same key answers the same payout")),
    responses((status = 201, description = "everything payable now, one transfer per charge (`in_progress` if the transfers take longer than a few seconds: they go on)", body = PayoutDto),
              (status = 403, description = "not the store's supervisor", body = ErrorBody),
              (status = 409, description = "nothing_payable, payouts_disabled (no active account) or payout_in_progress", body = ErrorBody)))]
pub async fn payout(
    State(s): State<EdgeState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<PayoutDto>)> {
    let key = idempotency_key(&headers)?;
    let payout = s
        .domains
        .payments
        .payout(&caller.0.sub, admin(&caller), &id, &key)
        .await?;
    Ok((StatusCode::CREATED, Json((&payout).into())))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/payouts", tag = "payments", security(("bearer" = [])), params(PayoutQuery),
    responses((status = 200, description = "the store's payouts, oldest first, each with its statement; the store's debt and schedule", body = PayoutList),
              (status = 403, description = "not the store's supervisor", body = ErrorBody)))]
pub async fn payouts(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PayoutQuery>,
) -> ApiResult<Json<PayoutList>> {
    let after = match q.after.as_deref() {
        None => 0,
        Some(text) => text
            .parse()
            .map_err(|_| actors::Error::invalid("after", "not a cursor from this list"))?,
    };
    let limit = q.limit.unwrap_or(20);
    let (funds, items) = s
        .domains
        .payments
        .payouts(&caller.0.sub, admin(&caller), &id, after, limit)
        .await?;
    let full = items.len() >= limit.clamp(1, 100);
    Ok(Json(PayoutList {
        next_cursor: items.last().filter(|_| full).map(|p| p.seq.to_string()),
        items: items.iter().map(Into::into).collect(),
        debt: funds
            .debt
            .iter()
            .map(|(currency, owed)| AmountDto {
                currency: currency.clone(),
                amount: actors::payments::minor::from_minor(*owed, currency).to_string(),
            })
            .collect(),
        schedule: (&funds).into(),
    }))
}

#[utoipa::path(put, path = "/api/v1/stores/{id}/payout-schedule", tag = "payments", security(("bearer" = [])), request_body = PayoutScheduleRequest,
    responses((status = 200, description = "the schedule; the first scheduled payout one period from now", body = PayoutScheduleDto),
              (status = 403, description = "not the store's supervisor", body = ErrorBody),
              (status = 422, description = "every is not daily, weekly or manual", body = ErrorBody)))]
pub async fn put_schedule(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<PayoutScheduleRequest>,
) -> ApiResult<Json<PayoutScheduleDto>> {
    let funds = s
        .domains
        .payments
        .set_payout_schedule(&caller.0.sub, admin(&caller), &id, &r.every)
        .await?;
    Ok(Json((&funds).into()))
}

#[utoipa::path(post, path = "/api/v1/payments/sandbox/accounts/{account_id}/complete", tag = "payments", security(()),
    responses((status = 200, description = "the sandbox's store finished onboarding: charges and payouts enabled (the platform learns by webhook, or at the next GET)", body = SandboxAccountDto),
              (status = 404, description = "no sandbox, or no such account", body = ErrorBody)))]
pub async fn sandbox_complete(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SandboxAccountDto>> {
    let account = s.domains.payments.sandbox_complete(&id).await?;
    Ok(Json(SandboxAccountDto::of(&account, &[])))
}

#[utoipa::path(get, path = "/api/v1/payments/sandbox/accounts/{account_id}", tag = "payments", security(("bearer" = ["payment:admin"])), params(PayoutQuery),
    responses((status = 200, description = "the sandbox's connected account: balances and a page of its transfers (after the transfer id `after`)", body = SandboxAccountDto),
              (status = 404, description = "no sandbox, or no such account", body = ErrorBody)))]
pub async fn sandbox_account(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PayoutQuery>,
) -> ApiResult<Json<SandboxAccountDto>> {
    let (account, transfers) = s
        .domains
        .payments
        .sandbox_account(&id, q.after, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(SandboxAccountDto::of(&account, &transfers)))
}

#[utoipa::path(post, path = "/api/v1/payments/sandbox/accounts/{account_id}/withdraw", tag = "payments", security(("bearer" = ["payment:admin"])), request_body = SandboxWithdrawRequest,
    responses((status = 200, description = "the store paid part of its balance to its bank (so a later reversal may find it short)", body = SandboxAccountDto),
              (status = 409, description = "balance_insufficient", body = ErrorBody),
              (status = 404, description = "no sandbox, or no such account", body = ErrorBody)))]
pub async fn sandbox_withdraw(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<SandboxWithdrawRequest>,
) -> ApiResult<Json<SandboxAccountDto>> {
    use actors::shared::money::{Currency, Money};
    let currency = Currency::parse(&r.currency).map_err(|why| actors::Error::invalid("currency", why))?;
    let amount = Money::price(&r.amount, currency).map_err(|why| actors::Error::invalid("amount", why))?;
    let minor = actors::payments::minor::to_minor(amount.amount(), currency.code())?;
    let account = s.domains.payments.sandbox_withdraw(&id, currency.code(), minor).await?;
    Ok(Json(SandboxAccountDto::of(&account, &[])))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/disputes", tag = "payments", security(("bearer" = [])), params(PayoutQuery),
    responses((status = 200, description = "disputes of the store's charges, with its part of each (staff)", body = StoreDisputeList),
              (status = 403, description = "not staff of the store", body = ErrorBody)))]
pub async fn store_disputes(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PayoutQuery>,
) -> ApiResult<Json<StoreDisputeList>> {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let items = s
        .domains
        .payments
        .store_disputes(
            &caller.0.sub,
            admin(&caller),
            &id,
            q.after.as_deref().unwrap_or(""),
            limit,
        )
        .await?;
    Ok(Json(StoreDisputeList {
        next_cursor: items
            .last()
            .filter(|_| items.len() >= limit)
            .map(|d| d.dispute_id.clone()),
        items: items.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/payments/sandbox/disputes", tag = "payments", security(("bearer" = ["payment:admin"])), request_body = SandboxDisputeRequest,
    responses((status = 201, description = "the buyer's bank disputes a succeeded sandbox payment (its funds withdrawn); the platform learns by webhook", body = SandboxDisputeDto),
              (status = 404, description = "no sandbox, or no such payment", body = ErrorBody),
              (status = 409, description = "the payment did not succeed", body = ErrorBody),
              (status = 422, description = "an amount above what is left of the payment", body = ErrorBody)))]
pub async fn sandbox_dispute(
    State(s): State<EdgeState>,
    ApiJson(r): ApiJson<SandboxDisputeRequest>,
) -> ApiResult<(StatusCode, Json<SandboxDisputeDto>)> {
    let dispute = s
        .domains
        .payments
        .sandbox_dispute(&r.processor_payment_id, &r.amount)
        .await?;
    Ok((StatusCode::CREATED, Json((&dispute).into())))
}

#[utoipa::path(post, path = "/api/v1/payments/sandbox/disputes/{dispute_id}/close", tag = "payments", security(("bearer" = ["payment:admin"])), request_body = SandboxCloseDisputeRequest,
    responses((status = 200, description = "the sandbox decides the dispute: won (funds reinstated) or lost", body = SandboxDisputeDto),
              (status = 404, description = "no sandbox, or no such dispute", body = ErrorBody),
              (status = 409, description = "dispute_closed", body = ErrorBody)))]
pub async fn sandbox_close_dispute(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<SandboxCloseDisputeRequest>,
) -> ApiResult<Json<SandboxDisputeDto>> {
    let dispute = s.domains.payments.sandbox_close_dispute(&id, r.won).await?;
    Ok(Json((&dispute).into()))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/sales", tag = "payments", security(("bearer" = [])), params(SalesQuery),
    responses((status = 200, description = "per product and currency: units sold and refunded, gross, refunded, fees, net and paid out, of the charges captured in the days given (staff)", body = SalesReport),
              (status = 403, description = "not staff of the store", body = ErrorBody),
              (status = 422, description = "a date that is not YYYY-MM-DD, or to before from", body = ErrorBody)))]
pub async fn sales(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SalesQuery>,
) -> ApiResult<Json<SalesReport>> {
    let rows = s
        .domains
        .payments
        .store_sales(&caller.0.sub, admin(&caller), &id, q.from.as_deref(), q.to.as_deref())
        .await?;
    Ok(Json(SalesReport {
        items: rows.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/payments/reconciliation", tag = "payments", security(("bearer" = ["payment:admin"])), params(ReconciliationQuery),
    responses((status = 200, description = "every charge, refund and transfer of the day, ours against what the processor reports: totals, mismatches, and what is stuck in a non-final state (reading changes nothing)", body = ReconciliationDto),
              (status = 422, description = "a date that is not YYYY-MM-DD", body = ErrorBody)))]
pub async fn reconciliation(
    State(s): State<EdgeState>,
    ApiQuery(q): ApiQuery<ReconciliationQuery>,
) -> ApiResult<Json<ReconciliationDto>> {
    let report = s.domains.payments.reconciliation(&q.date).await?;
    Ok(Json(ReconciliationDto::of(&q.date, &report)))
}

pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(put_account, get_account))
        .routes(routes!(payout, payouts))
        .routes(routes!(put_schedule))
        .routes(routes!(sandbox_complete))
        .routes(routes!(sandbox_account))
        .routes(routes!(sandbox_withdraw))
        .routes(routes!(store_disputes))
        .routes(routes!(sales))
        .routes(routes!(reconciliation))
        .routes(routes!(sandbox_dispute))
        .routes(routes!(sandbox_close_dispute))
}
