//! Raft's storage in the node's sled database: the log (one record per
//! index), the vote and what was purged in `node/raft-log`; the applied
//! [`Meta`] with the last applied log id and membership in
//! `node/raft-state`, written with every apply, so a restart resumes from
//! it. Every write is flushed before Raft is told it is durable.

// openraft's traits answer its own (large) `StorageError`; the helpers
// here answer the same, so it is never converted.
#![allow(clippy::result_large_err)]

use super::{MetaRaft, Response, Shared};
use crate::cluster::meta::Meta;
use actors::runtime::{Storage, decode, encode};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, Entry, EntryPayload, LogId, OptionalSend, RaftLogReader, RaftSnapshotBuilder, SnapshotMeta,
    StorageError, StorageIOError, StoredMembership, Vote,
};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::io::Cursor;
use std::ops::RangeBounds;

type NodeId = u64;
type Result<T> = std::result::Result<T, StorageError<NodeId>>;

const VOTE: &[u8] = b"vote";
const PURGED: &[u8] = b"purged";
const COMMITTED: &[u8] = b"committed";
const APPLIED: &[u8] = b"applied";
const SNAPSHOT: &[u8] = b"snapshot";

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn read_err(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::read_logs(&io(e)).into()
}

fn write_err(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::write_logs(&io(e)).into()
}

fn log_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// The log and the vote.
#[derive(Clone)]
pub struct LogStore {
    storage: Storage,
    log: sled::Tree,
}

impl LogStore {
    pub fn open(storage: &Storage) -> std::result::Result<Self, actors::Error> {
        Ok(Self {
            storage: storage.clone(),
            log: storage.node_tree("raft-log")?,
        })
    }

    fn meta_key(name: &[u8]) -> Vec<u8> {
        // Log records have 8-byte keys (the index); the others start with
        // nine 0xFF bytes, past every index, and are skipped by length.
        let mut key = vec![0xFF; 9];
        key.extend_from_slice(name);
        key
    }

    fn get<T: serde::de::DeserializeOwned>(&self, name: &[u8]) -> Result<Option<T>> {
        self.log
            .get(Self::meta_key(name))
            .map_err(read_err)?
            .map(|bytes| decode::<T>(&bytes).map_err(read_err))
            .transpose()
    }

    async fn put<T: Serialize>(&self, name: &[u8], value: &T) -> Result<()> {
        let bytes = encode(value).map_err(write_err)?;
        self.log.insert(Self::meta_key(name), bytes).map_err(write_err)?;
        self.storage.flushed().await.map_err(write_err)
    }

    fn entries<RB: RangeBounds<u64>>(&self, range: RB) -> Result<Vec<Entry<MetaRaft>>> {
        use std::ops::Bound;
        let start = match range.start_bound() {
            Bound::Included(&i) => i,
            Bound::Excluded(&i) => i + 1,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&i) => Some(i + 1),
            Bound::Excluded(&i) => Some(i),
            Bound::Unbounded => None,
        };
        let upper = end.map_or(log_key(u64::MAX).to_vec(), |e| log_key(e).to_vec());
        let mut found = Vec::new();
        for item in self.log.range(log_key(start).to_vec()..upper) {
            let (key, value) = item.map_err(read_err)?;
            if key.len() != 8 {
                continue;
            }
            found.push(decode::<Entry<MetaRaft>>(&value).map_err(read_err)?);
        }
        Ok(found)
    }

    fn last_entry(&self) -> Result<Option<Entry<MetaRaft>>> {
        for item in self.log.range(log_key(0).to_vec()..log_key(u64::MAX).to_vec()).rev() {
            let (key, value) = item.map_err(read_err)?;
            if key.len() == 8 {
                return decode::<Entry<MetaRaft>>(&value).map(Some).map_err(read_err);
            }
        }
        Ok(None)
    }
}

impl RaftLogReader<MetaRaft> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<MetaRaft>>> {
        self.entries(range)
    }
}

