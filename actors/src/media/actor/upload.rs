//! The upload entity: one tus upload, its bytes appended to its file
//! chunk by chunk; complete, it becomes an asset in the same shard.

use super::{Asset, AssetCommand, AssetEntity, OpenUploads, UploadBytes, blocking, holder, media_id_for};
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::media::acl::Acl;
use crate::media::files::{Files, hex};
use crate::media::sniff::sniff;
use crate::media::tus::announced_sha256;
use crate::media::upload::{Upload, UploadRecord};
use crate::ports::{Clock, Millis};
use crate::quota;
use crate::runtime::{Effect, Entity, EntityContext, Outcome, Router, shard_of};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

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
    pub default_variants: Vec<crate::media::variants::Spec>,
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
                    Ok(crate::media::render::upright_dimensions(file).ok())
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
            let job = crate::media::job::Job::new(
                &media_id,
                &upload.owner,
                &upload.owner,
                self.default_variants.clone(),
                self.clock.now(),
            );
            crate::media::jobs::create_job(router, base, job).await?;
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
