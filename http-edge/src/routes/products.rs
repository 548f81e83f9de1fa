//! Products over HTTP. HTTP mapping only; every change names the version it
//! changes (`If-Match`), every response carries it as its `ETag`.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch, MaybeCaller};
use actors::catalog::product_flows::Seller;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn tagged(product: ProductResponse) -> (HeaderMap, Json<ProductResponse>) {
    let mut headers = HeaderMap::new();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", product.version)) {
        headers.insert(header::ETAG, etag);
    }
    (headers, Json(product))
}

#[utoipa::path(post, path = "/api/v1/products", tag = "catalog", security(("bearer" = ["catalog:write"])), request_body = ProductRequest,
    responses((status = 201, body = ProductResponse), (status = 403, description = "missing_permission or quota_exceeded", body = ErrorBody),
              (status = 422, description = "names each unknown tag or attribute and each mistyped value", body = ErrorBody)))]
pub async fn create(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiJson(r): ApiJson<ProductRequest>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ProductResponse>)> {
    let seller = Seller {
        id: &caller.0.sub,
        max_products: caller.quota("max_products"),
    };
    let (headers, body) = tagged(s.domains.catalog.create_product(seller, r.into()).await?.into());
    Ok((StatusCode::CREATED, headers, body))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog", security((), ("bearer" = [])),
    responses((status = 200, body = ProductResponse), (status = 404, description = "also for another owner's invisible product", body = ErrorBody)))]
pub async fn get(
    State(s): State<EdgeState>,
    caller: MaybeCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(HeaderMap, Json<ProductResponse>)> {
    let viewer = caller.0.as_ref().map(|c| c.sub.as_str());
    Ok(tagged(s.domains.catalog.product(&id, viewer).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/products/{id}/versions/{version}", tag = "catalog", security((), ("bearer" = [])),
    responses((status = 200, body = ProductResponse), (status = 404, body = ErrorBody)))]
pub async fn version(
    State(s): State<EdgeState>,
    caller: MaybeCaller,
    ApiPath((id, version)): ApiPath<(String, u32)>,
) -> ApiResult<(HeaderMap, Json<ProductResponse>)> {
    let viewer = caller.0.as_ref().map(|c| c.sub.as_str());
    Ok(tagged(
        s.domains.catalog.product_version(&id, version, viewer).await?.into(),
    ))
}

async fn change(
    s: EdgeState,
    caller: Caller,
    id: String,
    expected: IfMatch,
    r: ProductRequest,
    replace: bool,
) -> ApiResult<(HeaderMap, Json<ProductResponse>)> {
    let view = s
        .domains
        .catalog
        .change_product(&caller.0.sub, &id, expected.0, r.into(), replace)
        .await?;
    Ok(tagged(view.into()))
}

#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])), request_body = ProductRequest,
    params(("If-Match" = String, Header, description = "The version being replaced")),
    responses((status = 200, body = ProductResponse), (status = 403, description = "not_owner", body = ErrorBody),
              (status = 412, description = "version_mismatch", body = ErrorBody), (status = 428, description = "if_match_required", body = ErrorBody)))]
pub async fn replace(
    State(s): State<EdgeState>,
    caller: Caller,
    expected: IfMatch,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ProductRequest>,
) -> ApiResult<(HeaderMap, Json<ProductResponse>)> {
    change(s, caller, id, expected, r, true).await
}

#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])), request_body = ProductRequest,
    params(("If-Match" = String, Header, description = "The version being changed")),
    responses((status = 200, body = ProductResponse), (status = 412, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn patch(
    State(s): State<EdgeState>,
    caller: Caller,
    expected: IfMatch,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ProductRequest>,
) -> ApiResult<(HeaderMap, Json<ProductResponse>)> {
    change(s, caller, id, expected, r, false).await
}

#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])),
    responses((status = 204, description = "Deleted; its versions stay readable"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(State(s): State<EdgeState>, caller: Caller, ApiPath(id): ApiPath<String>) -> ApiResult<StatusCode> {
    s.domains.catalog.delete_product(&caller.0.sub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/products", tag = "catalog", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = ProductPage)))]
pub async fn mine(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ProductPage>> {
    let limit = q.limit()?;
    let (items, next_cursor) = s
        .domains
        .catalog
        .my_products(&caller.0.sub, q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(ProductPage {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", security(()), params(SearchParams),
    responses((status = 200, body = SearchResponse), (status = 422, description = "names each bad parameter", body = ErrorBody),
              (status = 503, description = "search_unavailable: a node did not answer", body = ErrorBody)))]
pub async fn search(
    State(s): State<EdgeState>,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Json<SearchResponse>> {
    let query = actors::search::SearchQuery::parse(&pairs)?;
    Ok(Json(s.domains.search.search(query).await?.into()))
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(create, search))
        .routes(routes!(get, replace, patch, delete))
        .routes(routes!(version))
        .routes(routes!(mine))
}
