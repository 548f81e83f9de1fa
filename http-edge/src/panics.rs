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
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Nothing the handler shared outlives the request, so resuming after
    // its panic cannot observe a broken invariant.
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            tracing::error!(request_id = %request_id, panic = %what, "a request handler panicked");
            internal_error(&request_id)
        }
    }
}

#[cfg(test)]
#[path = "panics_tests.rs"]
mod tests;
