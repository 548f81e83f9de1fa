//! Stock of one product in one store: batches (each with an optional expiry),
//! reservations that hold units from specific batches until they are paid
//! for, released or expire, and the product's policy in that store. Pure:
//! callers pass the time.
//!
//! Invariant at every instant, per batch and so in total:
//! `0 ≤ reserved ≤ on_hand`. Every step keyed by an id (a reservation, a
//! return) is idempotent.

use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MINUTE: Millis = 60_000;
pub const DAY: Millis = 24 * 60 * MINUTE;

/// How long an ended reservation is remembered, so that the stock of a
/// product sold for years stays small. Only a placement in progress asks
/// for a reservation, and it gives up after its 60 s lease: ten times that
/// is long past any request still on its way. Repeating an end or a
/// settlement after that changes nothing anyway (an unknown reservation
/// holds nothing).
pub const ENDED_KEPT: Millis = 10 * MINUTE;
/// Most units one stock item holds (keeps every sum far from overflow).
pub const MAX_UNITS: u64 = 1_000_000_000;

/// How a store sells one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub reservation_minutes: u32,
    pub warranty_days: u32,
    pub min_per_order: u32,
    pub max_per_order: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            reservation_minutes: 15,
            warranty_days: 30,
            min_per_order: 1,
            max_per_order: 1000,
        }
    }
}

impl Policy {
    pub fn check(&self) -> Result<()> {
        let mut errors = FieldErrors::new();
        if !(1..=1440).contains(&self.reservation_minutes) {
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
    /// Units on hand, reserved ones included.
    pub quantity: u64,
    pub reserved: u64,
}

impl Batch {
    fn expired(&self, now: Millis) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Units that can still be reserved or removed.
    fn free(&self, now: Millis) -> u64 {
        if self.expired(now) {
            0
        } else {
            self.quantity - self.reserved
        }
    }
}

/// Units held for one order line, and which batches they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub quantity: u64,
    pub until: Millis,
    /// (batch expiry, units) taken.
    pub taken: Vec<(Option<Millis>, u64)>,
}

/// How a reservation ended.
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
    pub reservations: BTreeMap<String, Reservation>,
    /// Reservations that ended, and when, so a repeated step changes
    /// nothing; forgotten [`ENDED_KEPT`] after they ended.
    pub ended: BTreeMap<String, (Ended, Millis)>,
    /// Returns already put back on the shelf (idempotent per return line).
    pub restocked: BTreeMap<String, u64>,
}

/// What `GET …/stock` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockView {
    pub on_hand: u64,
    pub reserved: u64,
    pub available: u64,
    /// Batches still sellable or holding reserved units.
    pub batches: Vec<(Option<Millis>, u64)>,
}

/// Why a reservation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    pub reason: String,
    pub available: u64,
}

fn order_key(expires_at: Option<Millis>) -> (bool, Millis) {
    (expires_at.is_none(), expires_at.unwrap_or(0))
}

impl Stock {
    /// Units on hand: sellable ones, and reserved ones even in an expired
    /// batch (they are promised to an order until it ends).
    pub fn on_hand(&self, now: Millis) -> u64 {
        self.batches
            .iter()
            .map(|b| if b.expired(now) { b.reserved } else { b.quantity })
            .sum()
    }

    pub fn reserved(&self) -> u64 {
        self.batches.iter().map(|b| b.reserved).sum()
    }

    pub fn available(&self, now: Millis) -> u64 {
        self.batches.iter().map(|b| b.free(now)).sum()
    }

    pub fn view(&self, now: Millis) -> StockView {
        StockView {
            on_hand: self.on_hand(now),
            reserved: self.reserved(),
            available: self.available(now),
            batches: self
                .batches
                .iter()
                .filter(|b| !b.expired(now) || b.reserved > 0)
                .map(|b| (b.expires_at, if b.expired(now) { b.reserved } else { b.quantity }))
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
                    reserved: 0,
                };
                self.batches.insert(i, batch);
                i
            }
        };
        &mut self.batches[at]
    }

    /// Drops batches that are expired and hold nothing reserved.
    fn tidy(&mut self, now: Millis) {
        self.batches
            .retain(|b| !(b.expired(now) && b.reserved == 0) && (b.quantity > 0 || b.reserved > 0));
        self.ended.retain(|_, (_, at)| now - *at < ENDED_KEPT);
    }

    /// Adds `delta` units (in a batch expiring at `expires_at`), or removes
    /// `-delta` units that nobody reserved, earliest expiry first.
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

    /// Holds `quantity` units for reservation `id` until `until`, from the
    /// batches that expire first. Repeating a reservation changes nothing;
    /// one that already ended is not made again.
    pub fn reserve(&self, id: &str, quantity: u64, until: Millis, now: Millis) -> std::result::Result<Self, Shortage> {
        if self.reservations.contains_key(id) || self.ended.contains_key(id) {
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
                batch.reserved += take;
                taken.push((batch.expires_at, take));
                wanted -= take;
            }
        }
        next.reservations
            .insert(id.to_string(), Reservation { quantity, until, taken });
        next.tidy(now);
        Ok(next)
    }

    /// Ends reservation `id`: sold (its units leave) or returned (they go
    /// back). Already ended: nothing changes. Never made: it is marked ended
    /// (returned, nothing held), so a reservation request still on its way
    /// cannot hold units after its order gave up on it.
    pub fn end(&self, id: &str, how: Ended, now: Millis) -> Self {
        let sold = match how {
            Ended::Sold => u64::MAX,
            Ended::Returned => 0,
        };
        self.settle(id, sold, now)
    }

    /// Ends reservation `id` selling `sold` of its units (at most all of
    /// them, from the batches it took first) and returning the rest. Ended
    /// ones stay as they ended; one never made is marked ended (see `end`).
    pub fn settle(&self, id: &str, sold: u64, now: Millis) -> Self {
        let mut next = self.clone();
        if next.ended.contains_key(id) {
            return next;
        }
        let Some(reservation) = next.reservations.remove(id) else {
            next.ended.insert(id.to_string(), (Ended::Returned, now));
            next.tidy(now);
            return next;
        };
        let mut to_sell = sold.min(reservation.quantity);
        let how = if to_sell > 0 { Ended::Sold } else { Ended::Returned };
        for (expires_at, units) in reservation.taken {
            let batch = next.batch_mut(expires_at);
            batch.reserved -= units;
            let sell = to_sell.min(units);
            batch.quantity -= sell;
            to_sell -= sell;
        }
        next.ended.insert(id.to_string(), (how, now));
        next.tidy(now);
        next
    }

    /// Returns the units of every reservation due by `now`; their ids.
    pub fn expire(&self, now: Millis) -> (Self, Vec<String>) {
        let due: Vec<String> = self
            .reservations
            .iter()
            .filter(|(_, r)| r.until <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let next = due.iter().fold(self.clone(), |s, id| s.end(id, Ended::Returned, now));
        (next, due)
    }

    /// The earliest time a reservation falls due (to wake up then).
    pub fn next_due(&self) -> Option<Millis> {
        self.reservations.values().map(|r| r.until).min()
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

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
