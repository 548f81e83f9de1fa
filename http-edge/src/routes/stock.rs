//! Stock and product policies over HTTP (store staff). HTTP mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::offers::time;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(put, path = "/api/v1/stores/{id}/stock/{product_id}", tag = "storefront", security(("bearer" = [])), request_body = StockRequest,
    responses((status = 200, body = StockResponse), (status = 403, description = "not_staff", body = ErrorBody),
              (status = 409, description = "below_reserved: removing units that are reserved", body = ErrorBody),
              (status = 422, description = "adjust 0, an expiry in the past, or an unknown product", body = ErrorBody)))]
pub async fn adjust(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, product_id)): ApiPath<(String, String)>,
    ApiJson(r): ApiJson<StockRequest>,
) -> ApiResult<Json<StockResponse>> {
    let expires_at = time("expires_at", &r.expires_at)?;
    let reply = s
        .domains
        .inventory
        .adjust(&caller.0.sub, &id, &product_id, r.adjust, expires_at)
        .await?;
    Ok(Json(reply.into()))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/stock/{product_id}", tag = "storefront", security(("bearer" = [])),
    responses((status = 200, body = StockResponse), (status = 403, body = ErrorBody)))]
pub async fn get(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, product_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<StockResponse>> {
    Ok(Json(
        s.domains.inventory.stock(&caller.0.sub, &id, &product_id).await?.into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/stores/{id}/policies/{product_id}", tag = "storefront", security(("bearer" = [])), request_body = PolicyDto,
    responses((status = 200, body = StockResponse), (status = 403, body = ErrorBody), (status = 422, description = "names each bad bound", body = ErrorBody)))]
pub async fn policy(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, product_id)): ApiPath<(String, String)>,
    ApiJson(r): ApiJson<PolicyDto>,
) -> ApiResult<Json<StockResponse>> {
    let reply = s
        .domains
        .inventory
        .set_policy(&caller.0.sub, &id, &product_id, r.into())
        .await?;
    Ok(Json(reply.into()))
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(adjust, get))
        .routes(routes!(policy))
}
