//! One node's search index over the products it owns: in memory (it is
//! derived data, rebuilt from storage), written by the indexer, searched by
//! the node service.

use super::collect::{PriceTable, Prices, Pricing, TopCollector};
use super::document::{self, Fields, Summary, key_of, register_analyzer};
use super::plan;
use super::query::{Position, SearchQuery, Sort};
use super::stats::{self, Stats};
use crate::catalog::model::{TagRef, TagTree};
use crate::catalog::products::Product;
use crate::error::{Error, Result};
use crate::runtime::ShardId;
use crate::shared::money;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The writer's memory before it flushes a segment.
const WRITER_BYTES: usize = 32 * 1024 * 1024;

fn failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("search index: {e}"))
}

/// A price as a result shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    pub amount: String,
    pub currency: String,
    pub store_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub position: Position,
    pub product: Summary,
    pub price: Option<Shown>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    pub tag: TagRef,
    pub count: u64,
}

/// What one node found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeResult {
    /// Best first, at most the request's limit.
    pub hits: Vec<Hit>,
    pub total: u64,
    /// Matches after the request's cursor.
    pub remaining: u64,
    pub facets: Vec<Facet>,
}

pub struct NodeIndex {
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    prices: PriceTable,
    tag_names: RwLock<HashMap<u64, TagRef>>,
    /// Token totals of the live documents, per reader generation.
    tokens: Mutex<Option<(u64, BTreeMap<u32, u64>)>>,
    /// The index's size in bytes, after each commit.
    bytes: prometheus_client::metrics::gauge::Gauge,
}

impl NodeIndex {
    pub fn new() -> Result<Self> {
        Self::reporting(Default::default())
    }

    /// An empty index that reports its size to `bytes` after each commit.
    pub fn reporting(bytes: prometheus_client::metrics::gauge::Gauge) -> Result<Self> {
        let (schema, fields) = document::schema();
        let index = Index::create_in_ram(schema);
        register_analyzer(&index);
        let writer = index.writer_with_num_threads(1, WRITER_BYTES).map_err(failed)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(failed)?;
        Ok(Self {
            fields,
            reader,
            writer: Mutex::new(writer),
            prices: Default::default(),
            tag_names: Default::default(),
            tokens: Mutex::new(None),
            bytes,
        })
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        self.writer.lock().map_err(|_| failed("writer poisoned"))
    }

