//! What one order entity keeps, and every decision about it. Pure: the
//! entity (`actor.rs`) loads the record, carries out the steps it left
//! pending (stock and index messages), calls one of these transitions and
//! saves what it returns.
//!
//! The record is also the idempotency record of the buyer's
//! `Idempotency-Key`: it remembers the request's hash and whether a
//! placement is in flight (`Placing`, for at most the placement lease) or
//! done (`Placed`). Steps a transition needs are written with it as
//! `pending`, so a step never runs before the transition that needs it is
//! durable, and every step is idempotent.

use super::model::{ChargeUpdate, Decision, Order, OrderStatus, PaymentOutcome, Return, ShipmentRequest, StockStep};
use super::sales::StoreFigure;
use crate::error::{Error, Result};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A placement not confirmed within this time was abandoned (its process
/// died): its holds are released and the key may be used again. The
/// default of `[orders] placement_lease_ms`.
pub const PLACING_LEASE: Millis = 60_000;
/// The longest lease a configuration may set: stock forgets ended holds
/// long after a placement could still ask for one.
pub const PLACING_LEASE_MAX: Millis = crate::inventory::model::ENDED_KEPT / 10;
const _: () = assert!(PLACING_LEASE <= PLACING_LEASE_MAX);
/// Pending steps that failed are tried again after this long, doubling
/// with every failure in a row up to [`RETRY_MAX`].
pub const RETRY_AFTER: Millis = 1_000;
pub const RETRY_MAX: Millis = 5 * 60_000;

/// The order id for a buyer's idempotency key.
pub fn order_id(buyer: &str, idempotency_key: &str) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(format!("{buyer}\0{idempotency_key}").as_bytes());
    format!("ord_{hash:032x}")
}

/// The hold of line `index` in placement `attempt` of an order.
pub fn hold_id(order_id: &str, attempt: u32, index: usize) -> String {
    format!("{order_id}.{attempt}.{index}")
}

/// The id of the return asked with `idempotency_key` on `order_id`: the
/// same key always names the same return, so a retry finds it.
pub fn return_id(order_id: &str, idempotency_key: &str) -> Result<String> {
    let suffix = order_id.strip_prefix("ord_").ok_or_else(|| Error::not_found("order"))?;
    let key = xxhash_rust::xxh3::xxh3_64(idempotency_key.as_bytes());
    Ok(format!("ret_{suffix}_{key:016x}"))
}

/// The order a return belongs to.
pub fn order_of_return(return_id: &str) -> Result<String> {
    return_id
        .strip_prefix("ret_")
        .and_then(|r| r.split_once('_'))
        .map(|(order, _)| format!("ord_{order}"))
        .ok_or_else(|| Error::not_found("return"))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    Stock(StockStep),
    /// Add the order to an index (`buyer:{id}`; orders placed before the
    /// stores' sales books listed them also left `store:{id}`).
    Index {
        name: String,
    },
    /// The order no longer awaits payment: it stops counting against its
    /// buyer's `max_open_orders` and `max_held_units`.
    Close {
        buyer: String,
    },
    /// Store `store_id`'s part of the order is now `figure` (its running
    /// sales figures, see `sales.rs`).
    Sales {
        store_id: String,
        figure: StoreFigure,
    },
    /// Units of a line approved for return: their money goes back
    /// (payments refunds them, keyed by the return and the line).
    Refund {
        return_id: String,
        store_id: String,
        line_id: String,
        units: u64,
    },
}

/// The quota a buyer's orders awaiting payment count against.
pub struct OpenOrders;

impl crate::quota::Quota for OpenOrders {
    const KIND: &'static str = "open_orders";
    const NAME: &'static str = "max_open_orders";
}

/// The quota of units a buyer's orders awaiting payment hold together.
pub struct HeldUnits;

impl crate::quota::Quota for HeldUnits {
    const KIND: &'static str = "held_units";
    const NAME: &'static str = "max_held_units";
    const V1_TALLY: bool = true;
}

