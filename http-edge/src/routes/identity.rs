//! Accounts, sign-in and the caller's own profile. HTTP mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Caller, ClientIp};
use actors::identity::NewAccount;
use actors::identity::model::ProfilePatch;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(post, path = "/api/v1/accounts", tag = "identity", security(()), request_body = RegisterRequest,
    responses((status = 201, body = AccountResponse), (status = 409, description = "username_taken or email_taken", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn register(
    State(s): State<EdgeState>,
    ApiJson(r): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<AccountResponse>)> {
    let account = NewAccount {
        username: &r.username,
        email: &r.email,
        password: &r.password,
        display_name: r.display_name.as_deref(),
    };
    let profile = s.domains.identity.register(account).await?;
    Ok((StatusCode::CREATED, Json(profile.into())))
}

#[utoipa::path(post, path = "/api/v1/accounts/verify-email", tag = "identity", security(()), request_body = TokenRequest,
    responses((status = 204), (status = 400, description = "invalid_token", body = ErrorBody)))]
pub async fn verify_email(State(s): State<EdgeState>, ApiJson(r): ApiJson<TokenRequest>) -> ApiResult<StatusCode> {
    s.domains.identity.verify_email(&r.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", security(()), request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "invalid_credentials", body = ErrorBody),
              (status = 403, description = "account_disabled", body = ErrorBody), (status = 429, description = "after three wrong passwords from this address for this account (known or not), each further attempt waits twice as long, 1 s to 15 min", body = ErrorBody)))]
pub async fn login(
    State(s): State<EdgeState>,
    ClientIp(client): ClientIp,
    ApiJson(r): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(
        s.domains.identity.login(&r.login, &r.password, client).await?.into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "identity", security(()), request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, description = "invalid_refresh_token; a reused token revokes its session", body = ErrorBody)))]
pub async fn refresh(
    State(s): State<EdgeState>,
    ApiJson(r): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(s.domains.identity.refresh(&r.refresh_token).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", security(()), request_body = RefreshRequest, responses((status = 204)))]
pub async fn logout(State(s): State<EdgeState>, ApiJson(r): ApiJson<RefreshRequest>) -> ApiResult<StatusCode> {
    s.domains.identity.logout(&r.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "identity", security(()), request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted whether or not the address exists")))]
pub async fn password_reset(State(s): State<EdgeState>, ApiJson(r): ApiJson<PasswordResetRequest>) -> StatusCode {
    s.domains.identity.request_password_reset(&r.email);
    StatusCode::ACCEPTED
}

#[utoipa::path(post, path = "/api/v1/auth/username-recovery", tag = "identity", security(()), request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted whether or not the address exists; the account's username is e-mailed to it")))]
pub async fn username_recovery(State(s): State<EdgeState>, ApiJson(r): ApiJson<PasswordResetRequest>) -> StatusCode {
    s.domains.identity.request_username_recovery(&r.email);
    StatusCode::ACCEPTED
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "identity", security(()), request_body = PasswordResetConfirm,
    responses((status = 204), (status = 400, description = "invalid_token", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn password_reset_confirm(
    State(s): State<EdgeState>,
    ApiJson(r): ApiJson<PasswordResetConfirm>,
) -> ApiResult<StatusCode> {
    s.domains
        .identity
        .confirm_password_reset(&r.token, &r.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = ProfileResponse), (status = 401, body = ErrorBody)))]
pub async fn me(State(s): State<EdgeState>, caller: Caller) -> ApiResult<Json<ProfileResponse>> {
    Ok(Json(s.domains.identity.me(&caller.0).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/me/export", tag = "identity", security(("bearer" = [])),
    responses((status = 200, description = "everything the platform holds about the caller: the profile (contacts, addresses), roles and quotas with where each comes from, the groups they belong to, and their orders' ids", body = ExportResponse)))]
pub async fn export_me(State(s): State<EdgeState>, caller: Caller) -> ApiResult<Json<ExportResponse>> {
    let profile = s.domains.identity.me(&caller.0).await?;
    let groups = s.domains.identity.groups_of(&caller.0.sub).await?.into_iter().collect();
    let mut order_ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (orders, next) = s
            .domains
            .orders
            .mine(&caller.0.sub, cursor.as_deref(), actors::shared::page::Limit::MAX)
            .await?;
        order_ids.extend(orders.into_iter().map(|o| o.id));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(Json(ExportResponse {
        profile: profile.into(),
        groups,
        order_ids,
        exported_at: rfc3339(s.domains.identity.now()),
    }))
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "identity", security(("bearer" = [])), request_body = PatchMeRequest,
    responses((status = 200, body = ProfileResponse), (status = 422, body = ErrorBody)))]
pub async fn patch_me(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<PatchMeRequest>,
) -> ApiResult<Json<ProfileResponse>> {
    let patch = ProfilePatch {
        display_name: r.display_name,
        phones: r.phones,
        addresses: r.addresses.map(|list| list.into_iter().map(Into::into).collect()),
    };
    Ok(Json(s.domains.identity.update_me(&caller.0, patch).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "identity", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; every other session is signed out"), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(s): State<EdgeState>,
    caller: Caller,
    ClientIp(client): ClientIp,
    ApiJson(r): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    s.domains
        .identity
        .change_password(&caller.0, &r.current_password, &r.new_password, client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/me", tag = "identity", security(("bearer" = [])), request_body = DeleteMeRequest,
    responses((status = 204, description = "Deleted: the account is disabled and signed out everywhere, its phones and addresses erased; its username and e-mail stay reserved for 30 days, during which an administrator can restore it; then its personal data goes for good (orders keep their own copies of contacts)"),
              (status = 409, description = "last_admin: the last full administrator cannot be deleted", body = ErrorBody),
              (status = 422, description = "current_password is wrong", body = ErrorBody)))]
pub async fn delete_me(
    State(s): State<EdgeState>,
    caller: Caller,
    ClientIp(client): ClientIp,
    ApiJson(r): ApiJson<DeleteMeRequest>,
) -> ApiResult<StatusCode> {
    s.domains
        .identity
        .delete_me(&caller.0, &r.current_password, client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(verify_email))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(password_reset))
        .routes(routes!(username_recovery))
        .routes(routes!(export_me))
        .routes(routes!(password_reset_confirm))
        .routes(routes!(me, patch_me, delete_me))
        .routes(routes!(change_password))
}
