//! Failure detection, which is ours: ractor_cluster neither heartbeats nor
//! reconnects, and a frozen peer's session stays "ready".
//!
//! Every `heartbeat` this node pings each peer's gateway. A peer that has not
//! answered for `suspect_after` is *suspect*: requests for its shards answer
//! 503 at once instead of waiting. A peer without a session is *down*; the
//! node reconnects to it with exponential backoff (up to 5 s). Every
//! transition is logged.

use super::gateway;
use super::table::{Member, TableStore};
use super::wire::{Request, Response};
use ractor::ActorRef;
use ractor_cluster::NodeServerMessage;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerStatus {
    Up,
    Suspect,
    Down,
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    pub status: PeerStatus,
    pub last_ok: Option<Instant>,
    pub epoch: u64,
    /// When its public keys were last fetched.
    keys_at: Option<Instant>,
    next_connect: Instant,
    backoff: Duration,
}

pub struct Membership {
    me: String,
    peers: Mutex<BTreeMap<String, Peer>>,
    heartbeat: Duration,
    suspect_after: Duration,
    /// Until this node belongs to a table, it dials every peer (they do not
    /// know it yet, so they would never dial it).
    dial_all: AtomicBool,
    tls: Option<super::tls::Tls>,
}

impl Membership {
    pub fn new(
        me: &str,
        peers: &[(String, SocketAddr)],
        heartbeat: Duration,
        suspect_after: Duration,
        tls: Option<super::tls::Tls>,
    ) -> Self {
        let membership = Self {
            me: me.to_string(),
            peers: Mutex::new(BTreeMap::new()),
            heartbeat,
            suspect_after,
            dial_all: AtomicBool::new(false),
            tls,
        };
        for (name, addr) in peers {
            membership.add(name, *addr);
        }
        membership
    }

    fn add(&self, name: &str, addr: SocketAddr) {
        if name == self.me {
            return;
        }
        self.lock().entry(name.to_string()).or_insert_with(|| Peer {
            addr,
            status: PeerStatus::Down,
            last_ok: None,
            epoch: 0,
            keys_at: None,
            next_connect: Instant::now(),
            backoff: Duration::from_millis(100),
        });
    }

    /// Follows the table's members: newcomers are added, leavers dropped.
    pub fn track(&self, members: &[Member]) {
        for m in members {
            self.add(&m.name, m.cluster_addr);
        }
        self.lock().retain(|name, _| members.iter().any(|m| &m.name == name));
    }

