//! The media entities, thin: one per upload (`upload.rs` decides, the bytes
//! go to `files.rs` off the async threads) and one per asset. An upload
//! that completes becomes an asset in the same shard, so its bytes never
//! leave the node that owns both.

use super::acl::{Acl, Action, Link, Rights, expiry, sign, verify};
use super::files::{Files, hex};
use super::sniff::{MediaType, sniff};
use super::tus::announced_sha256;
use super::upload::{Upload, UploadRecord};
use super::variants::{Variant, merge};
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::ports::{Clock, Millis};
use crate::quota::{self, Quota};
use crate::runtime::{Effect, Entity, EntityContext, Outcome, Router, shard_of};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// An asset: a stored file and who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    pub owner: String,
    pub media_type: MediaType,
    pub size: u64,
    pub sha256: [u8; 32],
    pub acl: Acl,
    pub created_at: Millis,
    /// Signs its links (`acl.rs`); it moves with the asset, so a link works
    /// wherever the asset lives.
    pub link_key: [u8; 32],
    /// Its image variants, by name.
    pub variants: Vec<Variant>,
    /// An image's width and height as seen (EXIF orientation applied),
    /// read from its header; none for a video.
    pub dimensions: Option<(u32, u32)>,
}

impl Asset {
    pub fn variant(&self, name: &str) -> Result<&Variant> {
        self.variants
            .iter()
            .find(|v| v.spec.name == name)
            .ok_or_else(|| Error::not_found("variant"))
    }

    /// The bytes served for `variant` (the original for `None`): their
    /// digest, size and type.
    pub fn served(&self, variant: Option<&str>) -> Result<([u8; 32], u64, &'static str)> {
        Ok(match variant {
            None => (self.sha256, self.size, self.media_type.mime()),
            Some(name) => {
                let v = self.variant(name)?;
                (v.sha256, v.size, v.spec.format.mime())
            }
        })
    }
}

/// An asset as schema 1 wrote it (before variants).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct AssetV1 {
    id: String,
    owner: String,
    media_type: MediaType,
    size: u64,
    sha256: [u8; 32],
    acl: Acl,
    created_at: Millis,
    link_key: [u8; 32],
}

impl From<AssetV1> for Asset {
    fn from(v1: AssetV1) -> Self {
        Self {
            id: v1.id,
            owner: v1.owner,
            media_type: v1.media_type,
            size: v1.size,
            sha256: v1.sha256,
            acl: v1.acl,
            created_at: v1.created_at,
            link_key: v1.link_key,
            variants: Vec::new(),
            dimensions: None,
        }
    }
}

