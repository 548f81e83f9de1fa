//! Extractors: JSON bodies whose rejections use our error format, and the
//! bearer-token caller.

use crate::EdgeState;
use crate::access::{bearer, missing_token};
use crate::error::ApiError;
use actors::Error;
use actors::identity::AccessClaims;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body. Malformed JSON is 400, a body of the wrong shape is 422, an
/// oversized one 413 — all in the error format.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError(json_error(&rejection))),
        }
    }
}

/// A serde message without Rust's names for types: `expected u32` reads
/// `expected a whole number`, `struct PlaceOrderRequest` reads `an object`.
fn plain(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, plain) in [
        ("u8", "a whole number"),
        ("u16", "a whole number"),
        ("u32", "a whole number"),
        ("u64", "a whole number"),
        ("usize", "a whole number"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("f64", "a number"),
        ("a string", "a string"),
    ] {
        out = out.replace(&format!("expected {rust}"), &format!("expected {plain}"));
        out = out.replace(&format!("a `{rust}`"), plain);
    }
    // `struct Name`, `enum Name`, `tuple struct Name`: the JSON shape only.
    for (word, plain) in [("struct ", "an object"), ("enum ", "one of the allowed values")] {
        while let Some(at) = out.find(word) {
            let end = out[at + word.len()..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(out.len(), |e| at + word.len() + e);
            out.replace_range(at..end, plain);
        }
    }
    out
}

fn json_error(rejection: &JsonRejection) -> Error {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let detail = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&text);
            Error::invalid("body", plain(detail))
        }
        JsonRejection::MissingJsonContentType(_) => {
            Error::bad_request("unsupported_media_type", "send the body as application/json")
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge {
            message: "the request body is too large".into(),
        },
        other => Error::bad_request("malformed_json", other.body_text()),
    }
}

/// The client's address (through trusted proxies, see `clients.rs`), when
/// the server recorded the connection's peer.
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts.extensions.get::<crate::clients::ClientAddr>().map(|c| c.0),
        ))
    }
}

/// Path parameters whose rejections use our error format (400, no Rust
/// type names).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| ApiError(Error::bad_request("invalid_path", plain(&e.body_text()))))
    }
}

/// Query parameters whose rejections use our error format.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| ApiError(Error::invalid("query", plain(&e.body_text()))))
    }
}

/// The authenticated caller: a verified bearer access token. The access
/// layer ([`crate::access::enforce`]) verified it already for every route
/// that declares a bearer rule; only a route that did not is verified here.
pub struct Caller(pub AccessClaims);

impl Caller {
    /// The caller's quota `name` as its token carries it (0 if absent).
    pub fn quota(&self, name: &str) -> u64 {
        actors::identity::model::access::quota(&self.0.quotas, name)
    }
}

impl FromRequestParts<EdgeState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &EdgeState) -> Result<Self, Self::Rejection> {
        // One Caller per handler: the verified claims are taken, not copied.
        if let Some(claims) = parts.extensions.remove::<AccessClaims>() {
            return Ok(Caller(claims));
        }
        let token = bearer(&parts.headers).unwrap_or_else(|| Err(missing_token()))?;
        Ok(Caller(state.domains.identity.authenticate(token).await?))
    }
}

/// An optional caller: no `Authorization` header means anonymous; a header
/// with a bad token is still 401.
pub struct MaybeCaller(pub Option<AccessClaims>);

impl FromRequestParts<EdgeState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &EdgeState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(AUTHORIZATION) {
            Caller::from_request_parts(parts, state)
                .await
                .map(|c| MaybeCaller(Some(c.0)))
        } else {
            Ok(MaybeCaller(None))
        }
    }
}

/// The version named by `If-Match` (`"3"`, `W/"3"` or `3`), if any.
pub struct IfMatch(pub Option<u32>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        raw.to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse().ok())
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(|| {
                ApiError(Error::bad_request(
                    "invalid_if_match",
                    "If-Match must be a product version such as \"3\"",
                ))
            })
    }
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
