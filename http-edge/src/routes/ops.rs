//! Operations: health, readiness, metrics, the OpenAPI document and JWKS.

use crate::EdgeState;
use crate::dto::{ClusterStatusResponse, OwnerQuery, OwnerResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Caller};
use crate::openapi::ApiDoc;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use utoipa::OpenApi;

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Storage is open and every shard is hosted"), (status = 503, description = "Not ready")))]
pub async fn readyz(State(s): State<EdgeState>) -> impl IntoResponse {
    let status = s.readiness.status();
    let code = if status.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if status.ready { "ready" } else { "not_ready" },
        "storage_open": status.storage_open,
        "shards_hosted": status.shards_hosted,
        "shards_total": status.shards_total,
    });
    (code, Json(body))
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(s): State<EdgeState>) -> impl IntoResponse {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &s.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "identity",
    responses((status = 200, description = "The public keys that verify live access tokens")))]
pub async fn jwks(State(s): State<EdgeState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(s.identity.keys().jwks()),
    )
}

#[utoipa::path(get, path = "/api/v1/cluster", tag = "operations", security(("bearer" = [])),
    responses((status = 200, body = ClusterStatusResponse), (status = 403, description = "needs cluster:admin", body = ErrorBody)))]
pub async fn cluster(State(s): State<EdgeState>, caller: Caller) -> ApiResult<Json<ClusterStatusResponse>> {
    caller.require("cluster:admin")?;
    Ok(Json(s.cluster.status()))
}

#[utoipa::path(get, path = "/api/v1/cluster/owner", tag = "operations", security(("bearer" = [])), params(OwnerQuery),
    responses((status = 200, body = OwnerResponse), (status = 403, description = "needs cluster:admin", body = ErrorBody)))]
pub async fn owner(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> ApiResult<Json<OwnerResponse>> {
    caller.require("cluster:admin")?;
    let (shard, owner) = s.cluster.owner(&q.kind, &q.key);
    Ok(Json(OwnerResponse {
        kind: q.kind,
        key: q.key,
        shard,
        owner,
    }))
}
