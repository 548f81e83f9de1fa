//! The versioned shard table: which member owns each shard.
//!
//! Owners come from rendezvous hashing over the cluster's *members* (nodes
//! that joined and did not leave), not over the nodes alive right now: a node
//! that crashes keeps its shards, which answer 503 until it returns with its
//! data, and nothing is ever re-created empty elsewhere. Only a join or a
//! graceful leave changes the members, and then only the shards whose winner
//! changes move. The table is persisted node-locally, so a restart keeps it.

use actors::runtime::{Owner, Placement, ShardId, Storage, decode, encode};
use actors::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardTable {
    pub epoch: u64,
    /// Sorted member names.
    pub members: Vec<String>,
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
    pub fn compute(epoch: u64, members: &[String], shards: u32) -> Self {
        let mut members = members.to_vec();
        members.sort();
        members.dedup();
        let owners = (0..shards)
            .map(|shard| {
                (0..members.len())
                    .max_by_key(|&i| score(&members[i], shard))
                    .unwrap_or(0) as u16
            })
            .collect();
        Self { epoch, members, owners }
    }

    pub fn owner(&self, shard: ShardId) -> &str {
        self.owners
            .get(shard as usize)
            .and_then(|&i| self.members.get(usize::from(i)))
            .map_or("", String::as_str)
    }

    pub fn shard_count(&self) -> u32 {
        self.owners.len() as u32
    }

    /// Shards per member.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts: BTreeMap<String, usize> = self.members.iter().map(|m| (m.clone(), 0)).collect();
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

/// This node's view of the table, persisted in its node-local tree.
pub struct TableStore {
    me: String,
    tree: sled::Tree,
    storage: Storage,
    current: RwLock<Arc<ShardTable>>,
}

impl TableStore {
    /// Loads the persisted table, or starts one over `initial_members`.
    pub fn open(storage: &Storage, me: &str, initial_members: &[String]) -> Result<Self> {
        let tree = storage.node_tree("cluster")?;
        let stored = tree
            .get(TABLE_KEY)
            .map_err(|e| Error::internal(format!("cluster tree: {e}")))?
            .map(|bytes| decode::<ShardTable>(&bytes))
            .transpose()?;
        let table = match stored {
            Some(table) if table.shard_count() == storage.shard_count() => table,
            Some(_) => {
                return Err(Error::internal(
                    "the shard count differs from the one this data was written with",
                ));
            }
            None => ShardTable::compute(1, initial_members, storage.shard_count()),
        };
        let store = Self {
            me: me.to_string(),
            tree,
            storage: storage.clone(),
            current: RwLock::new(Arc::new(table.clone())),
        };
        store.persist(&table)?;
        Ok(store)
    }

    pub fn current(&self) -> Arc<ShardTable> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn me(&self) -> &str {
        &self.me
    }

    fn persist(&self, table: &ShardTable) -> Result<()> {
        self.tree
            .insert(TABLE_KEY, encode(table)?)
            .map_err(|e| Error::internal(format!("cluster tree: {e}")))?;
        self.storage.flush_now()
    }

    /// Adopts a newer table; older or equal epochs are ignored.
    pub fn adopt(&self, table: ShardTable) -> Result<bool> {
        if table.epoch <= self.current().epoch {
            return Ok(false);
        }
        self.persist(&table)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(table);
        Ok(true)
    }
}

impl Placement for TableStore {
    fn owner(&self, shard: ShardId) -> Owner {
        let table = self.current();
        match table.owner(shard) {
            owner if owner == self.me => Owner::Local,
            owner => Owner::Remote(owner.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn every_shard_has_an_owner_and_the_spread_is_even() {
        let table = ShardTable::compute(1, &names(3), 256);
        let counts = table.counts();
        assert_eq!(counts.values().sum::<usize>(), 256);
        assert!(counts.values().all(|&c| (60..=110).contains(&c)), "{counts:?}");
    }

    #[test]
    fn the_table_does_not_depend_on_the_order_members_are_listed() {
        let a = ShardTable::compute(1, &["n2".into(), "n1".into(), "n3".into()], 64);
        let b = ShardTable::compute(1, &names(3), 64);
        assert_eq!(a, b);
    }

    #[test]
    fn a_join_moves_only_shards_to_the_newcomer() {
        let before = ShardTable::compute(1, &names(3), 256);
        let after = ShardTable::compute(2, &names(4), 256);
        let moves = before.moves_to(&after);
        assert!(moves.iter().all(|(_, _, to)| to == "n4"));
        assert_eq!(moves.len(), after.counts()["n4"]);
        assert!(
            (40..=90).contains(&moves.len()),
            "about a quarter moves: {}",
            moves.len()
        );
    }

    #[test]
    fn a_leave_moves_only_the_leavers_shards() {
        let before = ShardTable::compute(1, &names(4), 256);
        let after = ShardTable::compute(2, &names(3), 256);
        let moves = before.moves_to(&after);
        assert!(moves.iter().all(|(_, from, _)| from == "n4"));
        assert_eq!(moves.len(), before.counts()["n4"]);
    }

    #[tokio::test]
    async fn the_table_persists_and_only_newer_epochs_are_adopted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let storage = Storage::open(dir.path(), 16, Default::default()).unwrap();
            let store = TableStore::open(&storage, "n1", &names(2)).unwrap();
            assert!(store.adopt(ShardTable::compute(2, &names(3), 16)).unwrap());
            assert!(!store.adopt(ShardTable::compute(2, &names(1), 16)).unwrap());
        }
        let storage = Storage::open(dir.path(), 16, Default::default()).unwrap();
        let store = TableStore::open(&storage, "n1", &names(2)).unwrap();
        assert_eq!(store.current().epoch, 2);
        assert_eq!(store.current().members, names(3));
        let local = (0..16).filter(|&s| store.owner(s) == Owner::Local).count();
        assert_eq!(local, store.current().counts()["n1"]);
    }
}
