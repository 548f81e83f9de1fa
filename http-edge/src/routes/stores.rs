//! Stores over HTTP. HTTP mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller, MaybeCaller};
use actors::Error;
use actors::storefront::model::{StaffWindow, Store, StoreSpec, StoreStatus, StoreView, format_clock};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn parse_time(field: &str, raw: &str) -> Result<i64, Error> {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| Error::invalid(field, "must be an RFC 3339 time such as 2026-11-24T09:00:00Z"))
}

fn staff(staff: &[(String, StaffWindow, bool)]) -> Vec<StaffDto> {
    staff
        .iter()
        .map(|(user, w, active_now)| StaffDto {
            user_id: user.clone(),
            valid_from: rfc3339(w.valid_from),
            valid_until: w.valid_until.map(rfc3339),
            active_now: *active_now,
        })
        .collect()
}

/// The staff list as `viewer` may see it (empty unless the supervisor).
fn staff_seen_by(store: &Store, viewer: &str, now: i64) -> Vec<StaffDto> {
    let seen = store.view_for(Some(viewer), now).supervisor;
    seen.map(|s| staff(&s.staff)).unwrap_or_default()
}

/// The store as the model lets `viewer` see it.
fn view(store: Store, viewer: Option<&str>, now: i64) -> StoreResponse {
    let StoreView {
        store,
        open_now,
        supervisor,
    } = store.view_for(viewer, now);
    let internals = supervisor.map(|s| StoreInternals {
        supervisor_id: store.supervisor_id.clone(),
        emails: s.emails,
        phones: s.phones,
        address: s.address.map(Into::into),
        staff: staff(&s.staff),
    });
    StoreResponse {
        open_now,
        status: store.status.as_str(),
        hours: store
            .hours
            .iter()
            .map(|h| HoursDto {
                day: h.day,
                open: format_clock(h.open),
                close: format_clock(h.close),
            })
            .collect(),
        id: store.id,
        name: store.name,
        currency: store.currency,
        timezone: store.timezone,
        supervisor: internals,
    }
}

fn spec(r: StoreRequest) -> Result<StoreSpec, Error> {
    let active = r
        .status
        .as_deref()
        .map(StoreStatus::parse)
        .transpose()
        .map_err(|reason| Error::invalid("status", reason))?;
    Ok(StoreSpec {
        name: r.name,
        currency: r.currency,
        timezone: r.timezone,
        emails: r.emails,
        phones: r.phones,
        address: r.address.map(|a| a.map(Into::into)),
        active,
    })
}

#[utoipa::path(post, path = "/api/v1/stores", tag = "storefront", security(("bearer" = ["store:create"])), request_body = StoreRequest,
    responses((status = 201, body = StoreResponse), (status = 403, description = "missing_permission or quota_exceeded", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<StoreRequest>,
) -> ApiResult<(StatusCode, Json<StoreResponse>)> {
    let max = caller.quota("max_stores");
    let store = s.domains.storefront.create(&caller.0.sub, max, spec(r)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(store, Some(&caller.0.sub), s.domains.storefront.now())),
    ))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}", tag = "storefront", security((), ("bearer" = [])),
    responses((status = 200, description = "Public; the supervisor also sees contacts and staff", body = StoreResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<EdgeState>,
    caller: MaybeCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<StoreResponse>> {
    let store = s.domains.storefront.get(&id).await?;
    let viewer = caller.0.as_ref().map(|c| c.sub.as_str());
    Ok(Json(view(store, viewer, s.domains.storefront.now())))
}

#[utoipa::path(patch, path = "/api/v1/stores/{id}", tag = "storefront", security(("bearer" = [])), request_body = StoreRequest,
    responses((status = 200, body = StoreResponse), (status = 403, description = "not_supervisor", body = ErrorBody),
              (status = 422, description = "also names what activation still needs", body = ErrorBody)))]
pub async fn patch(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<StoreRequest>,
) -> ApiResult<Json<StoreResponse>> {
    let store = s.domains.storefront.update(&caller.0.sub, &id, spec(r)?).await?;
    Ok(Json(view(store, Some(&caller.0.sub), s.domains.storefront.now())))
}

