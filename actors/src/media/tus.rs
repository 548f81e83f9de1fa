//! The tus 1.0.0 headers a resumable upload speaks (tus.io/protocols/
//! resumable-upload): reading them strictly, so a client that sends
//! something else learns why at once. Pure.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;

pub const VERSION: &str = "1.0.0";
pub const EXTENSIONS: &str = "creation,creation-with-upload,expiration,checksum,termination";
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";
/// The only content type a PATCH may carry.
pub const PATCH_CONTENT_TYPE: &str = "application/offset+octet-stream";

/// `Tus-Resumable` must name the version we speak (412 otherwise, and the
/// answer carries `Tus-Version`).
pub fn check_version(header: Option<&str>) -> Result<()> {
    match header.map(str::trim) {
        Some(VERSION) => Ok(()),
        Some(other) => Err(Error::PreconditionFailed {
            message: format!("Tus-Resumable {other} is not supported; this server speaks {VERSION}"),
        }),
        None => Err(Error::PreconditionFailed {
            message: format!("send Tus-Resumable: {VERSION}"),
        }),
    }
}

/// A non-negative integer header (`Upload-Length`, `Upload-Offset`).
pub fn number(name: &str, header: Option<&str>) -> Result<u64> {
    let text = header
        .map(str::trim)
        .ok_or_else(|| Error::invalid(name, "is required"))?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(name, "must be a non-negative integer"));
    }
    text.parse().map_err(|_| Error::invalid(name, "is too large"))
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value
/// may be left out); keys are unique and printable, without spaces or
/// commas. Values decode to bytes.
pub fn metadata(header: Option<&str>) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut pairs = BTreeMap::new();
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(pairs);
    };
    let bad = |why: String| Error::invalid("Upload-Metadata", why);
    for pair in header.split(',') {
        let mut parts = pair.trim().split(' ');
        let key = parts.next().unwrap_or_default();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(format!("{pair:?} has no valid key")));
        }
        let value = match parts.next() {
            Some(encoded) => STANDARD
                .decode(encoded)
                .map_err(|_| bad(format!("the value of {key} is not base64")))?,
            None => Vec::new(),
        };
        if parts.next().is_some() {
            return Err(bad(format!("{pair:?} has more than a key and a value")));
        }
        if pairs.insert(key.to_string(), value).is_some() {
            return Err(bad(format!("{key} appears twice")));
        }
    }
    Ok(pairs)
}

/// What a chunk's `Upload-Checksum` says it hashes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

/// `Upload-Checksum: <algorithm> <base64 digest>`; 400 for an algorithm
/// we do not speak or a digest of the wrong length.
pub fn checksum(header: Option<&str>) -> Result<Option<Checksum>> {
    let Some(header) = header.map(str::trim) else {
        return Ok(None);
    };
    let bad = |why: &str| Error::bad_request("bad_checksum", format!("Upload-Checksum {why}"));
    let (algorithm, encoded) = header
        .split_once(' ')
        .ok_or_else(|| bad("must be \"<algorithm> <base64>\""))?;
    let digest = STANDARD.decode(encoded.trim()).map_err(|_| bad("is not base64"))?;
    Ok(Some(match algorithm {
        "sha1" => Checksum::Sha1(digest.try_into().map_err(|_| bad("sha1 digests are 20 bytes"))?),
        "sha256" => Checksum::Sha256(digest.try_into().map_err(|_| bad("sha256 digests are 32 bytes"))?),
        _ => {
            return Err(bad(&format!(
                "algorithm {algorithm:?} is not supported (Tus-Checksum-Algorithm: {CHECKSUM_ALGORITHMS})"
            )));
        }
    }))
}

/// The whole file's sha256 the uploader announced in `Upload-Metadata`
/// (`sha256`: the 32 bytes, or their 64 hex digits).
pub fn announced_sha256(metadata: &BTreeMap<String, Vec<u8>>) -> Result<Option<[u8; 32]>> {
    let Some(value) = metadata.get("sha256") else {
        return Ok(None);
    };
    let bad = || Error::invalid("Upload-Metadata", "sha256 must be 32 bytes or 64 hex digits");
    if let Ok(raw) = <[u8; 32]>::try_from(value.as_slice()) {
        return Ok(Some(raw));
    }
    let text = std::str::from_utf8(value).map_err(|_| bad())?.trim();
    if text.len() != 64 {
        return Err(bad());
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(Some(digest))
}

#[cfg(test)]
#[path = "tus_tests.rs"]
mod tests;
