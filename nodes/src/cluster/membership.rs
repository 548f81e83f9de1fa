//! Failure detection, which is ours: ractor_cluster neither heartbeats nor
//! reconnects, and a frozen peer's session stays "ready".
//!
//! Every `heartbeat` this node pings each peer's gateway. A peer that has not
//! answered for `suspect_after` is *suspect*: requests for its shards answer
//! 503 at once instead of waiting. A peer without a session is *down*; the
//! node reconnects to it with exponential backoff (up to 5 s). Every
//! transition is logged.

use super::gateway;
use super::wire::{Request, Response};
use ractor::ActorRef;
use ractor_cluster::NodeServerMessage;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
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
    next_connect: Instant,
    backoff: Duration,
}

pub struct Membership {
    me: String,
    peers: Mutex<BTreeMap<String, Peer>>,
    heartbeat: Duration,
    suspect_after: Duration,
}

impl Membership {
    pub fn new(me: &str, peers: &[(String, SocketAddr)], heartbeat: Duration, suspect_after: Duration) -> Self {
        let now = Instant::now();
        let peers = peers
            .iter()
            .filter(|(name, _)| name != me)
            .map(|(name, addr)| {
                let peer = Peer {
                    addr: *addr,
                    status: PeerStatus::Down,
                    last_ok: None,
                    epoch: 0,
                    next_connect: now,
                    backoff: Duration::from_millis(100),
                };
                (name.clone(), peer)
            })
            .collect();
        Self {
            me: me.to_string(),
            peers: Mutex::new(peers),
            heartbeat,
            suspect_after,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Peer>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> BTreeMap<String, Peer> {
        self.lock().clone()
    }

    /// Whether requests should be sent to `node` now.
    pub fn is_reachable(&self, node: &str) -> bool {
        self.lock().get(node).is_some_and(|p| p.status == PeerStatus::Up)
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

    /// Runs forever: heartbeats, suspicion and reconnection.
    pub async fn run(self: std::sync::Arc<Self>, server: ActorRef<NodeServerMessage>) {
        let mut tick = tokio::time::interval(self.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let names: Vec<String> = self.lock().keys().cloned().collect();
            for name in names {
                if gateway::find(&name).is_some() {
                    let this = self.clone();
                    tokio::spawn(async move { this.ping(&name).await });
                } else {
                    self.reconnect(&server, &name).await;
                }
            }
        }
    }

    async fn ping(&self, name: &str) {
        let request = Request::Ping { from: self.me.clone() };
        match gateway::call(name, &request, self.heartbeat).await {
            Some(Ok(Response::Pong { epoch })) => {
                if let Some(peer) = self.lock().get_mut(name) {
                    peer.last_ok = Some(Instant::now());
                    peer.epoch = epoch;
                    peer.backoff = Duration::from_millis(100);
                }
                self.set_status(name, PeerStatus::Up, "answered a heartbeat");
            }
            _ => {
                let silent_for = self.lock().get(name).and_then(|p| p.last_ok).map(|t| t.elapsed());
                if silent_for.is_none_or(|d| d >= self.suspect_after) {
                    self.set_status(name, PeerStatus::Suspect, "no heartbeat answer");
                }
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
        if self.me.as_str() > name
            && let Err(e) = ractor_cluster::client_connect(server, addr).await
        {
            tracing::debug!(peer = %name, %addr, error = %e, "connect failed; will retry");
        }
    }
}
