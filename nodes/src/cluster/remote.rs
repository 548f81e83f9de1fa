//! The router's transport to other owners: entity commands through their
//! gateways.

use super::gateway;
use super::membership::Membership;
use super::table::TableStore;
use super::wire::{Request, Response};
use actors::runtime::RemoteAsk;
use actors::{Error, Result};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

pub struct GatewayClient {
    pub membership: Arc<Membership>,
    pub table: Arc<TableStore>,
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
            epoch: self.table.current().epoch,
            command,
        };
        let reachable = self.membership.is_reachable(&node);
        Box::pin(async move {
            if !reachable {
                return Err(unavailable(&node));
            }
            match gateway::call(&node, &request, deadline).await {
                None => Err(unavailable(&node)),
                Some(Ok(Response::Entity(reply))) => Ok(reply),
                Some(Ok(Response::WrongOwner { epoch })) => Err(Error::unavailable(
                    "wrong_owner",
                    format!("{node} no longer owns this data (epoch {epoch})"),
                    1,
                )),
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
                Some(Ok(other)) => Err(Error::internal(format!("unexpected reply from {node}: {other:?}"))),
            }
        })
    }
}
