//! The router: the one way domains and the edge talk to entities.

use super::address::{ShardId, shard_of};
use super::entity::{Entity, EntityMsg, from_envelope};
use super::host::{HostMsg, Kinds};
use super::services::{NodeService, Services};
use super::storage::{self, Envelope, Storage};
use crate::error::{Error, Result};
use crate::shared::page;
use futures::future::BoxFuture;
use ractor::ActorRef;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::oneshot;

/// Who owns a shard right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Local,
    Remote(String),
}

/// Where shards live. Single-node: everything is local. The cluster replaces
/// this with its versioned shard table.
pub trait Placement: Send + Sync {
    fn owner(&self, shard: ShardId) -> Owner;
}

/// Carries an encoded command to another node's gateway and brings back the
/// encoded reply. Provided by the cluster layer.
pub trait RemoteAsk: Send + Sync {
    fn ask(
        &self,
        node: &str,
        kind: &'static str,
        key: &str,
        command: Vec<u8>,
        deadline: Duration,
    ) -> BoxFuture<'static, Result<Vec<u8>>>;

    /// Reads up to `limit` raw records of `kind` in `shard` after `after`
    /// from the node that owns the shard.
    fn scan(
        &self,
        node: &str,
        kind: &'static str,
        shard: ShardId,
        after: Option<String>,
        limit: usize,
    ) -> BoxFuture<'static, Result<Vec<RawRecord>>>;

    /// Calls the node service `service` on `node`.
    fn call(&self, node: &str, service: &str, body: Vec<u8>, deadline: Duration)
    -> BoxFuture<'static, Result<Vec<u8>>>;
}

/// A record as stored: its key, schema version and encoded body.
pub type RawRecord = (String, u32, Vec<u8>);

/// Cheap to clone; share it everywhere.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

struct Inner {
    hosts: Vec<ActorRef<HostMsg>>,
    kinds: Arc<Kinds>,
    storage: Storage,
    deadline: Duration,
    /// Set once by the cluster layer; absent on a single node.
    cluster: OnceLock<(Arc<dyn Placement>, Arc<dyn RemoteAsk>)>,
    services: Services,
}

/// A router that does not keep the runtime alive: for entities that ask
/// other entities (a strong router inside a registered kind would be a
/// reference cycle that keeps storage open after shutdown).
#[derive(Clone, Default)]
pub struct WeakRouter {
    inner: std::sync::Weak<Inner>,
}

impl WeakRouter {
    pub fn upgrade(&self) -> Option<Router> {
        self.inner.upgrade().map(|inner| Router { inner })
    }
}

