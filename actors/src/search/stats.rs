//! Corpus statistics for BM25, counted over live documents only, so that
//! scores depend on which products exist, not on how the index happens to be
//! split into segments or nodes. Summed over every node, they make a
//! cluster rank exactly as one node holding everything would.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED, Term};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub docs: u64,
    /// Field id → tokens in that field over all documents.
    pub tokens: BTreeMap<u32, u64>,
    /// (field id, term bytes) → documents holding the term.
    pub doc_freq: BTreeMap<(u32, Vec<u8>), u64>,
}

fn term_key(term: &Term) -> (u32, Vec<u8>) {
    (term.field().field_id(), term.serialized_value_bytes().to_vec())
}

impl Stats {
    pub fn add(&mut self, other: &Stats) {
        self.docs += other.docs;
        for (f, n) in &other.tokens {
            *self.tokens.entry(*f).or_default() += n;
        }
        for (k, n) in &other.doc_freq {
            *self.doc_freq.entry(k.clone()).or_default() += n;
        }
    }
}

impl Bm25StatisticsProvider for Stats {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        Ok(self.tokens.get(&field.field_id()).copied().unwrap_or(0))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(self.doc_freq.get(&term_key(term)).copied().unwrap_or(0))
    }
}

/// Tokens per field over the searcher's live documents (from the stored
/// per-document field lengths).
pub fn tokens(searcher: &Searcher, fields: &[Field]) -> tantivy::Result<BTreeMap<u32, u64>> {
    let mut out = BTreeMap::new();
    for segment in searcher.segment_readers() {
        for &field in fields {
            let norms = segment.get_fieldnorms_reader(field)?;
            let total: u64 = segment.doc_ids_alive().map(|doc| u64::from(norms.fieldnorm(doc))).sum();
            *out.entry(field.field_id()).or_default() += total;
        }
    }
    Ok(out)
}

/// The searcher's statistics for `terms`, with `tokens` already counted.
pub fn local(searcher: &Searcher, terms: &[Term], tokens: BTreeMap<u32, u64>) -> tantivy::Result<Stats> {
    let mut doc_freq = BTreeMap::new();
    for term in terms {
        let mut count = 0u64;
        for segment in searcher.segment_readers() {
            let index = segment.inverted_index(term.field())?;
            match segment.alive_bitset() {
                None => count += u64::from(index.doc_freq(term)?),
                Some(alive) => {
                    if let Some(mut postings) = index.read_postings(term, IndexRecordOption::Basic)? {
                        let mut doc = postings.doc();
                        while doc != TERMINATED {
                            if alive.is_alive(doc) {
                                count += 1;
                            }
                            doc = postings.advance();
                        }
                    }
                }
            }
        }
        doc_freq.insert(term_key(term), count);
    }
    Ok(Stats {
        docs: searcher.num_docs(),
        tokens,
        doc_freq,
    })
}

/// The cluster's statistics as last gathered, reused while fresh so that
/// repeated words do not cost every node a round trip per search.
#[derive(Default)]
pub struct StatsCache {
    inner: Mutex<Option<(Instant, Stats)>>,
}

/// Terms kept at most, before the cache starts over.
const CACHED_TERMS: usize = 100_000;

impl StatsCache {
    /// The statistics of `terms`, if every one is known and fresh.
    pub fn get(&self, terms: &[Term], fresh: Duration) -> Option<Stats> {
        let guard = self.inner.lock().ok()?;
        let (at, stats) = guard.as_ref()?;
        if at.elapsed() >= fresh {
            return None;
        }
        let mut doc_freq = BTreeMap::new();
        for term in terms {
            let key = term_key(term);
            let n = *stats.doc_freq.get(&key)?;
            doc_freq.insert(key, n);
        }
        Some(Stats {
            docs: stats.docs,
            tokens: stats.tokens.clone(),
            doc_freq,
        })
    }

    /// Remembers freshly gathered statistics.
    pub fn put(&self, gathered: &Stats, fresh: Duration) {
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        match guard.as_mut() {
            Some((at, known))
                if at.elapsed() < fresh
                    && known.docs == gathered.docs
                    && known.tokens == gathered.tokens
                    && known.doc_freq.len() < CACHED_TERMS =>
            {
                known
                    .doc_freq
                    .extend(gathered.doc_freq.iter().map(|(k, n)| (k.clone(), *n)));
            }
            _ => *guard = Some((Instant::now(), gathered.clone())),
        }
    }
}
