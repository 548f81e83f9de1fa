//! The gateway: this node's one remotable actor. Peers reach every entity
//! this node owns through it; it never serialises work — each request runs
//! in its own task.

use super::ClusterCtx;
use super::wire::{self, Request, Response};
use actors::runtime::shard_of;
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

/// The actor; its state is the node's shared cluster context.
pub struct GatewayActor;

impl Actor for GatewayActor {
    type Msg = GatewayMsg;
    type State = Arc<ClusterCtx>;
    type Arguments = Arc<ClusterCtx>;

    async fn pre_start(
        &self,
        myself: ActorRef<GatewayMsg>,
        ctx: Arc<ClusterCtx>,
    ) -> Result<Arc<ClusterCtx>, ActorProcessingErr> {
        ractor::pg::join(group(&ctx.me.name), vec![myself.get_cell()]);
        Ok(ctx)
    }

    async fn handle(
        &self,
        _: ActorRef<GatewayMsg>,
        msg: GatewayMsg,
        ctx: &mut Arc<ClusterCtx>,
    ) -> Result<(), ActorProcessingErr> {
        let GatewayMsg::Ask(bytes, reply) = msg;
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let (response, left) = match wire::decode_request(&bytes) {
                Ok(request) => {
                    let leaving = matches!(request, Request::Leave);
                    let response = serve(&ctx, request).await;
                    let left = leaving && matches!(response, Response::Done);
                    (response, left)
                }
                Err(e) => (Response::Failed(e), false),
            };
            let _ = reply.send(wire::encode_response(&response));
            if left {
                // The answer goes out before the node shuts down (which
                // closes its sessions): without this pause the caller of
                // `node leave` could hear "did not answer" from a node that
                // left.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                ctx.left.notify_one();
            }
        });
        Ok(())
    }
}

fn done(outcome: actors::Result<()>) -> Response {
    match outcome {
        Ok(()) => Response::Done,
        Err(e) => Response::Failed(e),
    }
}

async fn serve(ctx: &ClusterCtx, request: Request) -> Response {
    match request {
        Request::Entity {
            kind,
            key,
            command,
            epoch,
        } => {
            let shard = shard_of(&kind, &key, ctx.router.shard_count());
            let wrong_owner = || Response::WrongOwner {
                epoch: ctx.table.epoch(),
                owner: ctx.table.owner_name(shard),
            };
            let mine = || ctx.table.owner_name(shard).as_deref() == Some(ctx.me.name.as_str());
            // The sender routes by a newer table (a switch this node has
            // not applied yet): wait for it rather than send it back.
            if !mine() && epoch > ctx.table.epoch() {
                ctx.table.wait_for_epoch(epoch, std::time::Duration::from_secs(1)).await;
            }
            if !mine() {
                return wrong_owner();
            }
            match ctx.router.serve_encoded(&kind, &key, &command, ctx.deadline).await {
                Ok(reply) => Response::Entity(reply),
                // It moved while the command waited: it did not run here.
                Err(e) if e.code() == "wrong_owner" => wrong_owner(),
                Err(e) => Response::Failed(e),
            }
        }
        Request::Ping { .. } => Response::Pong {
            epoch: ctx.table.epoch(),
        },
        Request::PublicKeys => Response::PublicKeys(ctx.keys.own_public_keys()),
        Request::GetTable => Response::Table(ctx.table.current().map(|t| (*t).clone())),
        // Joins, hand-offs and tables of the coordinators before Raft.
        Request::Join(_) | Request::HandOff { .. } | Request::Publish(_) => {
            Response::Failed(actors::Error::unavailable(
                "incompatible_peer",
                "this cluster changes its members through its metadata raft: upgrade the sender",
                5,
            ))
        }
        Request::Import {
            shard,
            first,
            last,
            records,
            ..
        } => done(ctx.import(shard, first, last, records).await),
        Request::ImportFile {
            shard,
            path,
            offset,
            first,
            bytes,
        } => done(ctx.import_file(shard, path, offset, first, bytes).await),
        Request::InstallFiles { shard, manifest } => done(ctx.install_files(shard, manifest).await),
        Request::StageFiles { shard, manifest } => done(ctx.stage_files(shard, manifest).await),
        Request::Raft(body) => match ctx.meta.get() {
            Some(node) => match super::raft::network::serve(&node.raft, &body).await {
                Ok(answer) => Response::Raft(answer),
                Err(e) => Response::Failed(actors::Error::internal(e)),
            },
            None => Response::Failed(actors::Error::unavailable(
                "raft_starting",
                "this node's metadata raft is starting",
                1,
            )),
        },
        Request::MemberIdentity(name) => Response::MemberIdentity(ctx.meta.get().and_then(|node| {
            let meta = node.shared.read();
            meta.members.get(&name).map(|m| m.id)
        })),
        Request::Identity => match ctx.meta.get() {
            Some(node) => Response::Identity(node.id),
            None => Response::Failed(actors::Error::unavailable(
                "raft_starting",
                "this node's metadata raft is starting",
                1,
            )),
        },
        Request::Status => Response::Status(ctx.status()),
        Request::CreateUser {
            username,
            email,
            password,
            roles,
        } => {
            let account = actors::identity::NewAccount {
                username: &username,
                email: &email,
                password: password.expose(),
                display_name: None,
            };
            match ctx.identity.register_with_roles(account, roles).await {
                Ok(profile) => Response::Created(profile.id),
                Err(e) => Response::Failed(e),
            }
        }
        Request::Scan {
            kind,
            shard,
            after,
            limit,
        } => {
            if ctx.table.owner_name(shard).as_deref() != Some(ctx.me.name.as_str()) {
                return Response::WrongOwner {
                    epoch: ctx.table.epoch(),
                    owner: ctx.table.owner_name(shard),
                };
            }
            match ctx
                .router
                .scan_local(&kind, shard, after.as_deref(), limit.min(1000) as usize)
            {
                Ok(rows) => Response::Rows(rows),
                Err(e) => Response::Failed(e),
            }
        }
        Request::Call { service, body } => match ctx.router.serve_call(&service, body).await {
            Ok(reply) => Response::Called(reply),
            Err(e) => Response::Failed(e),
        },
        // The node shuts down once the answer is sent (see `handle`).
        Request::Leave => done(ctx.leave().await),
        Request::Meta(command) => match ctx.submit(command).await {
            Ok(applied) => Response::Applied(applied),
            Err(e) => Response::Failed(e),
        },
        Request::MoveStep {
            change,
            shard,
            to,
            step,
        } => done(ctx.move_step(change, shard, &to, step).await),
        Request::AbortChange => match ctx.abort_change().await {
            Ok(what) => Response::Json(serde_json::json!({ "aborted": what }).to_string()),
            Err(e) => Response::Failed(e),
        },
        Request::RaftStatus => match serde_json::to_string(&ctx.raft_status()) {
            Ok(json) => Response::Json(json),
            Err(e) => Response::Failed(actors::Error::internal(e.to_string())),
        },
        Request::ShardDigest(shard) => match ctx.storage.shard_digest(shard) {
            Ok((records, hash)) => Response::Digest { records, hash },
            Err(e) => Response::Failed(e),
        },
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
