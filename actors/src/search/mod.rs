//! Product search. Each node indexes the products in the shards it owns
//! (tantivy, in memory, derived from storage); a search asks every owning
//! node for its best hits and merges them. Relevance uses the statistics of
//! the whole catalog, gathered first from every node, so a cluster ranks
//! exactly as a single node would.

pub mod collect;
pub mod document;
pub mod index;
pub mod indexer;
pub mod merge;
pub mod plan;
pub mod query;
pub mod stats;

pub use index::{Facet, Hit, NodeIndex, NodeResult, Shown};
pub use merge::SearchPage;
pub use query::{AttrFilter, SearchQuery, Sort};

use crate::error::{Error, Result};
use crate::ports::{Clock, Millis};
use crate::runtime::{NodeService, Router, decode, encode};
use crate::shared::money::RateSet;
use crate::storefront::Storefront;
use collect::Pricing;
use futures::future::{BoxFuture, join_all};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use stats::Stats;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The node service's name.
pub const SERVICE: &str = "search";
const DEADLINE: Duration = Duration::from_secs(5);
/// How long a copy of the exchange rates serves searches.
const RATES_FRESH: Duration = Duration::from_secs(1);
/// How long the cluster's word statistics serve searches (they move slowly:
/// one product more or less hardly changes a score).
const STATS_FRESH: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum NodeRequest {
    /// This node's share of the statistics the query's words need.
    Stats(SearchQuery),
    Search {
        query: SearchQuery,
        now: Millis,
        rates: Option<RateSet>,
        /// The whole catalog's statistics, when relevance spans nodes.
        stats: Option<Stats>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum NodeReply {
    Stats(Stats),
    Found(NodeResult),
}

/// Serves other nodes' searches of this node's index.
struct Node {
    index: Arc<NodeIndex>,
}

impl Node {
    fn answer(index: &NodeIndex, request: NodeRequest) -> Result<NodeReply> {
        match request {
            NodeRequest::Stats(query) => Ok(NodeReply::Stats(index.stats(&query)?)),
            NodeRequest::Search {
                query,
                now,
                rates,
                stats,
            } => {
                let pricing = pricing(&query, now, rates.as_ref());
                Ok(NodeReply::Found(index.search(&query, pricing, stats.as_ref())?))
            }
        }
    }
}

impl NodeService for Node {
    fn call(&self, body: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>>> {
        let index = self.index.clone();
        Box::pin(async move {
            let request: NodeRequest = decode(&body)?;
            let reply = tokio::task::spawn_blocking(move || Node::answer(&index, request))
                .await
                .map_err(|e| Error::internal(format!("search: {e}")))??;
            encode(&reply)
        })
    }
}

fn pricing(query: &SearchQuery, now: Millis, rates: Option<&RateSet>) -> Pricing {
    let amount = |text: &Option<String>| text.as_deref().and_then(|t| Decimal::from_str(t).ok());
    Pricing {
        now,
        currency: query.currency.clone(),
        rates: rates.map(RateSet::parsed).unwrap_or_default(),
        store: query.store.clone(),
        min: amount(&query.min_price),
        max: amount(&query.max_price),
    }
}

/// The current exchange rates (if any are published) and when they were read.
type FetchedRates = (Instant, Option<RateSet>);

/// The search flow the edge calls.
#[derive(Clone)]
pub struct Search {
    router: Router,
    storefront: Storefront,
    clock: Arc<dyn Clock>,
    index: Arc<NodeIndex>,
    rates: Arc<Mutex<Option<FetchedRates>>>,
    stats: Arc<stats::StatsCache>,
}

impl Search {
    /// Creates this node's (empty) index and offers it to the other nodes;
    /// [`Search::start_indexing`] fills it.
    pub fn new(
        router: Router,
        storefront: Storefront,
        clock: Arc<dyn Clock>,
        index_bytes: prometheus_client::metrics::gauge::Gauge,
    ) -> Result<Self> {
        let index = Arc::new(NodeIndex::reporting(index_bytes)?);
        router.register_service(SERVICE, Arc::new(Node { index: index.clone() }));
        Ok(Self {
            router,
            storefront,
            clock,
            index,
            rates: Default::default(),
            stats: Default::default(),
        })
    }

    /// Indexes the products of the shards this node owns, and keeps doing
    /// so as they change and as shards come and go. Call once the node knows
    /// which shards it owns (after joining its cluster).
    pub fn start_indexing(&self) -> indexer::Indexer {
        indexer::spawn(self.router.clone(), self.index.clone())
    }

    async fn current_rates(&self) -> Option<RateSet> {
        if let Ok(cache) = self.rates.lock()
            && let Some((at, rates)) = cache.as_ref()
            && at.elapsed() < RATES_FRESH
        {
            return rates.clone();
        }
        let rates = self.storefront.current_rates().await.ok();
        if let Ok(mut cache) = self.rates.lock() {
            *cache = Some((Instant::now(), rates.clone()));
        }
        rates
    }

    /// The replies of the nodes that answered, and how many did not. Fails
    /// only if none answered.
    async fn ask_all(&self, nodes: &[crate::runtime::Owner], request: &NodeRequest) -> Result<(Vec<NodeReply>, usize)> {
        let body = encode(request)?;
        let calls = nodes.iter().map(|node| {
            let body = body.clone();
            async move {
                let reply = self.router.call_node(node, SERVICE, body, DEADLINE).await?;
                decode::<NodeReply>(&reply)
            }
        });
        let mut replies = Vec::with_capacity(nodes.len());
        let mut missing = 0;
        for (node, outcome) in nodes.iter().zip(join_all(calls).await) {
            match outcome {
                Ok(reply) => replies.push(reply),
                Err(error @ Error::Unavailable { .. }) => {
                    tracing::warn!(?node, %error, "search: a node did not answer; its products are left out");
                    missing += 1;
                }
                Err(other) => return Err(other),
            }
        }
        if replies.is_empty() {
            return Err(query::unavailable(
                "no node holding the catalog answered; try again shortly",
            ));
        }
        Ok((replies, missing))
    }

    /// Searches every node's products. When a node cannot answer (it
    /// crashed), the others' results come back marked `incomplete`.
    pub async fn search(&self, query: SearchQuery) -> Result<SearchPage> {
        let nodes = self.router.nodes();
        // Every hit shows its price in the requested currency.
        let rates = self.current_rates().await;
        let stats = if query.sort == Sort::Relevance && nodes.len() > 1 {
            let terms = self.index.scored_terms(&query);
            match self.stats.get(&terms, STATS_FRESH) {
                Some(known) => Some(known),
                None => {
                    let mut total = Stats::default();
                    let (replies, missing) = self.ask_all(&nodes, &NodeRequest::Stats(query.clone())).await?;
                    for reply in replies {
                        if let NodeReply::Stats(s) = reply {
                            total.add(&s);
                        }
                    }
                    if missing == 0 {
                        self.stats.put(&total, STATS_FRESH);
                    }
                    Some(total)
                }
            }
        } else {
            None
        };
        let limit = query.limit;
        let request = NodeRequest::Search {
            query,
            now: self.clock.now(),
            rates,
            stats,
        };
        let (replies, missing) = self.ask_all(&nodes, &request).await?;
        let results = replies
            .into_iter()
            .filter_map(|r| match r {
                NodeReply::Found(found) => Some(found),
                NodeReply::Stats(_) => None,
            })
            .collect();
        let mut page = merge::merge(results, limit);
        page.incomplete = missing > 0;
        Ok(page)
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
