//! The versioned shard table: which member owns each shard.
//!
//! Owners come from rendezvous hashing over the cluster's *members* (nodes
//! that joined and did not leave), not over the nodes alive right now: a node
//! that crashes keeps its shards, which answer 503 until it returns with its
//! data, and nothing is ever re-created empty elsewhere. Only a join or a
//! graceful leave changes the members, and then only the shards whose winner
//! changes move. The table is persisted node-locally, so a restart keeps it.
//!
//! The table is derived from the replicated metadata (`meta`): every node
//! adopts the table of each applied epoch. A shard whose move froze it here
//! is recorded as *moving* (durably), so that it stays frozen across a
//! restart until its switch (or the change's abort) is applied.

use actors::runtime::{Owner, Placement, ShardId, Storage, decode, encode};
use actors::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub cluster_addr: SocketAddr,
    pub http_addr: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardTable {
    pub epoch: u64,
    /// Sorted by name.
    pub members: Vec<Member>,
    /// `owners[shard]` is an index into `members`.
    pub owners: Vec<u16>,
}

fn score(member: &str, shard: ShardId) -> u64 {
    let mut bytes = member.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(&shard.to_be_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

impl ShardTable {
    /// Rendezvous hashing: each shard goes to the member scoring highest.
    pub fn compute(epoch: u64, members: &[Member], shards: u32) -> Self {
        let mut members = members.to_vec();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        members.dedup_by(|a, b| a.name == b.name);
        let owners = (0..shards)
            .map(|shard| {
                (0..members.len())
                    .max_by_key(|&i| score(&members[i].name, shard))
                    .unwrap_or(0) as u16
            })
            .collect();
        Self { epoch, members, owners }
    }

    pub fn owner(&self, shard: ShardId) -> &str {
        self.owners
            .get(shard as usize)
            .and_then(|&i| self.members.get(usize::from(i)))
            .map_or("", |m| m.name.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.members.iter().any(|m| m.name == name)
    }

    pub fn shard_count(&self) -> u32 {
        self.owners.len() as u32
    }

    /// The table the replicated metadata describes.
    pub fn from_meta(meta: &super::meta::Meta) -> Self {
        let members: Vec<Member> = meta.members.values().map(|m| m.member()).collect();
        let owners = (0..meta.shards)
            .map(|s| members.iter().position(|m| m.name == meta.owner(s)).unwrap_or(0) as u16)
            .collect();
        Self {
            epoch: meta.epoch,
            members,
            owners,
        }
    }

    /// The table after `member` joins (or is replaced with new addresses).
    pub fn with_member(&self, member: Member) -> Self {
        let mut members: Vec<Member> = self.members.iter().filter(|m| m.name != member.name).cloned().collect();
        members.push(member);
        Self::compute(self.epoch + 1, &members, self.shard_count())
    }

    /// The table after `name` leaves.
    pub fn without_member(&self, name: &str) -> Self {
        let members: Vec<Member> = self.members.iter().filter(|m| m.name != name).cloned().collect();
        Self::compute(self.epoch + 1, &members, self.shard_count())
    }

    /// Shards per member.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts: BTreeMap<String, usize> = self.members.iter().map(|m| (m.name.clone(), 0)).collect();
        for shard in 0..self.shard_count() {
            *counts.entry(self.owner(shard).to_string()).or_default() += 1;
        }
        counts
    }

    /// The shards whose owner differs in `next`: `(shard, from, to)`.
    pub fn moves_to(&self, next: &ShardTable) -> Vec<(ShardId, String, String)> {
        (0..self.shard_count())
            .filter(|&s| self.owner(s) != next.owner(s))
            .map(|s| (s, self.owner(s).to_string(), next.owner(s).to_string()))
            .collect()
    }
}

const TABLE_KEY: &str = "shard-table";
const MOVING_KEY: &str = "moving";

/// This node's view of the table, persisted in its node-local tree. Empty
/// until the node has founded or joined a cluster.
pub struct TableStore {
    me: String,
    tree: sled::Tree,
    storage: Storage,
    current: RwLock<Option<Arc<ShardTable>>>,
    /// Shards frozen here for a move that is not switched yet.
    moving: RwLock<BTreeSet<ShardId>>,
    /// The adopted epoch, for those who wait for one.
    epochs: tokio::sync::watch::Sender<u64>,
}

impl TableStore {
    pub fn open(storage: &Storage, me: &str) -> Result<Self> {
        let tree = storage.node_tree("cluster")?;
        let stored = tree
            .get(TABLE_KEY)
            .map_err(|e| Error::internal(format!("cluster tree: {e}")))?
            .map(|bytes| decode::<ShardTable>(&bytes))
            .transpose()?;
        if stored
            .as_ref()
            .is_some_and(|t| t.shard_count() != storage.shard_count())
        {
            return Err(Error::internal(
                "the shard count differs from the one this data was written with",
            ));
        }
        let moving = tree
            .get(MOVING_KEY)
            .map_err(|e| Error::internal(format!("cluster tree: {e}")))?
            .map(|bytes| decode::<BTreeSet<ShardId>>(&bytes))
            .transpose()?
            .unwrap_or_default();
        let epoch = stored.as_ref().map_or(0, |t| t.epoch);
        Ok(Self {
            me: me.to_string(),
            tree,
            storage: storage.clone(),
            current: RwLock::new(stored.map(Arc::new)),
            moving: RwLock::new(moving),
            epochs: tokio::sync::watch::channel(epoch).0,
        })
    }

    pub fn current(&self) -> Option<Arc<ShardTable>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn epoch(&self) -> u64 {
        self.current().map_or(0, |t| t.epoch)
    }

    pub fn me(&self) -> &str {
        &self.me
    }

    /// Adopts a newer table (persisted first); older or equal epochs are
    /// ignored.
    pub fn adopt(&self, table: ShardTable) -> Result<bool> {
        // Held across check and write: two adopters cannot both win.
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().is_some_and(|c| c.epoch >= table.epoch) {
            return Ok(false);
        }
        self.tree
            .insert(TABLE_KEY, encode(&table)?)
            .map_err(|e| Error::internal(format!("cluster tree: {e}")))?;
        self.storage.flush_now()?;
        let epoch = table.epoch;
        *current = Some(Arc::new(table));
        drop(current);
        self.epochs.send_replace(epoch);
        Ok(true)
    }

    /// Waits up to `patience` until a table of at least `epoch` is adopted;
    /// whether it was.
    pub async fn wait_for_epoch(&self, epoch: u64, patience: std::time::Duration) -> bool {
        let mut epochs = self.epochs.subscribe();
        tokio::time::timeout(patience, epochs.wait_for(|e| *e >= epoch))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Records, durably, whether `shard` is frozen here for a move.
    pub fn set_moving(&self, shard: ShardId, moving: bool) -> Result<()> {
        let mut set = self.moving.write().unwrap_or_else(|p| p.into_inner());
        let changed = if moving { set.insert(shard) } else { set.remove(&shard) };
        if changed {
            self.tree
                .insert(MOVING_KEY, encode(&*set)?)
                .map_err(|e| Error::internal(format!("cluster tree: {e}")))?;
            self.storage.flush_now()?;
        }
        Ok(())
    }

    /// Shards frozen here for a move.
    pub fn moving(&self) -> Vec<ShardId> {
        self.moving
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect()
    }

    /// The owner of `shard` as this node knows it now.
    pub fn owner_name(&self, shard: ShardId) -> Option<String> {
        self.current().map(|t| t.owner(shard).to_string())
    }
}

impl Placement for TableStore {
    fn owner(&self, shard: ShardId) -> Owner {
        match self.owner_name(shard) {
            Some(owner) if owner == self.me => Owner::Local,
            Some(owner) => Owner::Remote(owner),
            // Not yet part of a cluster: nobody can be asked.
            None => Owner::Remote(String::new()),
        }
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
