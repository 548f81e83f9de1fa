//! One module per domain, HTTP mapping only. Each handler's
//! `#[utoipa::path]` is its one declaration: method, path, access rule
//! ([`crate::access`]) and documentation; each module's `router()` routes
//! its handlers, and [`all`] is the edge's whole route table.

use crate::EdgeState;
use crate::openapi::ApiDoc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub mod admin;
pub mod cart;
pub mod catalog;
pub mod fx;
pub mod groups;
pub mod identity;
pub mod media;
pub mod offers;
pub mod ops;
pub mod orders;
pub mod payments;
pub mod payouts;
pub mod products;
pub mod stock;
pub mod stores;

/// Every domain's routes, with the OpenAPI document they make together.
pub fn all() -> OpenApiRouter<EdgeState> {
    [
        ops::router,
        identity::router,
        groups::router,
        admin::router,
        catalog::router,
        products::router,
        stores::router,
        fx::router,
        offers::router,
        stock::router,
        cart::router,
        orders::router,
        payments::router,
        payouts::router,
        media::router,
    ]
    .into_iter()
    .fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), |all, domain| {
        all.merge(domain())
    })
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
