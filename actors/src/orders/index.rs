//! Order listings: one index per buyer (`buyer:{id}`) and per store
//! (`store:{id}`), newest first.
//!
//! An index is a head entity holding the newest entries, at most
//! [`CHUNK`]; when it is full they are sealed into an immutable chunk entity
//! (`{name}#{n}`), so adding an order costs a bounded write however many
//! orders came before. Adding is idempotent within the open part; a
//! listing drops any duplicate left by a retry across a seal.

use crate::error::Result;
use crate::ports::Millis;
use crate::runtime::{Entity, EntityContext, Outcome, Router};
use serde::{Deserialize, Serialize};

pub const CHUNK: usize = 256;

/// `(created_at, order_id)`, oldest first.
pub type Entry = (Millis, String);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub sealed: u32,
    pub open: Vec<Entry>,
}

impl Head {
    pub fn count(&self) -> u64 {
        u64::from(self.sealed) * CHUNK as u64 + self.open.len() as u64
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum IndexCommand {
    Add(Entry),
    Get,
}

pub struct OrderIndex {
    pub context: EntityContext,
}

pub fn chunk_key(name: &str, n: u32) -> String {
    format!("{name}#{n}")
}

impl Entity for OrderIndex {
    const KIND: &'static str = "order_index";
    type State = Head;
    type Command = IndexCommand;
    type Reply = Head;

    async fn handle(&self, key: &str, state: Option<&Head>, command: IndexCommand) -> Result<Outcome<Head, Head>> {
        let mut head = state.cloned().unwrap_or_default();
        match command {
            IndexCommand::Get => Ok(Outcome::read(head)),
            IndexCommand::Add(entry) => {
                if head.open.iter().any(|(_, id)| *id == entry.1) {
                    return Ok(Outcome::read(head));
                }
                if head.open.len() >= CHUNK {
                    let router = self.context.router()?;
                    let chunk = std::mem::take(&mut head.open);
                    router
                        .ask::<OrderIndexChunk>(&chunk_key(key, head.sealed), chunk)
                        .await?;
                    head.sealed += 1;
                }
                head.open.push(entry);
                Ok(Outcome::put(head))
            }
        }
    }
}

/// A sealed chunk: written once (a repeat writes the same entries).
pub struct OrderIndexChunk;

impl Entity for OrderIndexChunk {
    const KIND: &'static str = "order_index_chunk";
    type State = Vec<Entry>;
    /// The entries to seal; empty reads.
    type Command = Vec<Entry>;
    type Reply = Vec<Entry>;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&Vec<Entry>>,
        command: Vec<Entry>,
    ) -> Result<Outcome<Vec<Entry>, Vec<Entry>>> {
        Ok(match state {
            Some(entries) => Outcome::read(entries.clone()),
            None if command.is_empty() => Outcome::read(Vec::new()),
            None => Outcome::put(command),
        })
    }
}

/// A page of an index, newest first: order ids at positions below
/// `before` (all if `None`), and the position to continue from.
pub async fn page(router: &Router, name: &str, before: Option<u64>, limit: usize) -> Result<(Vec<Entry>, Option<u64>)> {
    let head = router.ask::<OrderIndex>(name, IndexCommand::Get).await?;
    let count = head.count();
    // Positions are exclusive ends; entry `i` of chunk `c` is position
    // `c * CHUNK + i`.
    let mut pos = before.unwrap_or(count).min(count);
    let mut out: Vec<Entry> = Vec::new();
    while pos > 0 && out.len() < limit {
        let chunk = ((pos - 1) / CHUNK as u64) as u32;
        let start = u64::from(chunk) * CHUNK as u64;
        let entries = if chunk == head.sealed {
            head.open.clone()
        } else {
            router
                .ask::<OrderIndexChunk>(&chunk_key(name, chunk), Vec::new())
                .await?
        };
        let mut i = ((pos - start) as usize).min(entries.len());
        while i > 0 && out.len() < limit {
            i -= 1;
            if !out.iter().any(|(_, id)| *id == entries[i].1) {
                out.push(entries[i].clone());
            }
        }
        pos = start + i as u64;
    }
    let next = (pos > 0).then_some(pos);
    Ok((out, next))
}
