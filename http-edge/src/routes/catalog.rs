//! The catalog over HTTP: the tag tree and attribute definitions. HTTP
//! mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use actors::Error;
use actors::catalog::attributes::AttributeSpec;
use actors::catalog::taxonomy::Editor;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn depth(q: &TagQuery, default: usize) -> ApiResult<usize> {
    match q.descendants_depth {
        None => Ok(default),
        Some(d @ 0..=16) => Ok(d),
        Some(_) => Err(Error::invalid("descendants_depth", "must be 0 to 16").into()),
    }
}

#[utoipa::path(post, path = "/api/v1/tags", tag = "catalog", security(("bearer" = ["catalog:write"])), request_body = CreateTagRequest,
    responses((status = 201, body = TagResponse), (status = 403, body = ErrorBody), (status = 409, description = "tag_exists", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_tag(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<CreateTagRequest>,
) -> ApiResult<(StatusCode, Json<TagResponse>)> {
    let tag = s
        .domains
        .catalog
        .create_tag(&caller.0.sub, &r.name, r.parent_id)
        .await?;
    Ok((StatusCode::CREATED, Json(tag.into())))
}

#[utoipa::path(get, path = "/api/v1/tags", tag = "catalog", security(()), params(TagQuery),
    responses((status = 200, description = "The root tags (descendants_depth 0 by default)", body = TagList)))]
pub async fn root_tags(State(s): State<EdgeState>, ApiQuery(q): ApiQuery<TagQuery>) -> ApiResult<Json<TagList>> {
    let roots = s.domains.catalog.root_tags(depth(&q, 0)?).await?;
    Ok(Json(TagList {
        items: roots.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/tags/{id}", tag = "catalog", security(()), params(TagQuery),
    responses((status = 200, body = TagResponse), (status = 404, body = ErrorBody)))]
pub async fn get_tag(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TagQuery>,
) -> ApiResult<Json<TagResponse>> {
    Ok(Json(
        s.domains.catalog.view_tag(&id, depth(&q, 1)?.max(1)).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/api/v1/tags/{id}", tag = "catalog", security(("bearer" = ["catalog:write"])), request_body = PatchTagRequest,
    responses((status = 200, body = TagResponse), (status = 403, description = "not_owner: only its creator or catalog:admin", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "e.g. a move under its own descendant", body = ErrorBody)))]
pub async fn patch_tag(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<PatchTagRequest>,
) -> ApiResult<Json<TagResponse>> {
    let editor = editor(&caller);
    Ok(Json(
        s.domains
            .catalog
            .update_tag(&editor, &id, r.name, r.parent_id)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tags/{id}", tag = "catalog", security(("bearer" = ["catalog:write"])),
    responses((status = 204, description = "Deleted; its children moved up to its parent"),
              (status = 403, description = "not_owner: only its creator or catalog:admin", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_tag(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.domains.catalog.delete_tag(&editor(&caller), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/attributes", tag = "catalog", security(("bearer" = ["catalog:write"])), request_body = CreateAttributeRequest,
    responses((status = 201, body = AttributeResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_attribute(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<CreateAttributeRequest>,
) -> ApiResult<(StatusCode, Json<AttributeResponse>)> {
    let spec = AttributeSpec {
        name: Some(r.name),
        kind: Some(r.kind),
        values: r.values,
        unit: Some(r.unit),
    };
    Ok((
        StatusCode::CREATED,
        Json(s.domains.catalog.create_attribute(&caller.0.sub, spec).await?.into()),
    ))
}

#[utoipa::path(get, path = "/api/v1/attributes", tag = "catalog", security(()), params(AttributeQuery),
    responses((status = 200, body = AttributeList)))]
pub async fn find_attributes(
    State(s): State<EdgeState>,
    ApiQuery(q): ApiQuery<AttributeQuery>,
) -> ApiResult<Json<AttributeList>> {
    let limit = match q.limit {
        None => 50,
        Some(n @ 1..=200) => n,
        Some(_) => return Err(Error::invalid("limit", "must be 1 to 200").into()),
    };
    let found = s.domains.catalog.find_attributes(q.q.as_deref(), limit).await?;
    Ok(Json(AttributeList {
        items: found.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/attributes/{id}", tag = "catalog", security(()),
    responses((status = 200, body = AttributeResponse), (status = 404, body = ErrorBody)))]
pub async fn get_attribute(
    State(s): State<EdgeState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<AttributeResponse>> {
    Ok(Json(s.domains.catalog.attribute(&id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/attributes/{id}", tag = "catalog", security(("bearer" = ["catalog:write"])), request_body = PatchAttributeRequest,
    responses((status = 200, body = AttributeResponse), (status = 403, description = "not_owner: only its creator or catalog:admin", body = ErrorBody),
              (status = 409, description = "attribute_in_use: its kind or values cannot change", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_attribute(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<PatchAttributeRequest>,
) -> ApiResult<Json<AttributeResponse>> {
    let spec = AttributeSpec {
        name: r.name,
        kind: r.kind,
        values: r.values,
        unit: r.unit,
    };
    Ok(Json(
        s.domains
            .catalog
            .update_attribute(&editor(&caller), &id, spec)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/attributes/{id}", tag = "catalog", security(("bearer" = ["catalog:write"])),
    responses((status = 204), (status = 403, description = "not_owner: only its creator or catalog:admin", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "attribute_in_use", body = ErrorBody)))]
pub async fn delete_attribute(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.domains.catalog.delete_attribute(&editor(&caller), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller as an editor of the shared taxonomy.
fn editor(caller: &Caller) -> Editor<'_> {
    Editor {
        id: &caller.0.sub,
        admin: caller.0.has("catalog:admin"),
    }
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(create_tag, root_tags))
        .routes(routes!(get_tag, patch_tag, delete_tag))
        .routes(routes!(create_attribute, find_attributes))
        .routes(routes!(get_attribute, patch_attribute, delete_attribute))
}