/// An opaque position in a listing that spans every shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    shard: ShardId,
    after: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        page::cursor(&format!("{}:{}", self.shard, self.after))
    }
    pub fn decode(text: &str) -> Result<Self> {
        let invalid = || Error::bad_request("invalid_cursor", "the cursor is not one this server issued");
        let text = page::position(text)?;
        let (shard, after) = text.split_once(':').ok_or_else(invalid)?;
        Ok(Self {
            shard: shard.parse().map_err(|_| invalid())?,
            after: after.to_string(),
        })
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl Router {
    pub(crate) fn new(hosts: Vec<ActorRef<HostMsg>>, kinds: Arc<Kinds>, storage: Storage, deadline: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                hosts,
                kinds,
                storage,
                deadline,
                cluster: OnceLock::new(),
                services: Services::default(),
            }),
        }
    }

    pub fn downgrade(&self) -> WeakRouter {
        WeakRouter {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Makes this router cluster-aware: `placement` says who owns each
    /// shard, `remote` carries commands to other owners. Set once.
    pub fn join_cluster(&self, placement: Arc<dyn Placement>, remote: Arc<dyn RemoteAsk>) -> Result<()> {
        self.inner
            .cluster
            .set((placement, remote))
            .map_err(|_| Error::internal("the router already belongs to a cluster"))
    }

    /// The owner of the shard holding `kind/key`.
    pub fn owner_of(&self, kind: &str, key: &str) -> Owner {
        self.owner(shard_of(kind, key, self.shard_count()))
    }

    /// Whether this node serves `shard` now.
    pub fn owns(&self, shard: ShardId) -> bool {
        self.owner(shard) == Owner::Local
    }

    /// Every node that owns some shard now, this one first if it does.
    pub fn nodes(&self) -> Vec<Owner> {
        let mut nodes: Vec<Owner> = Vec::new();
        for shard in 0..self.shard_count() {
            let owner = self.owner(shard);
            if !nodes.contains(&owner) {
                nodes.push(owner);
            }
        }
        nodes.sort_by_key(|o| o != &Owner::Local);
        nodes
    }

    /// Offers `service` to this node and to every other node of the cluster.
    pub fn register_service(&self, name: &str, service: Arc<dyn NodeService>) {
        self.inner.services.register(name, service);
    }

    /// Serves another node's call of a service of this node.
    pub async fn serve_call(&self, service: &str, body: Vec<u8>) -> Result<Vec<u8>> {
        self.inner.services.call(service, body).await
    }

    /// Calls `service` on `node` (this node directly, others through the
    /// cluster's transport).
    pub async fn call_node(&self, node: &Owner, service: &str, body: Vec<u8>, deadline: Duration) -> Result<Vec<u8>> {
        match (node, self.inner.cluster.get()) {
            (Owner::Remote(name), Some((_, remote))) => remote.call(name, service, body, deadline).await,
            _ => self.inner.services.call(service, body).await,
        }
    }

    fn owner(&self, shard: ShardId) -> Owner {
        match self.inner.cluster.get() {
            Some((placement, _)) => placement.owner(shard),
            None => Owner::Local,
        }
    }

    /// Serves a command that another node sent encoded: runs it on the local
    /// entity and returns the encoded `Result<Reply>`. The caller has checked
    /// that this node owns the shard.
    pub async fn serve_encoded(&self, kind: &str, key: &str, command: &[u8], deadline: Duration) -> Result<Vec<u8>> {
        let (kind, ops) = self
            .inner
            .kinds
            .get_key_value(kind)
            .map(|(k, ops)| (*k, ops.clone()))
            .ok_or_else(|| {
                Error::unavailable(
                    "incompatible_peer",
                    format!("this node does not know entities of kind {kind}"),
                    5,
                )
            })?;
        let (payload, answer) = ops.decode_ask(command)?;
        let shard = shard_of(kind, key, self.shard_count());
        self.inner.hosts[shard as usize]
            .cast(HostMsg::Deliver {
                kind,
                key: key.to_string(),
                payload,
            })
            .map_err(|_| shard_unavailable())?;
        tokio::time::timeout(deadline, answer).await.map_err(|_| timeout())?
    }

    /// Delivers `kind`'s wake command to the entity `key` of a shard hosted
    /// here; resolves once it was handled. `None` if the kind has no alarms.
    pub(crate) fn wake_local(
        &self,
        shard: ShardId,
        alarm: &super::storage::Alarm,
    ) -> Option<BoxFuture<'static, Result<()>>> {
        let (kind, ops) = self.inner.kinds.get_key_value(alarm.kind.as_str())?;
        let (payload, done) = ops.wake(alarm.due)?;
        let key = &alarm.key;
        let host = self.inner.hosts.get(shard as usize)?;
        host.cast(HostMsg::Deliver {
            kind,
            key: key.to_string(),
            payload,
        })
        .ok()?;
        Some(done)
    }

    /// Every registered kind's operations.
    pub(crate) fn kinds(&self) -> Vec<Arc<dyn super::host::KindOps>> {
        self.inner.kinds.values().cloned().collect()
    }

    /// The default deadline of an ask.
    pub fn deadline(&self) -> Duration {
        self.inner.deadline
    }

    pub fn shard_count(&self) -> u32 {
        self.inner.hosts.len() as u32
    }

    /// Sends `command` to entity `E/key` and waits for its reply, up to the
    /// default deadline.
    pub async fn ask<E: Entity>(&self, key: &str, command: E::Command) -> Result<E::Reply> {
        self.ask_within::<E>(key, command, self.inner.deadline).await
    }

    /// As [`Router::ask`] with an explicit deadline. A timeout answers
    /// `Unavailable{code:"timeout"}`: the command may still run later.
    ///
    /// A shard that moved answers `wrong_owner` without running the command;
    /// the router then asks the new owner (up to three tries in all).
    pub async fn ask_within<E: Entity>(&self, key: &str, command: E::Command, deadline: Duration) -> Result<E::Reply> {
        if self.inner.cluster.get().is_none() {
            // A single node: nothing ever moves, no copy for a retry.
            return self.ask_once::<E>(key, command, deadline).await;
        }
        // A switch the next owner has not applied yet can send it back
        // again: a few tries, each after the cluster layer waited for the
        // newer table.
        for _ in 1..WRONG_OWNER_TRIES {
            match self.ask_once::<E>(key, command.clone(), deadline).await {
                Err(e) if e.code() == "wrong_owner" => continue,
                outcome => return outcome,
            }
        }
        self.ask_once::<E>(key, command, deadline).await
    }

    /// Local owners are called directly, without serialisation.
    async fn ask_once<E: Entity>(&self, key: &str, command: E::Command, deadline: Duration) -> Result<E::Reply> {
        let shard = shard_of(E::KIND, key, self.shard_count());
        match (self.owner(shard), self.inner.cluster.get()) {
            (Owner::Remote(node), Some((_, remote))) => {
                let reply = remote
                    .ask(&node, E::KIND, key, storage::encode(&command)?, deadline)
                    .await?;
                storage::decode::<Result<E::Reply>>(&reply)?
            }
            _ => self.ask_local::<E>(shard, key, command, deadline).await,
        }
    }

    async fn ask_local<E: Entity>(
        &self,
        shard: ShardId,
        key: &str,
        command: E::Command,
        deadline: Duration,
    ) -> Result<E::Reply> {
        if !self.inner.kinds.contains_key(E::KIND) {
            // A wiring mistake, not a client's: say so instead of timing out.
            return Err(Error::internal(format!("entity kind {} is not registered", E::KIND)));
        }
        let host = &self.inner.hosts[shard as usize];
        let (reply, answer) = oneshot::channel();
        let payload = Box::new(EntityMsg::<E> {
            command,
            reply,
            alarm: None,
        });
        host.cast(HostMsg::Deliver {
            kind: E::KIND,
            key: key.to_string(),
            payload,
        })
        .map_err(|_| shard_unavailable())?;
        match tokio::time::timeout(deadline, answer).await {
            Ok(Ok(reply)) => reply,
            // The entity stopped before answering (it failed while this
            // message was queued): the command did not run.
            Ok(Err(_)) => Err(Error::unavailable("entity_restarting", "please retry", 1)),
            Err(_) => Err(timeout()),
        }
    }

    /// Reads persisted states of kind `E` across all shards, `limit` at a
    /// time, in a stable order. A read-only query: every acknowledged change
    /// is already in storage, so this never needs to wake the entities.
    pub async fn scan<E: Entity>(&self, from: Option<&Cursor>, limit: usize) -> Result<Page<(String, E::State)>> {
        let limit = limit.max(1);
        let mut items = Vec::with_capacity(limit);
        let (mut shard, mut after) = match from {
            Some(c) => (c.shard, Some(c.after.clone())),
            None => (0, None),
        };
        while shard < self.shard_count() {
            let want = limit - items.len();
            let rows = match (self.owner(shard), self.inner.cluster.get()) {
                (Owner::Remote(node), Some((_, remote))) => {
                    remote.scan(&node, E::KIND, shard, after.clone(), want).await?
                }
                _ => self.scan_local(E::KIND, shard, after.as_deref(), want)?,
            };
            for (key, schema_version, body) in rows {
                items.push((key, from_envelope::<E>(Envelope { schema_version, body })?));
            }
            if items.len() == limit {
                let after = items.last().map(|(k, _)| k.clone()).unwrap_or_default();
                return Ok(Page {
                    items,
                    next: Some(Cursor { shard, after }),
                });
            }
            shard += 1;
            after = None;
        }
        Ok(Page { items, next: None })
    }

    /// Raw records of `kind` in a shard this node holds (the gateway serves
    /// other nodes' scans with it, after checking ownership).
    pub fn scan_local(&self, kind: &str, shard: ShardId, after: Option<&str>, limit: usize) -> Result<Vec<RawRecord>> {
        Ok(self
            .inner
            .storage
            .scan(shard, kind, after, limit)?
            .into_iter()
            .map(|(key, envelope)| (key, envelope.schema_version, envelope.body))
            .collect())
    }

    /// Stops serving `shard` for a hand-off: new commands wait, every live
    /// entity finishes what it has queued and stops. Resolves when drained.
    pub async fn freeze(&self, shard: ShardId) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.host(shard)?
            .cast(HostMsg::Freeze(tx))
            .map_err(|_| shard_unavailable())?;
        rx.await.map_err(|_| shard_unavailable())
    }

    /// Serves `shard` again; see [`HostMsg::Release`].
    pub fn release(&self, shard: ShardId, moved: bool) -> Result<()> {
        self.host(shard)?
            .cast(HostMsg::Release { moved })
            .map_err(|_| shard_unavailable())
    }

    fn host(&self, shard: ShardId) -> Result<&ActorRef<HostMsg>> {
        self.inner
            .hosts
            .get(shard as usize)
            .ok_or_else(|| Error::internal(format!("no shard {shard}")))
    }

    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }
}

/// How often a command answered `wrong_owner` (it did not run) is sent.
const WRONG_OWNER_TRIES: usize = 3;

pub(crate) fn wrong_owner() -> Error {
    Error::unavailable("wrong_owner", "this data has moved to another node; please retry", 1)
}

fn timeout() -> Error {
    Error::unavailable("timeout", "the request timed out; its outcome is unknown", 1)
}

pub(crate) fn shard_unavailable() -> Error {
    Error::unavailable(
        "shard_unavailable",
        "this part of the shop is not being served right now",
        5,
    )
}
