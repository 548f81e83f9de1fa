//! Which charges and refunds were asked on each day (UTC), so that a day's
//! reconciliation reads only those, however many were made before. Each
//! day is spread over [`BUCKETS`] entities (a day's charges are not all
//! written through one), each id a member record. The service adds an id
//! before its charge or refund can exist; an id whose charge never came
//! to be is skipped by the report.
//!
//! The index holds every charge and refund asked since [`IndexSince`]
//! records: the start of a node running this code (0 for a shop that had
//! none before). Days from then on are read through it; earlier ones by
//! scanning every record, as before.

use super::PaymentContext;
use crate::error::Result;
use crate::ports::Millis;
use crate::runtime::{Entity, Outcome, encode};
use serde::{Deserialize, Serialize};

pub const BUCKETS: u64 = 16;
const DAY: Millis = 24 * 3_600_000;

/// The entity holding `id` (a charge's or refund's) asked at `at`.
pub fn bucket_key(at: Millis, id: &str) -> String {
    format!(
        "{}/{:02}",
        at.div_euclid(DAY),
        xxhash_rust::xxh3::xxh3_64(id.as_bytes()) % BUCKETS
    )
}

/// Every bucket of the day starting at `from`.
pub fn buckets_of(from: Millis) -> impl Iterator<Item = String> {
    let day = from.div_euclid(DAY);
    (0..BUCKETS).map(move |b| format!("{day}/{b:02}"))
}

/// Whether the day starting at `from` is read through the index, which
/// is complete from `since`.
pub fn covers(since: Option<Millis>, from: Millis) -> bool {
    since.is_some_and(|since| since <= from)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DayCommand {
    /// `c:<charge id>` or `r:<refund id>` (idempotent).
    Add(String),
    /// Members after `after`, in order.
    Page { after: Option<String>, limit: usize },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DayReply {
    Done,
    Page(Vec<String>),
}

pub struct DayIndexEntity(pub PaymentContext);

impl Entity for DayIndexEntity {
    const KIND: &'static str = "payments_day";
    /// How many members (ids) the bucket holds.
    type State = u64;
    type Command = DayCommand;
    type Reply = DayReply;

    async fn handle(&self, key: &str, state: Option<&u64>, command: DayCommand) -> Result<Outcome<u64, DayReply>> {
        let count = state.copied().unwrap_or(0);
        let members = self.0.context.members(Self::KIND, key)?;
        Ok(match command {
            DayCommand::Add(id) => match members.contains(&id)? {
                true => Outcome::read(DayReply::Done),
                false => Outcome::write(count + 1, DayReply::Done).with_members(vec![(id, Some(encode(&())?))]),
            },
            DayCommand::Page { after, limit } => {
                let page = members.page(after.as_deref(), limit)?;
                Outcome::read(DayReply::Page(page.into_iter().map(|(id, _)| id).collect()))
            }
        })
    }
}

/// Since when the day index is complete (`None`: not yet known).
pub struct IndexSince;

/// Its one key.
pub const SINCE_KEY: &str = "since";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SinceCommand {
    /// Records `at` unless a time is recorded already.
    Set(Millis),
    Get,
}

impl Entity for IndexSince {
    const KIND: &'static str = "payments_index_since";
    type State = Millis;
    type Command = SinceCommand;
    type Reply = Option<Millis>;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&Millis>,
        command: SinceCommand,
    ) -> Result<Outcome<Millis, Option<Millis>>> {
        Ok(match (state, command) {
            (None, SinceCommand::Set(at)) => Outcome::write(at, Some(at)),
            (state, _) => Outcome::read(state.copied()),
        })
    }
}

#[cfg(test)]
#[path = "day_index_tests.rs"]
mod tests;
