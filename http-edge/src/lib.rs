//! The HTTP edge: turns requests from frontends into calls on the domain
//! services (which message the owning actors), and their results into JSON.
//!
//! - [`routes`] — one module per domain, HTTP mapping only.
//! - [`extract`] — JSON bodies and the bearer-token [`extract::Caller`].
//! - [`error`] — renders the platform's one error type.
//! - [`dto`] — the JSON shapes; [`openapi`] — the generated document.
//! - [`metrics`] — request counters and latency histograms.

pub mod dto;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod panics;
pub mod routes;

use actors::Error;
use actors::identity::Identity;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Router, middleware};
use error::ApiError;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Whether this node can serve: storage open, shards hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyStatus {
    pub ready: bool,
    pub storage_open: bool,
    pub shards_hosted: usize,
    pub shards_total: usize,
}

pub trait Readiness: Send + Sync {
    fn status(&self) -> ReadyStatus;
}

/// The cluster's state for operators (`GET /api/v1/cluster`).
pub trait ClusterView: Send + Sync {
    fn status(&self) -> dto::ClusterStatusResponse;
    /// The shard of `kind/key` and the node that owns it.
    fn owner(&self, kind: &str, key: &str) -> (u32, String);
}

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct EdgeState {
    pub identity: Identity,
    pub catalog: actors::catalog::Catalog,
    pub storefront: actors::storefront::Storefront,
    pub search: actors::search::Search,
    pub inventory: actors::inventory::Inventory,
    pub carts: actors::cart::Carts,
    pub orders: actors::orders::OrderService,
    pub registry: Arc<Registry>,
    pub readiness: Arc<dyn Readiness>,
    pub cluster: Arc<dyn ClusterView>,
}

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// Requests per second per client IP; 0 turns limiting off.
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(15),
            rate_limit_per_sec: 50,
            rate_limit_burst: 100,
        }
    }
}

/// Builds the application. `http_metrics` must be registered in `state.registry`.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so
/// that clients can be rate-limited by address.
pub fn app(state: EdgeState, http_metrics: Arc<metrics::HttpMetrics>, limits: &EdgeLimits) -> Router {
    use routes::{admin, cart, catalog, fx, identity, offers, ops, orders, products, stock, stores};
    let api = Router::new()
        .route("/accounts", post(identity::register))
        .route("/accounts/verify-email", post(identity::verify_email))
        .route("/auth/login", post(identity::login))
        .route("/auth/refresh", post(identity::refresh))
        .route("/auth/logout", post(identity::logout))
        .route("/auth/password-reset", post(identity::password_reset))
        .route("/auth/password-reset/confirm", post(identity::password_reset_confirm))
        .route("/me", get(identity::me).patch(identity::patch_me))
        .route("/me/password", post(identity::change_password))
        .route("/users", get(admin::list_users))
        .route("/users/{id}", get(admin::get_user))
        .route("/users/{id}/roles", put(admin::set_roles))
        .route("/users/{id}/quotas", put(admin::set_quotas))
        .route("/users/{id}/disable", post(admin::disable))
        .route("/users/{id}/enable", post(admin::enable))
        .route("/roles", get(admin::list_roles).post(admin::create_role))
        .route(
            "/roles/{name}",
            get(admin::get_role).put(admin::replace_role).delete(admin::delete_role),
        )
        .route("/tags", get(catalog::root_tags).post(catalog::create_tag))
        .route(
            "/tags/{id}",
            get(catalog::get_tag)
                .patch(catalog::patch_tag)
                .delete(catalog::delete_tag),
        )
        .route(
            "/attributes",
            get(catalog::find_attributes).post(catalog::create_attribute),
        )
        .route(
            "/attributes/{id}",
            get(catalog::get_attribute)
                .patch(catalog::patch_attribute)
                .delete(catalog::delete_attribute),
        )
        .route("/products", post(products::create).get(products::search))
        .route(
            "/products/{id}",
            get(products::get)
                .put(products::replace)
                .patch(products::patch)
                .delete(products::delete),
        )
        .route("/products/{id}/versions/{version}", get(products::version))
        .route("/me/products", get(products::mine))
        .route("/stores", post(stores::create))
        .route("/stores/{id}", get(stores::get).patch(stores::patch))
        .route("/stores/{id}/hours", put(stores::hours))
        .route("/stores/{id}/transfer", post(stores::transfer))
        .route("/stores/{id}/staff", get(stores::list_staff))
        .route(
            "/stores/{id}/staff/{user_id}",
            put(stores::put_staff).delete(stores::delete_staff),
        )
        .route("/stores/{id}/offers", get(offers::list))
        .route(
            "/stores/{id}/offers/{product_id}",
            put(offers::put).delete(offers::delete),
        )
        .route("/stores/{id}/offers/{product_id}/quote", get(offers::quote))
        .route("/stores/{id}/stock/{product_id}", put(stock::adjust).get(stock::get))
        .route("/stores/{id}/policies/{product_id}", put(stock::policy))
        .route("/cart", get(cart::get).delete(cart::clear))
        .route("/cart/items", put(cart::put_item))
        .route("/cart/items/{line_id}", delete(cart::delete_item))
        .route("/orders", post(orders::place).get(orders::mine))
        .route("/orders/{id}", get(orders::get))
        .route("/orders/{id}/cancel", post(orders::cancel))
        .route("/orders/{id}/returns", post(orders::request_return))
        .route("/stores/{id}/orders", get(orders::of_store))
        .route("/stores/{id}/orders/{order_id}/shipments", post(orders::ship))
        .route(
            "/stores/{id}/orders/{order_id}/shipments/{shipment_id}/delivered",
            post(orders::delivered),
        )
        .route("/stores/{id}/returns/{return_id}/decision", post(orders::decide))
        .route("/stores/{id}/dashboard", get(orders::dashboard))
        .route("/fx-rates", get(fx::current).put(fx::publish))
        .route("/fx-rates/{id}", get(fx::by_id))
        .route("/cluster", get(ops::cluster))
        .route("/cluster/owner", get(ops::owner));

    let request_id = HeaderName::from_static("x-request-id");
    let timeout = limits.request_timeout;
    let limiter = limits::RateLimiter::new(limits.rate_limit_per_sec, limits.rate_limit_burst);
    let router = Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/api/openapi.json", get(ops::openapi))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.body_limit_bytes))
        .layer(middleware::from_fn_with_state(http_metrics, metrics::record));
    let router = match limiter {
        Some(limiter) => router.layer(middleware::from_fn_with_state(limiter, limits::limit)),
        None => router,
    };
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                // Method, path and request id only: never headers, which
                // carry tokens.
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(middleware::from_fn(panics::catch_panic))
            .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                ApiError(Error::unavailable(
                    "timeout",
                    "the request took too long; its outcome is unknown",
                    1,
                ))
            }))
            .timeout(timeout),
    )
}

async fn not_found() -> impl IntoResponse {
    ApiError(Error::NotFound {
        code: "not_found".into(),
        message: "no such endpoint".into(),
    })
}

async fn method_not_allowed() -> impl IntoResponse {
    let mut response = ApiError(Error::bad_request(
        "method_not_allowed",
        "this endpoint does not accept that method",
    ))
    .into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}
