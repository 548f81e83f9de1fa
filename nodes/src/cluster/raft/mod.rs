//! The cluster metadata on Raft (issue 16, in progress): openraft drives a
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

/// The state every node applied so far, for readers.
pub type Shared = std::sync::Arc<std::sync::RwLock<Meta>>;

#[cfg(test)]
#[path = "raft_tests.rs"]
mod tests;
