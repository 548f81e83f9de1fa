//! Money: exact decimal amounts in ISO 4217 currencies, exchange-rate sets,
//! and conversion that rounds once, half-even, to the target currency's
//! minor unit — never by rounding parts separately.
//!
//! Every sum and product of amounts goes through [`Money`], whose
//! arithmetic is checked: an overflow is an error, never a panic. The
//! bounds below make sure no valid order can reach one: a unit price is at
//! most [`PRICE_MAX`] plus [`SURCHARGES_MAX`] surcharges of at most
//! [`PRICE_MAX`], a line at most [`QUANTITY_MAX`] units, an order at most
//! [`ORDER_LINES_MAX`] lines, and a rate lies in [`RATE_MIN`]..=[`RATE_MAX`]; so
//! the largest total, converted, is about 2·10^26, below `Decimal`'s 7.9·10^28.

use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
#[cfg(doc)]
use crate::shared::lines::{ORDER_LINES_MAX, QUANTITY_MAX};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The largest price or surcharge a store may ask, in its currency.
pub const PRICE_MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// At most this many attribute surcharges per offer.
pub const SURCHARGES_MAX: usize = 20;
/// Exchange rates (units per one base unit) lie in this range.
pub const RATE_MIN: Decimal = Decimal::from_parts(1, 0, 0, false, 6);
pub const RATE_MAX: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

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
                Some(r) if (RATE_MIN..=RATE_MAX).contains(&r) => {
                    checked.insert(code.trim().to_uppercase(), r.normalize().to_string());
                }
                Some(_) => errors.add(field, format!("must be from {RATE_MIN} to {RATE_MAX}")),
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

/// An ISO 4217 currency this platform prices in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    code: &'static str,
    minor_unit: u32,
}

impl Currency {
    /// A client's currency code, any case.
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        let code = currency(raw)?;
        Self::known(&code).ok_or_else(|| format!("{code} is not supported"))
    }

    fn known(code: &str) -> Option<Self> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, minor_unit)| Self { code, minor_unit })
    }

    /// A currency read back from storage: an unknown one is a fault.
    pub fn stored(code: &str) -> Result<Self> {
        Self::known(code).ok_or_else(|| Error::internal(format!("stored currency {code:?} is not supported")))
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn minor_unit(self) -> u32 {
        self.minor_unit
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

/// An exact amount in one currency. Sums and products are checked: they
/// answer an error instead of overflowing, and adding two currencies is a
/// fault, never a silent mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

fn too_large() -> Error {
    Error::invalid("amount", "is too large")
}

impl Money {
    /// An amount computed elsewhere (a conversion, a test); clients' prices
    /// go through [`Money::price`].
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self {
            amount: Decimal::ZERO,
            currency,
        }
    }

    /// A price or surcharge sent by a client: a decimal string from 0 to
    /// [`PRICE_MAX`] with no more decimals than the currency has.
    pub fn price(raw: &str, currency: Currency) -> std::result::Result<Self, String> {
        let amount = decimal(raw)?;
        if amount < Decimal::ZERO {
            return Err("must not be negative".into());
        }
        if amount > PRICE_MAX {
            return Err(format!("must be at most {PRICE_MAX}"));
        }
        let dp = currency.minor_unit;
        if amount.normalize().scale() > dp {
            return Err(format!("{currency} has {dp} decimals"));
        }
        Ok(Self { amount, currency })
    }

    /// An amount read back from storage. Text that is not a decimal is a
    /// fault reported as such — never read as zero.
    pub fn stored(text: &str, currency: &str) -> Result<Self> {
        let currency = Currency::stored(currency)?;
        let amount = decimal(text).map_err(|_| Error::internal(format!("stored amount {text:?} is not a decimal")))?;
        Ok(Self { amount, currency })
    }

    pub fn amount(self) -> Decimal {
        self.amount
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn checked_add(self, other: Money) -> Result<Money> {
        if self.currency != other.currency {
            return Err(Error::internal(format!(
                "adding {} to {}",
                other.currency, self.currency
            )));
        }
        let amount = self.amount.checked_add(other.amount).ok_or_else(too_large)?;
        Ok(Self { amount, ..self })
    }

    /// `units` times this amount.
    pub fn times(self, units: u64) -> Result<Money> {
        let amount = self.amount.checked_mul(Decimal::from(units)).ok_or_else(too_large)?;
        Ok(Self { amount, ..self })
    }

    /// The sum of `amounts`, all in `currency`; zero for none.
    pub fn sum(amounts: impl IntoIterator<Item = Money>, currency: Currency) -> Result<Money> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |total, next| total.checked_add(next))
    }

    /// Rounded once, half-even, to the currency's minor unit.
    pub fn rounded(self) -> Money {
        Self {
            amount: round(self.amount, self.currency.code),
            ..self
        }
    }
}

/// The amount with exactly its currency's minor-unit decimals, e.g. `19.90`.
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format(self.amount, self.currency.code))
    }
}

#[cfg(test)]
#[path = "money_tests.rs"]
mod tests;
