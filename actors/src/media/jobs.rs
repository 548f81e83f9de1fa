//! Variant jobs, thin: one entity per job (`job.rs` decides), in its
//! asset's shard so the source and the variants stay on one node's disk.
//! A worker runs each job on a bounded pool (no more at once than the
//! node has cores): it decodes the source once, makes every variant not
//! already made identically, stores each as a blob, reports progress, and
//! gives the asset its variants. A job a crash or a hand-off cut short is
//! resumed by its alarm ([`super::job::LEASE`]).

use super::actor::{Access, AssetCommand, AssetEntity, AssetReply, holder, id_in_shard, release_blobs};
use super::files::Files;
use super::job::{Job, Resume};
use super::render::render_each;
use super::variants::{Spec, Variant, pending};
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, EntityContext, Outcome, Router, shard_of};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum JobCommand {
    /// Records the job (once; a repeat answers it) and starts it.
    Create(Box<Job>),
    /// The job, for whoever asked it or the asset's owner.
    Get {
        caller: String,
    },
    Started,
    Progress {
        done: usize,
        total: usize,
    },
    Succeeded,
    Failed(String),
    /// The alarm: a job no worker here is on runs again.
    Wake,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum JobReply {
    Job(Box<Job>),
}

/// Runs jobs: at most `pool` at once (never more than the node's cores),
/// each job once per node at a time.
#[derive(Clone)]
pub struct Worker {
    pub context: EntityContext,
    pub files: Files,
    pub pool: Arc<Semaphore>,
    pub running: Arc<Mutex<HashSet<String>>>,
    /// Sources with more pixels are refused before decoding.
    pub max_pixels: u64,
}

impl Worker {
    /// `workers` jobs at once at most: 0 (or more than the node's cores)
    /// means as many as it has cores.
    pub fn new(context: EntityContext, files: Files, max_pixels: u64, workers: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = match workers {
            0 => cores,
            n => n.min(cores),
        };
        Self {
            context,
            files,
            pool: Arc::new(Semaphore::new(workers)),
            running: Arc::new(Mutex::new(HashSet::new())),
            max_pixels,
        }
    }

    fn is_running(&self, key: &str) -> bool {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).contains(key)
    }

    /// Starts `key` unless a worker here is on it already.
    fn launch(&self, key: &str) {
        if !self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string())
        {
            return;
        }
        let (worker, key) = (self.clone(), key.to_string());
        tokio::spawn(async move {
            worker.run(&key).await;
            worker.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        });
    }

    async fn run(&self, key: &str) {
        let Ok(router) = self.context.router() else {
            return;
        };
        let Ok(_permit) = self.pool.clone().acquire_owned().await else {
            return;
        };
        if let Err(error) = self.make(&router, key).await {
            match final_reason(&error) {
                Some(reason) => {
                    if let Err(e) = ask_job(&router, key, JobCommand::Failed(reason)).await {
                        tracing::warn!(job = key, error = %e, "cannot record a failed job; its alarm retries");
                    }
                }
                // Storage or the cluster failed: the job's alarm runs it again.
                None => tracing::warn!(job = key, %error, "a variant job was interrupted"),
            }
        }
    }

    async fn make(&self, router: &Router, key: &str) -> Result<()> {
        let job = ask_job(router, key, JobCommand::Started).await?;
        if job.is_final() {
            return Ok(());
        }
        let get = AssetCommand::Get {
            access: Access::Caller(Some(job.owner.clone())),
            variant: None,
        };
        let asset = match router.ask::<AssetEntity>(&job.media_id, get).await {
            Ok(AssetReply::Asset(asset)) => *asset,
            Ok(other) => return Err(Error::unexpected_reply(&other)),
            Err(Error::NotFound { .. }) => return Err(Error::invalid("media", "the media was deleted")),
            Err(e) => return Err(e),
        };
        if !asset.media_type.is_image() {
            return Err(Error::invalid(
                "media",
                format!(
                    "not_an_image: variants are made of images, not {}",
                    asset.media_type.mime()
                ),
            ));
        }
        let todo = pending(&job.specs, &asset.variants);
        let total = todo.len();
        let shard = shard_of(AssetEntity::KIND, &job.media_id, router.shard_count());
        let (sent, mut made_rx) = tokio::sync::mpsc::unbounded_channel::<Variant>();
        let (files, source, media_id, max_pixels) = (
            self.files.clone(),
            self.files.blob_path(shard, &asset.sha256),
            job.media_id.clone(),
            self.max_pixels,
        );
        let rendering = tokio::task::spawn_blocking(move || {
            crate::faults::pause_point("variant_job_rendering");
            let open = || {
                std::fs::File::open(&source)
                    .map(std::io::BufReader::new)
                    .map_err(|e| Error::internal(format!("the source of a variant job: {e}")))
            };
            render_each(open, &todo, max_pixels, |rendered| {
                let spec: &Spec = todo
                    .iter()
                    .find(|s| s.name == rendered.name)
                    .ok_or_else(|| Error::internal("a variant nobody asked for"))?;
                let sha256 = files
                    .store_blob(shard, &rendered.bytes, &holder(&media_id, Some(&spec.name)))
                    .map_err(|e| Error::internal(format!("storing a variant: {e}")))?;
                let _ = sent.send(Variant {
                    spec: spec.clone(),
                    width: rendered.width,
                    height: rendered.height,
                    size: rendered.bytes.len() as u64,
                    sha256,
                });
                Ok(())
            })
        });
        let mut made = Vec::with_capacity(total);
        while let Some(variant) = made_rx.recv().await {
            made.push(variant);
            ask_job(
                router,
                key,
                JobCommand::Progress {
                    done: made.len(),
                    total,
                },
            )
            .await?;
        }
        let rendered = rendering
            .await
            .map_err(|e| Error::internal(format!("a variant job panicked: {e}")))?;
        // What was made is kept, also when a later variant failed.
        if !made.is_empty() {
            let ours: Vec<_> = made
                .iter()
                .map(|v| (v.sha256, holder(&job.media_id, Some(&v.spec.name))))
                .collect();
            let replaced = match router
                .ask::<AssetEntity>(&job.media_id, AssetCommand::AddVariants(made))
                .await
            {
                Ok(AssetReply::Replaced(old)) => old,
                Ok(other) => return Err(Error::unexpected_reply(&other)),
                // Deleted while its variants were made: they go too.
                Err(Error::NotFound { .. }) => {
                    release_blobs(&self.files, shard, ours).await?;
                    return Err(Error::invalid("media", "the media was deleted"));
                }
                Err(e) => return Err(e),
            };
            release_blobs(&self.files, shard, replaced).await?;
        }
        rendered?;
        ask_job(router, key, JobCommand::Succeeded).await.map(|_| ())
    }
}

