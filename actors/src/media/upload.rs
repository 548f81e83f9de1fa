//! An upload's bookkeeping: how much of it arrived, until when it may go
//! on, and whether its owner may open it at all. The bytes themselves are
//! the upload entity's file; this decides what a request may do to them.
//! Pure.

use crate::error::{Error, Result};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Open uploads one user may have at once.
pub const MAX_OPEN: u64 = 5;
/// An upload not finished within this long expires (its bytes go).
pub const DEFAULT_EXPIRY: Millis = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub owner: String,
    pub length: u64,
    pub offset: u64,
    /// `Upload-Metadata` as sent (its values decoded).
    pub metadata: BTreeMap<String, Vec<u8>>,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// The asset it became, once complete.
    pub media_id: Option<String>,
}

/// What a user already has against `max_upload_bytes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of the assets they own.
    pub stored: u64,
    /// Declared lengths of their open uploads.
    pub reserved: u64,
    pub open: u64,
}

/// Whether a user with `usage` may open an upload of `length` bytes under
/// their quota `max_bytes` and the server's `max_size`: 413 beyond the
/// largest upload taken, 403 `quota_exceeded` (with the numbers) beyond
/// the quota, 403 `too_many_uploads` beyond [`MAX_OPEN`] open at once.
pub fn admit(usage: Usage, length: u64, max_bytes: u64, max_size: u64) -> Result<()> {
    if length > max_size {
        return Err(Error::TooLarge {
            message: format!("an upload may be at most {max_size} bytes (Tus-Max-Size); this one is {length}"),
        });
    }
    if usage.open >= MAX_OPEN {
        return Err(Error::forbidden(
            "too_many_uploads",
            format!("at most {MAX_OPEN} uploads may be open at once; finish or delete one"),
        ));
    }
    let used = usage.stored.saturating_add(usage.reserved);
    if used.saturating_add(length) > max_bytes {
        return Err(Error::forbidden(
            "quota_exceeded",
            format!(
                "quota max_upload_bytes reached: limit {max_bytes}, stored {}, in open uploads {}, asked {length}",
                usage.stored, usage.reserved
            ),
        ));
    }
    Ok(())
}

impl Upload {
    pub fn new(owner: &str, length: u64, metadata: BTreeMap<String, Vec<u8>>, now: Millis, expiry: Millis) -> Self {
        Self {
            owner: owner.to_string(),
            length,
            offset: 0,
            metadata,
            created_at: now,
            expires_at: now + expiry,
            media_id: None,
        }
    }

    pub fn is_complete(&self) -> bool {
        self.offset == self.length
    }

    pub fn expired(&self, now: Millis) -> bool {
        self.media_id.is_none() && now >= self.expires_at
    }

    /// Whether bytes may be appended at `offset` now: 410 once expired,
    /// 409 `offset_mismatch` anywhere but the current offset, 409
    /// `upload_complete` when nothing is left.
    pub fn may_append(&self, offset: u64, now: Millis) -> Result<()> {
        if self.expired(now) {
            return Err(Error::Gone {
                message: "this upload expired; start a new one".into(),
            });
        }
        if offset != self.offset {
            return Err(Error::conflict(
                "offset_mismatch",
                format!("the upload is at offset {}, not {offset}", self.offset),
            ));
        }
        if self.is_complete() {
            return Err(Error::conflict("upload_complete", "every byte has arrived already"));
        }
        Ok(())
    }

    /// How many more bytes it takes.
    pub fn remaining(&self) -> u64 {
        self.length - self.offset
    }

    /// `bytes` more arrived (never past the declared length: the caller
    /// stops reading there).
    pub fn appended(&self, bytes: u64) -> Self {
        Self {
            offset: self.offset.saturating_add(bytes).min(self.length),
            ..self.clone()
        }
    }

    /// The `Upload-Metadata` header that gives back what was sent.
    pub fn metadata_header(&self) -> String {
        use base64::Engine;
        self.metadata
            .iter()
            .map(|(k, v)| match v.is_empty() {
                true => k.clone(),
                false => format!("{k} {}", base64::engine::general_purpose::STANDARD.encode(v)),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A PATCH holds the upload for at most this long between chunks; then
/// another may take it (its client gave up without a word).
pub const PATCH_LEASE: Millis = 60_000;

/// The PATCH in flight: it alone appends until it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    pub id: String,
    /// Where it began (a failed checksum rolls back to here).
    pub start: u64,
    pub lease_until: Millis,
}

/// An upload entity's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub upload: Upload,
    pub patch: Option<Patch>,
}

impl UploadRecord {
    fn locked(&self, patch_id: &str, now: Millis) -> Result<()> {
        match &self.patch {
            Some(p) if p.id != patch_id && p.lease_until > now => Err(Error::protocol(
                423,
                "upload_locked",
                "another PATCH is appending to this upload; retry once it ends",
            )),
            _ => Ok(()),
        }
    }

    /// PATCH `patch_id` begins at `offset`: 423 while another one holds
    /// the upload, and [`Upload::may_append`]'s answers.
    pub fn start(&self, patch_id: &str, offset: u64, now: Millis) -> Result<Self> {
        self.locked(patch_id, now)?;
        self.upload.may_append(offset, now)?;
        Ok(Self {
            upload: self.upload.clone(),
            patch: Some(Patch {
                id: patch_id.to_string(),
                start: offset,
                lease_until: now + PATCH_LEASE,
            }),
        })
    }

    /// `len` more bytes of PATCH `patch_id` belong at `offset`: only from
    /// the PATCH holding the upload, in order, never past the length.
    pub fn chunk(&self, patch_id: &str, offset: u64, len: u64, now: Millis) -> Result<Self> {
        self.locked(patch_id, now)?;
        if self.patch.as_ref().is_none_or(|p| p.id != patch_id) {
            return Err(Error::conflict("patch_ended", "this PATCH no longer holds the upload"));
        }
        self.upload.may_append(offset, now)?;
        if len > self.upload.remaining() {
            return Err(Error::protocol(
                413,
                "past_upload_length",
                format!("only {} more bytes were declared", self.upload.remaining()),
            ));
        }
        let mut next = self.clone();
        next.upload = self.upload.appended(len);
        if let Some(p) = next.patch.as_mut() {
            p.lease_until = now + PATCH_LEASE;
        }
        Ok(next)
    }

    /// PATCH `patch_id` ends: what arrived stays (`keep`), or goes back
    /// to where it began (a checksum that failed). Another PATCH's end, or
    /// a repeat, changes nothing.
    pub fn end(&self, patch_id: &str, keep: bool) -> Self {
        let Some(patch) = self.patch.as_ref().filter(|p| p.id == patch_id) else {
            return self.clone();
        };
        let mut next = self.clone();
        if !keep {
            next.upload.offset = patch.start;
        }
        next.patch = None;
        next
    }
}

#[cfg(test)]
#[path = "upload_tests.rs"]
mod tests;
