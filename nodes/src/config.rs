//! `cluster.toml`: the cluster, its nodes, and runtime tunables. Every
//! section and field has a default, so a minimal file (or none) works.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub cluster: ClusterSection,
    pub nodes: Vec<NodeSection>,
    pub runtime: RuntimeSection,
    pub http: HttpSection,
    pub identity: IdentitySection,
    pub orders: OrdersSection,
    pub payments: PaymentsSection,
    pub media: MediaSection,
    pub mail: MailSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSection {
    pub name: String,
    /// The environment variable holding the cluster cookie (never the cookie).
    pub cookie_env: String,
    /// Fixed for the life of the cluster: changing it moves every entity.
    pub shards: u32,
    /// Names of the nodes a starting node asks first about the cluster;
    /// empty means every configured node.
    pub seeds: Vec<String>,
    /// How often each peer is pinged.
    pub heartbeat_ms: u64,
    /// A peer silent this long is suspect: its shards answer 503 at once.
    pub suspect_after_ms: u64,
    /// A request whose owner has not answered for this long is answered
    /// 503 (with `Retry-After`) unless the owner answers a direct ping:
    /// a frozen node costs its callers this long, not the ask timeout.
    pub unresponsive_after_ms: u64,
    /// A pause before each shard move of a membership change (0: none):
    /// spreads a change's load over time on a busy cluster.
    pub move_pause_ms: u64,
    /// With a CA certificate (PEM), nodes speak mutual TLS to each other;
    /// each node then needs `tls_cert` and `tls_key`.
    pub tls_ca: Option<PathBuf>,
}

