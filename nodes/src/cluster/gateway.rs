//! The gateway: this node's one remotable actor. Peers reach every entity
//! this node owns through it; it never serialises work — each request runs
//! in its own task.

use super::table::TableStore;
use super::wire::{self, Request, Response};
use actors::identity::KeyRing;
use actors::runtime::{Router, shard_of};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use ractor_cluster::RactorClusterMessage;
use std::sync::Arc;
use std::time::Duration;

/// The process group a node's gateway joins: `gw/<node name>`.
pub fn group(node: &str) -> String {
    format!("gw/{node}")
}

#[derive(RactorClusterMessage)]
pub enum GatewayMsg {
    /// A versioned envelope in, a versioned envelope out (see `wire`).
    /// Never add variants here: evolve the envelope instead.
    #[rpc]
    Ask(Vec<u8>, RpcReplyPort<Vec<u8>>),
}

/// The actor; its state is the shared [`Gateway`].
pub struct GatewayActor;

/// What the gateway serves requests with.
pub struct Gateway {
    pub router: Router,
    pub table: Arc<TableStore>,
    pub keys: Arc<KeyRing>,
    pub deadline: Duration,
}

impl Actor for GatewayActor {
    type Msg = GatewayMsg;
    type State = Arc<Gateway>;
    type Arguments = Arc<Gateway>;

    async fn pre_start(
        &self,
        myself: ActorRef<GatewayMsg>,
        shared: Arc<Gateway>,
    ) -> Result<Arc<Gateway>, ActorProcessingErr> {
        ractor::pg::join(group(shared.table.me()), vec![myself.get_cell()]);
        Ok(shared)
    }

    async fn handle(
        &self,
        _: ActorRef<GatewayMsg>,
        msg: GatewayMsg,
        shared: &mut Arc<Gateway>,
    ) -> Result<(), ActorProcessingErr> {
        let GatewayMsg::Ask(bytes, reply) = msg;
        let shared = shared.clone();
        tokio::spawn(async move {
            let response = match wire::decode_request(&bytes) {
                Ok(request) => shared.serve(request).await,
                Err(e) => Response::Failed(e),
            };
            let _ = reply.send(wire::encode_response(&response));
        });
        Ok(())
    }
}

impl Gateway {
    async fn serve(&self, request: Request) -> Response {
        match request {
            Request::Entity {
                kind,
                key,
                epoch: _,
                command,
            } => {
                let table = self.table.current();
                let shard = shard_of(&kind, &key, self.router.shard_count());
                if table.owner(shard) != self.table.me() {
                    return Response::WrongOwner { epoch: table.epoch };
                }
                match self.router.serve_encoded(&kind, &key, &command, self.deadline).await {
                    Ok(reply) => Response::Entity(reply),
                    Err(e) => Response::Failed(e),
                }
            }
            Request::Ping { .. } => Response::Pong {
                epoch: self.table.current().epoch,
            },
            Request::PublicKeys => Response::PublicKeys(self.keys.own_public_keys()),
        }
    }
}

/// Finds a node's gateway (a stand-in for a remote one).
pub fn find(node: &str) -> Option<ActorRef<GatewayMsg>> {
    ractor::pg::get_members(&group(node))
        .into_iter()
        .next()
        .map(ActorRef::from)
}

/// One envelope to `node`'s gateway and back. `None` when the node has no
/// session now; `Some(Err)` when the call failed or timed out.
pub async fn call(node: &str, request: &Request, deadline: Duration) -> Option<actors::Result<Response>> {
    let gateway = find(node)?;
    let bytes = match wire::encode_request(request) {
        Ok(bytes) => bytes,
        Err(e) => return Some(Err(e)),
    };
    let outcome = gateway.call(|port| GatewayMsg::Ask(bytes, port), Some(deadline)).await;
    Some(match outcome {
        Ok(ractor::rpc::CallResult::Success(reply)) => wire::decode_response(&reply),
        // A timed-out remote call sometimes reports SenderError: both mean
        // "outcome unknown".
        Ok(_) | Err(_) => Err(actors::Error::unavailable(
            "timeout",
            format!("node {node} did not answer in time; the outcome is unknown"),
            1,
        )),
    })
}
