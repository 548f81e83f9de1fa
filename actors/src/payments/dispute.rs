//! A charge's disputes as the platform keeps them (read back from the
//! processor at each webhook, so events in any order end in the same
//! record), and how what a lost dispute takes is shared among the stores
//! of the charge. Pure.

use super::funds::share_out;
use super::ports::ProcessorDispute;
use crate::ports::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeRecord {
    pub dispute: ProcessorDispute,
    pub processor: String,
    pub charge_id: String,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
}

/// The disputes of one charge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeDisputes {
    pub disputes: Vec<DisputeRecord>,
}

impl ChargeDisputes {
    /// With `read` (the processor's dispute now) recorded.
    pub fn observe(&self, processor: &str, charge_id: &str, read: ProcessorDispute, now: Millis) -> ChargeDisputes {
        let mut next = self.clone();
        let closed_at = (!read.open()).then_some(now);
        match next.disputes.iter_mut().find(|d| d.dispute.id == read.id) {
            Some(d) => {
                d.closed_at = d.closed_at.or(closed_at).filter(|_| !read.open());
                d.dispute = read;
            }
            None => next.disputes.push(DisputeRecord {
                dispute: read,
                processor: processor.to_string(),
                charge_id: charge_id.to_string(),
                opened_at: now,
                closed_at,
            }),
        }
        next
    }

    /// A dispute of the charge is still being fought.
    pub fn open(&self) -> bool {
        self.disputes.iter().any(|d| d.dispute.open())
    }
}

/// Each store's part of `amount`, in proportion to what the charge earned
/// it (`gross`), the last store taking the rounding; never more than its
/// gross.
pub fn split(amount: i64, gross: &[(String, i64)]) -> Vec<(String, i64)> {
    let total: i64 = gross.iter().map(|(_, g)| g).sum();
    let weights: Vec<i64> = gross.iter().map(|(_, g)| *g).collect();
    let parts = share_out(amount.clamp(0, total.max(0)), &weights);
    gross
        .iter()
        .zip(parts)
        .map(|((store, g), part)| (store.clone(), part.min(*g)))
        .collect()
}

#[cfg(test)]
#[path = "dispute_tests.rs"]
mod tests;