    pub fn set_dial_all(&self, on: bool) {
        self.dial_all.store(on, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Peer>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> BTreeMap<String, Peer> {
        self.lock().clone()
    }

    /// Whether `node` is suspect (silent for too long): requests for its
    /// shards answer 503 at once rather than wait for a timeout. A peer not
    /// yet heard from (just joined, or just reconnected) is tried; without a
    /// session it is answered 503 anyway.
    pub fn is_suspect(&self, node: &str) -> bool {
        self.lock().get(node).is_some_and(|p| p.status == PeerStatus::Suspect)
    }

    /// Whether `node` answered its last heartbeat.
    pub fn is_up(&self, node: &str) -> bool {
        self.lock().get(node).is_some_and(|p| p.status == PeerStatus::Up)
    }

    /// `name` did not answer a direct ping: suspect until its next
    /// heartbeat answer.
    pub fn unresponsive(&self, name: &str) {
        self.set_status(name, PeerStatus::Suspect, "no answer to a request or a direct ping");
    }

    fn set_status(&self, name: &str, status: PeerStatus, why: &str) {
        let mut peers = self.lock();
        if let Some(peer) = peers.get_mut(name)
            && peer.status != status
        {
            tracing::warn!(node = %self.me, peer = %name, from = ?peer.status, to = ?status, why, "peer status changed");
            peer.status = status;
        }
    }

    /// Runs forever: heartbeats, suspicion and reconnection. A peer whose
    /// heartbeat answer shows a newer table epoch is asked for that table.
    pub async fn run(
        self: std::sync::Arc<Self>,
        server: ActorRef<NodeServerMessage>,
        ctx: std::sync::Weak<super::ClusterCtx>,
    ) {
        let mut tick = tokio::time::interval(self.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let names: Vec<String> = self.lock().keys().cloned().collect();
            for name in names {
                if gateway::find(&name).is_some() {
                    let (this, ctx) = (self.clone(), ctx.clone());
                    tokio::spawn(async move {
                        let Some(their_epoch) = this.ping(&name).await else {
                            return;
                        };
                        let Some(ctx) = ctx.upgrade() else { return };
                        if their_epoch > ctx.table.epoch() {
                            catch_up(&ctx.table, &name, &ctx).await;
                        }
                        if this.keys_due(&name) {
                            learn_keys(&name, &ctx).await;
                        }
                    });
                } else {
                    self.reconnect(&server, &name).await;
                }
            }
        }
    }

    /// Whether `name`'s public keys are to be fetched now (at first, then
    /// every [`KEYS_EVERY`]); marks them fetched.
    fn keys_due(&self, name: &str) -> bool {
        let mut peers = self.lock();
        let Some(peer) = peers.get_mut(name) else { return false };
        let due = peer.keys_at.is_none_or(|t| t.elapsed() >= KEYS_EVERY);
        if due {
            peer.keys_at = Some(Instant::now());
        }
        due
    }

    /// Pings `name`; its table epoch if it answered.
    async fn ping(&self, name: &str) -> Option<u64> {
        let request = Request::Ping { from: self.me.clone() };
        match gateway::call(name, &request, self.heartbeat).await {
            Some(Ok(Response::Pong { epoch })) => {
                if let Some(peer) = self.lock().get_mut(name) {
                    peer.last_ok = Some(Instant::now());
                    peer.epoch = epoch;
                    peer.backoff = Duration::from_millis(100);
                }
                self.set_status(name, PeerStatus::Up, "answered a heartbeat");
                Some(epoch)
            }
            _ => {
                let silent_for = self.lock().get(name).and_then(|p| p.last_ok).map(|t| t.elapsed());
                if silent_for.is_none_or(|d| d >= self.suspect_after) {
                    self.set_status(name, PeerStatus::Suspect, "no heartbeat answer");
                }
                None
            }
        }
    }

    async fn reconnect(&self, server: &ActorRef<NodeServerMessage>, name: &str) {
        self.set_status(name, PeerStatus::Down, "no session");
        let addr = {
            let mut peers = self.lock();
            let Some(peer) = peers.get_mut(name) else { return };
            if Instant::now() < peer.next_connect {
                return;
            }
            peer.next_connect = Instant::now() + peer.backoff;
            peer.backoff = (peer.backoff * 2).min(Duration::from_secs(5));
            peer.addr
        };
        // Only the node with the greater name dials, so two nodes never race
        // to open two sessions to each other; the other waits to be dialled.
        if (self.me.as_str() > name || self.dial_all.load(Ordering::Relaxed))
            && let Err(e) = super::tls::connect(server, addr, name, self.tls.as_ref()).await
        {
            tracing::debug!(peer = %name, error = %e, "connect failed; will retry");
        }
    }
}

/// How often each peer's public keys are fetched ahead of need, so that
/// tokens it signs verify here even after it is gone or this node restarts.
const KEYS_EVERY: Duration = Duration::from_secs(60);

/// Fetches `peer`'s public keys and keeps them (on disk too).
async fn learn_keys(peer: &str, ctx: &super::ClusterCtx) {
    if let Some(Ok(Response::PublicKeys(keys))) =
        gateway::call(peer, &Request::PublicKeys, Duration::from_secs(2)).await
        && let Err(error) = ctx.keys.learn(keys, actors::identity::ports::system_now())
    {
        tracing::warn!(%peer, %error, "cannot keep a peer's public keys");
    }
}

/// Fetches a newer table from `peer` and adopts it.
async fn catch_up(table: &TableStore, peer: &str, ctx: &super::ClusterCtx) {
    if let Some(Ok(Response::Table(Some(newer)))) =
        gateway::call(peer, &Request::GetTable, Duration::from_secs(2)).await
        && newer.epoch > table.epoch()
        && let Err(error) = ctx.adopt(newer)
    {
        tracing::error!(%error, "cannot adopt a newer table");
    }
}
