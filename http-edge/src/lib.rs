//! The HTTP edge: turns requests from frontends into calls on the domain
//! services (which message the owning actors), and their results into JSON.
//!
//! - [`routes`] — one module per domain, HTTP mapping only; each declares
//!   its router, and [`routes::all`] is the whole route table.
//! - [`access`] — who may call each route, declared on the handler.
//! - [`extract`] — JSON bodies and the bearer-token [`extract::Caller`].
//! - [`error`] — renders the platform's one error type.
//! - [`dto`] — the JSON shapes; [`openapi`] — the generated document.
//! - [`metrics`] — request counters and latency histograms.

pub mod access;
pub mod clients;
pub mod dto;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod panics;
pub mod routes;

use actors::Error;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::response::IntoResponse;
use axum::{Extension, Router, middleware};
use error::ApiError;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
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

/// Everything handlers share, behind one `Arc`: axum clones the state for
/// every extractor of every request, and cloning the services themselves
/// (dozens of `Arc`s) cost more than a sixth of a simple request's CPU.
pub type EdgeState = Arc<Edge>;

/// What [`EdgeState`] holds.
pub struct Edge {
    /// Every domain's service.
    pub domains: actors::domains::Domains,
    pub registry: Arc<Registry>,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<Arc<str>>,
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
    /// Sign-in, refresh, password reset and account creation, per client
    /// IP, on top of the general limit (they cost a password hash or a
    /// mail); 0 turns this limit off.
    pub auth_rate_limit_per_sec: u32,
    pub auth_rate_limit_burst: u32,
    /// Requests per second per signed-in user (by the token's subject),
    /// instead of the per-address limit; 0 turns it off.
    pub user_rate_limit_per_sec: u32,
    pub user_rate_limit_burst: u32,
    /// The proxies whose forwarding headers name the client.
    pub proxies: clients::Proxies,
    /// Origins browsers may call the API from (`"*"`: any); empty: no
    /// CORS headers at all.
    pub cors_origins: Vec<String>,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(15),
            rate_limit_per_sec: 50,
            rate_limit_burst: 100,
            auth_rate_limit_per_sec: 5,
            auth_rate_limit_burst: 10,
            user_rate_limit_per_sec: 50,
            user_rate_limit_burst: 100,
            proxies: clients::Proxies::default(),
            cors_origins: Vec::new(),
        }
    }
}

/// Builds the application. `http_metrics` must be registered in `state.registry`.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so
/// that clients can be rate-limited by address.
pub fn app(state: EdgeState, http_metrics: Arc<metrics::HttpMetrics>, limits: &EdgeLimits) -> Router {
    let (routes, doc) = routes::all().split_for_parts();
    let (table, problems) = access::AccessTable::from_openapi(&doc);
    for problem in &problems {
        // Refused at run time; `routes::tests` fails the build's tests.
        tracing::error!(route = %problem, "a route has no usable access rule");
    }
    let limiter = limits::RateLimiter::new(limits.rate_limit_per_sec, limits.rate_limit_burst);
    let access = Arc::new(access::Access {
        table,
        identity: state.domains.identity.clone(),
        by_address: limiter.clone(),
        by_user: limits::RateLimiter::new(limits.user_rate_limit_per_sec, limits.user_rate_limit_burst),
    });
    let request_id = HeaderName::from_static("x-request-id");
    let timeout = limits.request_timeout;
    let router = routes
        .route_layer(middleware::from_fn_with_state(access, access::enforce))
        .layer(Extension(Arc::new(doc)))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.body_limit_bytes))
        .layer(middleware::from_fn_with_state(http_metrics, metrics::record));
    let router = match limiter {
        Some(limiter) => router.layer(middleware::from_fn_with_state(limiter, limits::limit)),
        None => router,
    };
    let auth_limiter = limits::RateLimiter::new(limits.auth_rate_limit_per_sec, limits.auth_rate_limit_burst);
    let router = match auth_limiter {
        Some(limiter) => router.layer(middleware::from_fn_with_state(limiter, limits::limit_auth)),
        None => router,
    };
    let router = router.layer(middleware::from_fn_with_state(
        Arc::new(limits.proxies.clone()),
        clients::resolve,
    ));
    let router = match cors(&limits.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), RequestIds::new()))
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

/// The CORS layer for `origins` (validated by the configuration), if any:
/// preflights answered with the methods and headers the API takes, and the
/// response headers frontends read exposed. No credentials: the API takes
/// bearer tokens, never cookies, so `"*"` is safe.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let names = |list: &[&'static str]| list.iter().map(|n| HeaderName::from_static(n)).collect::<Vec<_>>();
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers(names(&[
                "authorization",
                "content-type",
                "if-match",
                "if-none-match",
                "idempotency-key",
                "x-request-id",
            ]))
            .expose_headers(names(&[
                "location",
                "etag",
                "retry-after",
                "x-request-id",
                "idempotency-key",
                "www-authenticate",
            ]))
            .max_age(CORS_MAX_AGE),
    )
}

/// How long browsers may cache a preflight answer.
pub const CORS_MAX_AGE: Duration = Duration::from_secs(600);

/// Whether `origin` may be configured in `cors_origins`: `"*"`, or a
/// scheme and host (and port), without a path.
pub fn valid_cors_origin(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains('/')
        && HeaderValue::from_str(origin).is_ok()
}

/// Request ids: a random prefix drawn once per process and a counter, so
/// that an id costs no random draw (a UUID per request cost a system call).
#[derive(Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    pub fn new() -> Self {
        let prefix = ulid::Ulid::new().to_string().to_lowercase();
        Self {
            prefix: prefix[10..].into(), // the random part
            next: Arc::default(),
        }
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
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
