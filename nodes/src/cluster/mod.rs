//! The cluster: ractor_cluster is the transport; membership, shard
//! ownership, routing and failure detection are ours.
//!
//! - [`wire`] — the versioned envelope nodes exchange.
//! - [`gateway`] — each node's one remotable actor.
//! - [`meta`] — the cluster's metadata as a pure replicated state machine,
//!   on openraft ([`raft`]).
//! - [`changes`] — joins and leaves on that Raft: every node follows;
//!   [`driver`] — the leader drives shard moves step by step.
//! - [`table`] — the versioned shard table every node routes by (derived
//!   from the metadata).
//! - [`handoff`] — the hand-off of one shard; finding the cluster at start.
//! - [`membership`] — heartbeats, suspicion, reconnection.
//! - [`remote`] — the router's transport to other owners.
//!
//! A node runs the cluster layer when the cookie variable named in
//! `cluster.toml` is set; a configuration with several nodes requires it.

pub mod changes;
pub mod client;
pub mod driver;
pub mod gateway;
pub mod handoff;
pub mod membership;
pub mod meta;
pub mod raft;
pub mod remote;
pub mod table;
pub mod tls;
pub mod wire;

use crate::{Core, Settings};
use actors::identity::KeySource;
use actors::{Error, Result};
use futures::future::BoxFuture;
use membership::Membership;
use ractor::{Actor, ActorRef};
use ractor_cluster::node::NodeServerSessionInformation;
use ractor_cluster::{NodeEventSubscription, NodeServer, NodeServerMessage};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use table::TableStore;

/// What every part of the cluster layer shares.
pub struct ClusterCtx {
    pub me: table::Member,
    pub router: actors::runtime::Router,
    pub storage: actors::runtime::Storage,
    pub table: Arc<TableStore>,
    pub membership: Arc<Membership>,
    pub keys: Arc<actors::identity::KeyRing>,
    pub identity: actors::identity::Identity,
    pub deadline: Duration,
    /// The media files kept per shard, which move with their shard.
    pub files: actors::media::files::Files,
    /// The metadata Raft.
    pub meta: std::sync::OnceLock<Arc<raft::node::MetaNode>>,
    pub cluster_name: String,
    /// `[cluster] move_pause_ms`.
    pub move_pause: Duration,
    /// Blobs a move's source copied ahead of its freeze, per shard.
    staged: Mutex<std::collections::HashMap<actors::runtime::ShardId, std::collections::BTreeSet<String>>>,
    /// Notified when this node has left the cluster on request: it exits.
    pub left: tokio::sync::Notify,
}

pub struct Cluster {
    pub ctx: Arc<ClusterCtx>,
    server: ActorRef<NodeServerMessage>,
    gateway: ActorRef<gateway::GatewayMsg>,
    heartbeats: tokio::task::JoinHandle<()>,
}

/// The TLS settings of `node`, when the cluster uses TLS.
pub fn load_tls(settings: &Settings, node: &crate::config::NodeSection) -> Result<Option<tls::Tls>> {
    let Some(ca) = &settings.config.cluster.tls_ca else {
        return Ok(None);
    };
    let missing = |what: &str| {
        Error::internal(format!(
            "node {} needs {what} because [cluster] tls_ca is set",
            node.name
        ))
    };
    let cert = node.tls_cert.as_ref().ok_or_else(|| missing("tls_cert"))?;
    let key = node.tls_key.as_ref().ok_or_else(|| missing("tls_key"))?;
    tls::Tls::load(ca, cert, key).map(Some)
}

fn member_of(node: &crate::config::NodeSection) -> Result<table::Member> {
    Ok(table::Member {
        name: node.name.clone(),
        cluster_addr: node
            .cluster_addr
            .ok_or_else(|| Error::internal(format!("node {} has no cluster_addr", node.name)))?,
        http_addr: node.http_addr,
    })
}

