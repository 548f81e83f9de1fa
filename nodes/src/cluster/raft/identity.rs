//! A node's identity: a random number made at its first start and kept in
//! its data directory. It is its Raft node id, and it tells a member that
//! restarted on its own data (the same identity) from one whose data
//! directory was wiped or replaced (a new one).

use actors::runtime::Storage;
use actors::{Error, Result};

const KEY: &[u8] = b"id";

/// This data directory's identity, made (and flushed) the first time.
pub fn node_id(storage: &Storage) -> Result<u64> {
    let tree = storage.node_tree("identity")?;
    let stored = tree.get(KEY).map_err(|e| Error::internal(format!("identity: {e}")))?;
    if let Some(bytes) = stored {
        let bytes: [u8; 8] = bytes
            .as_ref()
            .try_into()
            .map_err(|_| Error::internal("the node identity is damaged"))?;
        return Ok(u64::from_be_bytes(bytes));
    }
    let id = loop {
        let id: u64 = rand::random();
        if id != 0 {
            break id;
        }
    };
    tree.insert(KEY, &id.to_be_bytes())
        .map_err(|e| Error::internal(format!("identity: {e}")))?;
    storage.flush_now()?;
    Ok(id)
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
