//! Raft's messages between nodes: each RPC is encoded as a [`RaftRpc`] and
//! handed to a [`Transport`] addressed by the node's name (the
//! `BasicNode` address); the receiver decodes it and runs it on its Raft
//! ([`serve`]).

use super::{MetaRaft, Raft};
use actors::runtime::{decode, encode};
use futures::future::BoxFuture;
use openraft::BasicNode;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

type NodeId = u64;

/// Carries encoded Raft messages to a node by name; `Err` when it could
/// not be reached.
pub trait Transport: Send + Sync + 'static {
    fn send(&self, to: String, body: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, String>>;
}

#[derive(Debug, Serialize, Deserialize)]
pub enum RaftRpc {
    Append(AppendEntriesRequest<MetaRaft>),
    Vote(VoteRequest<NodeId>),
    Snapshot(InstallSnapshotRequest<MetaRaft>),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum RaftAnswer {
    Append(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    Snapshot(Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>),
}

/// Runs one encoded Raft message on `raft`: the encoded answer.
pub async fn serve(raft: &Raft, body: &[u8]) -> Result<Vec<u8>, String> {
    let rpc: RaftRpc = decode(body).map_err(|e| e.to_string())?;
    let answer = match rpc {
        RaftRpc::Append(rpc) => RaftAnswer::Append(raft.append_entries(rpc).await),
        RaftRpc::Vote(rpc) => RaftAnswer::Vote(raft.vote(rpc).await),
        RaftRpc::Snapshot(rpc) => RaftAnswer::Snapshot(raft.install_snapshot(rpc).await),
    };
    encode(&answer).map_err(|e| e.to_string())
}

/// Makes a [`Connection`] per peer.
#[derive(Clone)]
pub struct Network {
    pub transport: Arc<dyn Transport>,
}

pub struct Connection {
    transport: Arc<dyn Transport>,
    to: String,
}

impl RaftNetworkFactory<MetaRaft> for Network {
    type Network = Connection;

    async fn new_client(&mut self, _target: NodeId, node: &BasicNode) -> Connection {
        Connection {
            transport: self.transport.clone(),
            to: node.addr.clone(),
        }
    }
}

fn unreachable(why: impl std::fmt::Display) -> Unreachable {
    Unreachable::new(&std::io::Error::other(why.to_string()))
}

impl Connection {
    async fn call(&self, rpc: RaftRpc) -> Result<RaftAnswer, Unreachable> {
        let body = encode(&rpc).map_err(unreachable)?;
        let answer = self.transport.send(self.to.clone(), body).await.map_err(unreachable)?;
        decode(&answer).map_err(unreachable)
    }
}

fn mismatch<E: std::error::Error>(answer: RaftAnswer) -> RPCError<NodeId, BasicNode, E> {
    RPCError::Network(NetworkError::new(&std::io::Error::other(format!(
        "an answer of another kind: {answer:?}"
    ))))
}

impl RaftNetwork<MetaRaft> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<MetaRaft>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        match self.call(RaftRpc::Append(rpc)).await.map_err(RPCError::Unreachable)? {
            RaftAnswer::Append(answer) => {
                answer.map_err(|e| RPCError::RemoteError(openraft::error::RemoteError::new(0, e)))
            }
            other => Err(mismatch(other)),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<MetaRaft>,
        _option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>>
    {
        match self.call(RaftRpc::Snapshot(rpc)).await.map_err(RPCError::Unreachable)? {
            RaftAnswer::Snapshot(answer) => {
                answer.map_err(|e| RPCError::RemoteError(openraft::error::RemoteError::new(0, e)))
            }
            other => Err(mismatch(other)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        match self.call(RaftRpc::Vote(rpc)).await.map_err(RPCError::Unreachable)? {
            RaftAnswer::Vote(answer) => {
                answer.map_err(|e| RPCError::RemoteError(openraft::error::RemoteError::new(0, e)))
            }
            other => Err(mismatch(other)),
        }
    }
}
