//! Validators and conditional requests for stored content (RFC 9110 §8.8,
//! §13): a strong `ETag` from the content's digest (content never changes
//! under an id), `Last-Modified` as an HTTP date, and whether a request's
//! `If-None-Match` / `If-Modified-Since` make the answer a 304. Pure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The strong entity tag of content whose sha256 is `hex` (and of a
/// variant: its own digest).
pub fn etag(hex: &str) -> String {
    format!("\"{}\"", &hex[..hex.len().min(32)])
}

fn time_of(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64)
}

/// `Last-Modified` of content stored at `millis` (an IMF-fixdate).
pub fn http_date(millis: i64) -> String {
    httpdate::fmt_http_date(time_of(millis))
}

/// Whether the client's copy is current: `If-None-Match` decides when
/// sent (any listed tag, compared weakly, or `*`); otherwise
/// `If-Modified-Since` (a date at or after the last change). An
/// unreadable date counts as absent.
pub fn not_modified(if_none_match: Option<&str>, if_modified_since: Option<&str>, etag: &str, modified: i64) -> bool {
    if let Some(list) = if_none_match {
        let ours = etag.trim_start_matches("W/");
        return list
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours);
    }
    let Some(since) = if_modified_since.and_then(|d| httpdate::parse_http_date(d.trim()).ok()) else {
        return false;
    };
    // HTTP dates have whole seconds.
    let modified = time_of(modified - modified.rem_euclid(1000));
    modified <= since
}

#[cfg(test)]
#[path = "conditional_tests.rs"]
mod tests;
