//! How a product becomes a search document: the index's schema, its
//! analyzer (case folding, accent folding, English stemming) and the terms
//! filters look for.

use crate::catalog::attributes::AttrValue;
use crate::catalog::model::{TagRef, TagTree};
use crate::catalog::products::Product;
use crate::ports::Millis;
use crate::runtime::ShardId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

pub const ANALYZER: &str = "shop";
/// How much of a description a result shows.
pub const SNIPPET_CHARS: usize = 300;

/// The fields of the index.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub key: Field,
    pub shard: Field,
    pub name: Field,
    pub description: Field,
    pub tag_names: Field,
    pub attr_text: Field,
    /// The product's tags and all their ancestors (hashed, see [`tag_key`]).
    pub tags: Field,
    pub store: Field,
    pub attr_eq: Field,
    pub attr_num: Field,
    pub created: Field,
    pub summary: Field,
}

impl Fields {
    /// The full-text fields with their weights, best evidence first.
    pub fn text(&self) -> [(Field, f32); 4] {
        [
            (self.name, 3.0),
            (self.tag_names, 2.0),
            (self.attr_text, 1.5),
            (self.description, 1.0),
        ]
    }
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING),
        key: b.add_u64_field("key", FAST),
        shard: b.add_u64_field("shard", INDEXED),
        name: b.add_text_field("name", text.clone()),
        description: b.add_text_field("description", text.clone()),
        tag_names: b.add_text_field("tag_names", text.clone()),
        attr_text: b.add_text_field("attr_text", text),
        tags: b.add_u64_field("tags", INDEXED | FAST),
        store: b.add_text_field("store", STRING),
        attr_eq: b.add_text_field("attr_eq", STRING),
        attr_num: b.add_bytes_field("attr_num", INDEXED),
        created: b.add_i64_field("created", FAST),
        summary: b.add_bytes_field("summary", STORED),
    };
    (b.build(), fields)
}

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

pub fn register_analyzer(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// A product's stable 64-bit key: the same on every node and build.
pub fn key_of(product_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(product_id.as_bytes())
}

pub fn tag_key(tag_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(tag_id.as_bytes(), 7)
}

/// The term an equality filter on an attribute looks for.
pub fn eq_term(attribute: &str, value_text: &str) -> String {
    format!("{attribute}\u{1f}{value_text}")
}

/// The term a range filter on an attribute compares with: the attribute's
/// hash, then the number in an encoding whose byte order is numeric order.
pub fn num_term(attribute: &str, value: f64) -> [u8; 16] {
    let bits = value.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&tag_key(attribute).to_be_bytes());
    out[8..].copy_from_slice(&ordered.to_be_bytes());
    out
}

/// What a result shows of a product, stored in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub owner_id: String,
    pub version: u32,
    pub name: String,
    pub description: String,
    pub tags: Vec<TagRef>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A store's current base price, as search compares them.
#[derive(Debug, Clone, PartialEq)]
pub struct PricePoint {
    pub store: String,
    pub currency: String,
    pub price: Decimal,
    pub valid_from: Option<Millis>,
    pub valid_until: Option<Millis>,
}

impl PricePoint {
    pub fn valid_at(&self, now: Millis) -> bool {
        crate::ports::within(self.valid_from, self.valid_until, now)
    }
}

/// The tag and its ancestors: ids and names.
fn closure(tree: &TagTree, tag_id: &str) -> Vec<(String, Option<String>)> {
    let mut out = vec![(tag_id.to_string(), tree.tags.get(tag_id).map(|t| t.name.clone()))];
    if tree.tags.contains_key(tag_id) {
        out.extend(
            tree.ancestors(tag_id)
                .into_iter()
                .map(|t| (t.id.clone(), Some(t.name.clone()))),
        );
    }
    out
}

/// The document for a product the public can see, with its prices; `None`
/// for a deleted or invisible one (search shows neither).
pub fn document(
    fields: &Fields,
    product: &Product,
    tree: &TagTree,
    shard: ShardId,
) -> Option<(TantivyDocument, Vec<PricePoint>)> {
    if !product.readable_by(None) {
        return None;
    }
    let current = product.current();
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.id, &product.id);
    doc.add_u64(fields.key, key_of(&product.id));
    doc.add_u64(fields.shard, u64::from(shard));
    doc.add_text(fields.name, &current.name);
    doc.add_text(fields.description, &current.description);
    doc.add_i64(fields.created, product.created_at);
    let mut seen = std::collections::BTreeSet::new();
    for tag in &current.tag_ids {
        for (id, name) in closure(tree, tag) {
            if seen.insert(id.clone()) {
                doc.add_u64(fields.tags, tag_key(&id));
                if let Some(name) = name {
                    doc.add_text(fields.tag_names, &name);
                }
            }
        }
    }
    for (attribute, value) in &current.attributes {
        let text = match value {
            AttrValue::Integer(i) => i.to_string(),
            AttrValue::Decimal(d) => d.clone(),
            AttrValue::String(s) | AttrValue::Enum(s) => {
                doc.add_text(fields.attr_text, s);
                s.clone()
            }
            AttrValue::Boolean(b) => b.to_string(),
        };
        doc.add_text(fields.attr_eq, eq_term(attribute, &super::query::value_text(&text)));
        if let AttrValue::Integer(_) | AttrValue::Decimal(_) = value
            && let Ok(d) = Decimal::from_str(&text)
        {
            doc.add_bytes(fields.attr_num, &num_term(attribute, super::query::decimal_to_f64(d)));
        }
    }
    let mut prices = Vec::new();
    for (store, listing) in &product.listings {
        let Ok(price) = Decimal::from_str(&listing.price) else {
            continue;
        };
        doc.add_text(fields.store, store);
        prices.push(PricePoint {
            store: store.clone(),
            currency: listing.currency.clone(),
            price,
            valid_from: listing.valid_from,
            valid_until: listing.valid_until,
        });
    }
    let tags = current
        .tag_ids
        .iter()
        .map(|id| TagRef {
            id: id.clone(),
            name: tree.tags.get(id).map(|t| t.name.clone()).unwrap_or_default(),
        })
        .collect();
    let summary = Summary {
        id: product.id.clone(),
        owner_id: product.owner_id.clone(),
        version: current.version,
        name: current.name.clone(),
        description: current.description.chars().take(SNIPPET_CHARS).collect(),
        tags,
        created_at: product.created_at,
        updated_at: current.updated_at,
    };
    doc.add_bytes(fields.summary, &crate::runtime::encode(&summary).ok()?);
    Some((doc, prices))
}
