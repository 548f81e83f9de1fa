//! A panic in a handler is a bug; it must not drop the client's connection.
//! This layer turns it into the standard 500 body with the request's id,
//! and logs what panicked under that id.

use crate::error::internal_error;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;

pub async fn catch_panic(request: Request, next: Next) -> Response {
    // Kept as the header value (a cheap clone); read only after a panic.
    let request_id = request.headers().get("x-request-id").cloned();
    // Nothing the handler shared outlives the request, so resuming after
    // its panic cannot observe a broken invariant.
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            tracing::error!(request_id = %request_id, panic = %what, "a request handler panicked");
            internal_error(request_id)
        }
    }
}

#[cfg(test)]
#[path = "panics_tests.rs"]
mod tests;
