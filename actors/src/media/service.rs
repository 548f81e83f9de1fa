//! [`Media`]: what the edge calls — opening an upload (after its quotas),
//! the steps of a PATCH, reading and ending uploads, reading assets.

use super::actor::*;
use super::files::Files;
use super::job::Job;
use super::jobs::{JobCommand, JobEntity, Worker, ask_job, create_job};
use super::upload::{MAX_OPEN, Upload, UploadRecord, admit};
use super::variants::Spec;
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::ports::{Clock, Millis};
use crate::quota::{self, Owners, Tallies};
use crate::runtime::{Router, RuntimeBuilder};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// `[media]` as the domain uses it.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// The node's data directory (files go under `media/`).
    pub data_dir: PathBuf,
    /// `Tus-Max-Size`: the largest upload taken.
    pub max_upload_bytes: u64,
    /// Unfinished uploads expire after this long.
    pub upload_expiry: Millis,
    /// Uploads are refused (507) when less than this would be left free.
    pub free_disk_headroom: u64,
    /// Made of every image uploaded, without being asked.
    pub default_variants: Vec<super::variants::Spec>,
    /// Sources with more pixels are refused before decoding.
    pub max_source_pixels: u64,
    /// Variant jobs run at once at most (0: as many as the node has cores;
    /// never more).
    pub job_workers: usize,
}

#[derive(Clone)]
pub struct Media {
    router: Router,
    clock: Arc<dyn Clock>,
    settings: Arc<MediaSettings>,
}