    fn prices_mut(&self) -> Result<std::sync::RwLockWriteGuard<'_, Prices>> {
        self.prices.write().map_err(|_| failed("prices poisoned"))
    }

    /// Indexes the product's current state (or drops it if the public can
    /// no longer see it). Searchable after the next [`NodeIndex::commit`].
    pub fn upsert(&self, product: &Product, tree: &TagTree, shard: ShardId) -> Result<()> {
        let writer = self.writer()?;
        writer.delete_term(Term::from_field_text(self.fields.id, &product.id));
        let key = key_of(&product.id);
        match document::document(&self.fields, product, tree, shard) {
            Some((doc, prices)) => {
                writer.add_document(doc).map_err(failed)?;
                self.prices_mut()?.insert(key, (shard, prices));
            }
            None => {
                self.prices_mut()?.remove(&key);
            }
        }
        Ok(())
    }

    pub fn remove(&self, product_id: &str) -> Result<()> {
        self.writer()?
            .delete_term(Term::from_field_text(self.fields.id, product_id));
        self.prices_mut()?.remove(&key_of(product_id));
        Ok(())
    }

    /// Forgets every product of a shard (it moved to another node).
    pub fn remove_shard(&self, shard: ShardId) -> Result<()> {
        self.writer()?
            .delete_term(Term::from_field_u64(self.fields.shard, u64::from(shard)));
        self.prices_mut()?.retain(|_, (s, _)| *s != shard);
        Ok(())
    }

    /// The names facets are reported with.
    pub fn set_tags(&self, tree: &TagTree) {
        let names = tree
            .tags
            .values()
            .map(|t| {
                let tag = TagRef {
                    id: t.id.clone(),
                    name: t.name.clone(),
                };
                (document::tag_key(&t.id), tag)
            })
            .collect();
        if let Ok(mut map) = self.tag_names.write() {
            *map = names;
        }
    }

    /// Makes every change so far searchable.
    pub fn commit(&self) -> Result<()> {
        self.writer()?.commit().map_err(failed)?;
        self.reader.reload().map_err(failed)?;
        if let Ok(usage) = self.reader.searcher().space_usage() {
            self.bytes
                .set(i64::try_from(usage.total().get_bytes()).unwrap_or(i64::MAX));
        }
        Ok(())
    }

    /// Products searchable now.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The terms a request's words are scored by.
    pub fn scored_terms(&self, query: &SearchQuery) -> Vec<Term> {
        plan::scored_terms(&self.fields, query)
    }

    /// This node's share of the corpus statistics the request's words need.
    pub fn stats(&self, query: &SearchQuery) -> Result<Stats> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let text: Vec<_> = self.fields.text().iter().map(|(f, _)| *f).collect();
        let mut cache = self.tokens.lock().map_err(|_| failed("stats poisoned"))?;
        let tokens = match cache.as_ref() {
            Some((g, tokens)) if *g == generation => tokens.clone(),
            _ => {
                let tokens = stats::tokens(&searcher, &text).map_err(failed)?;
                *cache = Some((generation, tokens.clone()));
                tokens
            }
        };
        drop(cache);
        stats::local(&searcher, &plan::scored_terms(&self.fields, query), tokens).map_err(failed)
    }

    /// Runs the request here. `stats` are the whole cluster's (a single
    /// node uses its own).
    pub fn search(&self, query: &SearchQuery, pricing: Pricing, stats: Option<&Stats>) -> Result<NodeResult> {
        let searcher = self.reader.searcher();
        let tantivy_query = plan::build(&self.fields, query);
        let pricing = std::sync::Arc::new(pricing);
        let collector = TopCollector {
            sort: query.sort,
            limit: query.limit,
            after: query.after,
            pricing: pricing.clone(),
            prices: self.prices.clone(),
            priced: query.needs_price(),
        };
        let harvest = if query.sort == Sort::Relevance {
            let owned;
            let stats = match stats {
                Some(s) => s,
                None => {
                    owned = self.stats(query)?;
                    &owned
                }
            };
            if stats.docs == 0 {
                return Ok(NodeResult::default());
            }
            searcher.search_with_statistics_provider(&*tantivy_query, &collector, stats)
        } else {
            searcher.search(&*tantivy_query, &collector)
        }
        .map_err(failed)?;
        let mut hits = Vec::with_capacity(harvest.top.len());
        for (position, address) in harvest.top {
            let doc: TantivyDocument = searcher.doc(address).map_err(failed)?;
            let bytes = doc
                .get_first(self.fields.summary)
                .and_then(|v| v.as_bytes())
                .ok_or_else(|| failed("a document without its summary"))?;
            let product: Summary = crate::runtime::decode(bytes)?;
            let best = self
                .prices
                .read()
                .ok()
                .and_then(|t| t.get(&position.key).and_then(|(_, points)| pricing.best(points)));
            let price = best.map(|b| Shown {
                amount: money::format(b.amount, &pricing.currency),
                currency: pricing.currency.clone(),
                store_id: b.store,
            });
            hits.push(Hit {
                position,
                product,
                price,
            });
        }
        let names = self.tag_names.read().map_err(|_| failed("tags poisoned"))?;
        let facets = harvest
            .facets
            .into_iter()
            .filter_map(|(key, count)| {
                Some(Facet {
                    tag: names.get(&key)?.clone(),
                    count,
                })
            })
            .collect();
        Ok(NodeResult {
            hits,
            total: harvest.total,
            remaining: harvest.remaining,
            facets,
        })
    }
}