impl Cluster {
    /// Starts the cluster layer if the cookie is set (`None` for a
    /// single-node shop), and returns once this node belongs to the cluster:
    /// it adopted, joined (shards moved to it) or founded the shard table.
    pub async fn start(settings: &Settings, core: &Core) -> Result<Option<Self>> {
        let config = &settings.config;
        let cookie = std::env::var(&config.cluster.cookie_env).ok().filter(|c| !c.is_empty());
        let several = config.nodes.len() > 1 || !config.cluster.seeds.is_empty();
        let cookie = match cookie {
            Some(cookie) => cookie,
            None if several => {
                return Err(Error::internal(format!(
                    "this configuration names several nodes: set the cluster cookie in {}",
                    config.cluster.cookie_env
                )));
            }
            None => return Ok(None),
        };
        let section = config.node(Some(&settings.node_name)).map_err(Error::internal)?;
        let tls = load_tls(settings, &section)?;
        let mut me = member_of(&section)?;
        me.http_addr = settings.http_addr;
        let addr = me.cluster_addr;
        let server = NodeServer::new(
            addr.port(),
            cookie,
            me.name.clone(),
            addr.ip().to_string(),
            tls.as_ref()
                .map(|t| ractor_cluster::IncomingEncryptionMode::Tls(t.acceptor.clone())),
            Some(ractor_cluster::node::NodeConnectionMode::Isolated),
        )
        .with_listen_addr(addr.ip());
        let (server, _) = Actor::spawn(None, server, ())
            .await
            .map_err(|e| Error::internal(format!("cannot start the cluster server on {addr}: {e}")))?;
        server
            .cast(NodeServerMessage::SubscribeToEvents {
                id: "refusals".into(),
                subscription: Box::new(RefusalLog::default()),
            })
            .map_err(|e| Error::internal(format!("node server: {e}")))?;

        let configured: Vec<table::Member> = config.nodes.iter().map(member_of).collect::<Result<_>>()?;
        let table = Arc::new(TableStore::open(&core.storage, &me.name)?);
        let mut peers: Vec<_> = configured.iter().map(|m| (m.name.clone(), m.cluster_addr)).collect();
        if let Some(current) = table.current() {
            peers.extend(current.members.iter().map(|m| (m.name.clone(), m.cluster_addr)));
        }
        let membership = Arc::new(Membership::new(
            &me.name,
            &peers,
            Duration::from_millis(config.cluster.heartbeat_ms),
            Duration::from_millis(config.cluster.suspect_after_ms),
            tls,
        ));
        let ctx = Arc::new(ClusterCtx {
            me: me.clone(),
            router: core.runtime.router(),
            storage: core.storage.clone(),
            table: table.clone(),
            membership: membership.clone(),
            keys: core.domains.keys.clone(),
            identity: core.domains.identity.clone(),
            deadline: Duration::from_millis(config.runtime.ask_timeout_ms),
            files: actors::media::files::Files::new(&settings.data_dir),
            meta: std::sync::OnceLock::new(),
            cluster_name: config.cluster.name.clone(),
            move_pause: Duration::from_millis(config.cluster.move_pause_ms),
            staged: Mutex::default(),
            left: tokio::sync::Notify::new(),
        });
        // The metadata Raft first, and the shards a move froze here frozen
        // again, before the gateway serves anyone.
        let meta = Arc::new(
            raft::node::MetaNode::start(
                &core.storage,
                &config.cluster.name,
                Arc::new(raft::node::GatewayTransport),
            )
            .await?,
        );
        let _ = ctx.meta.set(meta.clone());
        for shard in table.moving() {
            core.runtime.router().freeze(shard).await?;
        }
        let (gateway, _) = Actor::spawn(None, gateway::GatewayActor, ctx.clone())
            .await
            .map_err(|e| Error::internal(format!("cannot start the gateway: {e}")))?;
        core.runtime.router().join_cluster(
            table.clone(),
            Arc::new(remote::GatewayClient {
                membership: membership.clone(),
                table: table.clone(),
                unresponsive_after: Duration::from_millis(config.cluster.unresponsive_after_ms.max(10)),
            }),
        )?;
        core.domains.keys.set_key_source(Arc::new(PeerKeys {
            membership: membership.clone(),
            meta: meta.shared.clone(),
        }));
        let heartbeats = tokio::spawn(membership.clone().run(server.clone(), Arc::downgrade(&ctx)));

        // A joiner serves each shard as soon as it is switched to it.
        tokio::spawn(changes::follow(Arc::downgrade(&ctx)));
        tokio::spawn(driver::drive(Arc::downgrade(&ctx)));
        tokio::spawn(changes::publish_keys(Arc::downgrade(&ctx)));
        let recorded = meta.shared.get();
        let joining = recorded
            .change
            .as_ref()
            .filter(|c| c.kind == meta::ChangeKind::Join(me.name.clone()))
            .map(|c| c.id);
        if recorded.members.get(&me.name).is_some_and(|m| m.id == meta.id) {
            // A member (or a joiner that restarted): the replicated state
            // says where everything is.
            ctx.catch_up(&recorded).await?;
            membership.track(&table::ShardTable::from_meta(&recorded).members);
        } else {
            match table.current() {
                Some(current) if current.has(&me.name) => membership.track(&current.members),
                _ => ctx.discover(&configured, &config.cluster.seeds).await?,
            }
        }
        if let Some(change) = joining {
            ctx.join_resumed(change).await?;
        }
        if let Some(current) = table.current() {
            let (meta, me, cluster) = (meta.clone(), me.name.clone(), config.cluster.name.clone());
            tokio::spawn(async move {
                match meta.form_from(&me, &current, &cluster).await {
                    Ok(()) => tracing::info!("metadata raft formed"),
                    Err(error) => tracing::warn!(%error, "metadata raft not formed"),
                }
            });
        }
        let current = table
            .current()
            .ok_or_else(|| Error::internal("no shard table after joining"))?;
        tracing::info!(node = %me.name, %addr, epoch = current.epoch, shards = ?current.counts(), "member of the cluster");
        Ok(Some(Self {
            ctx,
            server,
            gateway,
            heartbeats,
        }))
    }

