//! Orders, shipments, returns and the store dashboard over HTTP. HTTP
//! mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use actors::Error;
use actors::orders::model::Decision;
use actors::orders::record::OpenLimits;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<String, Error> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| Error::invalid("Idempotency-Key", "this request needs an Idempotency-Key header"))
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", security(("bearer" = ["order:create"])), request_body = PlaceOrderRequest,
    params(("Idempotency-Key" = String, Header, description = "Required; the same key and body replay the first answer")),
    responses((status = 201, body = OrderResponse),
              (status = 409, description = "unavailable (with `lines`: each line that cannot be had, nothing reserved) or request_in_flight", body = ErrorBody),
              (status = 422, description = "invalid fields, or the key reused with another body", body = ErrorBody)))]
pub async fn place(
    State(s): State<EdgeState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(r): ApiJson<PlaceOrderRequest>,
) -> ApiResult<(StatusCode, Json<OrderResponse>)> {
    let key = idempotency_key(&headers)?;
    let limits = OpenLimits {
        orders: caller.quota("max_open_orders"),
        units: caller.quota("max_held_units"),
    };
    let (order, _) = s.domains.orders.place(&caller.0.sub, &key, r.into(), limits).await?;
    Ok((StatusCode::CREATED, Json(OrderResponse::of(&order, None)?)))
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = OrderList)))]
pub async fn mine(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<OrderList>> {
    let (orders, next_cursor) = s
        .domains
        .orders
        .mine(&caller.0.sub, q.cursor.as_deref(), q.limit()?)
        .await?;
    Ok(Json(OrderList {
        items: orders
            .iter()
            .map(|o| OrderResponse::of(o, None))
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])),
    responses((status = 200, description = "the buyer sees it whole; store staff see their store's lines", body = OrderResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<OrderResponse>> {
    let (order, stores) = s.domains.orders.view(&caller.0.sub, &id).await?;
    Ok(Json(OrderResponse::of(&order, stores.as_deref())?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderResponse), (status = 409, description = "not_cancellable: paid (captured) or shipped already; payments only authorized are voided", body = ErrorBody)))]
pub async fn cancel(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<OrderResponse>> {
    let order = s.domains.orders.cancel(&caller.0.sub, &id).await?;
    // Authorizations of a cancelled order are voided.
    s.domains.payments.review_order(&id).await;
    Ok(Json(OrderResponse::of(&order, None)?))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/orders", tag = "orders", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "the store's part of each order, newest first", body = OrderList), (status = 403, body = ErrorBody)))]
pub async fn of_store(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<OrderList>> {
    let (orders, next_cursor) = s
        .domains
        .orders
        .of_store(&caller.0.sub, &id, q.cursor.as_deref(), q.limit()?)
        .await?;
    let store = [id];
    Ok(Json(OrderList {
        items: orders
            .iter()
            .map(|o| OrderResponse::of(o, Some(&store)))
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/orders/{order_id}/shipments", tag = "orders", security(("bearer" = [])), request_body = ShipmentRequest,
    responses((status = 201, body = OrderResponse), (status = 409, description = "not_shippable: a line is not paid", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ship(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, order_id)): ApiPath<(String, String)>,
    ApiJson(r): ApiJson<ShipmentRequest>,
) -> ApiResult<(StatusCode, Json<OrderResponse>)> {
    let (order, _) = s.domains.orders.ship(&caller.0.sub, &id, &order_id, r.into()).await?;
    // The first shipment of a line captures the authorization paying it.
    s.domains.payments.review_order(&order_id).await;
    Ok((StatusCode::CREATED, Json(OrderResponse::of(&order, Some(&[id]))?)))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/orders/{order_id}/shipments/{shipment_id}/delivered", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderResponse), (status = 404, body = ErrorBody)))]
pub async fn delivered(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, order_id, shipment_id)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<OrderResponse>> {
    let order = s
        .domains
        .orders
        .deliver(&caller.0.sub, &id, &order_id, &shipment_id)
        .await?;
    Ok(Json(OrderResponse::of(&order, Some(&[id]))?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/returns", tag = "orders", security(("bearer" = ["return:create"])), request_body = ReturnRequest,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = ReturnResponse),
              (status = 422, description = "not a paid line, outside the warranty, more than paid minus returned, or the key reused", body = ErrorBody)))]
pub async fn request_return(
    State(s): State<EdgeState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ReturnRequest>,
) -> ApiResult<(StatusCode, Json<ReturnResponse>)> {
    let key = idempotency_key(&headers)?;
    let lines = r.lines.into_iter().map(|l| (l.line_id, l.quantity, l.reason)).collect();
    let (order, ret) = s.domains.orders.request_return(&caller.0.sub, &id, &key, lines).await?;
    Ok((StatusCode::CREATED, Json(ReturnResponse::of(&order, &ret)?)))
}

#[utoipa::path(post, path = "/api/v1/stores/{id}/returns/{return_id}/decision", tag = "orders", security(("bearer" = [])), request_body = DecisionRequest,
    responses((status = 200, body = ReturnResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, return_id)): ApiPath<(String, String)>,
    ApiJson(r): ApiJson<DecisionRequest>,
) -> ApiResult<Json<ReturnResponse>> {
    let decisions = r
        .lines
        .into_iter()
        .map(|l| Decision {
            line_id: l.line_id,
            approve: l.approve_quantity,
            reject: l.reject_quantity,
            reason: l.reason,
            restock: l.restock.unwrap_or(true),
        })
        .collect();
    let (order, ret) = s
        .domains
        .orders
        .decide(&caller.0.sub, &id, &return_id, decisions)
        .await?;
    Ok(Json(ReturnResponse::of(&order, &ret)?))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/dashboard", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = DashboardResponse), (status = 403, body = ErrorBody)))]
pub async fn dashboard(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<DashboardResponse>> {
    let (currency, figures) = s.domains.orders.dashboard(&caller.0.sub, &id).await?;
    Ok(Json(DashboardResponse {
        store_id: id,
        currency,
        by_status: figures.into_iter().map(|(k, v)| (k, v.into())).collect(),
    }))
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(place, mine))
        .routes(routes!(get))
        .routes(routes!(cancel))
        .routes(routes!(of_store))
        .routes(routes!(ship))
        .routes(routes!(delivered))
        .routes(routes!(request_return))
        .routes(routes!(decide))
        .routes(routes!(dashboard))
}