impl Default for ClusterSection {
    fn default() -> Self {
        Self {
            name: "shop".into(),
            cookie_env: "SHOP_CLUSTER_COOKIE".into(),
            shards: 256,
            seeds: Vec::new(),
            heartbeat_ms: 500,
            suspect_after_ms: 3_000,
            unresponsive_after_ms: 1_000,
            move_pause_ms: 0,
            tls_ca: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    pub name: String,
    pub cluster_addr: Option<SocketAddr>,
    pub http_addr: SocketAddr,
    pub data_dir: Option<PathBuf>,
    /// This node's certificate chain (PEM), naming the node as its DNS
    /// subject alternative name; used when `[cluster] tls_ca` is set.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeSection {
    pub passivate_after_secs: u64,
    pub max_live_entities: usize,
    pub ask_timeout_ms: u64,
    /// How often due alarms (reservation expiry, …) are looked for.
    pub alarm_period_ms: u64,
    /// The storage's page cache (sled), in MiB.
    pub storage_cache_mb: u64,
}

impl Default for RuntimeSection {
    fn default() -> Self {
        Self {
            passivate_after_secs: 120,
            max_live_entities: 100_000,
            ask_timeout_ms: 10_000,
            alarm_period_ms: 250,
            storage_cache_mb: 128,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    pub body_limit_bytes: usize,
    pub request_timeout_ms: u64,
    /// Anonymous requests per second allowed per client address (0: no
    /// limit).
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
    /// Requests per second allowed per signed-in user (0: no limit).
    pub user_rate_limit_per_sec: u32,
    pub user_rate_limit_burst: u32,
    /// Proxies (CIDRs or addresses) whose forwarding header names the
    /// client; empty: the TCP peer is always the client.
    pub trusted_proxies: Vec<String>,
    /// The header those proxies maintain: `x-forwarded-for` or `forwarded`.
    pub forwarded_header: String,
    /// Origins browsers may call the API from (`"*"`: any); empty: no CORS.
    pub cors_origins: Vec<String>,
    /// Sign-in, refresh, password reset and account creation per client IP
    /// (0: no such limit), on top of the general one.
    pub auth_rate_limit_per_sec: u32,
    pub auth_rate_limit_burst: u32,
    /// A client must send a request's headers within this time.
    pub header_read_timeout_ms: u64,
    /// A connection with no traffic either way for this long is closed.
    pub idle_timeout_ms: u64,
    /// Open connections at most (also kept below the descriptor limit).
    pub max_connections: usize,
    /// Open connections at most from one client address.
    pub max_connections_per_client: usize,
    /// The environment variable holding a token `/metrics` then requires
    /// as `Authorization: Bearer <token>` (unset or empty: open).
    pub metrics_token_env: String,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout_ms: 15_000,
            rate_limit_per_sec: 50,
            rate_limit_burst: 100,
            user_rate_limit_per_sec: 50,
            user_rate_limit_burst: 100,
            trusted_proxies: Vec::new(),
            forwarded_header: "x-forwarded-for".into(),
            cors_origins: Vec::new(),
            auth_rate_limit_per_sec: 5,
            auth_rate_limit_burst: 10,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 10_000,
            max_connections_per_client: 256,
            metrics_token_env: "SHOP_METRICS_TOKEN".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentitySection {
    pub access_token_ttl_secs: u64,
    pub key_rotation_secs: u64,
    /// argon2id cost; the defaults are OWASP's recommendation.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Password hashings running or waiting at once; more are shed with
    /// 503 `busy` and Retry-After. 0: eight per core.
    pub hash_queue: usize,
}

impl Default for IdentitySection {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 15 * 60,
            key_rotation_secs: 24 * 60 * 60,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_queue: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersSection {
    /// A placement not confirmed within this time was abandoned (its node
    /// died mid-way): its stock holds are released and its key is free.
    pub placement_lease_ms: u64,
}

impl Default for OrdersSection {
    fn default() -> Self {
        Self {
            placement_lease_ms: actors::orders::record::PLACING_LEASE as u64,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsSection {
    /// The processor a charge uses when it names none.
    pub default_processor: String,
    /// `automatic` (taken at once) or `on_shipment`.
    pub capture: String,
    /// An authorization not captured within this many days is cancelled.
    pub authorization_days: u32,
    /// How often a charge not settled asks its processor.
    pub reconcile_every_secs: u64,
    /// How often each processor's disputes are swept (a dispute whose
    /// webhook was lost is found by the next sweep).
    pub dispute_sweep_secs: u64,
    /// The platform's fee on each store's payout line, a decimal in
    /// [0, 1) such as `"0.1"` (rounded half-even once per line).
    pub fee_rate: String,
    /// A store's share of a charge becomes payable this many days after
    /// capture (0: at once).
    pub payout_hold_days: u32,
    pub sandbox: SandboxSection,
    pub stripe: Option<StripeSection>,
}

impl Default for PaymentsSection {
    fn default() -> Self {
        Self {
            default_processor: "sandbox".into(),
            capture: "automatic".into(),
            authorization_days: 7,
            reconcile_every_secs: 60,
            dispute_sweep_secs: 3600,
            fee_rate: "0.1".into(),
            payout_hold_days: 7,
            sandbox: SandboxSection::default(),
            stripe: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSection {
    /// The built-in test processor (off in production).
    pub enabled: bool,
    /// Deliver each webhook twice, in shuffled order.
    pub duplicate_webhooks: bool,
    /// Announce changes by webhook at all (`false`: every webhook is
    /// lost, for trying the sweeps that make up for lost ones).
    pub send_webhooks: bool,
    /// The environment variables holding its webhook secrets: the first
    /// set signs, every one set verifies (a rotation); a fresh secret per
    /// start when none is set.
    pub webhook_secret_envs: Vec<String>,
}

impl Default for SandboxSection {
    fn default() -> Self {
        Self {
            enabled: true,
            duplicate_webhooks: false,
            send_webhooks: true,
            webhook_secret_envs: vec![
                "SHOP_SANDBOX_WEBHOOK_SECRET".into(),
                "SHOP_SANDBOX_WEBHOOK_SECRET_PREVIOUS".into(),
            ],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripeSection {
    #[serde(default = "stripe_base_url")]
    pub base_url: String,
    /// The environment variable holding the secret API key.
    #[serde(default = "stripe_key_env")]
    pub secret_key_env: String,
    /// The environment variables holding the webhook endpoint secrets:
    /// the current one and, during a rotation, the previous one.
    #[serde(default = "stripe_webhook_envs")]
    pub webhook_secret_envs: Vec<String>,
}

fn stripe_base_url() -> String {
    "https://api.stripe.com".into()
}

fn stripe_key_env() -> String {
    "SHOP_STRIPE_SECRET_KEY".into()
}

fn stripe_webhook_envs() -> Vec<String> {
    vec![
        "SHOP_STRIPE_WEBHOOK_SECRET".into(),
        "SHOP_STRIPE_WEBHOOK_SECRET_PREVIOUS".into(),
    ]
}

impl PaymentsSection {
    /// The domain's settings, secrets read from the environment.
    pub fn settings(&self) -> Result<actors::payments::processors::PaymentSettings, String> {
        use actors::payments::ports::CaptureMode;
        use actors::payments::processors::{PaymentSettings, SandboxSettings, Secret, StripeSettings, random_secret};
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let capture = match self.capture.as_str() {
            "automatic" => CaptureMode::Automatic,
            "on_shipment" => CaptureMode::Manual,
            other => return Err(format!("payments.capture: {other:?} is not automatic or on_shipment")),
        };
        let secrets = |names: &[String]| -> Vec<Secret> {
            names.iter().filter_map(|e| env(e)).map(|v| Secret::new(&v)).collect()
        };
        let sandbox = self.sandbox.enabled.then(|| {
            let mut webhook_secrets = secrets(&self.sandbox.webhook_secret_envs);
            if webhook_secrets.is_empty() {
                webhook_secrets.push(Secret::new(&random_secret()));
            }
            SandboxSettings {
                duplicate_webhooks: self.sandbox.duplicate_webhooks,
                send_webhooks: self.sandbox.send_webhooks,
                webhook_secrets,
            }
        });
        let stripe = match &self.stripe {
            None => None,
            Some(stripe) => Some(StripeSettings {
                base_url: stripe.base_url.trim_end_matches('/').to_string(),
                secret_key: Secret::new(&env(&stripe.secret_key_env).ok_or_else(|| {
                    format!(
                        "payments.stripe: the environment variable {} is not set",
                        stripe.secret_key_env
                    )
                })?),
                webhook_secrets: stripe
                    .webhook_secret_envs
                    .iter()
                    .filter_map(|e| env(e))
                    .map(|v| Secret::new(&v))
                    .collect(),
            }),
        };
        let configured = match self.default_processor.as_str() {
            "sandbox" => sandbox.is_some(),
            "stripe" => stripe.is_some(),
            _ => false,
        };
        if !configured {
            return Err(format!(
                "payments.default_processor: {:?} is not a configured processor",
                self.default_processor
            ));
        }
        if self.reconcile_every_secs == 0 || self.dispute_sweep_secs == 0 || self.authorization_days == 0 {
            return Err(
                "payments.reconcile_every_secs, dispute_sweep_secs and authorization_days must be at least 1".into(),
            );
        }
        Ok(PaymentSettings {
            default_processor: self.default_processor.clone(),
            capture,
            reconcile_every: self.reconcile_every_secs.min(31_536_000) as i64 * 1000,
            dispute_sweep_every: self.dispute_sweep_secs.min(31_536_000) as i64 * 1000,
            authorization_days: self.authorization_days,
            fee_rate: actors::payments::funds::fee_rate(&self.fee_rate)
                .map_err(|e| format!("payments.fee_rate: {e}"))?,
            payout_hold_days: self.payout_hold_days.min(3650),
            sandbox,
            stripe,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSection {
    /// The largest upload taken (`Tus-Max-Size`).
    pub max_upload_bytes: u64,
    /// Unfinished uploads expire after this long; their bytes go.
    pub upload_expiry_secs: u64,
    /// Uploads are refused (507) when less would be left free on the disk.
    pub free_disk_headroom_mb: u64,
    /// Variants made of every image uploaded, without being asked.
    pub default_variants: Vec<actors::media::variants::Spec>,
    /// Images with more pixels are refused before decoding.
    pub max_source_pixels: u64,
    /// Variant jobs at once at most; 0: one per core (never more).
    pub job_workers: usize,
}

impl Default for MediaSection {
    fn default() -> Self {
        use actors::media::variants::{Fit, Format, Spec};
        let spec = |name: &str, side: u32, fit: Fit, quality: u8| Spec {
            name: name.into(),
            width: side,
            height: side,
            fit,
            format: Format::Jpeg,
            quality: Some(quality),
        };
        Self {
            max_upload_bytes: 1 << 30,
            upload_expiry_secs: 24 * 60 * 60,
            free_disk_headroom_mb: 64,
            default_variants: vec![spec("thumb", 256, Fit::Cover, 80), spec("view", 1200, Fit::Contain, 85)],
            max_source_pixels: actors::media::variants::DEFAULT_MAX_PIXELS,
            job_workers: 0,
        }
    }
}

impl MediaSection {
    pub fn settings(&self, data_dir: &Path) -> actors::media::service::MediaSettings {
        actors::media::service::MediaSettings {
            data_dir: data_dir.to_path_buf(),
            max_upload_bytes: self.max_upload_bytes,
            upload_expiry: self.upload_expiry_secs.clamp(1, 365 * 24 * 60 * 60) as i64 * 1000,
            free_disk_headroom: self.free_disk_headroom_mb.saturating_mul(1024 * 1024),
            default_variants: self.default_variants.clone(),
            max_source_pixels: self.max_source_pixels.max(1),
            job_workers: self.job_workers,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSection {
    pub from: String,
    /// When set, mail goes to this SMTP relay; otherwise to `<data>/outbox/`.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_user: Option<String>,
    /// The environment variable holding the SMTP password.
    pub smtp_password_env: String,
}

impl Default for MailSection {
    fn default() -> Self {
        Self {
            from: "shop@localhost".into(),
            smtp_host: None,
            smtp_port: 25,
            smtp_user: None,
            smtp_password_env: "SHOP_SMTP_PASSWORD".into(),
        }
    }
}

impl HttpSection {
    /// The trusted proxies and their header, as the edge uses them.
    pub fn proxies(&self) -> Result<http_edge::clients::Proxies, String> {
        let header = self
            .forwarded_header
            .parse()
            .map_err(|e| format!("http.forwarded_header: {e}"))?;
        http_edge::clients::Proxies::new(&self.trusted_proxies, header)
            .map_err(|e| format!("http.trusted_proxies: {e}"))
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if config.cluster.shards == 0 {
            return Err("cluster.shards must be at least 1".into());
        }
        let lease = config.orders.placement_lease_ms;
        let max = actors::orders::record::PLACING_LEASE_MAX as u64;
        if !(1_000..=max).contains(&lease) {
            return Err(format!("orders.placement_lease_ms must be 1000 to {max}"));
        }
        config.http.proxies()?;
        if !config.media.default_variants.is_empty() {
            actors::media::variants::check(&config.media.default_variants).map_err(|e| match e {
                actors::Error::Validation { fields } => format!("media.default_variants: {fields:?}"),
                other => other.to_string(),
            })?;
        }
        if config.payments.stripe.is_none() {
            // Stripe's key is read at start-up; everything else is checked here.
            config.payments.settings()?;
        }
        if let Some(bad) = config
            .http
            .cors_origins
            .iter()
            .find(|o| !http_edge::valid_cors_origin(o))
        {
            return Err(format!(
                "http.cors_origins: {bad:?} is not an origin (scheme://host[:port], or \"*\")"
            ));
        }
        Ok(config)
    }

    /// This node's section: the named one, or the first; a default node
    /// (HTTP on 127.0.0.1:8080, data in ./data) if the file names none.
    pub fn node(&self, name: Option<&str>) -> Result<NodeSection, String> {
        match name {
            Some(name) => self
                .nodes
                .iter()
                .find(|n| n.name == name)
                .cloned()
                .ok_or_else(|| format!("no node named {name} in the configuration")),
            None => Ok(self.nodes.first().cloned().unwrap_or_else(|| NodeSection {
                name: "n1".into(),
                cluster_addr: None,
                http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
                data_dir: None,
                tls_cert: None,
                tls_key: None,
            })),
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