    /// Hands every shard of this node to the others (graceful leave).
    pub async fn leave(&self) -> Result<()> {
        self.ctx.leave().await
    }

    pub async fn stop(self) {
        self.heartbeats.abort();
        self.gateway.stop(None);
        self.server.stop(None);
    }
}

/// The public keys of every node: those in the replicated metadata (also
/// of nodes that are down or left), and those of every reachable peer.
struct PeerKeys {
    membership: Arc<Membership>,
    meta: raft::Shared,
}

impl KeySource for PeerKeys {
    fn fetch(&self) -> BoxFuture<'_, Vec<(String, [u8; 32])>> {
        Box::pin(async move {
            let mut keys: Vec<(String, [u8; 32])> = self
                .meta
                .read()
                .keys
                .values()
                .flatten()
                .filter_map(|k| Some((k.kid.clone(), <[u8; 32]>::try_from(k.key.as_slice()).ok()?)))
                .collect();
            for name in self.membership.snapshot().keys() {
                let request = wire::Request::PublicKeys;
                if let Some(Ok(wire::Response::PublicKeys(found))) =
                    gateway::call(name, &request, Duration::from_secs(2)).await
                {
                    keys.extend(found);
                }
            }
            keys
        })
    }
}

/// Logs sessions that closed before authenticating: a peer with a wrong
/// cookie (or something that is not a node at all).
#[derive(Default)]
struct RefusalLog {
    authenticated: Mutex<HashSet<ractor::ActorId>>,
}

impl NodeEventSubscription for RefusalLog {
    fn node_session_opened(&self, _: NodeServerSessionInformation) {}

    fn node_session_authenticated(&self, session: NodeServerSessionInformation) {
        if let Ok(mut ids) = self.authenticated.lock() {
            ids.insert(session.actor.get_id());
        }
        tracing::info!(peer = ?session.peer_name.map(|n| n.name), addr = %session.peer_addr, "peer authenticated");
    }

    fn node_session_disconnected(&self, session: NodeServerSessionInformation) {
        let was_authenticated = self
            .authenticated
            .lock()
            .map(|mut ids| ids.remove(&session.actor.get_id()))
            .unwrap_or(false);
        if !was_authenticated {
            tracing::warn!(
                addr = %session.peer_addr,
                "cluster connection refused: closed before authenticating (a wrong cookie, or a duplicate connection)"
            );
        }
    }
}
