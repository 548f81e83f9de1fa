//! Offers — the prices a store asks per product — and quotes. Pure rules;
//! exact decimals, one rounding at the end (see `crate::shared::money`).

use crate::catalog::attributes::AttrValue;
use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
use crate::shared::money::{self, Currency, Money, RateSet};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::shared::money::SURCHARGES_MAX;

/// An extra amount for one value of one attribute (e.g. size XL: +2.00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surcharge {
    pub attribute_id: String,
    pub value: AttrValue,
    /// Decimal string in the store's currency.
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub product_id: String,
    /// Decimal string in the store's currency.
    pub price: String,
    pub surcharges: Vec<Surcharge>,
    pub valid_from: Option<Millis>,
    pub valid_until: Option<Millis>,
    pub updated_at: Millis,
}

/// What a client sends; surcharge values as JSON text, matched against the
/// product's attribute values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferDraft {
    pub price: String,
    pub surcharges: Vec<(String, String, String)>,
    pub valid_from: Option<Millis>,
    pub valid_until: Option<Millis>,
}

/// A price or surcharge in `currency` (see [`Money::price`]).
pub fn amount(raw: &str, currency: &str) -> std::result::Result<Decimal, String> {
    Ok(Money::price(raw, Currency::parse(currency)?)?.amount())
}

/// A checked decimal as it is kept: `5.` is `5`, `05.50` is `5.50`.
fn normalised(raw: &str) -> String {
    money::decimal(raw).map_or_else(|_| raw.trim().to_string(), |d| d.to_string())
}

/// The JSON text of an attribute value, for matching what clients send.
fn text(value: &AttrValue) -> String {
    match value.to_json() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

impl Offer {
    /// Checks a draft against the product's attribute values.
    pub fn parse(
        product_id: &str,
        draft: &OfferDraft,
        currency: &str,
        product_values: &[(String, AttrValue)],
        now: Millis,
    ) -> Result<Self> {
        let mut errors = FieldErrors::new();
        errors.check("price", amount(&draft.price, currency));
        if draft.surcharges.len() > SURCHARGES_MAX {
            return Err(Error::invalid(
                "attribute_charges",
                format!("at most {SURCHARGES_MAX} charges"),
            ));
        }
        let mut surcharges = Vec::new();
        for (i, (attribute_id, raw_value, raw_amount)) in draft.surcharges.iter().enumerate() {
            let field = |f: &str| format!("attribute_charges[{i}].{f}");
            errors.check(&field("amount"), amount(raw_amount, currency));
            let wanted = serde_json::from_str::<serde_json::Value>(raw_value)
                .map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .unwrap_or_default();
            match product_values
                .iter()
                .find(|(id, v)| id == attribute_id && text(v) == wanted)
            {
                Some((_, value)) => {
                    if surcharges
                        .iter()
                        .any(|c: &Surcharge| c.attribute_id == *attribute_id && c.value == *value)
                    {
                        errors.add(field("value"), "this value is charged twice");
                    }
                    surcharges.push(Surcharge {
                        attribute_id: attribute_id.clone(),
                        value: value.clone(),
                        amount: normalised(raw_amount),
                    });
                }
                None => errors.add(
                    field("value"),
                    format!("the product has no value {wanted} for attribute {attribute_id}"),
                ),
            }
        }
        if let (Some(from), Some(until)) = (draft.valid_from, draft.valid_until)
            && until <= from
        {
            errors.add("valid_until", "must be after valid_from");
        }
        errors.into_result()?;
        Ok(Self {
            product_id: product_id.to_string(),
            price: normalised(&draft.price),
            surcharges,
            valid_from: draft.valid_from,
            valid_until: draft.valid_until,
            updated_at: now,
        })
    }

    pub fn valid_at(&self, now: Millis) -> bool {
        crate::ports::within(self.valid_from, self.valid_until, now)
    }

    /// The exact unit price for the chosen attribute values
    /// (`attribute_id → value text`) in the store's `currency`, unrounded:
    /// the price plus the chosen values' surcharges.
    pub fn unit_price(
        &self,
        chosen: &BTreeMap<String, String>,
        product_values: &[(String, AttrValue)],
        currency: &str,
    ) -> Result<Money> {
        let mut errors = FieldErrors::new();
        for (attribute_id, value) in chosen {
            if !product_values
                .iter()
                .any(|(id, v)| id == attribute_id && text(v) == *value)
            {
                errors.add(
                    format!("attr.{attribute_id}"),
                    format!("the product has no value {value} for this attribute"),
                );
            }
        }
        errors.into_result()?;
        let currency = money::Currency::stored(currency)?;
        let mut extras = self
            .surcharges
            .iter()
            .filter(|s| chosen.get(&s.attribute_id) == Some(&text(&s.value)))
            .map(|s| Money::stored(&s.amount, currency.code()));
        let unit = Money::stored(&self.price, currency.code())?;
        extras.try_fold(unit, |total, extra| total.checked_add(extra?))
    }
}

/// A priced line: unit price and line total, each rounded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub currency: String,
    pub quantity: u32,
    pub unit_price: String,
    pub line_total: String,
    /// The exchange-rate set used, when converted.
    pub rates_id: Option<u64>,
}

/// Prices `quantity` units at `unit` (exact, in the store's currency),
/// converted to `currency` through `rates` when it differs; rounds each
/// figure once.
pub fn quote(unit: Money, quantity: u32, currency: &str, rates: Option<&RateSet>) -> Result<Quote> {
    let quantity = crate::shared::lines::quantity(quantity).map_err(|reason| Error::invalid("quantity", reason))?;
    let store_currency = unit.currency().code();
    let line = unit.times(u64::from(quantity))?.amount();
    let unit = unit.amount();
    let (unit, line, rates_id) = if currency == store_currency {
        (money::round(unit, currency), money::round(line, currency), None)
    } else {
        let rates = rates.ok_or_else(|| Error::invalid("currency", "no exchange rates are published yet"))?;
        (
            rates.convert(unit, store_currency, currency)?,
            rates.convert(line, store_currency, currency)?,
            Some(rates.id),
        )
    };
    Ok(Quote {
        currency: currency.to_string(),
        quantity,
        unit_price: money::format(unit, currency),
        line_total: money::format(line, currency),
        rates_id,
    })
}

#[cfg(test)]
#[path = "offers_tests.rs"]
mod tests;
