//! An order's rules. Pure: callers pass the time and the facts (prices,
//! holds); every step returns the new order and the stock steps it needs.
//!
//! Lines move `held → paid → shipped → delivered` (`held` is "reserved" in
//! the API), or to `expired` (unpaid when the hold ended) or `cancelled` (by
//! the buyer, before any payment). The order's status is derived from its
//! lines.

use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
pub use crate::shared::contact::{Address, Contact};
use crate::shared::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::returns::{Decision, Return, ReturnLine};

pub const DAY: Millis = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipping {
    pub contact: Contact,
    pub address: Address,
    /// Store id → shipping method asked of that store.
    pub methods: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Billing {
    pub contact: Contact,
    pub address: Option<Address>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LineStatus {
    /// Units are held for it until `held_until`; not paid yet ("reserved" in the API).
    Held,
    Paid,
    Shipped,
    Delivered,
    Expired,
    Cancelled,
}

impl LineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Held => "reserved",
            LineStatus::Paid => "paid",
            LineStatus::Shipped => "shipped",
            LineStatus::Delivered => "delivered",
            LineStatus::Expired => "expired",
            LineStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OrderStatus {
    AwaitingPayment,
    PartiallyPaid,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::PartiallyPaid => "partially_paid",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub line_id: String,
    pub store_id: String,
    pub product_id: String,
    pub product_version: u32,
    pub attributes: BTreeMap<String, String>,
    pub quantity: u64,
    /// In the order's currency, rounded once.
    pub unit_price: String,
    pub line_total: String,
    /// The line total in the store's currency (the store's revenue).
    pub store_currency: String,
    pub store_line_total: String,
    /// The stock hold of this line.
    pub hold: String,
    pub held_until: Millis,
    pub warranty_days: u32,
    pub status: LineStatus,
    /// Units paid for (by every charge together).
    pub paid: u64,
    /// Units in returns requested or approved (not rejected ones).
    pub returning: u64,
    pub shipment_id: Option<String>,
    pub delivered_at: Option<Millis>,
}

impl Line {
    /// Returns are accepted until then: the warranty counts from delivery,
    /// or from the order while the line is not delivered yet.
    pub fn warranty_until(&self, created_at: Millis) -> Millis {
        self.delivered_at.unwrap_or(created_at) + Millis::from(self.warranty_days) * DAY
    }
}

/// The latest update of one charge: cumulative units paid per line, and
/// whether the money is taken (`captured`) or only held on the buyer's
/// card (an authorization, captured at the first shipment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeUpdate {
    pub version: u64,
    pub paid: BTreeMap<String, u64>,
    pub captured: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: String,
    pub store_id: String,
    pub line_ids: Vec<String>,
    pub carrier: String,
    pub tracking: String,
    pub shipped_at: Millis,
    pub delivered_at: Option<Millis>,
}

/// What a store sends to ship lines; the order assigns the shipment's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentRequest {
    pub line_ids: Vec<String>,
    pub carrier: String,
    pub tracking: String,
}

/// Exchange rates the order was priced with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxSnapshot {
    pub rates_id: u64,
    pub base: String,
    pub rates: BTreeMap<String, String>,
}

/// A stock step an order transition needs: settle a hold (`sold` units
/// leave, the rest return) or put returned units back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockStep {
    Settle {
        store_id: String,
        product_id: String,
        hold: String,
        sold: u64,
    },
    Restock {
        store_id: String,
        product_id: String,
        return_line: String,
        quantity: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub buyer: String,
    pub created_at: Millis,
    pub currency: String,
    pub fx: Option<FxSnapshot>,
    pub shipping: Shipping,
    pub billing: Billing,
    pub lines: Vec<Line>,
    /// The buyer cancelled it.
    pub cancelled: bool,
    /// Charge id → the latest update of what that charge paid.
    pub payments: BTreeMap<String, ChargeUpdate>,
    pub shipments: Vec<Shipment>,
    pub returns: Vec<Return>,
    pub updated_at: Millis,
    /// Refund id → units of each line it gave the money back for.
    pub refunds: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The sum of stored amounts already rounded to `currency` (no second
/// rounding). A stored amount that does not read is an error, never zero.
pub fn sum<'a>(amounts: impl Iterator<Item = &'a str>, currency: &str) -> Result<String> {
    let currency = Currency::stored(currency)?;
    let amounts = amounts
        .map(|a| Money::stored(a, currency.code()))
        .collect::<Result<Vec<_>>>()?;
    Ok(Money::sum(amounts, currency)?.to_string())
}

/// The status of a set of lines (an order, or one store's part of it).
pub fn status_of<'a>(lines: impl Iterator<Item = &'a Line> + Clone, cancelled: bool) -> OrderStatus {
    let live: Vec<&Line> = lines
        .clone()
        .filter(|l| !matches!(l.status, LineStatus::Expired | LineStatus::Cancelled))
        .collect();
    if live.is_empty() {
        let any_cancelled = lines.clone().any(|l| l.status == LineStatus::Cancelled);
        return if cancelled || any_cancelled {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Expired
        };
    }
    let all = |s: &[LineStatus]| live.iter().all(|l| s.contains(&l.status));
    if all(&[LineStatus::Delivered]) {
        OrderStatus::Delivered
    } else if all(&[LineStatus::Shipped, LineStatus::Delivered]) {
        OrderStatus::Shipped
    } else if all(&[LineStatus::Paid, LineStatus::Shipped, LineStatus::Delivered]) {
        OrderStatus::Paid
    } else if live.iter().any(|l| l.paid > 0) {
        OrderStatus::PartiallyPaid
    } else {
        OrderStatus::AwaitingPayment
    }
}

