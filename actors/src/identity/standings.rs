//! Accounts' standings as this node's edge last read them (see
//! `model/standing.rs`), and their invalidation across the cluster: when an
//! account changes (disabled, roles or quotas replaced, signed out,
//! password changed) or a role's permissions change, every node forgets
//! what it cached before the change is acknowledged. A node that does not
//! answer in time still drops its copy within [`STANDING_FRESH`].

use super::model::standing::{STANDING_FRESH, Standing};
use crate::error::Result;
use crate::runtime::{NodeService, Owner, Router, decode, encode};
use futures::future::{BoxFuture, join_all};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The node service every node offers: forget a standing.
const SERVICE: &str = "identity.forget-standing";

/// How long a change waits for the other nodes to forget.
const FORGET_DEADLINE: Duration = Duration::from_millis(1000);

/// At most this many standings are cached; beyond, the cache starts over.
const STANDINGS_MAX: usize = 100_000;

/// A standing and when it was read.
type Cached = (Instant, Arc<Standing>);

/// This node's cached standings, by user id. Cheap to clone.
#[derive(Clone, Default)]
pub(super) struct Standings {
    by_user: Arc<Mutex<HashMap<String, Cached>>>,
}

impl Standings {
    /// Creates the cache and offers its invalidation to the other nodes.
    pub(super) fn offered(router: &Router) -> Self {
        let standings = Self::default();
        router.register_service(SERVICE, Arc::new(standings.clone()));
        standings
    }

    /// The standing of `user_id` if read less than [`STANDING_FRESH`] ago.
    pub(super) fn fresh(&self, user_id: &str) -> Option<Arc<Standing>> {
        let cache = self.by_user.lock().ok()?;
        let (at, standing) = cache.get(user_id)?;
        (at.elapsed() < STANDING_FRESH).then(|| standing.clone())
    }

    pub(super) fn put(&self, user_id: &str, standing: Arc<Standing>) {
        if let Ok(mut cache) = self.by_user.lock() {
            if cache.len() >= STANDINGS_MAX {
                cache.clear();
            }
            cache.insert(user_id.to_string(), (Instant::now(), standing));
        }
    }

    /// Forgets the standing of `user_id` (`None`: every one) on this node.
    fn forget_here(&self, user_id: Option<&str>) {
        if let Ok(mut cache) = self.by_user.lock() {
            match user_id {
                Some(id) => {
                    cache.remove(id);
                }
                None => cache.clear(),
            }
        }
    }

    /// Forgets the standing of `user_id` (`None`: every one) on this node
    /// and on every other node, waiting at most [`FORGET_DEADLINE`].
    pub(super) async fn forget(&self, router: &Router, user_id: Option<&str>) {
        self.forget_here(user_id);
        let Ok(body) = encode(&user_id.map(str::to_string)) else {
            return;
        };
        let others: Vec<Owner> = router
            .nodes()
            .into_iter()
            .filter(|node| *node != Owner::Local)
            .collect();
        let calls = others
            .iter()
            .map(|node| router.call_node(node, SERVICE, body.clone(), FORGET_DEADLINE));
        for (node, outcome) in others.iter().zip(join_all(calls).await) {
            if let Err(e) = outcome {
                tracing::debug!(?node, error = %e, "a node did not confirm forgetting a standing; it ages out");
            }
        }
    }
}

impl NodeService for Standings {
    fn call(&self, body: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>>> {
        let standings = self.clone();
        Box::pin(async move {
            let user_id: Option<String> = decode(&body)?;
            standings.forget_here(user_id.as_deref());
            Ok(Vec::new())
        })
    }
}
