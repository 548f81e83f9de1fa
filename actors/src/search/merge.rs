//! The edge's half of a distributed search: the best hits of every node,
//! their totals and tag counts, as one page. Pure.

use super::index::{Facet, Hit, NodeResult};
use std::collections::{BTreeMap, HashSet};

/// Tags reported per page, most frequent first.
pub const FACETS_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub items: Vec<Hit>,
    pub total: u64,
    pub next_cursor: Option<String>,
    pub facets: Vec<Facet>,
    /// Some node did not answer: its products are missing.
    pub incomplete: bool,
}

pub fn merge(results: Vec<NodeResult>, limit: usize) -> SearchPage {
    let mut hits: Vec<Hit> = Vec::new();
    let (mut total, mut remaining) = (0, 0);
    let mut facets: BTreeMap<String, Facet> = BTreeMap::new();
    for result in results {
        total += result.total;
        remaining += result.remaining;
        hits.extend(result.hits);
        for f in result.facets {
            facets
                .entry(f.tag.id.clone())
                .and_modify(|known| known.count += f.count)
                .or_insert(f);
        }
    }
    hits.sort_by_key(|h| h.position);
    // While a shard moves, its old and new owners may both answer for it.
    let mut seen = HashSet::new();
    hits.retain(|h| seen.insert(h.position.key));
    let more = remaining > limit as u64 && hits.len() >= limit;
    hits.truncate(limit);
    let next_cursor = more.then(|| hits.last().map(|h| h.position.encode())).flatten();
    let mut facets: Vec<Facet> = facets.into_values().collect();
    facets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.tag.name.cmp(&b.tag.name)));
    facets.truncate(FACETS_MAX);
    SearchPage {
        items: hits,
        total,
        next_cursor,
        facets,
        incomplete: false,
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
