//! Stock of one product in one store: batches (each with an optional expiry),
//! holds that hold units from specific batches until they are paid
//! for, released or expire, and the product's policy in that store. Pure:
//! callers pass the time.
//!
//! Invariant at every instant, per batch and so in total:
//! `0 ≤ held ≤ on_hand`. Every step keyed by an id (a hold, a
//! return) is idempotent.

use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MINUTE: Millis = 60_000;
pub const DAY: Millis = 24 * 60 * MINUTE;

/// How long an ended hold is remembered, so that the stock of a
/// product sold for years stays small. Only a placement in progress asks
/// for a hold, and it gives up after its 60 s lease: ten times that
/// is long past any request still on its way. Repeating an end or a
/// settlement after that changes nothing anyway (an unknown hold
/// holds nothing).
pub const ENDED_KEPT: Millis = 10 * MINUTE;
/// At most this many ended holds are remembered, the most recent, so one
/// product's stock stays bounded however many orders give up on it.
pub const ENDED_MAX: usize = 10_000;
/// Most units one stock item holds (keeps every sum far from overflow).
pub const MAX_UNITS: u64 = 1_000_000_000;

/// How a store sells one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub hold_minutes: u32,
    pub warranty_days: u32,
    pub min_per_order: u32,
    pub max_per_order: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            hold_minutes: 15,
            warranty_days: 30,
            min_per_order: 1,
            max_per_order: 1000,
        }
    }
}

impl Policy {
    pub fn check(&self) -> Result<()> {
        let mut errors = FieldErrors::new();
        if !(1..=1440).contains(&self.hold_minutes) {
            errors.add("reservation_minutes", "must be 1 to 1440");
        }
        if self.warranty_days > 3650 {
            errors.add("warranty_days", "must be 0 to 3650");
        }
        if self.min_per_order == 0 {
            errors.add("min_per_order", "must be at least 1");
        }
        if self.max_per_order < self.min_per_order {
            errors.add("max_per_order", "must not be below min_per_order");
        }
        errors.into_result()
    }

    /// Why `quantity` cannot be ordered at once, if it cannot.
    pub fn refuses(&self, quantity: u64) -> Option<String> {
        if quantity < u64::from(self.min_per_order) {
            Some(format!("at least {} per order", self.min_per_order))
        } else if quantity > u64::from(self.max_per_order) {
            Some(format!("at most {} per order", self.max_per_order))
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// `None`: never expires.
    pub expires_at: Option<Millis>,
    /// Units on hand, held ones included.
    pub quantity: u64,
    pub held: u64,
}

impl Batch {
    fn expired(&self, now: Millis) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Units that can still be held or removed.
    fn free(&self, now: Millis) -> u64 {
        if self.expired(now) {
            0
        } else {
            self.quantity - self.held
        }
    }
}

/// Units held for one order line, and which batches they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub quantity: u64,
    pub until: Millis,
    /// (batch expiry, units) taken.
    pub taken: Vec<(Option<Millis>, u64)>,
}

/// How a hold ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ended {
    /// Paid for: its units left the stock.
    Sold,
    /// Released or expired: its units went back.
    Returned,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    /// Ordered by expiry, earliest first, never-expiring last.
    pub batches: Vec<Batch>,
    pub holds: BTreeMap<String, Hold>,
    /// Holds that ended, and when, so a repeated step changes
    /// nothing; forgotten [`ENDED_KEPT`] after they ended.
    pub ended: BTreeMap<String, (Ended, Millis)>,
    /// Returns already put back on the shelf (idempotent per return line).
    pub restocked: BTreeMap<String, u64>,
}

/// What `GET …/stock` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockView {
    pub on_hand: u64,
    pub held: u64,
    pub available: u64,
    /// Batches still sellable or holding held units.
    pub batches: Vec<(Option<Millis>, u64)>,
}

/// Why a hold was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    pub reason: String,
    pub available: u64,
}

fn order_key(expires_at: Option<Millis>) -> (bool, Millis) {
    (expires_at.is_none(), expires_at.unwrap_or(0))
}

impl Stock {
    /// Units on hand: sellable ones, and held ones even in an expired
    /// batch (they are promised to an order until it ends).
    pub fn on_hand(&self, now: Millis) -> u64 {
        self.batches
            .iter()
            .map(|b| if b.expired(now) { b.held } else { b.quantity })
            .sum()
    }

    pub fn held(&self) -> u64 {
        self.batches.iter().map(|b| b.held).sum()
    }

    pub fn available(&self, now: Millis) -> u64 {
        self.batches.iter().map(|b| b.free(now)).sum()
    }

