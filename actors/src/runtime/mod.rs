#![doc = include_str!("README.md")]

mod address;
mod alarms;
mod entity;
mod host;
mod metrics;
mod router;
mod services;
mod storage;
#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;

pub use address::{EntityRef, ShardId, shard_of};
pub use alarms::{AlarmClock, tick as alarms_tick};
pub use entity::{Effect, Entity, Outcome, from_envelope, load_state};
pub use host::HostTunables;
pub use metrics::RuntimeMetrics;
pub use router::{Cursor, Owner, Page, Placement, RawRecord, RemoteAsk, Router, WeakRouter};
pub use services::NodeService;
pub use storage::{Alarm, Change, Envelope, MemberWrite, Records, Storage, Write, decode, encode, seal};

use crate::error::{Error, Result};
use host::{HostMsg, Kind, KindOps, Kinds, ShardHost};
use ractor::{Actor, ActorRef};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::oneshot;

/// Runtime knobs, from `cluster.toml`'s `[runtime]` section.
#[derive(Debug, Clone)]
pub struct Tunables {
    pub passivate_after: Duration,
    pub max_live_entities: usize,
    pub ask_timeout: Duration,
    /// How long a command waits for a frozen shard (a move under way)
    /// before it is answered 503 `shard_moving` without having run.
    pub hold_while_moving: Duration,
}

impl Default for Tunables {
    fn default() -> Self {
        Self {
            passivate_after: Duration::from_secs(120),
            max_live_entities: 100_000,
            ask_timeout: Duration::from_secs(10),
            hold_while_moving: Duration::from_secs(1),
        }
    }
}

/// What the runtime gives an entity kind whose entities ask other
/// entities: the router of the runtime they run in, set by the runtime when
/// it starts. Weak, so that an entity never keeps its runtime (and its
/// storage) alive after shutdown.
#[derive(Clone, Default)]
pub struct EntityContext {
    router: Arc<OnceLock<WeakRouter>>,
}

impl EntityContext {
    /// The context of a running runtime, for code outside its entities.
    pub fn of(router: &Router) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(router.downgrade());
        Self { router: Arc::new(cell) }
    }

    pub fn router(&self) -> Result<Router> {
        self.router
            .get()
            .and_then(WeakRouter::upgrade)
            .ok_or_else(|| Error::unavailable("stopping", "the node is starting or stopping", 1))
    }

    /// The member records of entity `kind`/`key`, for its own handler
    /// (their only writer) to read.
    pub fn members(&self, kind: &'static str, key: &str) -> Result<Members> {
        let router = self.router()?;
        Ok(Members {
            shard: shard_of(kind, key, router.shard_count()),
            storage: router.storage().clone(),
            kind,
            key: key.to_string(),
        })
    }
}

/// Reads one entity's member records (see `Storage::members`).
pub struct Members {
    storage: Storage,
    shard: ShardId,
    kind: &'static str,
    key: String,
}

impl Members {
    pub fn get(&self, member: &str) -> Result<Option<Vec<u8>>> {
        self.storage.member(self.shard, self.kind, &self.key, member)
    }

    /// One member, decoded.
    pub fn decoded<T: serde::de::DeserializeOwned>(&self, member: &str) -> Result<Option<T>> {
        self.get(member)?.map(|v| decode(&v)).transpose()
    }

    pub fn contains(&self, member: &str) -> Result<bool> {
        Ok(self.get(member)?.is_some())
    }

    /// Up to `limit` members after `after`, in member order.
    pub fn page(&self, after: Option<&str>, limit: usize) -> Result<Vec<(String, Vec<u8>)>> {
        self.storage.members(self.shard, self.kind, &self.key, after, limit)
    }
}

/// Collects entity kinds, then starts one shard host per shard.
pub struct RuntimeBuilder {
    storage: Storage,
    tunables: Tunables,
    metrics: RuntimeMetrics,
    kinds: Kinds,
    context: EntityContext,
}

impl RuntimeBuilder {
    pub fn new(storage: Storage, tunables: Tunables, metrics: RuntimeMetrics) -> Self {
        Self {
            storage,
            tunables,
            metrics,
            kinds: HashMap::new(),
            context: EntityContext::default(),
        }
    }

    /// The context to give entity kinds that ask other entities.
    pub fn context(&self) -> EntityContext {
        self.context.clone()
    }

    pub fn register<E: Entity>(mut self, kind: Arc<E>) -> Self {
        let ops: Arc<dyn KindOps> = Arc::new(Kind {
            kind,
            storage: self.storage.clone(),
        });
        self.kinds.insert(E::KIND, ops);
        self
    }

    pub async fn start(self) -> Result<Runtime> {
        let shard_count = self.storage.shard_count();
        let kinds = Arc::new(self.kinds);
        let per_shard = (self.tunables.max_live_entities / shard_count.max(1) as usize).max(1);
        let mut hosts = Vec::with_capacity(shard_count as usize);
        for shard in 0..shard_count {
            let host = ShardHost {
                shard,
                kinds: kinds.clone(),
                tunables: HostTunables {
                    passivate_after: self.tunables.passivate_after,
                    max_live: per_shard,
                    hold_while_moving: self.tunables.hold_while_moving,
                },
                metrics: self.metrics.clone(),
            };
            let (actor, _) = Actor::spawn(None, host, ())
                .await
                .map_err(|e| Error::internal(format!("starting shard host {shard}: {e}")))?;
            hosts.push(actor);
        }
        let router = Router::new(hosts.clone(), kinds, self.storage.clone(), self.tunables.ask_timeout);
        let _ = self.context.router.set(router.downgrade());
        Ok(Runtime {
            router,
            hosts,
            storage: self.storage,
        })
    }
}

/// The running entity runtime of one node.
pub struct Runtime {
    router: Router,
    hosts: Vec<ActorRef<HostMsg>>,
    storage: Storage,
}

impl Runtime {
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Shards hosted here (all of them, on a single node).
    pub fn hosted_shards(&self) -> usize {
        self.hosts.len()
    }

    /// Entities currently live across every hosted shard.
    pub async fn live_entities(&self) -> usize {
        let mut total = 0;
        for host in &self.hosts {
            let (tx, rx) = oneshot::channel();
            if host.cast(HostMsg::LiveCount(tx)).is_ok() {
                total += rx.await.unwrap_or(0);
            }
        }
        total
    }

    /// Moves records written by an older schema into member records (see
    /// [`Entity::upgrade_members`]), in every shard hosted here; run at
    /// start-up, before serving. Answers how many records moved.
    pub async fn migrate_members(&self) -> Result<usize> {
        let mut moved = 0;
        for shard in 0..self.storage.shard_count() {
            if !self.router.owns(shard) {
                continue;
            }
            for ops in self.router.kinds() {
                moved += ops.migrate_members(&self.storage, shard)?;
            }
        }
        if moved > 0 {
            self.storage.flushed().await?;
            tracing::info!(records = moved, "moved sets into member records");
        }
        Ok(moved)
    }

    /// Stops every shard host after its queued work, then flushes.
    pub async fn shutdown(self) -> Result<()> {
        for host in &self.hosts {
            host.drain_children();
        }
        for host in self.hosts {
            let _ = host.drain_and_wait(Some(Duration::from_secs(10))).await;
        }
        self.storage.flush_now()
    }
}
