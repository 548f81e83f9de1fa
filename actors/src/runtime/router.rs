//! The router: the one way domains and the edge talk to entities.

use super::address::{ShardId, shard_of};
use super::entity::{Entity, EntityMsg, from_envelope};
use super::host::HostMsg;
use super::storage::{self, Storage};
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use ractor::ActorRef;
use std::sync::Arc;
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

pub struct AllLocal;

impl Placement for AllLocal {
    fn owner(&self, _: ShardId) -> Owner {
        Owner::Local
    }
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
}

/// Cheap to clone; share it everywhere.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

struct Inner {
    hosts: Vec<ActorRef<HostMsg>>,
    storage: Storage,
    deadline: Duration,
    placement: Arc<dyn Placement>,
    remote: Option<Arc<dyn RemoteAsk>>,
}

/// An opaque position in a listing that spans every shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    shard: ShardId,
    after: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.shard, self.after))
    }
    pub fn decode(text: &str) -> Result<Self> {
        let invalid = || Error::bad_request("invalid_cursor", "the cursor is not one this server issued");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
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
    pub(crate) fn new(hosts: Vec<ActorRef<HostMsg>>, storage: Storage, deadline: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                hosts,
                storage,
                deadline,
                placement: Arc::new(AllLocal),
                remote: None,
            }),
        }
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
    pub async fn ask_within<E: Entity>(&self, key: &str, command: E::Command, deadline: Duration) -> Result<E::Reply> {
        let shard = shard_of(E::KIND, key, self.shard_count());
        match self.inner.placement.owner(shard) {
            Owner::Local => self.ask_local::<E>(shard, key, command, deadline).await,
            Owner::Remote(node) => {
                let remote = self.inner.remote.as_ref().ok_or_else(shard_unavailable)?;
                let reply = remote
                    .ask(&node, E::KIND, key, storage::encode(&command)?, deadline)
                    .await?;
                storage::decode::<Result<E::Reply>>(&reply)?
            }
        }
    }

    async fn ask_local<E: Entity>(
        &self,
        shard: ShardId,
        key: &str,
        command: E::Command,
        deadline: Duration,
    ) -> Result<E::Reply> {
        let host = &self.inner.hosts[shard as usize];
        let (reply, answer) = oneshot::channel();
        let payload = Box::new(EntityMsg::<E> { command, reply });
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
            Err(_) => Err(Error::unavailable(
                "timeout",
                "the request timed out; its outcome is unknown",
                1,
            )),
        }
    }

    /// Reads persisted states of kind `E` across all shards, `limit` at a
    /// time, in a stable order. A read-only query: every acknowledged change
    /// is already in storage, so this never needs to wake the entities.
    pub fn scan<E: Entity>(&self, from: Option<&Cursor>, limit: usize) -> Result<Page<(String, E::State)>> {
        let limit = limit.max(1);
        let mut items = Vec::with_capacity(limit);
        let (mut shard, mut after) = match from {
            Some(c) => (c.shard, Some(c.after.clone())),
            None => (0, None),
        };
        while shard < self.shard_count() {
            let rows = self
                .inner
                .storage
                .scan(shard, E::KIND, after.as_deref(), limit - items.len())?;
            for (key, envelope) in rows {
                items.push((key, from_envelope::<E>(envelope)?));
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

    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }
}

fn shard_unavailable() -> Error {
    Error::unavailable(
        "shard_unavailable",
        "this part of the shop is not being served right now",
        5,
    )
}