/// A buyer's limits on orders awaiting payment (quotas from their token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenLimits {
    pub orders: u64,
    pub units: u64,
}

/// Whether an order still awaits (part of) its payment.
pub fn is_open(order: &Order) -> bool {
    matches!(
        order.status(),
        OrderStatus::AwaitingPayment | OrderStatus::PartiallyPaid
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Not placed; the key is free for another attempt with the same body.
    Open,
    /// A placement is holding stock for these `(store, product)` lines.
    Placing {
        attempt: u32,
        since: Millis,
        lines: Vec<(String, String)>,
    },
    Placed(Box<Order>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub buyer: String,
    pub request_hash: u64,
    pub attempts: u32,
    pub phase: Phase,
    pub pending: Vec<Step>,
    pub retry_at: Millis,
    /// Flushes in a row that left steps failed (for the backoff).
    pub failures: u32,
}

pub use super::legacy::{OrderRecordV1, OrderRecordV2};

/// What beginning a placement answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// Go on: hold stock as attempt `n`; the record is to be saved.
    Attempt(u32, OrderRecord),
    /// Placed already: answer the order as it was placed.
    Placed(Box<Order>),
}

pub fn key_reused() -> Error {
    Error::invalid("Idempotency-Key", "this key was already used with a different request")
}

fn abandoned() -> Error {
    Error::unavailable(
        "placement_abandoned",
        "the order took too long to place; please retry with the same key",
        1,
    )
}

fn stock(steps: Vec<StockStep>) -> impl Iterator<Item = Step> {
    steps.into_iter().map(Step::Stock)
}

/// A sales step for each store whose part changed from `before` to `after`.
fn sales_steps(before: Option<&Order>, after: &Order) -> Vec<Step> {
    after
        .stores()
        .into_iter()
        .filter_map(|store_id| {
            // A figure that cannot be computed (a stored amount that does
            // not read) is left out; the dashboard then reads the orders.
            let figure = after.store_figure(&store_id).ok().flatten()?;
            let old = before.and_then(|b| b.store_figure(&store_id).ok().flatten());
            (old.as_ref() != Some(&figure)).then_some(Step::Sales { store_id, figure })
        })
        .collect()
}

impl OrderRecord {
    /// Starts (or resumes) placing with the buyer's key. Another buyer's
    /// key or another body is 422; a placement in flight is 409
    /// `request_in_flight`; a placed order answers itself.
    pub fn begin(
        state: Option<&OrderRecord>,
        buyer: &str,
        request_hash: u64,
        lines: Vec<(String, String)>,
        now: Millis,
    ) -> Result<Begun> {
        let record = state.cloned().unwrap_or_else(|| OrderRecord {
            buyer: buyer.to_string(),
            request_hash,
            attempts: 0,
            phase: Phase::Open,
            pending: Vec::new(),
            retry_at: now,
            failures: 0,
        });
        if record.buyer != buyer || record.request_hash != request_hash {
            return Err(key_reused());
        }
        match &record.phase {
            Phase::Placed(order) => Ok(Begun::Placed(order.clone())),
            Phase::Placing { .. } => Err(Error::conflict(
                "request_in_flight",
                "an order with this Idempotency-Key is being placed; retry shortly",
            )),
            Phase::Open => {
                let attempt = record.attempts + 1;
                let next = OrderRecord {
                    attempts: attempt,
                    phase: Phase::Placing {
                        attempt,
                        since: now,
                        lines,
                    },
                    ..record
                };
                Ok(Begun::Attempt(attempt, next))
            }
        }
    }

    /// The placed order, or 404 while there is none.
    pub fn placed(&self) -> Result<&Order> {
        match &self.phase {
            Phase::Placed(order) => Ok(order),
            _ => Err(Error::not_found("order")),
        }
    }

    /// When the entity wants waking: to retry steps, to end a placement's
    /// lease, or when a hold of the order falls due.
    pub fn due(&self, lease: Millis) -> Option<Millis> {
        let pending = (!self.pending.is_empty()).then_some(self.retry_at);
        let phase = match &self.phase {
            Phase::Open => None,
            Phase::Placing { since, .. } => Some(since + lease),
            Phase::Placed(order) => order.next_expiry(),
        };
        pending.into_iter().chain(phase).min()
    }

    /// Adds steps to carry out, due at once (the service flushes right
    /// after; the alarm is the safety net).
    pub fn with_steps(mut self, steps: impl IntoIterator<Item = Step>, now: Millis) -> Self {
        let before = self.pending.len();
        self.pending.extend(steps);
        if self.pending.len() > before {
            self.retry_at = now;
        }
        self
    }

    /// After a flush: the steps that failed stay pending and are retried
    /// after [`RETRY_AFTER`], twice as long after each failure in a row, at
    /// most [`RETRY_MAX`].
    pub fn flushed(mut self, failed: Vec<Step>, now: Millis) -> Self {
        self.failures = if failed.is_empty() {
            0
        } else {
            self.failures.saturating_add(1)
        };
        let doublings = self.failures.saturating_sub(1).min(20);
        self.retry_at = now + (RETRY_AFTER << doublings).min(RETRY_MAX);
        self.pending = failed;
        self
    }

    /// The order after a transition, with the steps it needs; an order
    /// that stops awaiting payment is closed for its buyer's quota.
    fn with_order(mut self, order: Order, steps: Vec<StockStep>, now: Millis) -> (Self, Order) {
        let was_open = self.placed().is_ok_and(is_open);
        let figures = sales_steps(self.placed().ok(), &order);
        self.phase = Phase::Placed(Box::new(order.clone()));
        let mut steps: Vec<Step> = stock(steps).collect();
        if was_open && !is_open(&order) {
            steps.push(Step::Close {
                buyer: order.buyer.clone(),
            });
        }
        // One sales step per store pending at most: the newer figure
        // replaces one not yet carried out.
        for step in &figures {
            if let Step::Sales { store_id, .. } = step {
                self.pending
                    .retain(|s| !matches!(s, Step::Sales { store_id: pending, .. } if pending == store_id));
            }
        }
        steps.extend(figures);
        (self.with_steps(steps, now), order)
    }

    /// Holds that ended unpaid expire before anything else is looked at.
    pub fn expire(self, now: Millis) -> Self {
        let Phase::Placed(order) = &self.phase else {
            return self;
        };
        let (order, steps) = order.expire(now);
        if steps.is_empty() {
            return self;
        }
        self.with_order(order, steps, now).0
    }

    /// The attempt in flight succeeded: the order is placed and listed
    /// for its buyer and stores. Confirming again answers the order.
    pub fn confirm(self, attempt: u32, order: Order, now: Millis) -> Result<(Self, Order)> {
        match &self.phase {
            Phase::Placing { attempt: a, .. } if *a == attempt => {
                // The stores list it through their sales books (the sales
                // steps `with_order` leaves).
                let names = vec![format!("buyer:{}", order.buyer)];
                let record = self.with_order(order.clone(), Vec::new(), now).0;
                Ok((
                    record.with_steps(names.into_iter().map(|name| Step::Index { name }), now),
                    order,
                ))
            }
            Phase::Placed(order) => {
                let order = (**order).clone();
                Ok((self, order))
            }
            _ => Err(abandoned()),
        }
    }

    /// The attempt failed: the holds it may have taken go back (not those
    /// of the lines in `untaken`, which stock refused or were never asked)
    /// and the key is free. Only the attempt in flight can be aborted.
    pub fn abort(self, key: &str, attempt: u32, untaken: &[usize], now: Millis) -> Self {
        match &self.phase {
            Phase::Placing { attempt: a, .. } if *a == attempt => self.release_attempt(key, untaken, now),
            _ => self,
        }
    }

    /// Woken by the alarm: a placement older than its lease was abandoned.
    pub fn wake(self, key: &str, now: Millis, lease: Millis) -> Self {
        match &self.phase {
            // Which holds were taken is unknown: every one goes back.
            Phase::Placing { since, .. } if since + lease <= now => self.release_attempt(key, &[], now),
            _ => self,
        }
    }

    fn release_attempt(mut self, key: &str, untaken: &[usize], now: Millis) -> Self {
        let Phase::Placing { attempt, lines, .. } = std::mem::replace(&mut self.phase, Phase::Open) else {
            return self;
        };
        let taken = lines.into_iter().enumerate().filter(|(i, _)| !untaken.contains(i));
        // The attempt may have been counted as an open order: uncount it.
        let close = Step::Close {
            buyer: self.buyer.clone(),
        };
        let steps = taken.map(|(i, (store_id, product_id))| {
            Step::Stock(StockStep::Settle {
                store_id,
                product_id,
                hold: hold_id(key, attempt, i),
                sold: 0,
            })
        });
        self.with_steps(steps.chain([close]).collect::<Vec<_>>(), now)
    }

    fn buyers(&self, buyer: &str) -> Result<&Order> {
        let order = self.placed()?;
        if order.buyer != buyer {
            // Someone else's order does not exist for this caller.
            return Err(Error::not_found("order"));
        }
        Ok(order)
    }

    pub fn cancel(self, buyer: &str, now: Millis) -> Result<(Self, Order)> {
        let (order, steps) = self.buyers(buyer)?.cancel(now)?;
        Ok(self.with_order(order, steps, now))
    }

    pub fn pay(self, charge_id: &str, update: ChargeUpdate, now: Millis) -> Result<(Self, Order, PaymentOutcome)> {
        let (order, steps, outcome) = self.placed()?.pay(charge_id, update, now);
        let (record, order) = self.with_order(order, steps, now);
        Ok((record, order, outcome))
    }

    pub fn ship(self, store_id: &str, shipment: ShipmentRequest, now: Millis) -> Result<(Self, Order)> {
        let (order, _) = self.placed()?.ship(store_id, shipment, now)?;
        Ok(self.with_order(order, Vec::new(), now))
    }

    pub fn deliver(self, store_id: &str, shipment_id: &str, now: Millis) -> Result<(Self, Order)> {
        let order = self.placed()?.deliver(store_id, shipment_id, now)?;
        Ok(self.with_order(order, Vec::new(), now))
    }

    /// A return asked again with the same key and body answers the first;
    /// the same key with another body is 422.
    pub fn request_return(self, buyer: &str, ret: Return, now: Millis) -> Result<(Self, Order)> {
        let order = self.buyers(buyer)?;
        let order = match order.returns.iter().find(|r| r.id == ret.id) {
            Some(done) if done.request_hash == ret.request_hash => order.clone(),
            Some(_) => return Err(key_reused()),
            None => order.request_return(ret, now)?,
        };
        Ok(self.with_order(order, Vec::new(), now))
    }

    /// A store decides a return; the units it approves are refunded.
    pub fn decide(self, store_id: &str, return_id: &str, decisions: &[Decision], now: Millis) -> Result<(Self, Order)> {
        let (order, steps) = self.placed()?.decide(store_id, return_id, decisions, now)?;
        let refunds: Vec<Step> = decisions
            .iter()
            .filter(|d| d.approve > 0)
            .map(|d| Step::Refund {
                return_id: return_id.to_string(),
                store_id: store_id.to_string(),
                line_id: d.line_id.clone(),
                units: d.approve,
            })
            .collect();
        let (record, order) = self.with_order(order, steps, now);
        Ok((record.with_steps(refunds, now), order))
    }

    /// A refund of some of the order's units succeeded (idempotent).
    pub fn refunded(self, refund_id: &str, units: &BTreeMap<String, u64>, now: Millis) -> Result<(Self, Order)> {
        match self.placed()?.refund_recorded(refund_id, units, now) {
            Some(order) => Ok(self.with_order(order, Vec::new(), now)),
            None => {
                let order = self.placed()?.clone();
                Ok((self, order))
            }
        }
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
