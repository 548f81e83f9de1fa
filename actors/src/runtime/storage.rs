//! Storage: one sled `Db` per node, one tree per shard, versioned records and
//! group commit.
//!
//! Layout: shard `s` keeps every record of every kind in the tree `shard/{s}`,
//! keyed by `kind \0 key`, so a shard can be exported and imported as a unit.
//! Node-local data that never moves (the signing key ring) lives in trees
//! named `node/…`.
//!
//! A record is an envelope: 4 bytes of big-endian `schema_version`, then the
//! bincode 2 encoding of the state. Readers upgrade old versions explicitly
//! (see [`crate::runtime::Entity::upgrade`]).
//!
//! Beside this file: `members.rs` (member records and the write journal),
//! `alarm_keys.rs` (alarms by due time), `commit.rs` (group commit and the
//! durability marks).

mod alarm_keys;
mod commit;
mod members;

pub use alarm_keys::Alarm;
use alarm_keys::alarm_key;
use commit::{Marks, group_commit};
use members::{journal_key, member_key};

use super::address::ShardId;
use super::metrics::RuntimeMetrics;
use crate::error::{Error, Result};
use crate::ports::Millis;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// A decoded envelope: the schema version it was written with and its body.
pub struct Envelope {
    pub schema_version: u32,
    pub body: Vec<u8>,
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| Error::internal(format!("encode: {e}")))
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(value, _)| value)
        .map_err(|e| Error::internal(format!("decode: {e}")))
}

pub fn seal(schema_version: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&schema_version.to_be_bytes());
    out.extend_from_slice(body);
    out
}

pub fn open(bytes: &[u8]) -> Result<Envelope> {
    if bytes.len() < 4 {
        return Err(Error::internal("record shorter than its envelope"));
    }
    let (version, body) = bytes.split_at(4);
    Ok(Envelope {
        schema_version: u32::from_be_bytes([version[0], version[1], version[2], version[3]]),
        body: body.to_vec(),
    })
}

/// Raw records of a shard, as exported and imported: `(key, envelope)`.
pub type Records = Vec<(Vec<u8>, Vec<u8>)>;

fn record_key(kind: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(kind.len() + 1 + key.len());
    k.extend_from_slice(kind.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

/// One entity's write: its record (`None` deletes it), its alarm moving
/// from `alarm.0` to `alarm.1`, and the member records it puts (`Some`) or
/// removes (`None`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Write {
    pub record: Option<Vec<u8>>,
    pub alarm: (Option<Millis>, Option<Millis>),
    pub members: Vec<MemberWrite>,
}

/// A member record written (`Some` value) or removed (`None`).
pub type MemberWrite = (String, Option<Vec<u8>>);

/// Applies a write's keys, ordered so that a crash between them can only
/// leave an extra alarm, never lose one (see [`Storage::write`]).
fn apply(tree: &sled::Tree, kind: &str, key: &str, write: &Write) -> std::result::Result<(), sled::Error> {
    let (before, after) = write.alarm;
    if before != after
        && let Some(due) = after
    {
        tree.insert(alarm_key(due, kind, key), Vec::new())?;
    }
    for (member, value) in &write.members {
        match value {
            Some(value) => tree.insert(member_key(kind, key, member), value.as_slice())?,
            None => tree.remove(member_key(kind, key, member))?,
        };
    }
    match &write.record {
        Some(envelope) => tree.insert(record_key(kind, key), envelope.as_slice())?,
        None => tree.remove(record_key(kind, key))?,
    };
    if before != after
        && let Some(due) = before
    {
        tree.remove(alarm_key(due, kind, key))?;
    }
    Ok(())
}

/// sled's page cache unless configured (`[runtime] storage_cache_mb`).
pub const DEFAULT_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// The node's storage. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<sled::Db>,
    shards: Vec<sled::Tree>,
    commit: mpsc::UnboundedSender<oneshot::Sender<Result<()>>>,
    /// Who hears of each write, per kind (derived data such as the search index).
    watchers: std::sync::RwLock<Vec<(String, mpsc::UnboundedSender<Change>)>>,
    marks: Arc<Marks>,
}

/// A record that was written or deleted: its shard and key.
pub type Change = (ShardId, String);

impl Storage {
    /// Opens (or creates) the database under `dir`.
    ///
    /// A database still held by a process that is shutting down (or by a
    /// just-dropped `Storage` whose flusher is ending) is waited for briefly.
    pub fn open(dir: &Path, shard_count: u32, metrics: RuntimeMetrics) -> Result<Self> {
        Self::open_with_cache(dir, shard_count, metrics, DEFAULT_CACHE_BYTES)
    }

