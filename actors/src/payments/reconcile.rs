//! A day's reconciliation: every charge, refund and transfer of the day as
//! we recorded it, against what its processor reports now — mismatches
//! (an amount or state that differs, or a record the processor does not
//! know) and anything stuck in a non-final state. Reading it creates and
//! changes nothing. Pure (the gathering is the service's).

use crate::error::{Error, Result};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DAY_MS: Millis = 86_400_000;

/// One record as we keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ours {
    /// `charge`, `refund` or `transfer`.
    pub kind: &'static str,
    pub id: String,
    pub processor: String,
    /// Its id at the processor, once it has one.
    pub processor_id: Option<String>,
    pub currency: String,
    /// Captured, refunded or transferred (minor units).
    pub amount: i64,
    pub status: String,
    /// No step of ours is left on it.
    pub settled: bool,
    pub at: Millis,
}

/// What the processor reports of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theirs {
    pub amount: i64,
    pub status: String,
}

/// How a record was found at the processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Not asked: it has no processor id yet.
    NotAsked,
    Reported(Theirs),
    /// The processor does not know it.
    Unknown,
    /// The processor could not be asked.
    Unreachable(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    pub kind: String,
    pub id: String,
    pub processor_id: Option<String>,
    pub what: String,
    pub ours: String,
    pub processor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stuck {
    pub kind: String,
    pub id: String,
    pub status: String,
    pub since: Millis,
}

/// One kind's figures: how many, and the totals per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    pub ours: BTreeMap<String, i64>,
    pub processor: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub from: Millis,
    pub to: Millis,
    pub tallies: BTreeMap<String, Tally>,
    pub mismatches: Vec<Mismatch>,
    pub stuck: Vec<Stuck>,
    /// Records whose processor could not be asked (the report is partial).
    pub unreachable: u64,
}

/// The day `YYYY-MM-DD` (UTC) as `[from, to)`.
pub fn day(date: &str) -> Result<(Millis, Millis)> {
    let bad = || Error::invalid("date", "must be a date as YYYY-MM-DD");
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return Err(bad());
    }
    // Days since 1970-01-01 (civil from days, inverted).
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok((days * DAY_MS, (days + 1) * DAY_MS))
}

impl Report {
    pub fn new(from: Millis, to: Millis) -> Report {
        Report {
            from,
            to,
            ..Report::default()
        }
    }

    /// Counts one record and what the processor said of it.
    pub fn add(&mut self, ours: &Ours, found: Found) {
        let tally = self.tallies.entry(ours.kind.to_string()).or_default();
        tally.count += 1;
        *tally.ours.entry(ours.currency.clone()).or_default() += ours.amount;
        let mismatch = |what: &str, o: String, p: String| Mismatch {
            kind: ours.kind.to_string(),
            id: ours.id.clone(),
            processor_id: ours.processor_id.clone(),
            what: what.to_string(),
            ours: o,
            processor: p,
        };
        match found {
            Found::Reported(theirs) => {
                *tally.processor.entry(ours.currency.clone()).or_default() += theirs.amount;
                if theirs.amount != ours.amount {
                    self.mismatches
                        .push(mismatch("amount", ours.amount.to_string(), theirs.amount.to_string()));
                }
                if theirs.status != ours.status {
                    self.mismatches
                        .push(mismatch("status", ours.status.clone(), theirs.status));
                }
            }
            Found::Unknown => self.mismatches.push(mismatch(
                "missing",
                ours.status.clone(),
                "unknown to the processor".into(),
            )),
            Found::Unreachable(_) => self.unreachable += 1,
            Found::NotAsked => {}
        }
        if !ours.settled {
            self.stuck.push(Stuck {
                kind: ours.kind.to_string(),
                id: ours.id.clone(),
                status: ours.status.clone(),
                since: ours.at,
            });
        }
    }
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