#[utoipa::path(put, path = "/api/v1/stores/{id}/hours", tag = "storefront", security(("bearer" = [])), request_body = Vec<HoursDto>,
    responses((status = 200, body = StoreResponse), (status = 422, description = "duplicate days, or closing not after opening", body = ErrorBody)))]
pub async fn hours(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(week): ApiJson<Vec<HoursDto>>,
) -> ApiResult<Json<StoreResponse>> {
    let week: Vec<(u8, String, String)> = week.into_iter().map(|h| (h.day, h.open, h.close)).collect();
    let store = s.domains.storefront.set_hours(&caller.0.sub, &id, &week).await?;
    Ok(Json(view(store, Some(&caller.0.sub), s.domains.storefront.now())))
}

#[utoipa::path(put, path = "/api/v1/stores/{id}/staff/{user_id}", tag = "storefront", security(("bearer" = [])), request_body = StaffRequest,
    responses((status = 200, body = StaffList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_staff(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, user)): ApiPath<(String, String)>,
    ApiJson(r): ApiJson<StaffRequest>,
) -> ApiResult<Json<StaffList>> {
    let window = StaffWindow {
        valid_from: parse_time("valid_from", &r.valid_from)?,
        valid_until: r
            .valid_until
            .as_deref()
            .map(|u| parse_time("valid_until", u))
            .transpose()?,
    };
    let store = s
        .domains
        .storefront
        .set_staff(&caller.0.sub, &id, &user, Some(window))
        .await?;
    Ok(Json(StaffList {
        items: staff_seen_by(&store, &caller.0.sub, s.domains.storefront.now()),
    }))
}

#[utoipa::path(delete, path = "/api/v1/stores/{id}/staff/{user_id}", tag = "storefront", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_staff(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, user)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.domains.storefront.set_staff(&caller.0.sub, &id, &user, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/staff", tag = "storefront", security(("bearer" = [])),
    responses((status = 200, body = StaffList), (status = 403, description = "not_supervisor", body = ErrorBody)))]
pub async fn list_staff(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<StaffList>> {
    let store = s.domains.storefront.get(&id).await?;
    store.check_supervisor(&caller.0.sub)?;
    Ok(Json(StaffList {
        items: staff_seen_by(&store, &caller.0.sub, s.domains.storefront.now()),
    }))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/transfer", tag = "storefront", security(("bearer" = [])), request_body = TransferRequest,
    responses((status = 202, description = "Offered: it moves when the user accepts it", body = TransferResponse),
              (status = 403, description = "not_supervisor", body = ErrorBody),
              (status = 422, description = "unknown or disabled user, or one without store:create", body = ErrorBody)))]
pub async fn transfer(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<TransferRequest>,
) -> ApiResult<(StatusCode, Json<TransferResponse>)> {
    let pending = s
        .domains
        .storefront
        .offer_transfer(&caller.0.sub, &id, &r.user_id)
        .await?;
    let body = TransferResponse {
        store_id: id,
        from: pending.from,
        to: pending.to,
        offered_at: rfc3339(pending.since),
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/transfer/accept", tag = "storefront", security(("bearer" = ["store:create"])),
    responses((status = 200, description = "The caller supervises the store now", body = StoreResponse),
              (status = 403, description = "quota_exceeded: no max_stores left", body = ErrorBody),
              (status = 404, description = "no transfer was offered to the caller", body = ErrorBody),
              (status = 409, description = "transfer_stale: the store changed hands since", body = ErrorBody)))]
pub async fn accept_transfer(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<StoreResponse>> {
    let max = caller.quota("max_stores");
    let store = s.domains.storefront.accept_transfer(&caller.0.sub, &id, max).await?;
    Ok(Json(view(store, Some(&caller.0.sub), s.domains.storefront.now())))
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(get, patch))
        .routes(routes!(hours))
        .routes(routes!(put_staff, delete_staff))
        .routes(routes!(list_staff))
        .routes(routes!(transfer))
        .routes(routes!(accept_transfer))
}
