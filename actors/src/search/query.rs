//! What a shopper asks of search, checked; and positions in a result list.
//! Pure.

use crate::error::{Error, FieldErrors, Result};
use crate::shared::money;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

pub const LIMIT_DEFAULT: usize = 20;
pub const LIMIT_MAX: usize = 100;
pub const TEXT_MAX: usize = 500;
pub const ATTR_FILTERS_MAX: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
}

impl Sort {
    fn parse(raw: &str) -> std::result::Result<Self, String> {
        match raw {
            "relevance" => Ok(Self::Relevance),
            "newest" => Ok(Self::Newest),
            "price_asc" => Ok(Self::PriceAsc),
            "price_desc" => Ok(Self::PriceDesc),
            _ => Err("must be relevance, newest, price_asc or price_desc".into()),
        }
    }
}

/// A condition on one attribute's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrFilter {
    /// The value, as [`value_text`] writes it.
    Equals { attribute: String, value: String },
    /// A numeric value within the bounds (inclusive).
    Range {
        attribute: String,
        min: Option<f64>,
        max: Option<f64>,
    },
}

/// How an attribute value is matched: numbers by their normalised decimal
/// text (so `5`, `5.0` and `5.00` agree), everything else case-folded.
pub fn value_text(raw: &str) -> String {
    match money::decimal(raw) {
        Ok(d) => d.normalize().to_string(),
        Err(_) => raw.trim().to_lowercase(),
    }
}

/// A checked search request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub text: String,
    /// Products with this tag or one of its descendants.
    pub tag: Option<String>,
    pub attributes: Vec<AttrFilter>,
    /// Products this store offers now.
    pub store: Option<String>,
    /// Decimal strings, checked.
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    /// The currency prices are shown, filtered and sorted in.
    pub currency: String,
    pub sort: Sort,
    pub limit: usize,
    /// Results strictly after this position (from a cursor).
    pub after: Option<Position>,
}

impl SearchQuery {
    /// Whether each hit's price must be known to answer (filters, sorts).
    pub fn needs_price(&self) -> bool {
        self.store.is_some()
            || self.min_price.is_some()
            || self.max_price.is_some()
            || matches!(self.sort, Sort::PriceAsc | Sort::PriceDesc)
    }

    /// Parses query-string pairs. Unknown parameters are errors, so a typo
    /// does not silently widen a search.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let mut query = SearchQuery {
            text: String::new(),
            tag: None,
            attributes: Vec::new(),
            store: None,
            min_price: None,
            max_price: None,
            currency: "USD".into(),
            sort: Sort::Relevance,
            limit: LIMIT_DEFAULT,
            after: None,
        };
        let mut sort = None;
        for (name, value) in pairs {
            let value = value.trim();
            match name.as_str() {
                "q" if value.chars().count() > TEXT_MAX => errors.add("q", format!("at most {TEXT_MAX} characters")),
                "q" => query.text = value.to_string(),
                "tag" if !value.is_empty() => query.tag = Some(value.to_string()),
                "store" if !value.is_empty() => query.store = Some(value.to_string()),
                "tag" | "store" => errors.add(name.clone(), "must not be empty"),
                "min_price" => query.min_price = errors.check(name, price(value)),
                "max_price" => query.max_price = errors.check(name, price(value)),
                "currency" => {
                    if let Some(c) = errors.check(name, money::currency(value)) {
                        query.currency = c;
                    }
                }
                "sort" => sort = errors.check(name, Sort::parse(value)),
                "limit" => match value.parse::<usize>() {
                    Ok(n) if (1..=LIMIT_MAX).contains(&n) => query.limit = n,
                    _ => errors.add(name.clone(), format!("must be a whole number from 1 to {LIMIT_MAX}")),
                },
                "cursor" => match Position::decode(value) {
                    Some(p) => query.after = Some(p),
                    None => errors.add(name.clone(), "is not a cursor this server issued"),
                },
                _ => match name.strip_prefix("attr.") {
                    Some(attribute) if !attribute.is_empty() => {
                        if let Some(f) = errors.check(name, attr_filter(attribute, value)) {
                            query.attributes.push(f);
                        }
                    }
                    _ => errors.add(name.clone(), "is not a search parameter"),
                },
            }
        }
        if query.attributes.len() > ATTR_FILTERS_MAX {
            errors.add("attr", format!("at most {ATTR_FILTERS_MAX} attribute filters"));
        }
        if let (Some(min), Some(max)) = (query.min_price.as_deref(), query.max_price.as_deref())
            && Decimal::from_str(min).ok() > Decimal::from_str(max).ok()
        {
            errors.add("min_price", "must not be above max_price");
        }
        errors.into_result()?;
        // Without words there is nothing to rank by: newest first.
        query.sort = match sort {
            Some(s) => s,
            None if query.text.is_empty() => Sort::Newest,
            None => Sort::Relevance,
        };
        Ok(query)
    }
}

fn price(raw: &str) -> std::result::Result<String, String> {
    let value = money::decimal(raw)?;
    if value < Decimal::ZERO {
        return Err("must not be negative".into());
    }
    Ok(value.normalize().to_string())
}

fn attr_filter(attribute: &str, raw: &str) -> std::result::Result<AttrFilter, String> {
    if raw.is_empty() {
        return Err("must not be empty".into());
    }
    let Some((low, high)) = raw.split_once("..") else {
        return Ok(AttrFilter::Equals {
            attribute: attribute.to_string(),
            value: value_text(raw),
        });
    };
    let bound = |text: &str| -> std::result::Result<Option<f64>, String> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let d = money::decimal(text).map_err(|_| "a range is min..max of numbers, either may be left out")?;
        Ok(Some(decimal_to_f64(d)))
    };
    let (min, max) = (bound(low)?, bound(high)?);
    match (min, max) {
        (None, None) => Err("a range needs at least one bound".into()),
        (Some(a), Some(b)) if a > b => Err("the range's minimum is above its maximum".into()),
        _ => Ok(AttrFilter::Range {
            attribute: attribute.to_string(),
            min,
            max,
        }),
    }
}

pub fn decimal_to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

/// A place in a sorted result list: lower `rank` first, ties by `key` (a
/// stable hash of the product id, the same on every node).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    pub rank: i128,
    pub key: u64,
}

impl Position {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.rank, self.key))
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (rank, key) = text.split_once(':')?;
        Some(Self {
            rank: rank.parse().ok()?,
            key: key.parse().ok()?,
        })
    }
}

/// Scores become ranks on a fixed grid, so float noise cannot reorder equal
/// matches between nodes; better scores rank lower (first).
pub fn score_rank(score: f32) -> i128 {
    -((f64::from(score) * 10_000.0).round() as i128)
}

/// The error for a search that cannot run right now.
pub fn unavailable(reason: impl Into<String>) -> Error {
    Error::unavailable("search_unavailable", reason, 1)
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
