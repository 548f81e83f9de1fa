//! Offers and quotes over HTTP. HTTP mapping only.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use actors::Error;
use actors::storefront::offers::OfferDraft;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn time(field: &str, raw: &Option<String>) -> Result<Option<i64>, Error> {
    raw.as_deref()
        .map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|_| Error::invalid(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

#[utoipa::path(put, path = "/api/v1/stores/{id}/offers/{product_id}", tag = "storefront", security(("bearer" = [])), request_body = OfferRequest,
    responses((status = 200, body = OfferResponse), (status = 403, description = "not_staff", body = ErrorBody),
              (status = 422, description = "price, charges, window, or a product that is not visible", body = ErrorBody)))]
pub async fn put(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, product_id)): ApiPath<(String, String)>,
    ApiJson(r): ApiJson<OfferRequest>,
) -> ApiResult<Json<OfferResponse>> {
    let draft = OfferDraft {
        price: r.price,
        surcharges: r
            .attribute_charges
            .into_iter()
            .map(|c| (c.attribute_id, c.value.to_string(), c.amount))
            .collect(),
        valid_from: time("valid_from", &r.valid_from)?,
        valid_until: time("valid_until", &r.valid_until)?,
    };
    let offer = s
        .domains
        .storefront
        .set_offer(&caller.0.sub, &id, &product_id, &draft)
        .await?;
    let (currency, _) = s.domains.storefront.offers(&id).await?;
    Ok(Json(OfferResponse::new(offer, &currency)))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/offers", tag = "storefront", security(()),
    responses((status = 200, description = "Offers valid now", body = OfferList), (status = 404, body = ErrorBody)))]
pub async fn list(State(s): State<EdgeState>, ApiPath(id): ApiPath<String>) -> ApiResult<Json<OfferList>> {
    let (currency, offers) = s.domains.storefront.offers(&id).await?;
    Ok(Json(OfferList {
        items: offers.into_iter().map(|o| OfferResponse::new(o, &currency)).collect(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/stores/{id}/offers/{product_id}", tag = "storefront", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath((id, product_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.domains
        .storefront
        .remove_offer(&caller.0.sub, &id, &product_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/stores/{id}/offers/{product_id}/quote", tag = "storefront", security(()),
    params(("quantity" = u32, Query, description = "1-10000"), ("currency" = Option<String>, Query, description = "Default: the store's"),
           ("attr.<attribute_id>" = Option<String>, Query, description = "A chosen attribute value")),
    responses((status = 200, body = QuoteResponse), (status = 404, description = "no_valid_offer", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn quote(
    State(s): State<EdgeState>,
    ApiPath((id, product_id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<BTreeMap<String, String>>,
) -> ApiResult<Json<QuoteResponse>> {
    let mut chosen = BTreeMap::new();
    let (mut quantity, mut currency) = (None, None);
    for (key, value) in q {
        match key.as_str() {
            "quantity" => {
                quantity = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| Error::invalid("quantity", "must be a whole number"))?,
                )
            }
            "currency" => currency = Some(value),
            _ => match key.strip_prefix("attr.") {
                Some(attribute) => {
                    chosen.insert(attribute.to_string(), value);
                }
                None => return Err(Error::invalid(&key, "is not a quote parameter").into()),
            },
        }
    }
    let quantity = quantity.ok_or_else(|| Error::invalid("quantity", "is required"))?;
    let q = s
        .domains
        .storefront
        .quote(&id, &product_id, quantity, &chosen, currency.as_deref())
        .await?;
    Ok(Json(QuoteResponse {
        product_id,
        currency: q.currency,
        quantity: q.quantity,
        unit_price: q.unit_price,
        line_total: q.line_total,
        fx_rates_id: q.rates_id,
    }))
}

/// This domain's routes, each with its OpenAPI entry and access rule.
pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(put, delete))
        .routes(routes!(list))
        .routes(routes!(quote))
}