    pub fn view(&self, now: Millis) -> StockView {
        StockView {
            on_hand: self.on_hand(now),
            held: self.held(),
            available: self.available(now),
            batches: self
                .batches
                .iter()
                .filter(|b| !b.expired(now) || b.held > 0)
                .map(|b| (b.expires_at, if b.expired(now) { b.held } else { b.quantity }))
                .collect(),
        }
    }

    fn batch_mut(&mut self, expires_at: Option<Millis>) -> &mut Batch {
        let at = match self.batches.iter().position(|b| b.expires_at == expires_at) {
            Some(i) => i,
            None => {
                let i = self
                    .batches
                    .partition_point(|b| order_key(b.expires_at) < order_key(expires_at));
                let batch = Batch {
                    expires_at,
                    quantity: 0,
                    held: 0,
                };
                self.batches.insert(i, batch);
                i
            }
        };
        &mut self.batches[at]
    }

    /// Drops batches that are expired and hold nothing, and ended holds
    /// old enough to forget.
    pub(crate) fn tidy(&mut self, now: Millis) {
        self.batches
            .retain(|b| !(b.expired(now) && b.held == 0) && (b.quantity > 0 || b.held > 0));
        self.ended.retain(|_, (_, at)| now - *at < ENDED_KEPT);
        if self.ended.len() > ENDED_MAX {
            let mut times: Vec<Millis> = self.ended.values().map(|(_, at)| *at).collect();
            times.sort_unstable();
            let cutoff = times[times.len() - ENDED_MAX];
            self.ended.retain(|_, (_, at)| *at >= cutoff);
            // Ties at the cutoff: drop the smallest ids until within bounds.
            while self.ended.len() > ENDED_MAX {
                let Some(id) = self.ended.keys().next().cloned() else {
                    break;
                };
                self.ended.remove(&id);
            }
        }
    }

    /// Adds `delta` units (in a batch expiring at `expires_at`), or removes
    /// `-delta` units that nobody holds, earliest expiry first.
    pub fn adjust(&self, delta: i64, expires_at: Option<Millis>, now: Millis) -> Result<Self> {
        let mut next = self.clone();
        if delta > 0 {
            let add = delta.unsigned_abs();
            if expires_at.is_some_and(|e| e <= now) {
                return Err(Error::invalid("expires_at", "must be in the future"));
            }
            if self.on_hand(now) + add > MAX_UNITS {
                return Err(Error::invalid("adjust", format!("at most {MAX_UNITS} units")));
            }
            next.batch_mut(expires_at).quantity += add;
        } else if delta < 0 {
            let mut remove = delta.unsigned_abs();
            let available = self.available(now);
            if remove > available {
                return Err(Error::conflict(
                    "below_reserved",
                    format!("only {available} units are not reserved; {remove} cannot be removed"),
                ));
            }
            for batch in next.batches.iter_mut() {
                let take = batch.free(now).min(remove);
                batch.quantity -= take;
                remove -= take;
            }
        } else {
            return Err(Error::invalid("adjust", "must not be 0"));
        }
        next.tidy(now);
        Ok(next)
    }

    /// Holds `quantity` units for hold `id` until `until`, from the
    /// batches that expire first. Repeating a hold changes nothing;
    /// one that already ended is not made again.
    pub fn hold(&self, id: &str, quantity: u64, until: Millis, now: Millis) -> std::result::Result<Self, Shortage> {
        if self.holds.contains_key(id) || self.ended.contains_key(id) {
            return Ok(self.clone());
        }
        let available = self.available(now);
        if quantity == 0 || quantity > available {
            let reason = if available == 0 {
                "out_of_stock"
            } else {
                "insufficient_stock"
            };
            return Err(Shortage {
                reason: reason.into(),
                available,
            });
        }
        let mut next = self.clone();
        let mut wanted = quantity;
        let mut taken = Vec::new();
        for batch in next.batches.iter_mut() {
            let take = batch.free(now).min(wanted);
            if take > 0 {
                batch.held += take;
                taken.push((batch.expires_at, take));
                wanted -= take;
            }
        }
        next.holds.insert(id.to_string(), Hold { quantity, until, taken });
        next.tidy(now);
        Ok(next)
    }

    /// Ends hold `id`: sold (its units leave) or returned (they go
    /// back). Already ended: nothing changes. Never made: it is marked ended
    /// (returned, nothing held), so a hold request still on its way
    /// cannot hold units after its order gave up on it.
    pub fn end(&self, id: &str, how: Ended, now: Millis) -> Self {
        let sold = match how {
            Ended::Sold => u64::MAX,
            Ended::Returned => 0,
        };
        self.settle(id, sold, now)
    }

