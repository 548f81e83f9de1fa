//! The `node` process: configuration, start-up of storage, the entity
//! runtime, the domain services and the HTTP edge, and graceful shutdown.
//!
//! [`Application::build`] is what `node` runs and what in-process tests boot.

pub mod cluster;
pub mod config;
pub mod http_server;

use actors::domains::{DomainSettings, Domains};
use actors::identity::ports::{Clock, FileOutbox, HashCost, Mailer, PasswordHasher, SmtpMailer, SystemClock};
use actors::identity::{KeyRing, Ports};
use actors::orders::Orders;
use actors::runtime::{Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use actors::{Error, Result};
use config::Config;
use http_edge::dto::{ClusterMember, ClusterStatusResponse, HandoffDto};
use http_edge::{ClusterView, Edge, EdgeLimits, Readiness, ReadyStatus};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One node's resolved settings: the config file plus command-line overrides.
#[derive(Clone)]
pub struct Settings {
    pub config: Config,
    pub node_name: String,
    pub http_addr: SocketAddr,
    pub data_dir: PathBuf,
    /// On shutdown, hand this node's shards to the others and leave.
    pub leave_on_shutdown: bool,
    /// The time every rule sees: the system's, or a manual clock that tests
    /// advance instead of sleeping.
    pub clock: Arc<dyn Clock>,
    /// Where the sandbox delivers webhooks: this node's own endpoint, set
    /// once it listens.
    pub webhook_endpoint: actors::payments::delivery::Endpoint,
}

impl Settings {
    pub fn resolve(
        config: Config,
        name: Option<&str>,
        http: Option<SocketAddr>,
        data_dir: Option<PathBuf>,
    ) -> std::result::Result<Self, String> {
        let node = config.node(name)?;
        Ok(Self {
            node_name: node.name.clone(),
            http_addr: http.unwrap_or(node.http_addr),
            data_dir: data_dir.or(node.data_dir).unwrap_or_else(|| PathBuf::from("./data")),
            config,
            leave_on_shutdown: false,
            clock: Arc::new(SystemClock),
            webhook_endpoint: Default::default(),
        })
    }
}

/// Readiness and the operators' view of the cluster, for the edge.
struct NodeView {
    name: String,
    http_addr: SocketAddr,
    storage_open: AtomicBool,
    shards_total: usize,
    cluster: Option<Arc<cluster::ClusterCtx>>,
}

impl Readiness for NodeView {
    /// Ready when storage is open and this node serves the shards it owns:
    /// all of them alone, its share of the table in a cluster.
    fn status(&self) -> ReadyStatus {
        let storage_open = self.storage_open.load(Ordering::Relaxed);
        let (member, owned) = match &self.cluster {
            None => (true, self.shards_total),
            Some(ctx) => {
                let status = ctx.status();
                let me = status.members.iter().find(|m| m.name == ctx.me.name);
                (me.is_some(), me.map_or(0, |m| m.shards))
            }
        };
        ReadyStatus {
            ready: storage_open && member,
            storage_open,
            shards_hosted: owned,
            shards_total: self.shards_total,
        }
    }
}

impl ClusterView for NodeView {
    fn owner(&self, kind: &str, key: &str) -> (u32, String) {
        let shard = actors::runtime::shard_of(kind, key, self.shards_total as u32);
        let owner = match &self.cluster {
            Some(ctx) => ctx.table.owner_name(shard).unwrap_or_default(),
            None => self.name.clone(),
        };
        (shard, owner)
    }

    fn status(&self) -> ClusterStatusResponse {
        let Some(ctx) = &self.cluster else {
            return ClusterStatusResponse {
                node: self.name.clone(),
                epoch: 0,
                members: vec![ClusterMember {
                    name: self.name.clone(),
                    status: "up".into(),
                    shards: self.shards_total,
                    cluster_addr: String::new(),
                    http_addr: self.http_addr.to_string(),
                }],
                handoffs: Vec::new(),
                raft: None,
            };
        };
        let status = ctx.status();
        let raft = ctx.raft_status();
        ClusterStatusResponse {
            node: status.node,
            epoch: status.epoch,
            members: status
                .members
                .into_iter()
                .map(|m| ClusterMember {
                    name: m.name,
                    status: m.status,
                    shards: m.shards,
                    cluster_addr: m.cluster_addr,
                    http_addr: m.http_addr,
                })
                .collect(),
            handoffs: status
                .handoffs
                .into_iter()
                .map(|(shard, to)| HandoffDto { shard, to })
                .collect(),
            raft,
        }
    }
}

/// Storage, runtime and domain services, without HTTP (also used by the
/// `node admin` commands).
pub struct Core {
    pub storage: Storage,
    pub runtime: Runtime,
    pub domains: Domains,
    pub metrics: RuntimeMetrics,
    pub clock: Arc<dyn Clock>,
}

impl Core {
    pub async fn start(settings: &Settings) -> Result<Self> {
        let config = &settings.config;
        let metrics = RuntimeMetrics::default();
        actors::ports::private_dir(&settings.data_dir)
            .map_err(|e| Error::internal(format!("data directory {}: {e}", settings.data_dir.display())))?;
        let storage = Storage::open_with_cache(
            &settings.data_dir.join("db"),
            config.cluster.shards,
            metrics.clone(),
            config.runtime.storage_cache_mb.max(1) * 1024 * 1024,
        )?;
        let id = &config.identity;
        let cost = HashCost {
            memory_kib: id.argon2_memory_kib,
            iterations: id.argon2_iterations,
            parallelism: id.argon2_parallelism,
        };
        let hasher = match id.hash_queue {
            0 => PasswordHasher::new(cost)?,
            queue => PasswordHasher::with_queue(cost, queue)?,
        };
        let tunables = Tunables {
            passivate_after: Duration::from_secs(config.runtime.passivate_after_secs),
            max_live_entities: config.runtime.max_live_entities,
            ask_timeout: Duration::from_millis(config.runtime.ask_timeout_ms),
            // A stalled move costs a caller what an unresponsive owner does.
            hold_while_moving: Duration::from_millis(config.cluster.unresponsive_after_ms.max(10)),
        };
        let domain_settings = DomainSettings {
            ports: Ports {
                hasher,
                mailer: mailer(settings)?,
                clock: settings.clock.clone(),
            },
            key_rotation_secs: id.key_rotation_secs,
            access_token_ttl_secs: id.access_token_ttl_secs,
            placement_lease: config.orders.placement_lease_ms as actors::ports::Millis,
            search_index_bytes: metrics.search_index_bytes.clone(),
            payments: config.payments.settings().map_err(Error::internal)?,
            webhook_endpoint: settings.webhook_endpoint.clone(),
            media: config.media.settings(&settings.data_dir),
        };
        let builder = RuntimeBuilder::new(storage.clone(), tunables, metrics.clone());
        let runtime = Domains::register_entities(builder, &domain_settings).start().await?;
        let domains = Domains::start(&runtime, &storage, domain_settings).await?;
        Ok(Self {
            storage,
            runtime,
            domains,
            metrics,
            clock: settings.clock.clone(),
        })
    }
}

fn mailer(settings: &Settings) -> Result<Arc<dyn Mailer>> {
    let mail = &settings.config.mail;
    Ok(match &mail.smtp_host {
        Some(host) => {
            let credentials = mail.smtp_user.clone().map(|user| {
                let password = std::env::var(&mail.smtp_password_env).unwrap_or_default();
                (user, password)
            });
            Arc::new(SmtpMailer::new(host, mail.smtp_port, credentials, mail.from.clone()))
        }
        None => Arc::new(FileOutbox::new(settings.data_dir.join("outbox"), mail.from.clone())?),
    })
}

/// A running single-node shop: its core and a bound HTTP listener.
pub struct Application {
    core: Core,
    listener: tokio::net::TcpListener,
    router: axum::Router,
    readiness: Arc<NodeView>,
    key_rotation: tokio::task::JoinHandle<()>,
    indexer: actors::search::indexer::Indexer,
    alarms: actors::runtime::AlarmClock,
    cluster: Option<cluster::Cluster>,
    leave_on_shutdown: bool,
    connections: http_server::ConnectionLimits,
    /// How long shutdown waits for requests in flight.
    drain: Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self> {
        let core = Core::start(&settings).await?;
        let cluster = cluster::Cluster::start(&settings, &core).await?;
        // Sets an older version kept inside one record move into member
        // records, in the shards this node owns (known from here on).
        core.runtime.migrate_members().await?;
        // The index follows what this node owns, known from here on.
        let indexer = core.domains.search.start_indexing();
        let alarms = actors::runtime::AlarmClock::start(
            core.runtime.router(),
            core.clock.clone(),
            Duration::from_millis(settings.config.runtime.alarm_period_ms.max(10)),
        );
        let listener = tokio::net::TcpListener::bind(settings.http_addr)
            .await
            .map_err(|e| Error::internal(format!("cannot listen on {}: {e}", settings.http_addr)))?;
        if let Ok(addr) = listener.local_addr() {
            let host = match addr.ip() {
                ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
                ip => ip,
            };
            let _ = settings.webhook_endpoint.set(format!(
                "http://{}/api/v1/payments/webhooks/sandbox",
                SocketAddr::new(host, addr.port())
            ));
        }
        let mut registry = prometheus_client::registry::Registry::with_prefix("shop");
        core.metrics.register(&mut registry);
        let http_metrics = http_edge::metrics::HttpMetrics::new(&mut registry);
        let readiness = Arc::new(NodeView {
            name: settings.node_name.clone(),
            http_addr: listener.local_addr().unwrap_or(settings.http_addr),
            storage_open: AtomicBool::new(true),
            shards_total: core.runtime.hosted_shards(),
            cluster: cluster.as_ref().map(|c| c.ctx.clone()),
        });
        let state = Arc::new(Edge {
            domains: core.domains.clone(),
            registry: Arc::new(registry),
            metrics_token: std::env::var(&settings.config.http.metrics_token_env)
                .ok()
                .filter(|t| !t.is_empty())
                .map(Into::into),
            readiness: readiness.clone(),
            cluster: readiness.clone(),
        });
        let limits = EdgeLimits {
            body_limit_bytes: settings.config.http.body_limit_bytes,
            request_timeout: Duration::from_millis(settings.config.http.request_timeout_ms),
            rate_limit_per_sec: settings.config.http.rate_limit_per_sec,
            rate_limit_burst: settings.config.http.rate_limit_burst,
            auth_rate_limit_per_sec: settings.config.http.auth_rate_limit_per_sec,
            auth_rate_limit_burst: settings.config.http.auth_rate_limit_burst,
            user_rate_limit_per_sec: settings.config.http.user_rate_limit_per_sec,
            user_rate_limit_burst: settings.config.http.user_rate_limit_burst,
            proxies: settings.config.http.proxies().map_err(Error::internal)?,
            cors_origins: settings.config.http.cors_origins.clone(),
        };
        let router = http_edge::app(state, http_metrics, &limits);
        let key_rotation = spawn_key_rotation(
            core.domains.keys.clone(),
            settings.config.identity.key_rotation_secs,
            core.clock.clone(),
        );
        Ok(Self {
            core,
            listener,
            router,
            readiness,
            key_rotation,
            indexer,
            alarms,
            cluster,
            leave_on_shutdown: settings.leave_on_shutdown,
            connections: http_server::ConnectionLimits {
                header_read_timeout: Duration::from_millis(settings.config.http.header_read_timeout_ms.max(1)),
                idle_timeout: Duration::from_millis(settings.config.http.idle_timeout_ms.max(1)),
                max_connections: settings.config.http.max_connections.max(1),
                max_connections_per_client: settings.config.http.max_connections_per_client.max(1),
                proxies: settings.config.http.proxies().map_err(Error::internal)?,
            },
            drain: Duration::from_millis(settings.config.http.request_timeout_ms) + Duration::from_secs(5),
        })
    }

    /// The order flows, for callers inside the process (payments, tests).
    pub fn orders(&self) -> Orders {
        self.core.domains.orders.clone()
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until `shutdown` resolves (or the node left its cluster on
    /// request); then stops accepting, finishes in-flight requests, leaves
    /// the cluster if asked to, stops the runtime and flushes storage.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let ctx = self.cluster.as_ref().map(|c| c.ctx.clone());
        let stop = async move {
            match ctx {
                Some(ctx) => tokio::select! {
                    () = shutdown => {},
                    () = ctx.left.notified() => tracing::info!("left the cluster; shutting down"),
                },
                None => shutdown.await,
            }
        };
        http_server::serve(self.listener, self.router, self.connections, stop, self.drain).await;
        // No more wakes: what falls due from here on is caught up by the
        // shards' next owner (or this node's next start).
        self.alarms.stop().await;
        if let (Some(cluster), true) = (&self.cluster, self.leave_on_shutdown) {
            // The gateway still serves while shards move away.
            if let Err(error) = cluster.leave().await {
                tracing::error!(%error, "could not leave the cluster; its shards stay with this node");
            }
        }
        tracing::info!("http edge stopped; stopping the runtime");
        self.readiness.storage_open.store(false, Ordering::Relaxed);
        self.key_rotation.abort();
        let _ = self.key_rotation.await;
        // Waits for the step in progress: the indexer holds the storage.
        self.indexer.stop().await;
        if let Some(cluster) = self.cluster {
            cluster.stop().await;
        }
        self.core.runtime.shutdown().await?;
        tracing::info!("storage flushed; bye");
        Ok(())
    }
}

fn spawn_key_rotation(keys: Arc<KeyRing>, rotation_secs: u64, clock: Arc<dyn Clock>) -> tokio::task::JoinHandle<()> {
    let period = Duration::from_secs((rotation_secs / 10).clamp(1, 60));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(error) = keys.rotate_if_due(clock.now()).await {
                tracing::error!(%error, "key rotation failed");
            }
        }
    })
}