/// Bytes free for an unprivileged writer on the file system of `dir`.
fn free_bytes(dir: &std::path::Path) -> Result<u64> {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::internal("a data directory path with a NUL"))?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: statvfs(3) fills `stat` for a NUL-terminated path; it is
    // read only when the call succeeded.
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return Err(Error::internal(format!(
                "statvfs {}: {}",
                dir.display(),
                std::io::Error::last_os_error()
            )));
        }
        stat.assume_init()
    };
    Ok((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

impl Media {
    pub fn register_entities(
        builder: RuntimeBuilder,
        clock: Arc<dyn Clock>,
        settings: &MediaSettings,
    ) -> RuntimeBuilder {
        let context = builder.context();
        let files = Files::new(&settings.data_dir);
        builder
            .register(Arc::new(UploadEntity {
                clock: clock.clone(),
                context: context.clone(),
                files: files.clone(),
                default_variants: settings.default_variants.clone(),
            }))
            .register(Arc::new(AssetEntity {
                clock: clock.clone(),
                context: context.clone(),
                files: files.clone(),
            }))
            .register(Arc::new(JobEntity {
                clock,
                worker: Worker::new(context.clone(), files, settings.max_source_pixels, settings.job_workers),
            }))
            .register(Arc::new(Owners::<OpenUploads>::new(context.clone())))
            .register(Arc::new(Tallies::<UploadBytes>::new(context)))
    }

    pub fn new(router: Router, clock: Arc<dyn Clock>, settings: MediaSettings) -> Self {
        Self {
            router,
            clock,
            settings: Arc::new(settings),
        }
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.settings.max_upload_bytes
    }

    /// Opens an upload of `length` bytes for `owner` whose quota is
    /// `max_bytes`: 413 beyond `Tus-Max-Size`, 507 when the disk would
    /// fill, 403 beyond five open uploads or the quota (counted exactly,
    /// also when requests race).
    pub async fn open(
        &self,
        owner: &str,
        max_bytes: u64,
        length: u64,
        metadata: BTreeMap<String, Vec<u8>>,
    ) -> Result<(String, UploadRecord)> {
        admit(Default::default(), length, u64::MAX, self.settings.max_upload_bytes)?;
        super::tus::announced_sha256(&metadata)?;
        std::fs::create_dir_all(&self.settings.data_dir)
            .map_err(|e| Error::internal(format!("data directory: {e}")))?;
        let free = free_bytes(&self.settings.data_dir)?;
        if free < length.saturating_add(self.settings.free_disk_headroom) {
            return Err(Error::protocol(
                507,
                "insufficient_storage",
                "the server has no room for this upload now",
            ));
        }
        let id = format!("up_{}", ulid::Ulid::new().to_string().to_lowercase());
        quota::count::<OpenUploads>(&self.router, owner, &id, MAX_OPEN)
            .await
            .map_err(|e| match e {
                Error::Forbidden { .. } => Error::forbidden(
                    "too_many_uploads",
                    format!("at most {MAX_OPEN} uploads may be open at once; finish or delete one"),
                ),
                other => other,
            })?;
        if let Err(e) = quota::tally::<UploadBytes>(&self.router, owner, &id, length, max_bytes).await {
            quota::uncount::<OpenUploads>(&self.router, owner, &id).await?;
            return Err(e);
        }
        let upload = Upload::new(owner, length, metadata, self.clock.now(), self.settings.upload_expiry);
        let record = ask_upload(&self.router, &id, UploadCommand::Create(Box::new(upload))).await?;
        Ok((id, record))
    }

    /// The caller's upload (404 for anyone else's; 410 once expired).
    pub async fn upload(&self, caller: &str, id: &str) -> Result<UploadRecord> {
        let record = ask_upload(&self.router, id, UploadCommand::Get { caller: caller.into() }).await?;
        if record.upload.expired(self.clock.now()) {
            return Err(Error::Gone {
                message: "this upload expired; start a new one".into(),
            });
        }
        Ok(record)
    }

    /// A PATCH begins: answers the upload it holds.
    pub async fn start(&self, caller: &str, id: &str, patch_id: &str, offset: u64) -> Result<UploadRecord> {
        let start = UploadCommand::Start {
            caller: caller.into(),
            patch_id: patch_id.into(),
            offset,
        };
        ask_upload(&self.router, id, start).await
    }

    /// More bytes of a PATCH (at most a chunk's worth at a time).
    pub async fn chunk(&self, id: &str, patch_id: &str, offset: u64, bytes: Vec<u8>) -> Result<UploadRecord> {
        let chunk = UploadCommand::Chunk {
            patch_id: patch_id.into(),
            offset,
            bytes,
        };
        ask_upload(&self.router, id, chunk).await
    }

    /// A PATCH ends (what arrived kept, or rolled back).
    pub async fn end(&self, id: &str, patch_id: &str, keep: bool) -> Result<UploadRecord> {
        let end = UploadCommand::End {
            patch_id: patch_id.into(),
            keep,
        };
        ask_upload(&self.router, id, end).await
    }

    pub async fn terminate(&self, caller: &str, id: &str) -> Result<()> {
        let terminate = UploadCommand::Terminate { caller: caller.into() };
        self.router.ask::<UploadEntity>(id, terminate).await.map(|_| ())
    }

    /// Up to a chunk of the asset's content (or a variant's) from
    /// `offset`, if `caller` may view it (read where the asset lives:
    /// through any edge).
    pub async fn read(
        &self,
        access: &Access,
        id: &str,
        variant: Option<&str>,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>> {
        let read = AssetCommand::Read {
            access: access.clone(),
            variant: variant.map(str::to_string),
            offset,
            len,
        };
        expect_reply!(self.router.ask::<AssetEntity>(id, read).await?, AssetReply::Bytes(b) => b)
    }

    /// The asset, if `access` may view it (404 otherwise); a link is
    /// checked against the variant it names.
    pub async fn asset_for(&self, access: &Access, id: &str, variant: Option<&str>) -> Result<Asset> {
        let get = AssetCommand::Get {
            access: access.clone(),
            variant: variant.map(str::to_string),
        };
        expect_reply!(self.router.ask::<AssetEntity>(id, get).await?, AssetReply::Asset(a) => *a)
    }

    /// The asset, if `caller` may view it (404 otherwise).
    pub async fn asset(&self, access: &Access, id: &str) -> Result<Asset> {
        self.asset_for(access, id, None).await
    }

    /// The owner deletes an asset: its variants and bytes go (a blob only
    /// once no other asset uses it) and its bytes leave the owner's quota.
    /// 403 for one who may see it otherwise, 404 for anyone else.
    pub async fn delete(&self, caller: &str, id: &str) -> Result<()> {
        let owner = match self.asset(&Access::Caller(Some(caller.to_string())), id).await {
            Ok(asset) => asset.owner,
            Err(e) => return Err(e),
        };
        let delete = AssetCommand::Delete { caller: caller.into() };
        self.router.ask::<AssetEntity>(id, delete).await?;
        quota::untally::<UploadBytes>(&self.router, &owner, id).await
    }

    /// The owner or a `transform` grantee asks for variants of an image:
    /// the job's id (202). 422 for specs that do not hold or a video, 403
    /// for one who may only view, 404 for anyone else.
    pub async fn request_variants(&self, caller: &str, id: &str, specs: Vec<Spec>) -> Result<String> {
        super::variants::check(&specs)?;
        let asset = self.asset(&Access::Caller(Some(caller.to_string())), id).await?;
        if !asset
            .acl
            .allows(&asset.owner, Some(caller), super::acl::Action::Transform)
        {
            return Err(Error::forbidden(
                "not_transformer",
                "only the owner or a transform grantee asks for variants",
            ));
        }
        if !asset.media_type.is_image() {
            return Err(Error::invalid(
                "variants",
                format!(
                    "not_an_image: variants are made of images, not {}",
                    asset.media_type.mime()
                ),
            ));
        }
        let base = ulid::Ulid::new().to_string().to_lowercase();
        let job = Job::new(id, caller, &asset.owner, specs, self.clock.now());
        Ok(create_job(&self.router, &base, job).await?.0)
    }

    /// A job, for whoever asked it or the asset's owner (404 otherwise).
    pub async fn job(&self, caller: &str, id: &str) -> Result<Job> {
        ask_job(&self.router, id, JobCommand::Get { caller: caller.into() }).await
    }

    /// The owner or a manager replaces who may see the asset; every link
    /// issued before stops working.
    pub async fn set_acl(
        &self,
        caller: &str,
        id: &str,
        public: bool,
        grants: BTreeMap<String, super::acl::Rights>,
    ) -> Result<Asset> {
        let set = AssetCommand::SetAcl {
            caller: caller.into(),
            public,
            grants,
        };
        expect_reply!(self.router.ask::<AssetEntity>(id, set).await?, AssetReply::Asset(a) => *a)
    }

    /// Who may see the asset, for its owner or a manage grantee (403 for
    /// one who may only view, 404 for anyone else).
    pub async fn acl(&self, caller: &str, id: &str) -> Result<super::acl::Acl> {
        let asset = self.asset(&Access::Caller(Some(caller.to_string())), id).await?;
        if !asset.acl.allows(&asset.owner, Some(caller), super::acl::Action::Manage) {
            return Err(Error::forbidden(
                "not_manager",
                "only the owner or a manage grantee sees who has access",
            ));
        }
        Ok(asset.acl)
    }

    /// A signed link to the asset's content or one of its variants:
    /// `(path, expires)`.
    pub async fn link(
        &self,
        caller: &str,
        id: &str,
        variant: Option<&str>,
        expires_in_secs: i64,
    ) -> Result<(String, i64)> {
        let link = AssetCommand::Link {
            caller: caller.into(),
            variant: variant.map(str::to_string),
            expires_in_secs,
        };
        let (expires, version, signature) = expect_reply!(
            self.router.ask::<AssetEntity>(id, link).await?,
            AssetReply::Link(e, v, s) => (e, v, s)
        )?;
        let path = match variant {
            None => format!("/api/v1/media/{id}/content"),
            Some(name) => format!("/api/v1/media/{id}/variants/{name}"),
        };
        Ok((format!("{path}?expires={expires}&v={version}&sig={signature}"), expires))
    }
}

/// Products name media through this (see `catalog/media.rs`).
impl crate::catalog::media::ProductMedia for Media {
    fn refusals(
        &self,
        owner: String,
        ids: Vec<String>,
    ) -> futures::future::BoxFuture<'static, Result<BTreeMap<String, String>>> {
        let media = self.clone();
        Box::pin(async move {
            let mut refused = BTreeMap::new();
            for id in ids {
                let reason = match media.asset(&Access::Caller(Some(owner.clone())), &id).await {
                    Ok(asset) if asset.acl.public => continue,
                    Ok(_) => "not public: make it public before a product shows it",
                    Err(Error::NotFound { .. }) => "no such media that the product's owner may view",
                    Err(e) => return Err(e),
                };
                refused.insert(id, reason.to_string());
            }
            Ok(refused)
        })
    }

    fn shown(
        &self,
        ids: Vec<String>,
    ) -> futures::future::BoxFuture<'static, Result<Vec<crate::catalog::media::ShownMedia>>> {
        let media = self.clone();
        Box::pin(async move {
            let anyone = Access::Caller(None);
            let found = futures::future::join_all(ids.iter().map(|id| media.asset(&anyone, id))).await;
            let mut shown = Vec::new();
            for asset in found {
                let asset = match asset {
                    Ok(asset) => asset,
                    Err(Error::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                };
                let base = format!("/api/v1/media/{}", asset.id);
                shown.push(crate::catalog::media::ShownMedia {
                    content_type: asset.media_type.mime().to_string(),
                    content_url: format!("{base}/content"),
                    variants: asset
                        .variants
                        .iter()
                        .map(|v| {
                            let url = format!("{base}/variants/{}", v.spec.name);
                            (v.spec.name.clone(), url, v.width, v.height)
                        })
                        .collect(),
                    id: asset.id,
                });
            }
            Ok(shown)
        })
    }
}
