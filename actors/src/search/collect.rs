//! One pass over the matching documents: price filters, counts per tag,
//! the total, and the best `limit` hits after the cursor in the requested
//! order.

use super::document::PricePoint;
use super::query::{Position, Sort, score_rank};
use crate::ports::Millis;
use crate::runtime::ShardId;
use crate::shared::money;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::{Arc, RwLock};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// Each indexed product's shard and prices, by product key.
pub type Prices = HashMap<u64, (ShardId, Vec<PricePoint>)>;
pub type PriceTable = Arc<RwLock<Prices>>;

/// How prices are compared in one search.
#[derive(Debug, Clone)]
pub struct Pricing {
    pub now: Millis,
    pub currency: String,
    /// Units per one base currency; empty when no rates are published.
    pub rates: BTreeMap<String, Decimal>,
    pub store: Option<String>,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
}

/// The lowest current price among `points` in the shown currency, and the
/// store asking it.
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    pub amount: Decimal,
    pub store: String,
}

impl Pricing {
    fn convert(&self, p: &PricePoint) -> Option<Decimal> {
        if p.currency == self.currency {
            return Some(money::round(p.price, &self.currency));
        }
        let (from, to) = (self.rates.get(&p.currency)?, self.rates.get(&self.currency)?);
        money::cross(p.price, *from, *to, &self.currency)
    }

    /// The lowest current price and the point asking it.
    fn lowest<'a>(&self, points: &'a [PricePoint]) -> Option<(Decimal, &'a PricePoint)> {
        points
            .iter()
            .filter(|p| p.valid_at(self.now) && self.store.as_ref().is_none_or(|s| *s == p.store))
            .filter_map(|p| Some((self.convert(p)?, p)))
            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.store.cmp(&b.1.store)))
    }

    pub fn best(&self, points: &[PricePoint]) -> Option<Best> {
        self.lowest(points).map(|(amount, p)| Best {
            amount,
            store: p.store.clone(),
        })
    }

    /// Whether a product with this lowest price passes the price filters.
    pub fn admits(&self, lowest: Option<Decimal>) -> bool {
        if self.store.is_none() && self.min.is_none() && self.max.is_none() {
            return true;
        }
        lowest.is_some_and(|a| self.min.is_none_or(|m| a >= m) && self.max.is_none_or(|m| a <= m))
    }
}

pub struct TopCollector {
    pub sort: Sort,
    pub limit: usize,
    pub after: Option<Position>,
    pub pricing: Arc<Pricing>,
    pub prices: PriceTable,
    /// Whether each document's price must be worked out (filters, sorts).
    pub priced: bool,
}

#[derive(Debug, Default)]
pub struct Harvest {
    /// Best first.
    pub top: Vec<(Position, DocAddress)>,
    pub total: u64,
    /// Matches after the cursor.
    pub remaining: u64,
    /// Tag key → matching documents.
    pub facets: HashMap<u64, u64>,
}

pub struct TopSegment {
    segment: SegmentOrdinal,
    sort: Sort,
    limit: usize,
    after: Option<Position>,
    pricing: Arc<Pricing>,
    prices: PriceTable,
    priced: bool,
    key: Column<u64>,
    created: Column<i64>,
    tags: Column<u64>,
    heap: BinaryHeap<(Position, DocId)>,
    total: u64,
    remaining: u64,
    facets: HashMap<u64, u64>,
}

impl Collector for TopCollector {
    type Fruit = Harvest;
    type Child = TopSegment;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<TopSegment> {
        let fast = reader.fast_fields();
        Ok(TopSegment {
            segment,
            sort: self.sort,
            limit: self.limit,
            after: self.after,
            pricing: self.pricing.clone(),
            prices: self.prices.clone(),
            priced: self.priced,
            key: fast.u64("key")?,
            created: fast.i64("created")?,
            tags: fast.u64("tags")?,
            heap: BinaryHeap::new(),
            total: 0,
            remaining: 0,
            facets: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == Sort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Harvest>) -> tantivy::Result<Harvest> {
        let mut out = Harvest::default();
        for fruit in fruits {
            out.total += fruit.total;
            out.remaining += fruit.remaining;
            for (tag, n) in fruit.facets {
                *out.facets.entry(tag).or_default() += n;
            }
            out.top.extend(fruit.top);
        }
        out.top.sort();
        out.top.truncate(self.limit);
        Ok(out)
    }
}

impl TopSegment {
    fn lowest_price(&self, key: u64) -> Option<Decimal> {
        let table = self.prices.read().ok()?;
        let (_, points) = table.get(&key)?;
        self.pricing.lowest(points).map(|(amount, _)| amount)
    }
}

impl SegmentCollector for TopSegment {
    type Fruit = Harvest;

    fn collect(&mut self, doc: DocId, score: Score) {
        let key = self.key.first(doc).unwrap_or(0);
        let lowest = if self.priced { self.lowest_price(key) } else { None };
        if !self.pricing.admits(lowest) {
            return;
        }
        self.total += 1;
        for tag in self.tags.values_for_doc(doc) {
            *self.facets.entry(tag).or_default() += 1;
        }
        let minor = |a: Decimal| money::minor_units(a, &self.pricing.currency);
        let rank = match self.sort {
            Sort::Relevance => score_rank(score),
            Sort::Newest => -i128::from(self.created.first(doc).unwrap_or(0)),
            // Products without a price come last either way.
            Sort::PriceAsc => lowest.map_or(i128::MAX, minor),
            Sort::PriceDesc => lowest.map_or(i128::MAX, |a| -minor(a)),
        };
        let position = Position { rank, key };
        if self.after.is_some_and(|a| position <= a) {
            return;
        }
        self.remaining += 1;
        if self.heap.len() == self.limit && self.heap.peek().is_some_and(|(worst, _)| position >= *worst) {
            return;
        }
        self.heap.push((position, doc));
        if self.heap.len() > self.limit {
            self.heap.pop();
        }
    }

    fn harvest(self) -> Harvest {
        let segment = self.segment;
        let mut top: Vec<(Position, DocAddress)> = self
            .heap
            .into_iter()
            .map(|(p, doc)| (p, DocAddress::new(segment, doc)))
            .collect();
        top.sort();
        Harvest {
            top,
            total: self.total,
            remaining: self.remaining,
            facets: self.facets,
        }
    }
}
