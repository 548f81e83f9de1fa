//! Operations: health, readiness, metrics, the OpenAPI document and JWKS.

use crate::EdgeState;
use crate::dto::{ClusterStatusResponse, OwnerQuery, OwnerResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
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

/// Whether `presented` equals `expected`, in time that does not depend on
/// where they differ.
fn same_secret(presented: &[u8], expected: &[u8]) -> bool {
    presented.len() == expected.len() && presented.iter().zip(expected).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format"), (status = 401, description = "with [http] metrics_token set, a bearer token other than it", body = ErrorBody)))]
pub async fn metrics(State(s): State<EdgeState>, headers: axum::http::HeaderMap) -> impl IntoResponse {
    if let Some(expected) = &s.metrics_token {
        let presented = crate::access::bearer(&headers).and_then(Result::ok).unwrap_or("");
        if !same_secret(presented.as_bytes(), expected.as_bytes()) {
            return crate::error::ApiError(actors::Error::unauthenticated(
                "metrics_token",
                "send the metrics token as 'Authorization: Bearer <token>'",
            ))
            .into_response();
        }
    }
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

#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "This document")))]
pub async fn openapi(Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>) -> Json<utoipa::openapi::OpenApi> {
    Json(doc.as_ref().clone())
}

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "identity", security(()),
    responses((status = 200, description = "The public keys that verify live access tokens")))]
pub async fn jwks(State(s): State<EdgeState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(s.domains.identity.keys().jwks()),
    )
}

#[utoipa::path(get, path = "/api/v1/cluster", tag = "operations", security(("bearer" = ["cluster:admin"])),
    responses((status = 200, body = ClusterStatusResponse), (status = 403, description = "needs cluster:admin", body = ErrorBody)))]
pub async fn cluster(State(s): State<EdgeState>) -> ApiResult<Json<ClusterStatusResponse>> {
    Ok(Json(s.cluster.status()))
}

#[utoipa::path(get, path = "/api/v1/cluster/owner", tag = "operations", security(("bearer" = ["cluster:admin"])), params(OwnerQuery),
    responses((status = 200, body = OwnerResponse), (status = 403, description = "needs cluster:admin", body = ErrorBody)))]
pub async fn owner(State(s): State<EdgeState>, ApiQuery(q): ApiQuery<OwnerQuery>) -> ApiResult<Json<OwnerResponse>> {
    let (shard, owner) = s.cluster.owner(&q.kind, &q.key);
    Ok(Json(OwnerResponse {
        kind: q.kind,
        key: q.key,
        shard,
        owner,
    }))
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(jwks))
        .routes(routes!(openapi))
        .routes(routes!(cluster))
        .routes(routes!(owner))
}
