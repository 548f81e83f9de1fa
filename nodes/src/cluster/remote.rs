//! The router's transport to other owners: entity commands through their
//! gateways.

use super::gateway;
use super::membership::Membership;
use super::table::TableStore;
use super::wire::{Request, Response};
use actors::runtime::{RawRecord, RemoteAsk, ShardId, shard_of};
use actors::{Error, Result};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

pub struct GatewayClient {
    pub membership: Arc<Membership>,
    pub table: Arc<TableStore>,
    pub shard_count: u32,
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
        let shard = shard_of(kind, key, self.shard_count);
        Box::pin(async move {
            if !reachable {
                return Err(unavailable(&node));
            }
            match gateway::call(&node, &request, deadline).await {
                None => Err(unavailable(&node)),
                Some(Ok(Response::Entity(reply))) => Ok(reply),
                Some(Ok(Response::WrongOwner { epoch, owner })) => {
                    // Route there until the table that confirms it arrives.
                    if let Some(owner) = owner.filter(|o| *o != node) {
                        table.set_override(shard, &owner, epoch.max(table.epoch()) + 1)?;
                    }
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
        Box::pin(async move {
            if !reachable {
                return Err(unavailable(&node));
            }
            match gateway::call(&node, &request, Duration::from_secs(10)).await {
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
        Box::pin(async move {
            if !reachable {
                return Err(unavailable(&node));
            }
            match gateway::call(&node, &request, deadline).await {
                None => Err(unavailable(&node)),
                Some(Ok(Response::Called(reply))) => Ok(reply),
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
                Some(Ok(other)) => Err(Error::internal(format!("unexpected reply from {node}: {other:?}"))),
            }
        })
    }
}