    /// Ends hold `id` selling `sold` of its units (at most all of
    /// them, from the batches it took first) and returning the rest. Ended
    /// ones stay as they ended; one never made is marked ended (see `end`).
    pub fn settle(&self, id: &str, sold: u64, now: Millis) -> Self {
        let mut next = self.clone();
        if next.ended.contains_key(id) {
            return next;
        }
        let Some(hold) = next.holds.remove(id) else {
            next.ended.insert(id.to_string(), (Ended::Returned, now));
            next.tidy(now);
            return next;
        };
        let mut to_sell = sold.min(hold.quantity);
        let how = if to_sell > 0 { Ended::Sold } else { Ended::Returned };
        for (expires_at, units) in hold.taken {
            let batch = next.batch_mut(expires_at);
            batch.held -= units;
            let sell = to_sell.min(units);
            batch.quantity -= sell;
            to_sell -= sell;
        }
        next.ended.insert(id.to_string(), (how, now));
        next.tidy(now);
        next
    }

    /// Returns the units of every hold due by `now`; their ids.
    pub fn expire(&self, now: Millis) -> (Self, Vec<String>) {
        let due: Vec<String> = self
            .holds
            .iter()
            .filter(|(_, r)| r.until <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let next = due.iter().fold(self.clone(), |s, id| s.end(id, Ended::Returned, now));
        (next, due)
    }

    /// The earliest time a hold falls due (to wake up then).
    pub fn next_due(&self) -> Option<Millis> {
        self.holds.values().map(|r| r.until).min()
    }

    /// Puts returned units back on the shelf, once per `return_line`.
    pub fn restock(&self, return_line: &str, quantity: u64, now: Millis) -> Result<Self> {
        if self.restocked.contains_key(return_line) {
            return Ok(self.clone());
        }
        let mut next = self.adjust(i64::try_from(quantity).unwrap_or(i64::MAX), None, now)?;
        next.restocked.insert(return_line.to_string(), quantity);
        Ok(next)
    }
}

/// A hold outlives the time its order is told by this much: the order
/// expires its lines at `until` and settles them (selling what was paid just
/// in time); the stock's own expiry is the safety net for holds whose order
/// never came to be.
pub const HOLD_GRACE: Millis = 5 * MINUTE;

/// The key of the stock of `product_id` in `store_id`.
pub fn stock_key(store_id: &str, product_id: &str) -> String {
    format!("{store_id}/{product_id}")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockItem {
    pub stock: Stock,
    /// `None`: the defaults.
    pub policy: Option<Policy>,
}

/// What staff see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockStatus {
    pub view: StockView,
    pub policy: Policy,
}

/// Units held for an order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub quantity: u64,
    pub until: Millis,
    pub warranty_days: u32,
}

impl StockItem {
    pub fn policy(&self) -> Policy {
        self.policy.unwrap_or_default()
    }

    pub fn status(&self, now: Millis) -> StockStatus {
        StockStatus {
            view: self.stock.view(now),
            policy: self.policy(),
        }
    }

    /// Holds `quantity` units for order line `id` for the policy's hold
    /// time. A repeat answers the same hold; a hold that already ended (or
    /// was ended before it arrived) is refused, so a late request holds
    /// nothing; the policy may refuse the quantity; the stock may be short.
    /// The stock keeps the units [`HOLD_GRACE`] longer than the order is told.
    pub fn hold(&self, id: &str, quantity: u64, now: Millis) -> (Self, std::result::Result<Held, Shortage>) {
        let policy = self.policy();
        let refused = |reason: String| Shortage {
            reason,
            available: self.stock.available(now),
        };
        if let Some(held) = self.stock.holds.get(id) {
            let answer = Held {
                quantity: held.quantity,
                until: held.until - HOLD_GRACE,
                warranty_days: policy.warranty_days,
            };
            return (self.clone(), Ok(answer));
        }
        if self.stock.ended.contains_key(id) {
            // The API's word for a hold is "reservation".
            return (self.clone(), Err(refused("reservation_ended".into())));
        }
        if let Some(reason) = policy.refuses(quantity) {
            return (self.clone(), Err(refused(format!("policy: {reason}"))));
        }
        let until = now + i64::from(policy.hold_minutes) * MINUTE;
        match self.stock.hold(id, quantity, until + HOLD_GRACE, now) {
            Ok(stock) => {
                let held = Held {
                    quantity,
                    until,
                    warranty_days: policy.warranty_days,
                };
                (Self { stock, ..self.clone() }, Ok(held))
            }
            Err(shortage) => (self.clone(), Err(shortage)),
        }
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
