//! The router's transport to other owners: entity commands through their
//! gateways.

use super::gateway;
use super::membership::Membership;
use super::table::TableStore;
use super::wire::{Request, Response};
use actors::runtime::{RawRecord, RemoteAsk, ShardId};
use actors::{Error, Result};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

pub struct GatewayClient {
    pub membership: Arc<Membership>,
    pub table: Arc<TableStore>,
    /// See `[cluster] unresponsive_after_ms`.
    pub unresponsive_after: Duration,
}

fn unresponsive(node: &str) -> Error {
    Error::unavailable(
        "node_unresponsive",
        format!("the node holding this data ({node}) does not answer; try again shortly"),
        2,
    )
}

/// Sends `request` to `node` and waits for its answer, but not on a node
/// that stopped answering: once two thirds of `unresponsive_after` passed
/// without an answer, `node` is pinged directly; if that ping is not
/// answered within the last third either, the caller is told 503 (and the
/// node is suspect until its next heartbeat answer). A node that answers
/// pings is busy, not gone: its answer is awaited up to `deadline`.
async fn call_responsive(
    membership: &Membership,
    node: &str,
    request: &Request,
    deadline: Duration,
    unresponsive_after: Duration,
) -> Option<Result<Response>> {
    let started = tokio::time::Instant::now();
    let call = gateway::call(node, request, deadline);
    tokio::pin!(call);
    let patience = unresponsive_after * 2 / 3;
    loop {
        tokio::select! {
            answer = &mut call => return answer,
            _ = tokio::time::sleep(patience) => {
                let ping = Request::Ping { from: String::new() };
                let probe = gateway::call(node, &ping, unresponsive_after / 3);
                tokio::select! {
                    answer = &mut call => return answer,
                    pong = probe => {
                        if !matches!(pong, Some(Ok(Response::Pong { .. }))) {
                            membership.unresponsive(node);
                            return Some(Err(unresponsive(node)));
                        }
                    }
                }
                if started.elapsed() >= deadline {
                    return None;
                }
            }
        }
    }
}

fn unavailable(node: &str) -> Error {
    Error::unavailable(
        "shard_unavailable",
        format!("the node holding this data ({node}) is not reachable; try again shortly"),
        5,
    )
}

impl RemoteAsk for GatewayClient {
    fn ask(
        &self,
        node: &str,
        kind: &'static str,
        key: &str,
        command: Vec<u8>,
        deadline: Duration,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        let node = node.to_string();
        let request = Request::Entity {
            kind: kind.to_string(),
            key: key.to_string(),
            epoch: self.table.epoch(),
            command,
        };
        let reachable = !node.is_empty() && !self.membership.is_suspect(&node);
        let table = self.table.clone();
        let (membership, patience) = (self.membership.clone(), self.unresponsive_after);
        Box::pin(async move {
            if !reachable {
                return Err(unavailable(&node));
            }
            match call_responsive(&membership, &node, &request, deadline, patience).await {
                None => Err(unavailable(&node)),
                Some(Ok(Response::Entity(reply))) => Ok(reply),
                Some(Ok(Response::WrongOwner { epoch, .. })) => {
                    // The router asks again once: by then this node should
                    // route by the table that moved the shard.
                    table.wait_for_epoch(epoch, Duration::from_secs(1)).await;
                    Err(Error::unavailable(
                        "wrong_owner",
                        format!("{node} no longer owns this data (epoch {epoch})"),
                        1,
                    ))
                }
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
                Some(Ok(other)) => Err(Error::internal(format!("unexpected reply from {node}: {other:?}"))),
            }
        })
    }

    fn scan(
        &self,
        node: &str,
        kind: &'static str,
        shard: ShardId,
        after: Option<String>,
        limit: usize,
    ) -> BoxFuture<'static, Result<Vec<RawRecord>>> {
        let node = node.to_string();
        let reachable = !node.is_empty() && !self.membership.is_suspect(&node);
        let request = Request::Scan {
            kind: kind.to_string(),
            shard,
            after,
            limit: limit as u32,
        };
        let (membership, patience) = (self.membership.clone(), self.unresponsive_after);
        Box::pin(async move {
            if !reachable {
                return Err(unavailable(&node));
            }
            match call_responsive(&membership, &node, &request, Duration::from_secs(10), patience).await {
                None => Err(unavailable(&node)),
                Some(Ok(Response::Rows(rows))) => Ok(rows),
                Some(Ok(Response::WrongOwner { .. })) => Err(Error::unavailable(
                    "wrong_owner",
                    "the cluster is moving this data; retry the listing",
                    1,
                )),
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
                Some(Ok(other)) => Err(Error::internal(format!("unexpected reply from {node}: {other:?}"))),
            }
        })
    }

    fn call(
        &self,
        node: &str,
        service: &str,
        body: Vec<u8>,
        deadline: Duration,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        let node = node.to_string();
        let reachable = !node.is_empty() && !self.membership.is_suspect(&node);
        let request = Request::Call {
            service: service.to_string(),
            body,
        };
        let (membership, patience) = (self.membership.clone(), self.unresponsive_after);
        Box::pin(async move {
            if !reachable {
                return Err(unavailable(&node));
            }
            match call_responsive(&membership, &node, &request, deadline, patience).await {
                None => Err(unavailable(&node)),
                Some(Ok(Response::Called(reply))) => Ok(reply),
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
                Some(Ok(other)) => Err(Error::internal(format!("unexpected reply from {node}: {other:?}"))),
            }
        })
    }
}
