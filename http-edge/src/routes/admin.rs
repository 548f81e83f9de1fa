//! Administration of users and roles (permission `identity:admin`).

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::offers::time;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/v1/users", tag = "administration", security(("bearer" = ["identity:admin"])), params(PageQuery),
    responses((status = 200, body = UserPage), (status = 403, body = ErrorBody)))]
pub async fn list_users(State(s): State<EdgeState>, ApiQuery(q): ApiQuery<PageQuery>) -> ApiResult<Json<UserPage>> {
    let limit = q.limit()?;
    let (items, next_cursor) = s.domains.identity.list_users(q.cursor.as_deref(), limit).await?;
    Ok(Json(UserPage {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 200, body = UserResponse), (status = 404, body = ErrorBody)))]
pub async fn get_user(State(s): State<EdgeState>, ApiPath(id): ApiPath<String>) -> ApiResult<Json<UserResponse>> {
    Ok(Json(s.domains.identity.get_user(&id).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/users/{id}/roles", tag = "administration", security(("bearer" = ["identity:admin"])), request_body = SetRolesRequest,
    responses((status = 200, body = UserResponse), (status = 403, description = "permission_not_held", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_roles(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<SetRolesRequest>,
) -> ApiResult<Json<UserResponse>> {
    let roles = r
        .roles
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            RoleItem::Name(role) => Ok((role, None)),
            RoleItem::Until { role, expires_at } => Ok((role, time(&format!("roles[{i}].expires_at"), &expires_at)?)),
        })
        .collect::<Result<Vec<_>, actors::Error>>()?;
    Ok(Json(s.domains.identity.set_roles(&caller.0, &id, &roles).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/users/{id}/quotas", tag = "administration", security(("bearer" = ["identity:admin"])),
    request_body(content = BTreeMap<String, QuotaItem>, description = "Overrides, e.g. {\"max_stores\": 5} or {\"max_stores\": {\"limit\": 5, \"expires_at\": \"2027-01-01T00:00:00Z\"}}; quotas left out, and expired ones, return to their defaults"),
    responses((status = 200, body = UserResponse), (status = 403, description = "outranked, or own_quota: nobody raises their own", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn set_quotas(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(q): ApiJson<BTreeMap<String, QuotaItem>>,
) -> ApiResult<Json<UserResponse>> {
    let mut limits = BTreeMap::new();
    let mut expiry = BTreeMap::new();
    for (name, item) in q {
        let limit = match item {
            QuotaItem::Limit(limit) => limit,
            QuotaItem::Until { limit, expires_at } => {
                if let Some(at) = time(&name, &expires_at)? {
                    expiry.insert(name.clone(), at);
                }
                limit
            }
        };
        limits.insert(name, limit);
    }
    Ok(Json(
        s.domains
            .identity
            .set_quotas(&caller.0, &id, &limits, expiry)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 200, description = "Disabled; its sessions are revoked", body = UserResponse),
              (status = 403, description = "outranked: the user holds permissions the caller does not", body = ErrorBody),
              (status = 409, description = "last_admin or cannot_disable_self", body = ErrorBody)))]
pub async fn disable(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(
        s.domains.identity.set_disabled(&caller.0, &id, true).await?.into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 200, body = UserResponse)))]
pub async fn enable(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(
        s.domains.identity.set_disabled(&caller.0, &id, false).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 200, description = "Deleted (again: unchanged): disabled and signed out at once, phones and addresses erased; username and e-mail reserved until `purge_at` (30 days), restorable until then", body = UserResponse),
              (status = 403, description = "outranked: the user holds permissions the caller does not", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "last_admin, or cannot_delete_self (use DELETE /api/v1/me)", body = ErrorBody)))]
pub async fn delete_user(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(s.domains.identity.delete_user(&caller.0, &id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/restore", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 200, description = "Restored (an account not deleted is answered as it is); its sessions, phones and addresses stay erased", body = UserResponse),
              (status = 404, description = "no such user, or purged", body = ErrorBody)))]
pub async fn restore_user(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(s.domains.identity.restore_user(&caller.0, &id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 200, body = RoleList)))]
pub async fn list_roles(State(s): State<EdgeState>) -> ApiResult<Json<RoleList>> {
    let items = s
        .domains
        .identity
        .list_roles()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(RoleList { items }))
}

#[utoipa::path(get, path = "/api/v1/roles/{name}", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 200, body = RoleResponse), (status = 404, body = ErrorBody)))]
pub async fn get_role(State(s): State<EdgeState>, ApiPath(name): ApiPath<String>) -> ApiResult<Json<RoleResponse>> {
    Ok(Json(s.domains.identity.get_role(&name).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/roles", tag = "administration", security(("bearer" = ["identity:admin"])), request_body = CreateRoleRequest,
    responses((status = 201, body = RoleResponse), (status = 403, description = "permission_not_held", body = ErrorBody),
              (status = 409, description = "role_exists", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_role(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<CreateRoleRequest>,
) -> ApiResult<(StatusCode, Json<RoleResponse>)> {
    let role = s
        .domains
        .identity
        .create_role(&caller.0, &r.name, &r.permissions)
        .await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

#[utoipa::path(put, path = "/api/v1/roles/{name}", tag = "administration", security(("bearer" = ["identity:admin"])), request_body = ReplaceRoleRequest,
    responses((status = 200, body = RoleResponse), (status = 404, body = ErrorBody), (status = 409, description = "builtin_role", body = ErrorBody)))]
pub async fn replace_role(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(r): ApiJson<ReplaceRoleRequest>,
) -> ApiResult<Json<RoleResponse>> {
    Ok(Json(
        s.domains
            .identity
            .replace_role(&caller.0, &name, &r.permissions)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/roles/{name}", tag = "administration", security(("bearer" = ["identity:admin"])),
    responses((status = 204), (status = 403, description = "permission_not_held: the role holds permissions the caller does not", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "builtin_role", body = ErrorBody)))]
pub async fn delete_role(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.domains.identity.delete_role(&caller.0, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, delete_user))
        .routes(routes!(restore_user))
        .routes(routes!(set_roles))
        .routes(routes!(set_quotas))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, replace_role, delete_role))
}
