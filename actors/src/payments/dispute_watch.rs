//! The dispute sweep of one processor: disputes are learned from webhooks,
//! and a lost webhook must not leave a disputed charge payable or a lost
//! dispute unpaid by its stores. So every `[payments] dispute_sweep_secs`
//! each processor's disputes created since the last sweep (less a day of
//! overlap) are listed, the open ones known are read again, and every one
//! is recorded as a webhook would have. Pure: the state and its changes.

use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

const DAY: Millis = 24 * 3_600_000;
/// How far back the first sweep looks (Stripe's longest dispute window).
pub const FIRST_LOOKBACK: Millis = 120 * DAY;
/// Each sweep lists again what the one before could have missed.
pub const OVERLAP: Millis = DAY;
/// A sweep that failed is tried again this much later.
pub const RETRY: Millis = 60_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeWatch {
    /// When the last complete sweep started.
    pub swept_at: Option<Millis>,
    /// Disputes known open: read again at each sweep until they close.
    pub open: BTreeSet<String>,
    /// After a failed sweep, when it is tried again.
    pub retry_at: Option<Millis>,
}

impl DisputeWatch {
    /// Disputes created since this time are listed by the sweep at `now`.
    pub fn since(&self, now: Millis) -> Millis {
        self.swept_at.map_or(now - FIRST_LOOKBACK, |at| at - OVERLAP)
    }

    /// When the next sweep is due, sweeping every `every`: at once for a
    /// watch never swept.
    pub fn due(&self, every: Millis) -> Millis {
        self.retry_at
            .unwrap_or_else(|| self.swept_at.map_or(0, |at| at + every))
    }

    /// A webhook told of dispute `id`, open or closed now.
    pub fn seen(&self, id: &str, open: bool) -> Self {
        let mut next = self.clone();
        match open {
            true => next.open.insert(id.to_string()),
            false => next.open.remove(id),
        };
        next
    }

    /// The sweep that started at `started` recorded every dispute it
    /// found; `open` are those still open.
    pub fn swept(&self, started: Millis, open: BTreeSet<String>) -> Self {
        Self {
            swept_at: Some(started),
            open,
            retry_at: None,
        }
    }

    /// The sweep at `now` failed (a processor or a node unreachable):
    /// everything is tried again later.
    pub fn failed(&self, now: Millis) -> Self {
        Self {
            retry_at: Some(now + RETRY),
            ..self.clone()
        }
    }
}

#[cfg(test)]
#[path = "dispute_watch_tests.rs"]
mod tests;
