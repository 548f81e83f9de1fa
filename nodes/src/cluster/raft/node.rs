//! The metadata Raft of one node: started at boot on the node's storage
//! with its identity, reached through the cluster gateway; formed once
//! from the shard table (a new cluster's, or one imported on upgrade).

use super::network::{Network, Transport};
use super::{Raft, Shared, config};
use crate::cluster::gateway;
use crate::cluster::meta::{Applied, Command, MemberInfo};
use crate::cluster::table::ShardTable;
use crate::cluster::wire::{Request, Response};
use actors::runtime::Storage;
use actors::{Error, Result};
use futures::future::BoxFuture;
use openraft::BasicNode;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Raft messages through the cluster gateways, addressed by node name.
pub struct GatewayTransport;

impl Transport for GatewayTransport {
    fn send(&self, to: String, body: Vec<u8>) -> BoxFuture<'static, std::result::Result<Vec<u8>, String>> {
        Box::pin(async move {
            match gateway::call(&to, &Request::Raft(body), Duration::from_secs(2)).await {
                Some(Ok(Response::Raft(answer))) => Ok(answer),
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e.to_string()),
                Some(Ok(other)) => Err(format!("unexpected answer from {to}: {other:?}")),
                None => Err(format!("{to} is not reachable")),
            }
        })
    }
}

pub struct MetaNode {
    pub id: u64,
    pub raft: Raft,
    pub shared: Shared,
}

impl MetaNode {
    pub async fn start(storage: &Storage, cluster: &str, transport: Arc<dyn Transport>) -> Result<Self> {
        let id = super::identity::node_id(storage)?;
        let shared = Shared::default();
        let log = super::store::LogStore::open(storage)?;
        let machine = super::store::StateMachine::open(storage, shared.clone())?;
        let raft = Raft::new(
            id,
            config(cluster).map_err(Error::internal)?,
            Network { transport },
            log,
            machine,
        )
        .await
        .map_err(|e| Error::internal(format!("metadata raft: {e}")))?;
        tokio::spawn(log_leadership(raft.metrics(), shared.clone()));
        Ok(Self { id, raft, shared })
    }

    /// Writes `command` through this node if it leads (503 naming the
    /// leader otherwise).
    pub async fn write(&self, command: Command) -> Result<Applied> {
        match self.raft.client_write(command).await {
            Ok(written) => written.data.0.map_err(|refused| match refused.busy() {
                true => Error::conflict("cluster_change_busy", refused.0),
                false => Error::conflict("cluster_change_refused", refused.0),
            }),
            Err(e) => {
                let leader = e
                    .forward_to_leader::<BasicNode>()
                    .and_then(|f| f.leader_node.clone())
                    .map(|n| n.addr);
                Err(Error::unavailable(
                    "not_the_leader",
                    match leader {
                        Some(name) => format!("the cluster's metadata is written through {name}"),
                        None => format!("the cluster's metadata cannot be written now: {e}"),
                    },
                    1,
                ))
            }
        }
    }

    /// Whether this node leads the metadata Raft now.
    pub fn leads(&self) -> bool {
        self.raft.metrics().borrow().current_leader == Some(self.id)
    }

    /// The name of the leader this node knows of.
    pub fn leader_name(&self) -> Option<String> {
        let metrics = self.raft.metrics().borrow().clone();
        let leader = metrics.current_leader?;
        metrics
            .membership_config
            .membership()
            .get_node(&leader)
            .map(|n| n.addr.clone())
    }

    /// Forms the metadata Raft from today's shard table, once, on the first
    /// member by name: its members' identities are asked, the first five
    /// vote, the others learn, and the table is imported.
    pub async fn form_from(&self, me: &str, table: &ShardTable, cluster: &str) -> Result<()> {
        if self.raft.is_initialized().await.map_err(Error::internal)? {
            return Ok(());
        }
        if table.members.first().is_none_or(|m| m.name != me) {
            return Ok(());
        }
        let mut members = Vec::new();
        for member in &table.members {
            let id = if member.name == me {
                self.id
            } else {
                identity_of(&member.name).await?
            };
            members.push(MemberInfo {
                id,
                name: member.name.clone(),
                cluster_addr: member.cluster_addr,
                http_addr: member.http_addr,
                voter: false,
            });
        }
        let voters: BTreeMap<u64, BasicNode> = members
            .iter()
            .take(crate::cluster::meta::MAX_VOTERS)
            .map(|m| (m.id, BasicNode::new(&m.name)))
            .collect();
        self.raft
            .initialize(voters)
            .await
            .map_err(|e| Error::internal(format!("forming the metadata raft: {e}")))?;
        for m in members.iter().skip(crate::cluster::meta::MAX_VOTERS) {
            self.raft
                .add_learner(m.id, BasicNode::new(&m.name), false)
                .await
                .map_err(|e| Error::internal(format!("adding {} to the metadata raft: {e}", m.name)))?;
        }
        let owners = (0..table.shard_count()).map(|s| table.owner(s).to_string()).collect();
        let import = Command::Import {
            cluster: cluster.to_string(),
            members,
            owners,
            epoch: table.epoch,
        };
        // Leadership may take an election to settle.
        for _ in 0..50 {
            match self.write(import.clone()).await {
                Ok(_) => return Ok(()),
                Err(Error::Unavailable { .. }) => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => return Err(e),
            }
        }
        Err(Error::internal("the metadata raft elected no leader in 10 s"))
    }
}

/// Logs each change of the metadata Raft's leader or term (openraft's own
/// logs are off by default).
async fn log_leadership(
    mut metrics: tokio::sync::watch::Receiver<openraft::RaftMetrics<u64, BasicNode>>,
    shared: super::Shared,
) {
    let mut seen = (None, 0);
    loop {
        let now = {
            let m = metrics.borrow();
            (m.current_leader, m.current_term)
        };
        if now != seen {
            seen = now;
            let leader = match now.0 {
                None => "none".to_string(),
                Some(id) => {
                    let meta = shared.read();
                    let name = meta.members.values().find(|m| m.id == id).map(|m| m.name.clone());
                    name.unwrap_or_else(|| format!("node {id}"))
                }
            };
            tracing::info!(%leader, term = now.1, "metadata raft leadership");
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

/// A peer's identity (retried for up to 30 s while it starts).
async fn identity_of(name: &str) -> Result<u64> {
    for _ in 0..60 {
        if let Some(Ok(Response::Identity(id))) = gateway::call(name, &Request::Identity, Duration::from_secs(1)).await
        {
            return Ok(id);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(Error::internal(format!("{name} did not tell its identity")))
}