/// How a request may see an asset: as who it is, or by a signed link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Access {
    /// `None`: anonymous.
    Caller(Option<String>),
    Link {
        expires: i64,
        acl_version: u64,
        signature: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AssetCommand {
    /// Records the asset (once; a repeat answers it).
    Create(Box<Asset>),
    /// The asset, if `access` may view it (a link: to `variant`).
    Get { access: Access, variant: Option<String> },
    /// Up to `len` bytes of its content (or of a variant's) from `offset`
    /// (at most [`super::files::CHUNK`]), if `access` may view it.
    Read {
        access: Access,
        variant: Option<String>,
        offset: u64,
        len: u64,
    },
    /// `caller` replaces who may see it (see `Acl::replaced`).
    SetAcl {
        caller: String,
        public: bool,
        grants: BTreeMap<String, Rights>,
    },
    /// A link to its content (or a variant's) lasting `expires_in_secs`,
    /// for one who may view.
    Link {
        caller: String,
        variant: Option<String>,
        expires_in_secs: i64,
    },
    /// A job made these variants (their blobs already held).
    AddVariants(Vec<Variant>),
    /// Its owner deletes it: its blobs are let go of.
    Delete { caller: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AssetReply {
    Asset(Box<Asset>),
    Bytes(Vec<u8>),
    /// A signed link: `(expires, acl_version, signature)`.
    Link(i64, u64, String),
    /// Variants added; the blobs (digest, holder) the replaced ones held.
    Replaced(Vec<([u8; 32], String)>),
    Deleted,
}

pub struct AssetEntity {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
    pub files: Files,
}

impl AssetEntity {
    fn shard(&self, key: &str) -> Result<u32> {
        Ok(shard_of(Self::KIND, key, self.context.router()?.shard_count()))
    }
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

impl Entity for AssetEntity {
    const KIND: &'static str = "media";
    const SCHEMA_VERSION: u32 = 2;
    type State = Asset;
    type Command = AssetCommand;
    type Reply = AssetReply;

    fn upgrade(schema_version: u32, body: &[u8]) -> Result<Asset> {
        match schema_version {
            1 => Ok(crate::runtime::decode::<AssetV1>(body)?.into()),
            v => Err(Error::internal(format!("media: no upgrade from schema version {v}"))),
        }
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&Asset>,
        command: AssetCommand,
    ) -> Result<Outcome<Asset, AssetReply>> {
        let now_secs = self.clock.now() / 1000;
        let reply = |a: &Asset| AssetReply::Asset(Box::new(a.clone()));
        let found = || state.ok_or_else(|| Error::not_found("media"));
        let viewable = |access: &Access, variant: Option<&str>| -> Result<&Asset> {
            let asset = found()?;
            match access {
                Access::Caller(caller) if asset.acl.allows(&asset.owner, caller.as_deref(), Action::View) => Ok(asset),
                // Private to this caller: the same answer as none.
                Access::Caller(_) => Err(Error::not_found("media")),
                Access::Link {
                    expires,
                    acl_version,
                    signature,
                } => {
                    let link = Link {
                        media_id: key,
                        variant,
                        expires: *expires,
                        acl_version: *acl_version,
                    };
                    verify(&asset.link_key, &link, asset.acl.version, signature, now_secs)?;
                    Ok(asset)
                }
            }
        };
        Ok(match command {
            AssetCommand::Create(asset) => match state {
                None => Outcome::write((*asset).clone(), reply(&asset)),
                Some(existing) => Outcome::read(reply(existing)),
            },
            AssetCommand::Get { access, variant } => Outcome::read(reply(viewable(&access, variant.as_deref())?)),
            AssetCommand::Read {
                access,
                variant,
                offset,
                len,
            } => {
                let asset = viewable(&access, variant.as_deref())?;
                let (sha, _, _) = asset.served(variant.as_deref())?;
                let shard = self.shard(key)?;
                let (files, len) = (self.files.clone(), len.min(super::files::CHUNK as u64));
                let bytes = blocking(move || files.read_blob(shard, &sha, offset, len)).await?;
                Outcome::read(AssetReply::Bytes(bytes))
            }
            AssetCommand::SetAcl { caller, public, grants } => {
                let asset = found()?;
                let acl = asset.acl.replaced(&asset.owner, &caller, public, grants)?;
                let next = Asset { acl, ..asset.clone() };
                match next == *asset {
                    true => Outcome::read(reply(asset)),
                    false => Outcome::write(next.clone(), reply(&next)),
                }
            }
            AssetCommand::Link {
                caller,
                variant,
                expires_in_secs,
            } => {
                let asset = viewable(&Access::Caller(Some(caller)), None)?;
                if let Some(name) = &variant {
                    asset
                        .variant(name)
                        .map_err(|_| Error::invalid("variant", format!("this asset has no variant named {name}")))?;
                }
                let expires = expiry(now_secs, expires_in_secs)?;
                let link = Link {
                    media_id: key,
                    variant: variant.as_deref(),
                    expires,
                    acl_version: asset.acl.version,
                };
                let signature = sign(&asset.link_key, &link)?;
                Outcome::read(AssetReply::Link(expires, asset.acl.version, signature))
            }
            AssetCommand::AddVariants(made) => {
                let asset = found()?;
                // Made while the shard moved here? Its blobs stayed behind:
                // the job runs again (here) rather than name missing bytes.
                let shard = self.shard(key)?;
                if let Some(lost) = made.iter().find(|v| !self.files.blob_path(shard, &v.sha256).exists()) {
                    return Err(Error::unavailable(
                        "variant_lost",
                        format!("variant {} was made on another node", lost.spec.name),
                        1,
                    ));
                }
                let (variants, replaced) = merge(&asset.variants, made);
                let next = Asset {
                    variants,
                    ..asset.clone()
                };
                // The blobs of the variants replaced, for the caller to let
                // go of once this state is durable (a crash in between
                // leaves a blob held too long, never one missing).
                let old = replaced
                    .iter()
                    .filter(|v| !next.variants.iter().any(|n| n.sha256 == v.sha256))
                    .map(|v| (v.sha256, holder(key, Some(&v.spec.name))))
                    .collect::<Vec<_>>();
                match next != *asset {
                    true => Outcome::write(next, AssetReply::Replaced(old)),
                    false => Outcome::read(AssetReply::Replaced(old)),
                }
            }
            AssetCommand::Delete { caller } => {
                let Some(asset) = state else {
                    return Ok(Outcome::read(AssetReply::Deleted));
                };
                if asset.owner != caller {
                    return Err(match asset.acl.allows(&asset.owner, Some(&caller), Action::View) {
                        true => Error::forbidden("not_owner", "only the owner deletes an asset"),
                        false => Error::not_found("media"),
                    });
                }
                let mut blobs = vec![(asset.sha256, holder(key, None))];
                blobs.extend(
                    asset
                        .variants
                        .iter()
                        .map(|v| (v.sha256, holder(key, Some(&v.spec.name)))),
                );
                release_blobs(&self.files, self.shard(key)?, blobs).await?;
                Outcome::delete(AssetReply::Deleted)
            }
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum UploadCommand {
    Create(Box<Upload>),
    /// The upload, for its owner only.
    Get {
        caller: String,
    },
    Start {
        caller: String,
        patch_id: String,
        offset: u64,
    },
    Chunk {
        patch_id: String,
        offset: u64,
        bytes: Vec<u8>,
    },
    /// The PATCH ends; a complete upload becomes an asset.
    End {
        patch_id: String,
        keep: bool,
    },
    Terminate {
        caller: String,
    },
    /// The alarm: an expired upload goes.
    Wake,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum UploadReply {
    Upload(Box<UploadRecord>),
    Gone,
}

pub struct UploadEntity {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
    pub files: Files,
    /// Made of every image uploaded (`[media] default_variants`).
    pub default_variants: Vec<super::variants::Spec>,
}

pub(super) async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error::internal(format!("a file task failed: {e}")))?
        .map_err(|e| Error::internal(format!("media file: {e}")))
}

impl UploadEntity {
    fn shard(&self, router: &Router, key: &str) -> u32 {
        shard_of(Self::KIND, key, router.shard_count())
    }

    /// Its file goes and its owner's quota is given back.
    async fn release(&self, router: &Router, key: &str, upload: &Upload) -> Result<()> {
        let (files, shard, id) = (self.files.clone(), self.shard(router, key), key.to_string());
        blocking(move || files.remove_upload(shard, &id)).await?;
        quota::untally::<UploadBytes>(router, &upload.owner, key).await?;
        quota::uncount::<OpenUploads>(router, &upload.owner, key).await
    }

    /// A complete upload becomes an asset: its real type sniffed, its
    /// digest checked against the announced one, its file kept once per
    /// digest; the owner's quota now counts the asset's bytes. 422 (and
    /// the upload goes) for a type not taken or a digest that differs.
    async fn finish(
        &self,
        router: &Router,
        key: &str,
        record: &UploadRecord,
    ) -> Result<std::result::Result<UploadRecord, Error>> {
        let upload = &record.upload;
        let (files, shard, id, len) = (
            self.files.clone(),
            self.shard(router, key),
            key.to_string(),
            upload.length,
        );
        let digested = blocking(move || files.digest(shard, &id, len)).await?;
        let refused = match (sniff(&digested.head), announced_sha256(&upload.metadata)) {
            (None, _) => Some(Error::invalid(
                "file",
                "unsupported_type: only jpeg, png, gif, webp, mp4, quicktime and webm are taken",
            )),
            (_, Ok(Some(announced))) if announced != digested.sha256 => Some(Error::invalid(
                "file",
                format!("digest_mismatch: the file's sha256 is {}", hex(&digested.sha256)),
            )),
            (_, Err(e)) => Some(e),
            _ => None,
        };
        if let Some(error) = refused {
            self.release(router, key, upload).await?;
            return Ok(Err(error));
        }
        let Some(media_type) = sniff(&digested.head) else {
            return Err(Error::internal("sniffed twice, differently"));
        };
        let media_id = media_id_for(key, router.shard_count());
        let (files, id, sha) = (self.files.clone(), key.to_string(), digested.sha256);
        let held_by = holder(&media_id, None);
        let blob = blocking(move || files.promote(shard, &id, &sha, &held_by)).await?;
        // An image's size, from its header (a corrupt one has none; its
        // variant jobs will say why).
        let dimensions = match media_type.is_image() {
            true => {
                blocking(move || {
                    let file = std::io::BufReader::new(std::fs::File::open(blob)?);
                    Ok(super::render::upright_dimensions(file).ok())
                })
                .await?
            }
            false => None,
        };
        let asset = Asset {
            id: media_id.clone(),
            owner: upload.owner.clone(),
            media_type,
            size: digested.size,
            sha256: digested.sha256,
            acl: Acl::default(),
            created_at: self.clock.now(),
            link_key: {
                use rand::RngCore;
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                key
            },
            variants: Vec::new(),
            dimensions,
        };
        router
            .ask::<AssetEntity>(&media_id, AssetCommand::Create(Box::new(asset)))
            .await?;
        if media_type.is_image() && !self.default_variants.is_empty() {
            // Keyed by the upload: a repeat of this step finds the same job.
            let base = key.strip_prefix("up_").unwrap_or(key);
            let job = super::job::Job::new(
                &media_id,
                &upload.owner,
                &upload.owner,
                self.default_variants.clone(),
                self.clock.now(),
            );
            super::jobs::create_job(router, base, job).await?;
        }
        // The bytes now count as stored (as many as were reserved).
        quota::tally::<UploadBytes>(router, &upload.owner, &media_id, digested.size, u64::MAX).await?;
        quota::untally::<UploadBytes>(router, &upload.owner, key).await?;
        quota::uncount::<OpenUploads>(router, &upload.owner, key).await?;
        let mut done = record.clone();
        done.upload.media_id = Some(media_id);
        done.patch = None;
        Ok(Ok(done))
    }
}

fn owned<'a>(state: Option<&'a UploadRecord>, caller: &str) -> Result<&'a UploadRecord> {
    state
        .filter(|r| r.upload.owner == caller)
        .ok_or_else(|| Error::not_found("upload"))
}

impl Entity for UploadEntity {
    const KIND: &'static str = "upload";
    // A PATCH arriving while the upload's shard (and file) moves is told
    // 503 at once; the client resumes at the new owner (HEAD, PATCH).
    const WAITS_WHILE_MOVING: bool = false;
    type State = UploadRecord;
    type Command = UploadCommand;
    type Reply = UploadReply;

    fn due(&self, record: &UploadRecord) -> Option<Millis> {
        record.upload.media_id.is_none().then_some(record.upload.expires_at)
    }

    fn wake(&self) -> Option<UploadCommand> {
        Some(UploadCommand::Wake)
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&UploadRecord>,
        command: UploadCommand,
    ) -> Result<Outcome<UploadRecord, UploadReply>> {
        let now = self.clock.now();
        let router = self.context.router()?;
        let reply = |r: &UploadRecord| UploadReply::Upload(Box::new(r.clone()));
        let gone = |reply: Result<UploadReply>| Outcome {
            reply,
            effect: Effect::Delete,
            members: Vec::new(),
        };
        Ok(match command {
            UploadCommand::Create(upload) => match state {
                Some(existing) => Outcome::read(reply(existing)),
                None => {
                    let record = UploadRecord {
                        upload: *upload,
                        patch: None,
                    };
                    Outcome::write(record.clone(), reply(&record))
                }
            },
            UploadCommand::Get { caller } => Outcome::read(reply(owned(state, &caller)?)),
            UploadCommand::Start {
                caller,
                patch_id,
                offset,
            } => {
                let record = owned(state, &caller)?;
                if record.upload.expired(now) {
                    self.release(&router, key, &record.upload).await?;
                    return Ok(gone(Err(Error::Gone {
                        message: "this upload expired; start a new one".into(),
                    })));
                }
                let next = record.start(&patch_id, offset, now)?;
                Outcome::write(next.clone(), reply(&next))
            }
            UploadCommand::Chunk {
                patch_id,
                offset,
                bytes,
            } => {
                let record = state.ok_or_else(|| Error::not_found("upload"))?;
                let next = record.chunk(&patch_id, offset, bytes.len() as u64, now)?;
                let (files, shard, id) = (self.files.clone(), self.shard(&router, key), key.to_string());
                blocking(move || files.append(shard, &id, offset, &bytes)).await?;
                // The bytes are on disk; the offset's record may lag after
                // a crash (the next append cuts what it does not count).
                Outcome::write_quietly(next.clone(), reply(&next))
            }
            UploadCommand::End { patch_id, keep } => {
                let record = state.ok_or_else(|| Error::not_found("upload"))?;
                let next = record.end(&patch_id, keep);
                if !keep && next.upload.offset < record.upload.offset {
                    let (files, shard, id, len) = (
                        self.files.clone(),
                        self.shard(&router, key),
                        key.to_string(),
                        next.upload.offset,
                    );
                    blocking(move || files.truncate(shard, &id, len)).await?;
                }
                if next.upload.is_complete() && next.upload.media_id.is_none() {
                    match self.finish(&router, key, &next).await? {
                        Ok(done) => Outcome::write(done.clone(), reply(&done)),
                        Err(refused) => gone(Err(refused)),
                    }
                } else if next == *record {
                    Outcome::read(reply(record))
                } else {
                    Outcome::write(next.clone(), reply(&next))
                }
            }
            UploadCommand::Terminate { caller } => {
                let record = owned(state, &caller)?;
                if record.upload.media_id.is_none() {
                    self.release(&router, key, &record.upload).await?;
                }
                gone(Ok(UploadReply::Gone))
            }
            UploadCommand::Wake => match state {
                Some(record) if record.upload.expired(now) => {
                    self.release(&router, key, &record.upload).await?;
                    gone(Ok(UploadReply::Gone))
                }
                Some(record) => Outcome::read(reply(record)),
                None => Outcome::read(UploadReply::Gone),
            },
        })
    }
}

/// Asks an upload entity.
pub async fn ask_upload(router: &Router, id: &str, command: UploadCommand) -> Result<UploadRecord> {
    expect_reply!(router.ask::<UploadEntity>(id, command).await?, UploadReply::Upload(r) => *r)
}

/// Metadata values as text (for the JSON view).
pub fn metadata_text(metadata: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    metadata
        .iter()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
        .collect()
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