    /// As [`Storage::open`], with sled's page cache bounded to `cache_bytes`
    /// (sled's own default is 1 GiB, which a node fills and keeps).
    pub fn open_with_cache(dir: &Path, shard_count: u32, metrics: RuntimeMetrics, cache_bytes: u64) -> Result<Self> {
        let mut attempts = 0;
        let db = loop {
            match sled::Config::new().path(dir).cache_capacity(cache_bytes).open() {
                Ok(db) => break db,
                // sled wraps the lock failure in an error of kind `Other`.
                Err(sled::Error::Io(e))
                    if attempts < 50
                        && (e.kind() == std::io::ErrorKind::WouldBlock
                            || e.to_string().contains("could not acquire lock")) =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => {
                    return Err(Error::internal(format!(
                        "cannot open storage at {} (is another node using it?): {e}",
                        dir.display()
                    )));
                }
            }
        };
        Self::with_db(db, shard_count, metrics)
    }

    /// A throw-away database, for tests.
    pub fn temporary(shard_count: u32) -> Result<Self> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(|e| Error::internal(format!("cannot open temporary storage: {e}")))?;
        Self::with_db(db, shard_count, RuntimeMetrics::default())
    }

    fn with_db(db: sled::Db, shard_count: u32, metrics: RuntimeMetrics) -> Result<Self> {
        let shards = (0..shard_count)
            .map(|s| db.open_tree(format!("shard/{s}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::internal(format!("cannot open shard trees: {e}")))?;
        let db = Arc::new(db);
        let (tx, rx) = mpsc::unbounded_channel();
        let marks = Arc::new(Marks::default());
        // The flusher holds the database weakly: dropping the last `Storage`
        // closes it at once, releasing its lock for a restart in-process.
        tokio::spawn(group_commit(Arc::downgrade(&db), rx, marks.clone(), metrics));
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                shards,
                commit: tx,
                watchers: Default::default(),
                marks,
            }),
        })
    }

    pub fn shard_count(&self) -> u32 {
        self.inner.shards.len() as u32
    }

    fn shard(&self, shard: ShardId) -> Result<&sled::Tree> {
        self.inner
            .shards
            .get(shard as usize)
            .ok_or_else(|| Error::internal(format!("no shard {shard}")))
    }

    pub fn load(&self, shard: ShardId, kind: &str, key: &str) -> Result<Option<Envelope>> {
        let raw = self
            .shard(shard)?
            .get(record_key(kind, key))
            .map_err(|e| Error::internal(format!("read: {e}")))?;
        raw.map(|bytes| open(&bytes)).transpose()
    }

    /// Writes a record. Not yet durable: await [`Storage::flushed`] before
    /// acknowledging.
    pub fn put(&self, shard: ShardId, kind: &str, key: &str, envelope: Vec<u8>) -> Result<()> {
        self.shard(shard)?
            .insert(record_key(kind, key), envelope)
            .map_err(|e| Error::internal(format!("write: {e}")))?;
        self.changed(shard, kind, key);
        Ok(())
    }

    pub fn delete(&self, shard: ShardId, kind: &str, key: &str) -> Result<()> {
        self.shard(shard)?
            .remove(record_key(kind, key))
            .map_err(|e| Error::internal(format!("delete: {e}")))?;
        self.changed(shard, kind, key);
        Ok(())
    }

    /// Writes an entity's record and moves its alarm. Not yet durable:
    /// await [`Storage::flushed`] before acknowledging.
    ///
    /// Deliberately not one `apply_batch`: in sled 0.34 a batch takes a
    /// process-wide write lock that waits for any flush in progress (and,
    /// once used, makes every later read and write take that lock), so
    /// batches stall every writer behind each group commit. Instead the
    /// steps are ordered so that a crash between them can only leave an
    /// extra alarm, never lose one: the new alarm first, then the record,
    /// then the old alarm's removal. An extra (orphan) alarm wakes its
    /// entity once, which then removes it (see `EntityActor`). A write of
    /// member records is journaled (see [`JOURNAL_PREFIX`]).
    /// Answers the write's sequence number.
    pub fn write(&self, shard: ShardId, kind: &str, key: &str, write: Write) -> Result<u64> {
        let tree = self.shard(shard)?;
        let failed = |e: sled::Error| Error::internal(format!("write: {e}"));
        let journaled = !write.members.is_empty();
        if journaled {
            tree.insert(journal_key(kind, key), encode(&write)?).map_err(failed)?;
        }
        apply(tree, kind, key, &write).map_err(failed)?;
        if journaled {
            tree.remove(journal_key(kind, key)).map_err(failed)?;
        }
        Ok(self.changed(shard, kind, key))
    }

    /// Hears of every later write and delete of `kind` made through
    /// [`Storage::put`] and [`Storage::delete`] (not of shard imports).
    pub fn watch(&self, kind: &str) -> mpsc::UnboundedReceiver<Change> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut watchers) = self.inner.watchers.write() {
            watchers.push((kind.to_string(), tx));
        }
        rx
    }

    /// Numbers a write that is now in sled, and tells the watchers.
    fn changed(&self, shard: ShardId, kind: &str, key: &str) -> u64 {
        let seq = self.inner.marks.written.fetch_add(1, Ordering::SeqCst) + 1;
        self.notify(shard, kind, key);
        seq
    }

    fn notify(&self, shard: ShardId, kind: &str, key: &str) {
        let Ok(watchers) = self.inner.watchers.read() else {
            return;
        };
        for (watched, tx) in watchers.iter() {
            if watched == kind {
                let _ = tx.send((shard, key.to_string()));
            }
        }
    }

    /// Records of `kind` in shard `shard` with keys after `after`, in key order.
    pub fn scan(
        &self,
        shard: ShardId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Envelope)>> {
        let prefix = record_key(kind, "");
        let start = match after {
            // The smallest key greater than `kind \0 after`.
            Some(key) => {
                let mut k = record_key(kind, key);
                k.push(0);
                k
            }
            None => prefix.clone(),
        };
        let mut out = Vec::new();
        for item in self.shard(shard)?.range(start..) {
            let (k, v) = item.map_err(|e| Error::internal(format!("scan: {e}")))?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let key = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            out.push((key, open(&v)?));
        }
        Ok(out)
    }

    /// Every record of `shard` (all kinds), in chunks of at most about
    /// `max_bytes`, for handing the shard to another node.
    pub fn export_shard(&self, shard: ShardId, max_bytes: usize) -> Result<Vec<Records>> {
        let mut chunks = vec![Vec::new()];
        let mut size = 0;
        for item in self.shard(shard)?.iter() {
            let (k, v) = item.map_err(|e| Error::internal(format!("export: {e}")))?;
            if size + k.len() + v.len() > max_bytes && size > 0 {
                chunks.push(Vec::new());
                size = 0;
            }
            size += k.len() + v.len();
            if let Some(chunk) = chunks.last_mut() {
                chunk.push((k.to_vec(), v.to_vec()));
            }
        }
        Ok(chunks)
    }

    /// Writes one chunk of a shard handed to this node; the first chunk
    /// replaces whatever the shard held. Not yet durable: await `flushed`.
    pub fn import_shard_chunk(&self, shard: ShardId, entries: Records, first: bool) -> Result<()> {
        if first {
            self.clear_shard(shard)?;
        }
        // One insert at a time (see `write` on batches): a hand-off counts
        // only once every chunk is imported and flushed.
        let tree = self.shard(shard)?;
        for (k, v) in entries {
            tree.insert(k, v).map_err(|e| Error::internal(format!("import: {e}")))?;
        }
        Ok(())
    }

    /// Forgets every record of `shard` (after it moved away).
    pub fn clear_shard(&self, shard: ShardId) -> Result<()> {
        self.shard(shard)?
            .clear()
            .map_err(|e| Error::internal(format!("clear: {e}")))
    }

    /// How many records `shard` holds and a hash over all of them in key
    /// order: two copies of a shard are equal when both agree.
    pub fn shard_digest(&self, shard: ShardId) -> Result<(u64, u64)> {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut records = 0;
        for item in self.shard(shard)?.iter() {
            let (k, v) = item.map_err(|e| Error::internal(format!("digest: {e}")))?;
            for part in [&k[..], &v[..]] {
                hasher.update(&(part.len() as u64).to_be_bytes());
                hasher.update(part);
            }
            records += 1;
        }
        Ok((records, hasher.digest()))
    }

    /// Records in `shard`.
    pub fn shard_len(&self, shard: ShardId) -> Result<usize> {
        Ok(self.shard(shard)?.len())
    }

    /// A node-local tree (never handed off to another node).
    pub fn node_tree(&self, name: &str) -> Result<sled::Tree> {
        self.inner
            .db
            .open_tree(format!("node/{name}"))
            .map_err(|e| Error::internal(format!("cannot open node tree {name}: {e}")))
    }
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
