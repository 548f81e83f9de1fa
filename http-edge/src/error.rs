//! Renders the platform's one [`Error`] as HTTP:
//! `{"error":{"code","message","fields"}}` with the matching status.

use actors::Error;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code to switch on.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Per-field reasons for validation errors; empty otherwise.
    pub fields: BTreeMap<String, String>,
    /// For `unavailable`: each order line that cannot be had, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<LineShortageDto>>,
    /// For `internal`: the request's id (also in `x-request-id`), to quote
    /// when reporting the fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LineShortageDto {
    /// Position of the line in the request (or the cart), from 0.
    pub index: usize,
    /// `out_of_stock`, `insufficient_stock`, `policy: …`, `no_valid_offer`, …
    pub reason: String,
    pub available: u64,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let (status, message, fields, retry_after) = match &error {
            Error::BadRequest { message, .. } => (StatusCode::BAD_REQUEST, message.clone(), BTreeMap::new(), None),
            Error::Unauthenticated { message, .. } => {
                (StatusCode::UNAUTHORIZED, message.clone(), BTreeMap::new(), None)
            }
            Error::Forbidden { message, .. } => (StatusCode::FORBIDDEN, message.clone(), BTreeMap::new(), None),
            Error::NotFound { message, .. } => (StatusCode::NOT_FOUND, message.clone(), BTreeMap::new(), None),
            Error::Conflict { message, .. } => (StatusCode::CONFLICT, message.clone(), BTreeMap::new(), None),
            Error::Shortage { .. } => (
                StatusCode::CONFLICT,
                "some lines are not available; nothing was reserved".to_string(),
                BTreeMap::new(),
                None,
            ),
            Error::Validation { fields } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "some fields are invalid".to_string(),
                fields.clone(),
                None,
            ),
            Error::TooLarge { message } => (StatusCode::PAYLOAD_TOO_LARGE, message.clone(), BTreeMap::new(), None),
            Error::Gone { message } => (StatusCode::GONE, message.clone(), BTreeMap::new(), None),
            Error::Protocol { status, message, .. } => (
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
                message.clone(),
                BTreeMap::new(),
                None,
            ),
            Error::PreconditionFailed { message } => {
                (StatusCode::PRECONDITION_FAILED, message.clone(), BTreeMap::new(), None)
            }
            Error::PreconditionRequired { message } => (
                StatusCode::PRECONDITION_REQUIRED,
                message.clone(),
                BTreeMap::new(),
                None,
            ),
            Error::RateLimited {
                message,
                retry_after_secs,
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                message.clone(),
                BTreeMap::new(),
                Some(*retry_after_secs),
            ),
            Error::Unavailable {
                message,
                retry_after_secs,
                ..
            } => (
                StatusCode::SERVICE_UNAVAILABLE,
                message.clone(),
                BTreeMap::new(),
                Some(*retry_after_secs),
            ),
            Error::Internal(detail) => {
                // The detail is for operators only.
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_string(),
                    BTreeMap::new(),
                    None,
                )
            }
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: error.code().to_string(),
                message,
                fields,
                lines: match &error {
                    Error::Shortage { lines } => Some(
                        lines
                            .iter()
                            .map(|l| LineShortageDto {
                                index: l.index,
                                reason: l.reason.clone(),
                                available: l.available,
                            })
                            .collect(),
                    ),
                    _ => None,
                },
                request_id: None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"shop\""),
            );
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// The standard 500 body for a request that failed by a fault of ours,
/// naming the request so that the operator can find it in the log.
pub fn internal_error(request_id: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "internal".into(),
            message: "internal error".into(),
            fields: BTreeMap::new(),
            lines: None,
            request_id: Some(request_id.to_string()),
        },
    };
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}
