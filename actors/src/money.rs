//! Money: exact decimal amounts in ISO 4217 currencies, exchange-rate sets,
//! and conversion that rounds once, half-even, to the target currency's
//! minor unit — never by rounding parts separately.

use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

/// Supported currencies and their minor units (decimals).
pub const CURRENCIES: &[(&str, u32)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("JPY", 0),
    ("TWD", 2),
    ("INR", 2),
    ("IDR", 2),
    ("THB", 2),
    ("CHF", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("CNY", 2),
    ("KRW", 0),
    ("SGD", 2),
    ("HKD", 2),
];

pub fn minor_unit(code: &str) -> Option<u32> {
    CURRENCIES.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

pub fn currency(raw: &str) -> std::result::Result<String, String> {
    let code = raw.trim().to_uppercase();
    if minor_unit(&code).is_some() {
        Ok(code)
    } else {
        Err(format!(
            "must be one of {}",
            CURRENCIES.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
        ))
    }
}

/// A decimal string, e.g. `"19.99"`: exact, no floats, no exponent.
pub fn decimal(raw: &str) -> std::result::Result<Decimal, String> {
    let text = raw.trim();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') {
        return Err("must be a decimal string such as \"19.99\"".into());
    }
    Decimal::from_str(text).map_err(|_| "must be a decimal string such as \"19.99\"".into())
}

/// Rounds once, half-even, to `currency`'s minor unit.
pub fn round(amount: Decimal, currency: &str) -> Decimal {
    let dp = minor_unit(currency).unwrap_or(2);
    amount.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven)
}

/// The text of an amount in `currency`: exactly its minor-unit decimals.
pub fn format(amount: Decimal, currency: &str) -> String {
    let dp = minor_unit(currency).unwrap_or(2);
    let mut rounded = round(amount, currency);
    rounded.rescale(dp);
    rounded.to_string()
}

/// One set of exchange rates: units of each currency per one `base`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateSet {
    pub id: u64,
    pub base: String,
    /// Decimal strings, exact.
    pub rates: BTreeMap<String, String>,
    pub at: Millis,
}

fn overflow() -> Error {
    Error::invalid("amount", "is too large to convert")
}

impl RateSet {
    /// Checks a set sent by an administrator.
    pub fn parse(id: u64, base: &str, rates: &BTreeMap<String, String>, at: Millis) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let base = errors.check("base", currency(base));
        let mut checked = BTreeMap::new();
        for (code, rate) in rates {
            let field = format!("rates.{code}");
            if errors.check(&field, currency(code)).is_none() {
                continue;
            }
            match errors.check(&field, decimal(rate)) {
                Some(r) if r > Decimal::ZERO => {
                    checked.insert(code.trim().to_uppercase(), r.normalize().to_string());
                }
                Some(_) => errors.add(field, "must be positive"),
                None => {}
            }
        }
        if rates.is_empty() {
            errors.add("rates", "at least one rate is required");
        }
        errors.into_result()?;
        let base = base.unwrap_or_default();
        checked.insert(base.clone(), "1".into());
        Ok(Self {
            id,
            base,
            rates: checked,
            at,
        })
    }

    fn rate(&self, code: &str) -> Result<Decimal> {
        self.rates
            .get(code)
            .and_then(|r| Decimal::from_str(r).ok())
            .ok_or_else(|| Error::invalid("currency", format!("no exchange rate for {code}")))
    }

    /// Converts an exact amount and rounds once to `to`'s minor unit.
    pub fn convert(&self, amount: Decimal, from: &str, to: &str) -> Result<Decimal> {
        if from == to {
            return Ok(round(amount, to));
        }
        let (from_rate, to_rate) = (self.rate(from)?, self.rate(to)?);
        cross(amount, from_rate, to_rate, to).ok_or_else(overflow)
    }

    /// Every rate, parsed (units per one `base`).
    pub fn parsed(&self) -> BTreeMap<String, Decimal> {
        self.rates
            .iter()
            .filter_map(|(code, r)| Some((code.clone(), Decimal::from_str(r).ok()?)))
            .collect()
    }
}

/// `amount` in a currency worth `from_rate` per base, in one worth `to_rate`
/// per base, rounded once to `to`'s minor unit; `None` on overflow.
pub fn cross(amount: Decimal, from_rate: Decimal, to_rate: Decimal, to: &str) -> Option<Decimal> {
    let converted = amount.checked_mul(to_rate)?.checked_div(from_rate)?;
    Some(round(converted, to))
}

/// An amount in whole minor units (cents), for ordering.
pub fn minor_units(amount: Decimal, currency: &str) -> i128 {
    let mut rounded = round(amount, currency);
    rounded.rescale(minor_unit(currency).unwrap_or(2));
    rounded.mantissa()
}

#[cfg(test)]
#[path = "money_tests.rs"]
mod tests;
