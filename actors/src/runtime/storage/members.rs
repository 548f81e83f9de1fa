//! Member records and the journal of writes that touch them (see
//! [`MEMBER_PREFIX`] and [`JOURNAL_PREFIX`]).

use super::{Storage, Write, apply, decode, record_key};
use crate::error::{Error, Result};
use crate::runtime::address::ShardId;

/// Member records: sets that grow (an owner's products, a store's offers)
/// are kept as one record per member under their entity, so that changing
/// one member costs the same however many there are. They live in the
/// entity's shard (and move with it), after every record and before the
/// alarms: `0xFE "member" 0 kind 0 key 0 member`.
const MEMBER_PREFIX: &[u8] = b"\xfemember\0";

pub(super) fn member_prefix(kind: &str, key: &str) -> Vec<u8> {
    let mut k = MEMBER_PREFIX.to_vec();
    k.extend_from_slice(&record_key(kind, key));
    k.push(0);
    k
}

pub(super) fn member_key(kind: &str, key: &str, member: &str) -> Vec<u8> {
    let mut k = member_prefix(kind, key);
    k.extend_from_slice(member.as_bytes());
    k
}

/// A write that touches member records is journaled first (one record per
/// entity, `0xFE "journal" 0 kind 0 key`) and the journal removed once
/// every key is written; an entity that finds its journal on activation
/// (a crash came in between) applies it again. sled recovers its log in
/// order, so either the journal survives or the whole write did.
const JOURNAL_PREFIX: &[u8] = b"\xfejournal\0";

pub(super) fn journal_key(kind: &str, key: &str) -> Vec<u8> {
    let mut k = JOURNAL_PREFIX.to_vec();
    k.extend_from_slice(&record_key(kind, key));
    k
}

impl Storage {
    /// Finishes a write a crash interrupted (see [`JOURNAL_PREFIX`]): call
    /// before loading the entity.
    pub fn recover(&self, shard: ShardId, kind: &str, key: &str) -> Result<()> {
        let tree = self.shard(shard)?;
        let failed = |e: sled::Error| Error::internal(format!("recover: {e}"));
        let Some(journal) = tree.get(journal_key(kind, key)).map_err(failed)? else {
            return Ok(());
        };
        let write: Write = decode(&journal)?;
        tracing::info!(kind, key, "finishing a write a crash interrupted");
        apply(tree, kind, key, &write).map_err(failed)?;
        tree.remove(journal_key(kind, key)).map_err(failed)?;
        self.changed(shard, kind, key);
        Ok(())
    }

    /// What a crash right after a journaled write's first step leaves.
    #[cfg(test)]
    pub fn write_journal_only(&self, shard: ShardId, kind: &str, key: &str, write: &Write) -> Result<()> {
        self.shard(shard)?
            .insert(journal_key(kind, key), super::encode(write)?)
            .map_err(|e| Error::internal(format!("journal: {e}")))?;
        Ok(())
    }

    /// One member record of an entity.
    pub fn member(&self, shard: ShardId, kind: &str, key: &str, member: &str) -> Result<Option<Vec<u8>>> {
        let value = self
            .shard(shard)?
            .get(member_key(kind, key, member))
            .map_err(|e| Error::internal(format!("member: {e}")))?;
        Ok(value.map(|v| v.to_vec()))
    }

    /// Every member record of an entity whose name starts with `prefix`,
    /// in member order (names without the prefix).
    pub fn members_with_prefix(
        &self,
        shard: ShardId,
        kind: &str,
        key: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let start = member_key(kind, key, prefix);
        self.member_range(shard, start.clone(), &start, usize::MAX)
    }

    /// Up to `limit` member records of an entity after `after`, in member
    /// order.
    pub fn members(
        &self,
        shard: ShardId,
        kind: &str,
        key: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let prefix = member_prefix(kind, key);
        let start = match after {
            Some(after) => {
                let mut k = member_key(kind, key, after);
                k.push(0);
                k
            }
            None => prefix.clone(),
        };
        self.member_range(shard, start, &prefix, limit)
    }

    /// Up to `limit` records from `start` whose keys begin with `prefix`,
    /// named by what follows the prefix.
    fn member_range(
        &self,
        shard: ShardId,
        start: Vec<u8>,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.shard(shard)?.range(start..) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(|e| Error::internal(format!("members: {e}")))?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), v.to_vec()));
        }
        Ok(out)
    }
}
