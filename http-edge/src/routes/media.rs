//! Media over HTTP, mapping only: uploads (`media/uploads.rs`, tus),
//! serving (`media/serving.rs`), and here assets, their access, links,
//! variants and jobs.

mod serving;
mod uploads;

pub use serving::*;
pub use uploads::*;

use crate::EdgeState;
use crate::dto::*;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ApiPath, Caller, MaybeCaller};
use actors::media::actor::Access;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn set(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(name, value);
    }
}

#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media", security((), ("bearer" = [])),
    responses((status = 200, body = MediaResponse), (status = 404, description = "none, or private to the caller", body = ErrorBody)))]
pub async fn asset(
    State(s): State<EdgeState>,
    caller: MaybeCaller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<axum::Json<MediaResponse>> {
    let asset = s
        .domains
        .media
        .asset(&Access::Caller(caller.0.map(|c| c.sub)), &id)
        .await?;
    Ok(axum::Json(MediaResponse::of(asset)))
}

#[utoipa::path(delete, path = "/api/v1/media/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 204, description = "deleted with its variants; its bytes go once nothing else uses them"),
              (status = 403, description = "not the owner", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<StatusCode> {
    s.domains.media.delete(&caller.0.sub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/media/{id}/variants", tag = "media", security(("bearer" = [])), request_body = VariantsRequest,
    responses((status = 202, description = "a job makes them; GET /api/v1/jobs/{job_id}", body = JobAccepted),
              (status = 403, description = "may view but not transform", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "specs that do not hold, or not an image", body = ErrorBody)))]
pub async fn request_variants(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<VariantsRequest>,
) -> crate::error::ApiResult<(StatusCode, axum::Json<JobAccepted>)> {
    let job_id = s.domains.media.request_variants(&caller.0.sub, &id, r.specs()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(JobAccepted { job_id })))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = JobResponse), (status = 404, description = "none, or neither asked by the caller nor of their asset", body = ErrorBody)))]
pub async fn job(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<axum::Json<JobResponse>> {
    let job = s.domains.media.job(&caller.0.sub, &id).await?;
    Ok(axum::Json(JobResponse::of(id, job)))
}

#[utoipa::path(put, path = "/api/v1/media/{id}/acl", tag = "media", security(("bearer" = [])), request_body = AclDto,
    responses((status = 200, body = AclDto), (status = 403, description = "may view but not manage", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_acl(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<AclDto>,
) -> crate::error::ApiResult<axum::Json<AclDto>> {
    let grants = r.grants_map()?;
    let asset = s.domains.media.set_acl(&caller.0.sub, &id, r.public, grants).await?;
    Ok(axum::Json(AclDto::of(&asset.acl)))
}

#[utoipa::path(get, path = "/api/v1/media/{id}/acl", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = AclDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_acl(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<axum::Json<AclDto>> {
    let acl = s.domains.media.acl(&caller.0.sub, &id).await?;
    Ok(axum::Json(AclDto::of(&acl)))
}

#[utoipa::path(post, path = "/api/v1/media/{id}/links", tag = "media", security(("bearer" = [])), request_body = LinkRequest,
    responses((status = 201, description = "works without a token until it expires or the ACL changes", body = LinkResponse),
              (status = 404, body = ErrorBody), (status = 422, description = "expires_in_secs beyond 7 days", body = ErrorBody)))]
pub async fn link(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<LinkRequest>,
) -> crate::error::ApiResult<(StatusCode, axum::Json<LinkResponse>)> {
    let (url, expires) = s
        .domains
        .media
        .link(&caller.0.sub, &id, r.variant.as_deref(), r.expires_in_secs)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(LinkResponse {
            url,
            expires_at: rfc3339(expires * 1000),
        }),
    ))
}

pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(discover, create))
        .routes(routes!(head, patch, terminate, status))
        .routes(routes!(asset, delete))
        .routes(routes!(content))
        .routes(routes!(variant))
        .routes(routes!(request_variants))
        .routes(routes!(job))
        .routes(routes!(set_acl, get_acl))
        .routes(routes!(link))
}