/// The reason a job fails for good (bad input), or `None` when trying
/// again may succeed.
fn final_reason(error: &Error) -> Option<String> {
    match error {
        Error::Validation { fields } => Some(
            fields
                .iter()
                .map(|(field, reason)| format!("{field}: {reason}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::NotFound { message, .. } => Some(message.clone()),
        _ => None,
    }
}

pub struct JobEntity {
    pub clock: Arc<dyn Clock>,
    pub worker: Worker,
}

impl Entity for JobEntity {
    const KIND: &'static str = "media_job";
    type State = Job;
    type Command = JobCommand;
    type Reply = JobReply;

    fn due(&self, job: &Job) -> Option<Millis> {
        job.due()
    }

    fn wake(&self) -> Option<JobCommand> {
        Some(JobCommand::Wake)
    }

    async fn handle(&self, key: &str, state: Option<&Job>, command: JobCommand) -> Result<Outcome<Job, JobReply>> {
        let now = self.clock.now();
        let reply = |j: &Job| JobReply::Job(Box::new(j.clone()));
        let found = || state.ok_or_else(|| Error::not_found("job"));
        let moved = |next: Job| match state == Some(&next) {
            true => Outcome::read(reply(&next)),
            false => Outcome::write(next.clone(), reply(&next)),
        };
        Ok(match command {
            JobCommand::Create(job) => match state {
                Some(existing) => Outcome::read(reply(existing)),
                None => {
                    self.worker.launch(key);
                    Outcome::write((*job).clone(), reply(&job))
                }
            },
            JobCommand::Get { caller } => match state.filter(|j| j.may_see(&caller)) {
                Some(job) => Outcome::read(reply(job)),
                None => return Err(Error::not_found("job")),
            },
            JobCommand::Started => moved(found()?.started(now)),
            JobCommand::Progress { done, total } => {
                let next = found()?.progressed(done, total, now);
                Outcome::write_quietly(next.clone(), reply(&next))
            }
            JobCommand::Succeeded => moved(found()?.succeeded(now)),
            JobCommand::Failed(reason) => moved(found()?.failed(&reason, now)),
            JobCommand::Wake => {
                let job = found()?;
                if self.worker.is_running(key) {
                    return Ok(moved(job.touched(now)));
                }
                match job.resumed(now) {
                    Resume::Nothing => Outcome::read(reply(job)),
                    Resume::GiveUp(failed) => moved(failed),
                    Resume::Run(next) => {
                        self.worker.launch(key);
                        moved(next)
                    }
                }
            }
        })
    }
}

pub async fn ask_job(router: &Router, id: &str, command: JobCommand) -> Result<Job> {
    expect_reply!(router.ask::<JobEntity>(id, command).await?, JobReply::Job(j) => *j)
}

/// Records a job making `specs` of `media_id` for `requested_by`, in the
/// asset's shard; `base` makes its id (the same base, the same job).
pub async fn create_job(router: &Router, base: &str, job: Job) -> Result<(String, Job)> {
    let shards = router.shard_count();
    let target = shard_of(AssetEntity::KIND, &job.media_id, shards);
    let id = id_in_shard("j", base, JobEntity::KIND, target, shards);
    let job = ask_job(router, &id, JobCommand::Create(Box::new(job))).await?;
    Ok((id, job))
}
