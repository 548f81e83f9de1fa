//! The cluster as operators see it.

use super::*;

/// The cluster as one node sees it.
#[derive(Serialize, ToSchema)]
pub struct ClusterStatusResponse {
    /// The node answering.
    pub node: String,
    /// The shard table's version.
    pub epoch: u64,
    pub members: Vec<ClusterMember>,
    /// Shards moved ahead of the next table (hand-offs under way).
    pub handoffs: Vec<HandoffDto>,
    /// The metadata Raft as this node sees it (once formed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raft: Option<RaftStatusDto>,
}

#[derive(Serialize, ToSchema)]
pub struct RaftStatusDto {
    pub leader: Option<String>,
    pub term: u64,
    /// The last log index this node applied.
    pub applied_index: Option<u64>,
    /// The last index in this node's log.
    pub last_log_index: Option<u64>,
    pub voters: Vec<String>,
    pub learners: Vec<String>,
    /// The replicated metadata's owner epoch.
    pub epoch: u64,
    /// The membership change in progress.
    pub change: Option<String>,
    /// The nodes whose public signing keys the replicated metadata holds
    /// (their tokens verify everywhere, also while they are down or after
    /// they left).
    pub key_holders: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClusterMember {
    pub name: String,
    /// `up`, `suspect` (silent, e.g. frozen) or `down` (no session).
    pub status: String,
    pub shards: usize,
    pub cluster_addr: String,
    pub http_addr: String,
}

#[derive(Serialize, ToSchema)]
pub struct HandoffDto {
    pub shard: u32,
    pub to: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OwnerQuery {
    /// An entity kind, e.g. `user`.
    pub kind: String,
    /// Its key, e.g. a user id.
    pub key: String,
}

/// Where one entity lives.
#[derive(Serialize, ToSchema)]
pub struct OwnerResponse {
    pub kind: String,
    pub key: String,
    pub shard: u32,
    pub owner: String,
}
