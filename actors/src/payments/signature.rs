//! Webhook signatures, one scheme for every processor adapter (Stripe's):
//! header `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where
//! each `v1` is the HMAC-SHA256 of `"{t}.{raw body}"` under an endpoint
//! secret. A webhook is genuine when any `v1` matches under any configured
//! secret (two during a rotation), compared in constant time, and it is at
//! most [`TOLERANCE_SECS`] old. Pure; secrets never leave this module in an
//! error.

use crate::error::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The oldest a webhook may be, in seconds.
pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &str, t: i64, body: &[u8]) -> Result<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| Error::internal("a webhook secret cannot key an HMAC"))?;
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The header value signing `body` at `t` with `secret`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> Result<String> {
    let tag = mac(secret, t, body)?.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("t={t},v1={hex}"))
}

fn unsigned(why: &str) -> Error {
    Error::unauthenticated("invalid_signature", format!("the webhook's signature {why}"))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Checks `header` for `body` at `now` (unix seconds) against `secrets`
/// (401 `invalid_signature` when missing, malformed, stale or wrong).
pub fn verify(header: Option<&str>, body: &[u8], secrets: &[String], now: i64) -> Result<()> {
    let header = header.ok_or_else(|| unsigned("is missing"))?;
    let mut t = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => tags.extend(unhex(value)),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| unsigned("has no timestamp"))?;
    if tags.is_empty() {
        return Err(unsigned("has no v1 signature"));
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(unsigned("is too old"));
    }
    for secret in secrets {
        for tag in &tags {
            if mac(secret, t, body)?.verify_slice(tag).is_ok() {
                return Ok(());
            }
        }
    }
    Err(unsigned("does not match"))
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
