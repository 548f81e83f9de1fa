//! Alarms in a shard's tree, ordered by when they fall due.

use super::{Storage, record_key};
use crate::error::{Error, Result};
use crate::ports::Millis;
use crate::runtime::address::ShardId;

/// Alarms live in the shard's tree (so they move with it), after every
/// record: `0xFF "alarm" 0`, the due time (big-endian, sign flipped so
/// that byte order is time order), then `kind 0 key`.
const ALARM_PREFIX: &[u8] = b"\xffalarm\0";

pub(super) fn alarm_key(due: Millis, kind: &str, key: &str) -> Vec<u8> {
    let mut k = ALARM_PREFIX.to_vec();
    k.extend_from_slice(&((due as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(&record_key(kind, key));
    k
}

/// An alarm that fell due: when, and whose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub due: Millis,
    pub kind: String,
    pub key: String,
}

impl Storage {
    /// Removes an alarm its entity no longer wants (left by a crash in the
    /// middle of [`Storage::write`]).
    pub fn remove_alarm(&self, shard: ShardId, due: Millis, kind: &str, key: &str) -> Result<()> {
        self.shard(shard)?
            .remove(alarm_key(due, kind, key))
            .map_err(|e| Error::internal(format!("alarm: {e}")))?;
        Ok(())
    }

    /// Up to `limit` alarms of `shard` due by `now`, earliest first.
    pub fn due_alarms(&self, shard: ShardId, now: Millis, limit: usize) -> Result<Vec<Alarm>> {
        let end = alarm_key(now.saturating_add(1), "", "");
        let mut out = Vec::new();
        for item in self.shard(shard)?.range(ALARM_PREFIX.to_vec()..end) {
            let (k, _) = item.map_err(|e| Error::internal(format!("alarms: {e}")))?;
            if out.len() >= limit {
                break;
            }
            let rest = &k[ALARM_PREFIX.len()..];
            if rest.len() < 8 {
                continue;
            }
            let (time, id) = rest.split_at(8);
            let due = (u64::from_be_bytes(time.try_into().unwrap_or_default()) ^ (1 << 63)) as Millis;
            let id = String::from_utf8_lossy(id);
            if let Some((kind, key)) = id.split_once('\0') {
                out.push(Alarm {
                    due,
                    kind: kind.to_string(),
                    key: key.to_string(),
                });
            }
        }
        Ok(out)
    }
}
