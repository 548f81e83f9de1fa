//! The media entities, thin: one per upload (`actor/upload.rs`; the
//! rules in `upload.rs`, the bytes to `files.rs` off the async threads)
//! and one per asset (`actor/asset.rs`). An upload that completes becomes
//! an asset in the same shard, so its bytes never leave the node that owns
//! both. Here: what both share — their quotas, ids and blob holders.

use super::files::Files;
use crate::error::{Error, Result};
use crate::quota::Quota;
use crate::runtime::{Entity, shard_of};

mod asset;
mod upload;

pub use asset::{Access, Asset, AssetCommand, AssetEntity, AssetReply};
pub use upload::{UploadCommand, UploadEntity, UploadReply, ask_upload, metadata_text};

/// A user's open uploads (at most [`super::upload::MAX_OPEN`]).
pub struct OpenUploads;

impl Quota for OpenUploads {
    const KIND: &'static str = "open_uploads";
    const NAME: &'static str = "open_uploads";
}

/// A user's stored bytes and the declared lengths of their open uploads,
/// against `max_upload_bytes`.
pub struct UploadBytes;

impl Quota for UploadBytes {
    const KIND: &'static str = "upload_bytes";
    const NAME: &'static str = "max_upload_bytes";
}

/// The first of the ids `<prefix>_<base>_<n>` whose entity of `kind`
/// lands in shard `target`.
pub fn id_in_shard(prefix: &str, base: &str, kind: &str, target: u32, shards: u32) -> String {
    (0u32..)
        .map(|n| format!("{prefix}_{base}_{n}"))
        .find(|id| shard_of(kind, id, shards) == target)
        .unwrap_or_else(|| format!("{prefix}_{base}"))
}

/// The id of the asset upload `upload_id` becomes: in the upload's own
/// shard.
pub fn media_id_for(upload_id: &str, shards: u32) -> String {
    let target = shard_of(UploadEntity::KIND, upload_id, shards);
    let base = upload_id.strip_prefix("up_").unwrap_or(upload_id);
    id_in_shard("m", base, AssetEntity::KIND, target, shards)
}

/// Who holds an asset's original blob, and each of its variants'.
pub fn holder(media_id: &str, variant: Option<&str>) -> String {
    match variant {
        None => media_id.to_string(),
        Some(name) => format!("{media_id}~{name}"),
    }
}

/// Runs file work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error::internal(format!("a file task failed: {e}")))?
        .map_err(|e| Error::internal(format!("media file: {e}")))
}

/// Holders let go of these blobs of `shard` (those no one else holds go).
pub async fn release_blobs(files: &Files, shard: u32, blobs: Vec<([u8; 32], String)>) -> Result<()> {
    let files = files.clone();
    blocking(move || {
        for (sha, holder) in &blobs {
            files.release(shard, sha, holder)?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
