//! What a buyer sends to place an order, checked into a [`Placement`], and
//! the order a placement becomes once every line is priced and held. Pure.

use super::model::{Billing, FxSnapshot, Line, LineStatus, Order, Shipping};
use super::record::hold_id;
use crate::error::{FieldErrors, Result};
use crate::inventory::model::Held;
use crate::ports::Millis;
use crate::shared::contact;
use crate::shared::lines::{self, LineSpec, ORDER_LINES_MAX};
use crate::shared::money::{Currency, RateSet};
use crate::storefront::service::PricedLine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a buyer sends to place an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceRequest {
    /// `None`: the cart's lines.
    pub lines: Option<Vec<LineSpec>>,
    pub currency: String,
    pub shipping: Shipping,
    pub billing: Billing,
}

/// A placement whose every field was checked (the lines' products and
/// prices are checked by pricing them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The lines to price and hold, the same choice sent twice merged into
    /// one ([`lines::merged`]).
    pub lines: Vec<LineSpec>,
    /// For each line, its position in the request (or the cart): what
    /// errors and shortages name.
    pub origin: Vec<usize>,
    pub currency: Currency,
    pub shipping: Shipping,
    pub billing: Billing,
}

impl Placement {
    /// Checks `request` for `lines` (its own, or the cart's) field by
    /// field: at least one and at most [`ORDER_LINES_MAX`] lines, their
    /// quantities (of identical lines merged), the currency, contacts and
    /// addresses, and a shipping method for every store ordered from. The
    /// count is checked before any other work.
    pub fn validate(request: &PlaceRequest, lines: &[LineSpec]) -> Result<Self> {
        if lines.len() > ORDER_LINES_MAX {
            return Err(crate::error::Error::invalid(
                "lines",
                format!("at most {ORDER_LINES_MAX} lines"),
            ));
        }
        let mut errors = FieldErrors::new();
        let currency = errors.check("currency", Currency::parse(&request.currency));
        if lines.is_empty() {
            errors.add("lines", "order at least one line (the cart is empty)");
        }
        let merged = lines::merged(lines);
        for (i, line) in &merged {
            errors.check(&format!("lines[{i}].quantity"), lines::quantity(line.quantity));
        }
        let shipping = Shipping {
            contact: contact::contact(&mut errors, "shipping.contact", &request.shipping.contact),
            address: contact::address_field(&mut errors, "shipping.address", &request.shipping.address),
            methods: request.shipping.methods.clone(),
        };
        for line in lines {
            match shipping.methods.get(&line.store_id).map(|m| m.trim()) {
                Some(m) if !m.is_empty() && m.len() <= 100 => {}
                _ => errors.add(
                    format!("shipping.methods.{}", line.store_id),
                    "name a shipping method (1 to 100 characters) for every store ordered from",
                ),
            }
        }
        let billing = Billing {
            contact: contact::contact(&mut errors, "billing.contact", &request.billing.contact),
            address: request
                .billing
                .address
                .as_ref()
                .map(|a| contact::address_field(&mut errors, "billing.address", a)),
        };
        errors.into_result()?;
        let Some(currency) = currency else {
            return Err(crate::error::Error::internal("a checked currency is missing"));
        };
        let (origin, lines) = merged.into_iter().unzip();
        Ok(Self {
            lines,
            origin,
            currency,
            shipping,
            billing,
        })
    }

    /// The order this placement becomes as attempt `attempt` of order `id`,
    /// once line `i` was priced as `priced[i]` and held as `held[i]`. The
    /// rates are kept only if a price was converted with them.
    #[allow(clippy::too_many_arguments)]
    pub fn order(
        self,
        id: &str,
        attempt: u32,
        buyer: &str,
        priced: Vec<PricedLine>,
        held: Vec<Held>,
        rates: Option<RateSet>,
        now: Millis,
    ) -> Order {
        let converted = priced.iter().any(|p| p.quote.rates_id.is_some());
        let lines = self
            .lines
            .iter()
            .zip(priced)
            .zip(held)
            .enumerate()
            .map(|(i, ((spec, price), hold))| Line {
                line_id: format!("l{}", i + 1),
                store_id: spec.store_id.clone(),
                product_id: spec.product_id.clone(),
                product_version: price.product_version,
                attributes: spec.attributes.clone(),
                quantity: hold.quantity,
                unit_price: price.quote.unit_price,
                line_total: price.quote.line_total,
                store_currency: price.store_currency,
                store_line_total: price.store_line_total,
                hold: hold_id(id, attempt, i),
                held_until: hold.until,
                warranty_days: hold.warranty_days,
                status: LineStatus::Held,
                paid: 0,
                returning: 0,
                shipment_id: None,
                delivered_at: None,
            })
            .collect();
        Order {
            id: id.to_string(),
            buyer: buyer.to_string(),
            created_at: now,
            currency: self.currency.code().to_string(),
            fx: rates.filter(|_| converted).map(|r| FxSnapshot {
                rates_id: r.id,
                base: r.base,
                rates: r.rates,
            }),
            shipping: self.shipping,
            billing: self.billing,
            lines,
            cancelled: false,
            payments: BTreeMap::new(),
            shipments: Vec::new(),
            returns: Vec::new(),
            updated_at: now,
            refunds: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
