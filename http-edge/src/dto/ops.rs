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
