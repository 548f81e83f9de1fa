//! The cluster metadata on Raft: openraft drives a
//! replicated log of [`Command`]s; every node applies them in order to its
//! [`Meta`], so all agree on members, owners, the change in progress and
//! the public keys.
//!
//! - `store.rs` — the log, the vote and the applied state in the node's
//!   sled database (durable before acknowledged);
//! - `network.rs` — Raft's messages carried by a [`Transport`] (the
//!   cluster gateway in a node; an in-process one in tests).

pub mod identity;
pub mod network;
pub mod node;
pub mod store;

use super::meta::{Applied, Command, Meta, Refused};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// What applying one log entry answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response(pub Result<Applied, Refused>);

openraft::declare_raft_types!(
    /// The Raft of the cluster metadata.
    pub MetaRaft:
        D = Command,
        R = Response,
        NodeId = u64,
        Node = openraft::BasicNode,
);

pub type Raft = openraft::Raft<MetaRaft>;
pub use network::Transport;

/// Raft's timing for a cluster on a LAN: heartbeats every 250 ms, an
/// election after 1–2 s without one.
pub fn config(cluster: &str) -> Result<std::sync::Arc<openraft::Config>, String> {
    let config = openraft::Config {
        cluster_name: cluster.to_string(),
        heartbeat_interval: 250,
        election_timeout_min: 1000,
        election_timeout_max: 2000,
        ..Default::default()
    };
    config.validate().map(std::sync::Arc::new).map_err(|e| e.to_string())
}

/// The state this node applied so far, for readers; `subscribe` hears of
/// every applied batch.
#[derive(Clone)]
pub struct Shared(std::sync::Arc<SharedInner>);

struct SharedInner {
    meta: std::sync::RwLock<Meta>,
    applied: tokio::sync::watch::Sender<u64>,
}

impl Default for Shared {
    fn default() -> Self {
        Self(std::sync::Arc::new(SharedInner {
            meta: Default::default(),
            applied: tokio::sync::watch::channel(0).0,
        }))
    }
}

impl Shared {
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Meta> {
        self.0.meta.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the applied state.
    pub fn get(&self) -> Meta {
        self.read().clone()
    }

    /// Replaces the applied state and tells the subscribers.
    pub fn set(&self, meta: Meta) {
        *self.0.meta.write().unwrap_or_else(|p| p.into_inner()) = meta;
        self.0.applied.send_modify(|n| *n += 1);
    }

    /// Changes whenever a new state was applied.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.applied.subscribe()
    }
}

#[cfg(test)]
#[path = "raft_tests.rs"]
mod tests;
