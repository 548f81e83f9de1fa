//! The signed-in user's cart over HTTP. HTTP mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/v1/cart", tag = "orders", security(("bearer" = ["cart:use"])),
    responses((status = 200, body = CartResponse)))]
pub async fn get(State(s): State<EdgeState>, caller: Caller) -> ApiResult<Json<CartResponse>> {
    Ok(Json(s.domains.carts.show(&caller.0.sub).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/cart/items", tag = "orders", security(("bearer" = ["cart:use"])), request_body = LineRequest,
    responses((status = 200, body = CartResponse),
              (status = 422, description = "unknown product or store, no valid offer, attribute values the product lacks, more than 50 lines", body = ErrorBody)))]
pub async fn put_item(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<LineRequest>,
) -> ApiResult<Json<CartResponse>> {
    Ok(Json(s.domains.carts.set(&caller.0.sub, r.into()).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/cart/items/{line_id}", tag = "orders", security(("bearer" = ["cart:use"])),
    responses((status = 200, body = CartResponse), (status = 404, body = ErrorBody)))]
pub async fn delete_item(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(line_id): ApiPath<String>,
) -> ApiResult<Json<CartResponse>> {
    Ok(Json(s.domains.carts.remove(&caller.0.sub, &line_id).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/cart", tag = "orders", security(("bearer" = ["cart:use"])),
    responses((status = 204, description = "emptied")))]
pub async fn clear(State(s): State<EdgeState>, caller: Caller) -> ApiResult<StatusCode> {
    s.domains.carts.clear(&caller.0.sub).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(get, clear))
        .routes(routes!(put_item))
        .routes(routes!(delete_item))
}
