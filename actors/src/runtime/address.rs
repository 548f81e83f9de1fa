//! Entity addresses and their stable placement into shards.

use std::fmt;

/// The address of one entity: its kind (e.g. `"user"`) and its key within
/// that kind (e.g. a user id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityRef {
    pub kind: &'static str,
    pub key: String,
}

impl EntityRef {
    pub fn new(kind: &'static str, key: impl Into<String>) -> Self {
        Self { kind, key: key.into() }
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.key)
    }
}

/// Index of a shard, `0..shard_count`.
pub type ShardId = u32;

/// Places an entity into one of `shard_count` shards.
///
/// Uses xxh3 over `kind \0 key`: the result is the same on every build and
/// machine, which the cluster relies on (std's `DefaultHasher` is not).
pub fn shard_of(kind: &str, key: &str, shard_count: u32) -> ShardId {
    let mut bytes = Vec::with_capacity(kind.len() + 1 + key.len());
    bytes.extend_from_slice(kind.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(key.as_bytes());
    (xxhash_rust::xxh3::xxh3_64(&bytes) % u64::from(shard_count.max(1))) as ShardId
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