impl RaftLogStorage<MetaRaft> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<MetaRaft>> {
        let last_purged: Option<LogId<NodeId>> = self.get(PURGED)?;
        let last = self.last_entry()?.map(|e| e.log_id).or(last_purged);
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<()> {
        self.put(VOTE, vote).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>> {
        self.get(VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> Result<()> {
        self.put(COMMITTED, &committed).await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>> {
        Ok(self.get::<Option<LogId<NodeId>>>(COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<MetaRaft>) -> Result<()>
    where
        I: IntoIterator<Item = Entry<MetaRaft>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        for entry in entries {
            let bytes = encode(&entry).map_err(write_err)?;
            self.log.insert(log_key(entry.log_id.index), bytes).map_err(write_err)?;
        }
        let flushed = self.storage.flushed().await.map_err(io);
        callback.log_io_completed(flushed);
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<()> {
        for key in self
            .log
            .range(log_key(log_id.index).to_vec()..log_key(u64::MAX).to_vec())
            .keys()
        {
            let key = key.map_err(write_err)?;
            if key.len() == 8 {
                self.log.remove(key).map_err(write_err)?;
            }
        }
        self.storage.flushed().await.map_err(write_err)
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<()> {
        self.put(PURGED, &log_id).await?;
        for key in self
            .log
            .range(log_key(0).to_vec()..=log_key(log_id.index).to_vec())
            .keys()
        {
            let key = key.map_err(write_err)?;
            if key.len() == 8 {
                self.log.remove(key).map_err(write_err)?;
            }
        }
        self.storage.flushed().await.map_err(write_err)
    }
}

/// What the state machine keeps: the metadata and where it stands.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Applied {
    last: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, BasicNode>,
    meta: Meta,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, BasicNode>,
    data: Vec<u8>,
}

/// The applied metadata, shared with the node's readers.
#[derive(Clone)]
pub struct StateMachine {
    storage: Storage,
    tree: sled::Tree,
    applied: Applied,
    shared: Shared,
}

impl StateMachine {
    pub fn open(storage: &Storage, shared: Shared) -> std::result::Result<Self, actors::Error> {
        let tree = storage.node_tree("raft-state")?;
        let applied: Applied = match tree
            .get(APPLIED)
            .map_err(|e| actors::Error::internal(format!("raft state: {e}")))?
        {
            Some(bytes) => decode(&bytes)?,
            None => Applied::default(),
        };
        shared.set(applied.meta.clone());
        Ok(Self {
            storage: storage.clone(),
            tree,
            applied,
            shared,
        })
    }

    async fn save(&mut self) -> Result<()> {
        let bytes = encode(&self.applied).map_err(|e| StorageIOError::write_state_machine(&io(e)))?;
        self.tree
            .insert(APPLIED, bytes)
            .map_err(|e| StorageIOError::write_state_machine(&io(e)))?;
        self.storage
            .flushed()
            .await
            .map_err(|e| StorageIOError::write_state_machine(&io(e)))?;
        self.shared.set(self.applied.meta.clone());
        Ok(())
    }

    fn snapshot_of(&self) -> Result<Snapshot<MetaRaft>> {
        let data = encode(&self.applied).map_err(|e| StorageIOError::read_state_machine(&io(e)))?;
        let id = match self.applied.last {
            Some(last) => format!("{}-{}", last.leader_id, last.index),
            None => "empty".into(),
        };
        let meta = SnapshotMeta {
            last_log_id: self.applied.last,
            last_membership: self.applied.membership.clone(),
            snapshot_id: id,
        };
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftSnapshotBuilder<MetaRaft> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<MetaRaft>> {
        let snapshot = self.snapshot_of()?;
        let stored = StoredSnapshot {
            meta: snapshot.meta.clone(),
            data: snapshot.snapshot.get_ref().clone(),
        };
        let bytes = encode(&stored).map_err(|e| StorageIOError::write_snapshot(None, &io(e)))?;
        self.tree
            .insert(SNAPSHOT, bytes)
            .map_err(|e| StorageIOError::write_snapshot(None, &io(e)))?;
        Ok(snapshot)
    }
}

impl RaftStateMachine<MetaRaft> for StateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>)> {
        Ok((self.applied.last, self.applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>>
    where
        I: IntoIterator<Item = Entry<MetaRaft>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut answers = Vec::new();
        for entry in entries {
            self.applied.last = Some(entry.log_id);
            answers.push(match entry.payload {
                EntryPayload::Blank => Response(Ok(crate::cluster::meta::Applied::Unchanged)),
                EntryPayload::Membership(membership) => {
                    self.applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                    Response(Ok(crate::cluster::meta::Applied::Unchanged))
                }
                EntryPayload::Normal(command) => match self.applied.meta.apply(&command) {
                    Ok((next, applied)) => {
                        self.applied.meta = next;
                        Response(Ok(applied))
                    }
                    Err(refused) => Response(Err(refused)),
                },
            });
        }
        self.save().await?;
        Ok(answers)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<()> {
        let data = snapshot.into_inner();
        let applied: Applied = decode(&data).map_err(|e| StorageIOError::read_snapshot(None, &io(e)))?;
        self.applied = Applied {
            last: meta.last_log_id,
            membership: meta.last_membership.clone(),
            meta: applied.meta,
        };
        // Kept as the current snapshot, for followers that lag behind.
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data,
        };
        let bytes = encode(&stored).map_err(|e| StorageIOError::write_snapshot(None, &io(e)))?;
        self.tree
            .insert(SNAPSHOT, bytes)
            .map_err(|e| StorageIOError::write_snapshot(None, &io(e)))?;
        self.save().await
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<MetaRaft>>> {
        let Some(bytes) = self
            .tree
            .get(SNAPSHOT)
            .map_err(|e| StorageIOError::read_snapshot(None, &io(e)))?
        else {
            return Ok(None);
        };
        let stored: StoredSnapshot = decode(&bytes).map_err(|e| StorageIOError::read_snapshot(None, &io(e)))?;
        Ok(Some(Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(stored.data)),
        }))
    }
}
