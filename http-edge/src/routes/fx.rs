//! Exchange rates over HTTP. HTTP mapping only.

use crate::EdgeState;
use crate::dto::{RatesRequest, RatesResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(put, path = "/api/v1/fx-rates", tag = "storefront", security(("bearer" = ["fx:admin"])), request_body = RatesRequest,
    responses((status = 200, description = "Published; earlier sets stay readable by id", body = RatesResponse),
              (status = 403, description = "needs fx:admin", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(State(s): State<EdgeState>, ApiJson(r): ApiJson<RatesRequest>) -> ApiResult<Json<RatesResponse>> {
    Ok(Json(s.domains.storefront.publish_rates(&r.base, r.rates).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/fx-rates", tag = "storefront", security(()),
    responses((status = 200, description = "The current set", body = RatesResponse), (status = 404, body = ErrorBody)))]
pub async fn current(State(s): State<EdgeState>) -> ApiResult<Json<RatesResponse>> {
    Ok(Json(s.domains.storefront.current_rates().await?.into()))
}

#[utoipa::path(get, path = "/api/v1/fx-rates/{id}", tag = "storefront", security(()),
    responses((status = 200, body = RatesResponse), (status = 404, body = ErrorBody)))]
pub async fn by_id(State(s): State<EdgeState>, ApiPath(id): ApiPath<u64>) -> ApiResult<Json<RatesResponse>> {
    Ok(Json(s.domains.storefront.rates(id).await?.into()))
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(publish, current))
        .routes(routes!(by_id))
}