/// What a payment update did, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOutcome {
    /// The update was older than (or the same as) one already applied.
    pub stale: bool,
    pub accepted: Vec<String>,
    /// Lines the charge cannot pay (unknown, expired, cancelled, overpaid).
    pub refused: Vec<(String, String)>,
}

/// What one viewer may see of an order (see [`Order::view`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The order with only the lines, shipments and shipping methods the
    /// viewer may see.
    pub order: Order,
    /// The billing contact: the buyer's to see only.
    pub billing: Option<Billing>,
    pub status: OrderStatus,
    /// Store id → total of its lines, in the order's currency.
    pub totals: BTreeMap<String, String>,
    pub total: String,
}

impl Order {
    pub fn status(&self) -> OrderStatus {
        status_of(self.lines.iter(), self.cancelled)
    }

    pub fn line(&self, line_id: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.line_id == line_id)
    }

    pub(super) fn line_mut(&mut self, line_id: &str) -> Option<&mut Line> {
        self.lines.iter_mut().find(|l| l.line_id == line_id)
    }

    pub fn stores(&self) -> Vec<String> {
        let mut stores: Vec<String> = self.lines.iter().map(|l| l.store_id.clone()).collect();
        stores.sort();
        stores.dedup();
        stores
    }

    /// Totals per store, in the order's currency.
    pub fn totals(&self) -> Result<BTreeMap<String, String>> {
        self.stores()
            .into_iter()
            .map(|store| {
                let lines = self.lines.iter().filter(|l| l.store_id == store);
                let total = sum(lines.map(|l| l.line_total.as_str()), &self.currency)?;
                Ok((store, total))
            })
            .collect()
    }

    pub fn total(&self) -> Result<String> {
        sum(self.lines.iter().map(|l| l.line_total.as_str()), &self.currency)
    }

    /// The order as one viewer sees it: the buyer whole (`stores` = `None`),
    /// store staff only their `stores`' lines, shipments and shipping
    /// methods (the shipping contact and address, not the billing), with
    /// the status and totals of that part.
    pub fn view(&self, stores: Option<&[String]>) -> Result<OrderView> {
        let shown = |store: &str| stores.is_none_or(|s| s.iter().any(|x| x == store));
        let mut part = self.clone();
        part.lines.retain(|l| shown(&l.store_id));
        part.shipments.retain(|s| shown(&s.store_id));
        part.shipping.methods.retain(|store, _| shown(store));
        Ok(OrderView {
            billing: stores.is_none().then(|| self.billing.clone()),
            status: status_of(part.lines.iter(), part.cancelled),
            totals: part.totals()?,
            total: part.total()?,
            order: part,
        })
    }

    /// The earliest hold still awaiting payment falls due then.
    pub fn next_expiry(&self) -> Option<Millis> {
        self.lines
            .iter()
            .filter(|l| l.status == LineStatus::Held)
            .map(|l| l.held_until)
            .min()
    }

    pub(super) fn settle(line: &Line, sold: u64) -> StockStep {
        StockStep::Settle {
            store_id: line.store_id.clone(),
            product_id: line.product_id.clone(),
            hold: line.hold.clone(),
            sold,
        }
    }

    /// The order as its placement answered it — what a replay of the same
    /// request answers, whatever happened to the order since.
    pub fn as_placed(&self) -> Order {
        Order {
            lines: self
                .lines
                .iter()
                .map(|l| Line {
                    status: LineStatus::Held,
                    paid: 0,
                    returning: 0,
                    shipment_id: None,
                    delivered_at: None,
                    ..l.clone()
                })
                .collect(),
            cancelled: false,
            payments: BTreeMap::new(),
            shipments: Vec::new(),
            returns: Vec::new(),
            updated_at: self.created_at,
            refunds: BTreeMap::new(),
            ..self.clone()
        }
    }

    /// Lines whose hold ended unpaid expire; partly paid ones keep (and
    /// sell) what was paid and give the rest back.
    pub fn expire(&self, now: Millis) -> (Self, Vec<StockStep>) {
        let mut next = self.clone();
        let mut steps = Vec::new();
        for line in next.lines.iter_mut() {
            if line.status == LineStatus::Held && line.held_until <= now {
                steps.push(Self::settle(line, line.paid));
                line.status = if line.paid > 0 {
                    LineStatus::Paid
                } else {
                    LineStatus::Expired
                };
            }
        }
        if !steps.is_empty() {
            next.updated_at = now;
        }
        (next, steps)
    }

    /// Whether every payment of the order is only held on the buyer's
    /// card (authorized, not captured) and nothing has shipped: it can
    /// still be called off, the authorizations voided.
    pub fn only_authorized(&self) -> bool {
        let shipped = self
            .lines
            .iter()
            .any(|l| matches!(l.status, LineStatus::Shipped | LineStatus::Delivered));
        let captured = self
            .payments
            .values()
            .any(|u| u.captured && u.paid.values().any(|units| *units > 0));
        !shipped && !captured
    }

    /// The buyer cancels: before any payment, or while the payments are
    /// only authorized and nothing has shipped (the charges void them).
    /// Every hold returns; units already sold go back to stock.
    pub fn cancel(&self, now: Millis) -> Result<(Self, Vec<StockStep>)> {
        match self.status() {
            OrderStatus::AwaitingPayment => {}
            OrderStatus::Cancelled => return Ok((self.clone(), Vec::new())),
            OrderStatus::PartiallyPaid | OrderStatus::Paid if self.only_authorized() => {}
            other => {
                return Err(Error::conflict(
                    "not_cancellable",
                    format!("an order that is {} cannot be cancelled", other.as_str()),
                ));
            }
        }
        let mut next = self.clone();
        let mut steps = Vec::new();
        let order_id = self.id.clone();
        for line in next.lines.iter_mut() {
            match line.status {
                LineStatus::Held => steps.push(Self::settle(line, 0)),
                LineStatus::Paid if line.paid > 0 => steps.push(StockStep::Restock {
                    store_id: line.store_id.clone(),
                    product_id: line.product_id.clone(),
                    return_line: format!("{order_id}:cancel/{}", line.line_id),
                    quantity: line.paid,
                }),
                _ => continue,
            }
            line.status = LineStatus::Cancelled;
        }
        next.cancelled = true;
        next.updated_at = now;
        Ok((next, steps))
    }

    /// A store ships some of its paid lines. The shipment's id is the
    /// order's next (`shp_1`, `shp_2`, …), assigned here by the order's one
    /// writer, so two shipments never share one.
    pub fn ship(&self, store_id: &str, request: ShipmentRequest, now: Millis) -> Result<(Self, String)> {
        let mut errors = FieldErrors::new();
        let carrier = request.carrier.trim();
        let tracking = request.tracking.trim();
        if request.line_ids.is_empty() {
            errors.add("line_ids", "name at least one line");
        }
        if carrier.is_empty() || carrier.len() > 100 {
            errors.add("carrier", "must be 1 to 100 characters");
        }
        if tracking.is_empty() || tracking.len() > 100 {
            errors.add("tracking", "must be 1 to 100 characters");
        }
        for (i, id) in request.line_ids.iter().enumerate() {
            if self.line(id).is_none_or(|l| l.store_id != store_id) {
                errors.add(format!("line_ids[{i}]"), "no line of this store has this id");
            }
        }
        errors.into_result()?;
        let id = format!("shp_{}", self.shipments.len() + 1);
        let mut next = self.clone();
        for line_id in &request.line_ids {
            if let Some(line) = next.line_mut(line_id) {
                if line.status != LineStatus::Paid {
                    return Err(Error::conflict(
                        "not_shippable",
                        format!("line {line_id} is {}; only paid lines ship", line.status.as_str()),
                    ));
                }
                line.status = LineStatus::Shipped;
                line.shipment_id = Some(id.clone());
            }
        }
        next.shipments.push(Shipment {
            id: id.clone(),
            store_id: store_id.to_string(),
            line_ids: request.line_ids,
            carrier: carrier.to_string(),
            tracking: tracking.to_string(),
            shipped_at: now,
            delivered_at: None,
        });
        next.updated_at = now;
        Ok((next, id))
    }

    /// A shipment arrived. Repeating it changes nothing.
    pub fn deliver(&self, store_id: &str, shipment_id: &str, now: Millis) -> Result<Self> {
        let mut next = self.clone();
        let shipment = next
            .shipments
            .iter_mut()
            .find(|s| s.id == shipment_id && s.store_id == store_id)
            .ok_or_else(|| Error::not_found("shipment"))?;
        if shipment.delivered_at.is_some() {
            return Ok(self.clone());
        }
        shipment.delivered_at = Some(now);
        let ids = shipment.line_ids.clone();
        for id in ids {
            if let Some(line) = next.line_mut(&id) {
                line.status = LineStatus::Delivered;
                line.delivered_at = Some(now);
            }
        }
        next.updated_at = now;
        Ok(next)
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
