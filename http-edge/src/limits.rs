//! Per-client rate limiting: a token bucket per client address for
//! anonymous requests (the address resolved through trusted proxies, see
//! `clients.rs`), and per user for authenticated ones (checked where the
//! token is verified, `access.rs`; a request whose token fails counts
//! against its address).
//!
//! On by default (see `[http]` in cluster.toml); 0 turns each off. Health,
//! readiness and metrics probes are never limited, nor are payment
//! processors' webhooks (signed, cheap to refuse when not, and sent in
//! bursts from few addresses).

use crate::clients::ClientAddr;
use crate::error::ApiError;
use actors::Error;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Most clients tracked at once; idle, full buckets are forgotten beyond it.
const MAX_CLIENTS: usize = 100_000;

/// Token buckets by client key (an address, a user id).
pub struct RateLimiter<K = IpAddr> {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `None` when `per_sec` is 0 (limiting off).
    pub fn new(per_sec: u32, burst: u32) -> Option<Arc<Self>> {
        (per_sec > 0).then(|| {
            Arc::new(Self {
                per_sec: f64::from(per_sec),
                burst: f64::from(burst.max(1)),
                buckets: Mutex::new(HashMap::new()),
            })
        })
    }

    /// Takes one token for `client`, or says how many seconds until one is free.
    pub fn check(&self, client: &K, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(client) {
            let (per_sec, burst) = (self.per_sec, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * per_sec < burst);
        }
        let bucket = buckets.entry(client.clone()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_sec;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / self.per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// Anonymous requests, per client address (requests carrying a token are
/// limited per user once it is verified).
pub async fn limit(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let probe = matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/api/v1/payments/webhooks/");
    let anonymous = !req.headers().contains_key(axum::http::header::AUTHORIZATION);
    limited(&limiter, !probe && anonymous, req, next).await
}

/// Requests that cost a password hash or a mail: signing in, refreshing,
/// resetting a password, creating an account.
fn costly(req: &Request) -> bool {
    let path = req.uri().path();
    path.starts_with("/api/v1/auth/") || (path == "/api/v1/accounts" && req.method() == axum::http::Method::POST)
}

pub async fn limit_auth(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    let costly = costly(&req);
    limited(&limiter, costly, req, next).await
}

async fn limited(limiter: &RateLimiter, applies: bool, req: Request, next: Next) -> Response {
    if applies && let Some(refused) = refuse_address(limiter, &req) {
        return refused;
    }
    next.run(req).await
}

/// Takes a token for the request's client address; the 429 if none is left.
pub fn refuse_address(limiter: &RateLimiter, req: &Request) -> Option<Response> {
    refuse(limiter, &req.extensions().get::<ClientAddr>()?.0)
}

/// Takes a token for `key`; if none is left, the 429 with `Retry-After`.
pub fn refuse<K: Hash + Eq + Clone>(limiter: &RateLimiter<K>, key: &K) -> Option<Response> {
    let retry_after_secs = limiter.check(key, Instant::now()).err()?;
    Some(
        ApiError(Error::RateLimited {
            message: "too many requests from this client; slow down".into(),
            retry_after_secs,
        })
        .into_response(),
    )
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
