//! The one error type of the platform.
//!
//! Every layer — models, actors, the runtime and the HTTP edge — reports
//! failures as an [`Error`]. The edge renders it as
//! `{"error":{"code","message","fields"}}` with the matching status; the
//! variant decides the status, `code` is a stable snake_case string a frontend
//! can switch on. Errors are serialisable so that a remote owner's reply can
//! carry them across the cluster unchanged.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Error {
    /// 400: the request is malformed or names something unusable (bad token).
    #[error("{message}")]
    BadRequest { code: String, message: String },
    /// 401: who is calling is unknown or not believed.
    #[error("{message}")]
    Unauthenticated { code: String, message: String },
    /// 403: the caller is known but may not do this.
    #[error("{message}")]
    Forbidden { code: String, message: String },
    /// 404
    #[error("{message}")]
    NotFound { code: String, message: String },
    /// 409: the request conflicts with current state.
    #[error("{message}")]
    Conflict { code: String, message: String },
    /// 409 `unavailable`: some lines of an order cannot be had now; nothing
    /// was held.
    #[error("some lines are not available")]
    Shortage { lines: Vec<LineShortage> },
    /// 422: well-formed but invalid; one reason per offending field.
    #[error("validation failed")]
    Validation { fields: BTreeMap<String, String> },
    /// 412: the `If-Match` version is not the current one.
    #[error("{message}")]
    PreconditionFailed { message: String },
    /// 428: a change that must name the version it changes did not.
    #[error("{message}")]
    PreconditionRequired { message: String },
    /// 413: the request body exceeds the limit.
    #[error("{message}")]
    TooLarge { message: String },
    /// 410: it existed and is gone for good (an expired upload).
    #[error("{message}")]
    Gone { message: String },
    /// A status only one protocol uses (tus: 415 wrong content type, 423 a
    /// PATCH already in flight, 460 checksum mismatch, 507 disk full).
    #[error("{message}")]
    Protocol { status: u16, code: String, message: String },
    /// 429: try again after the given number of seconds.
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    /// 503: the owner of the data cannot answer now (timeout, shard not
    /// served). For a write this means "outcome unknown".
    #[error("{message}")]
    Unavailable {
        code: String,
        message: String,
        retry_after_secs: u64,
    },
    /// 500: a fault of ours. The message is logged, never shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Error::BadRequest {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn unauthenticated(code: &str, message: impl Into<String>) -> Self {
        Error::Unauthenticated {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Error::Forbidden {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn not_found(what: &str) -> Self {
        Error::NotFound {
            code: "not_found".into(),
            message: format!("{what} not found"),
        }
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Error::Validation {
            fields: BTreeMap::from([(field.to_string(), reason.into())]),
        }
    }
    pub fn unavailable(code: &str, message: impl Into<String>, retry_after_secs: u64) -> Self {
        Error::Unavailable {
            code: code.into(),
            message: message.into(),
            retry_after_secs,
        }
    }
    pub fn protocol(status: u16, code: &str, message: impl Into<String>) -> Self {
        Error::Protocol {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }

    /// An entity answered with a reply its caller does not expect: a
    /// fault of ours (see [`crate::expect_reply!`]).
    pub fn unexpected_reply(reply: &dyn std::fmt::Debug) -> Self {
        Error::Internal(format!("unexpected reply {reply:?}"))
    }

    /// The stable snake_case code rendered to clients.
    pub fn code(&self) -> &str {
        match self {
            Error::BadRequest { code, .. }
            | Error::Unauthenticated { code, .. }
            | Error::Forbidden { code, .. }
            | Error::NotFound { code, .. }
            | Error::Conflict { code, .. }
            | Error::Unavailable { code, .. } => code,
            Error::Validation { .. } => "validation_failed",
            Error::Shortage { .. } => "unavailable",
            Error::RateLimited { .. } => "rate_limited",
            Error::TooLarge { .. } => "payload_too_large",
            Error::Gone { .. } => "gone",
            Error::Protocol { code, .. } => code,
            Error::PreconditionFailed { .. } => "version_mismatch",
            Error::PreconditionRequired { .. } => "if_match_required",
            Error::Internal(_) => "internal",
        }
    }
}

/// Why one line of an order cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineShortage {
    /// The line's position in the request, from 0.
    pub index: usize,
    pub reason: String,
    /// Units that could be had now.
    pub available: u64,
}

/// Collects per-field reasons, then turns into `Ok` or one `Validation` error.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| reason.into());
    }
    /// Runs `check`, recording its error under `field`; returns the value if valid.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(reason) => {
                self.add(field, reason);
                None
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation { fields: self.0 })
        }
    }
}

/// The payload of the reply variant a caller expects; any other reply is an
/// internal error naming it:
/// `expect_reply!(router.ask::<E>(key, c).await?, Reply::Order(o) => *o)`.
#[macro_export]
macro_rules! expect_reply {
    ($reply:expr, $pattern:pat => $value:expr) => {
        match $reply {
            $pattern => Ok($value),
            #[allow(unreachable_patterns)]
            other => Err($crate::error::Error::unexpected_reply(&other)),
        }
    };
}
