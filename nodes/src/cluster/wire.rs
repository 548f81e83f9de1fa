//! What travels between nodes: one versioned envelope inside the gateway's
//! single `Ask` RPC.
//!
//! ractor_cluster matches message variants by name and silently drops ones
//! it does not know, so the gateway has exactly one variant forever and all
//! evolution happens here: requests and responses are bincode enums that
//! only ever gain variants at the end, inside an envelope whose first two
//! bytes are the wire version. A request a node cannot decode is answered
//! with an error, never with silence.

use super::table::{Member, ShardTable};
use actors::runtime::{Records, ShardId, decode, encode};
use actors::{Error, Result};
use serde::{Deserialize, Serialize};

/// The version written today. Readers accept every version up to theirs.
pub const WIRE_VERSION: u16 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// A command for an entity the receiver owns (at `epoch` per the sender).
    Entity {
        kind: String,
        key: String,
        epoch: u64,
        command: Vec<u8>,
    },
    /// A heartbeat; the answer carries the receiver's table epoch.
    Ping { from: String },
    /// The public keys that verify tokens this node signed.
    PublicKeys,
    /// The receiver's shard table, if it has one.
    GetTable,
    /// To the coordinator: admit this node; answered with the new table once
    /// every shard that moves to it has arrived.
    Join(Member),
    /// To a shard's current owner: hand `shard` to `to` for table `epoch`.
    HandOff { shard: ShardId, to: String, epoch: u64 },
    /// To a shard's new owner: one chunk of its records.
    Import {
        shard: ShardId,
        epoch: u64,
        first: bool,
        last: bool,
        records: Records,
    },
    /// A new table for everyone.
    Publish(ShardTable),
    /// Members, their state, shards per member, epoch, hand-offs.
    Status,
    /// Leave the cluster gracefully (hand every shard away), then exit.
    Leave,
    /// Create a user with these roles (bootstrapping an administrator on a
    /// running cluster; only cookie holders can send this).
    CreateUser {
        username: String,
        email: String,
        password: actors::identity::ports::Plaintext,
        roles: Vec<String>,
    },
    /// Raw records of `kind` in a shard the receiver owns.
    Scan {
        kind: String,
        shard: ShardId,
        after: Option<String>,
        limit: u32,
    },
    /// A node service of the receiver (see `actors::runtime::NodeService`).
    Call { service: String, body: Vec<u8> },
    /// To a shard's new owner: bytes of one of the shard's files (the
    /// first chunk of a hand-off's files starts them afresh).
    ImportFile {
        shard: ShardId,
        path: String,
        offset: u64,
        first: bool,
        bytes: Vec<u8>,
    },
    /// To a shard's new owner: every file of the shard has been sent; each
    /// is checked against its size and sha256, then replaces the
    /// receiver's copy of the shard's files.
    InstallFiles {
        shard: ShardId,
        manifest: Vec<actors::media::files::ShardFile>,
    },
    /// To a shard's future owner, before the shard freezes: the files sent
    /// so far (its blobs, which never change) are checked and kept for
    /// `InstallFiles`, so they are not sent again while the shard is frozen.
    StageFiles {
        shard: ShardId,
        manifest: Vec<actors::media::files::ShardFile>,
    },
    /// An encoded Raft message for the metadata Raft (`raft::network`).
    Raft(Vec<u8>),
    /// The receiver's identity (its Raft node id).
    Identity,
    /// The identity the replicated metadata records for a member.
    MemberIdentity(String),
    /// A command for the replicated metadata: written by the Raft leader
    /// (a follower passes it on to the leader it knows).
    Meta(super::meta::Command),
    /// From the Raft leader to a moving shard's source: take the move to
    /// `step` (frozen: stop serving it; copied: send it to `to`, verified;
    /// released: confirm the switch was applied and the copy let go).
    MoveStep {
        change: u64,
        shard: ShardId,
        to: String,
        step: super::meta::Step,
    },
    /// Abort the membership change in progress (`node cluster abort`);
    /// answered `{"aborted": "<the change>"}`.
    AbortChange,
    /// The receiver's copy of a shard: how many records, and a hash of them.
    ShardDigest(ShardId),
    /// The receiver's view of the metadata Raft (JSON, as in
    /// `GET /api/v1/cluster`).
    RaftStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The encoded `Result<Reply>` of an entity command.
    Entity(Vec<u8>),
    /// The receiver does not own that shard; `owner` if it knows who does.
    WrongOwner {
        epoch: u64,
        owner: Option<String>,
    },
    Pong {
        epoch: u64,
    },
    PublicKeys(Vec<(String, [u8; 32])>),
    Failed(Error),
    Table(Option<ShardTable>),
    Done,
    Status(ClusterStatus),
    /// A user was created: its id.
    Created(String),
    Rows(Vec<actors::runtime::RawRecord>),
    /// A node service's encoded reply.
    Called(Vec<u8>),
    /// The encoded answer to a `Raft` request.
    Raft(Vec<u8>),
    Identity(u64),
    MemberIdentity(Option<u64>),
    /// What a `Meta` command did once committed and applied.
    Applied(super::meta::Applied),
    Digest {
        records: u64,
        hash: u64,
    },
    /// A JSON document.
    Json(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub node: String,
    pub epoch: u64,
    pub members: Vec<MemberStatus>,
    /// The shard moves of the change in progress: `(shard, "from → to:
    /// step")`.
    pub handoffs: Vec<(ShardId, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberStatus {
    pub name: String,
    pub cluster_addr: String,
    pub http_addr: String,
    /// `up`, `suspect`, `down` (as this node sees it; itself is `up`).
    pub status: String,
    pub shards: usize,
}

fn seal<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut out = WIRE_VERSION.to_be_bytes().to_vec();
    out.extend(encode(value)?);
    Ok(out)
}

fn open<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    let incompatible = |why: String| Error::unavailable("incompatible_peer", why, 5);
    let (version, body) = bytes
        .split_at_checked(2)
        .ok_or_else(|| incompatible("empty envelope".into()))?;
    let version = u16::from_be_bytes([version[0], version[1]]);
    if version > WIRE_VERSION {
        return Err(incompatible(format!(
            "wire version {version} is newer than this node's {WIRE_VERSION}"
        )));
    }
    decode(body).map_err(|_| incompatible("a message this node does not understand (is it older?)".into()))
}

pub fn encode_request(request: &Request) -> Result<Vec<u8>> {
    seal(request)
}

pub fn decode_request(bytes: &[u8]) -> Result<Request> {
    open(bytes)
}

pub fn encode_response(response: &Response) -> Vec<u8> {
    seal(response).unwrap_or_else(|e| {
        // Encoding our own types does not fail; answer something decodable.
        seal(&Response::Failed(e)).unwrap_or_default()
    })
}

pub fn decode_response(bytes: &[u8]) -> Result<Response> {
    open(bytes)
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
