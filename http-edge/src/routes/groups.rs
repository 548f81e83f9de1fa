//! Groups over HTTP: the tree, members, roles and quotas. HTTP mapping
//! only; who may do what is the identity domain's (`model/groups.rs`).

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::offers::time;
use actors::Error;
use actors::identity::groups::GroupPatch;
use actors::identity::model::groups::{Grant, QuotaGrant};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", security(("bearer" = [])), request_body = CreateGroupRequest,
    responses((status = 201, body = GroupResponse),
              (status = 403, description = "outside_your_groups: a top-level group needs identity:admin; under a parent, identity:groups and belonging to it or an ancestor", body = ErrorBody),
              (status = 422, description = "a bad name or an unknown parent", body = ErrorBody)))]
pub async fn create_group(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<CreateGroupRequest>,
) -> ApiResult<(StatusCode, Json<GroupResponse>)> {
    let group = s.domains.identity.create_group(&caller.0, &r.name, r.parent_id).await?;
    Ok((StatusCode::CREATED, Json((&group).into())))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", security(("bearer" = [])), params(GroupQuery),
    responses((status = 200, description = "with its ancestors, member count, roles, quotas and descendants to the depth asked (for its members and those who manage it)", body = GroupResponse),
              (status = 404, body = ErrorBody)))]
pub async fn get_group(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<GroupQuery>,
) -> ApiResult<Json<GroupResponse>> {
    let group = s
        .domains
        .identity
        .group(&caller.0, &id, q.descendants_depth.unwrap_or(0))
        .await?;
    Ok(Json((&group).into()))
}

#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups", security(("bearer" = [])), request_body = PatchGroupRequest,
    responses((status = 200, body = GroupResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "a move under the group itself or one of its descendants", body = ErrorBody)))]
pub async fn patch_group(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<PatchGroupRequest>,
) -> ApiResult<Json<GroupResponse>> {
    let patch = GroupPatch {
        name: r.name,
        parent: r.parent_id,
    };
    let group = s.domains.identity.patch_group(&caller.0, &id, patch).await?;
    Ok(Json((&group).into()))
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups", security(("bearer" = [])),
    responses((status = 204, description = "deleted; its children moved up to its parent; restorable for 30 days"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_group(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.domains.identity.delete_group(&caller.0, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/groups/{id}/restore", tag = "groups", security(("bearer" = [])),
    responses((status = 200, description = "back with its memberships, roles and quotas, under its old parent (or at the top level if that one is gone)", body = GroupResponse),
              (status = 403, body = ErrorBody), (status = 404, description = "no group deleted in the last 30 days has this id", body = ErrorBody)))]
pub async fn restore_group(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<GroupResponse>> {
    let group = s.domains.identity.restore_group(&caller.0, &id).await?;
    Ok(Json((&group).into()))
}

#[utoipa::path(put, path = "/api/v1/groups/{id}/members/{user_id}", tag = "groups", security(("bearer" = [])),
    responses((status = 200, description = "a member (again: no change)", body = MemberCount), (status = 403, body = ErrorBody),
              (status = 404, description = "no such group or user", body = ErrorBody)))]
pub async fn put_member(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<MemberCount>> {
    let member_count = s.domains.identity.add_member(&caller.0, &id, &user_id).await?;
    Ok(Json(MemberCount { member_count }))
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{user_id}", tag = "groups", security(("bearer" = [])),
    responses((status = 200, description = "not a member (any more)", body = MemberCount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_member(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<MemberCount>> {
    let member_count = s.domains.identity.remove_member(&caller.0, &id, &user_id).await?;
    Ok(Json(MemberCount { member_count }))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = "groups", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "members in id order, a page at a time", body = MemberPage), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<MemberPage>> {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let page = s
        .domains
        .identity
        .group_members(&caller.0, &id, q.cursor.clone(), limit)
        .await?;
    Ok(Json(MemberPage {
        next_cursor: page.last().filter(|_| page.len() == limit).map(|(u, _)| u.clone()),
        items: page
            .iter()
            .map(|(user_id, since)| MemberDto {
                user_id: user_id.clone(),
                since: rfc3339(*since),
            })
            .collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/groups/{id}/roles", tag = "groups", security(("bearer" = [])), request_body = GroupRolesRequest,
    responses((status = 200, body = GroupResponse),
              (status = 403, description = "outside_your_groups, or grant_exceeds_own: a role holding a permission you lack", body = ErrorBody),
              (status = 422, description = "an unknown role or a bad time", body = ErrorBody)))]
pub async fn put_roles(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<GroupRolesRequest>,
) -> ApiResult<Json<GroupResponse>> {
    let roles = r
        .roles
        .iter()
        .enumerate()
        .map(|(i, g)| {
            Ok(Grant {
                role: g.role.trim().to_lowercase(),
                expires_at: time(&format!("roles[{i}].expires_at"), &g.expires_at)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let group = s.domains.identity.set_group_roles(&caller.0, &id, roles).await?;
    Ok(Json((&group).into()))
}

#[utoipa::path(put, path = "/api/v1/groups/{id}/quotas", tag = "groups", security(("bearer" = [])), request_body = GroupQuotasRequest,
    responses((status = 200, body = GroupResponse),
              (status = 403, description = "outside_your_groups, or grant_exceeds_own: above your own quota", body = ErrorBody),
              (status = 422, description = "an unknown quota or a bad time", body = ErrorBody)))]
pub async fn put_quotas(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<GroupQuotasRequest>,
) -> ApiResult<Json<GroupResponse>> {
    let quotas = r
        .quotas
        .iter()
        .enumerate()
        .map(|(i, q)| {
            Ok(QuotaGrant {
                name: q.name.clone(),
                limit: q.limit,
                expires_at: time(&format!("quotas[{i}].expires_at"), &q.expires_at)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let group = s.domains.identity.set_group_quotas(&caller.0, &id, quotas).await?;
    Ok(Json((&group).into()))
}

pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(create_group))
        .routes(routes!(get_group, patch_group, delete_group))
        .routes(routes!(restore_group))
        .routes(routes!(put_member, delete_member))
        .routes(routes!(list_members))
        .routes(routes!(put_roles))
        .routes(routes!(put_quotas))
}
