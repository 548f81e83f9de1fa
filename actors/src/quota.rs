//! Things a user owns, counted against one of their quotas (`max_products`,
//! `max_stores`, `max_open_orders`), or amounts counted against a quota of
//! their total (`max_held_units`). Kept by one entity per owner and quota,
//! so the count is exact: its state is only the counts, and each thing is
//! a member record (see `runtime::Members`), so counting the 100,000th
//! costs what counting the first did. [`counted`] is the one "count,
//! create, undo" flow every domain uses to create something that counts.

use crate::error::{Error, Result};
use crate::runtime::{Entity, EntityContext, MemberWrite, Outcome, Router, decode, encode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::marker::PhantomData;

/// How many things an owner has under a quota, and their amounts' total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub count: u64,
    pub total: u64,
}

/// What a quota bounds: the number of things, or their amounts' total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bound {
    Count(u64),
    Total(u64),
}

impl Counts {
    /// Counting `amount` for a thing that is counted already with
    /// `existing` (`None`: not yet): the new counts, or `None` when nothing
    /// changes (counting is idempotent); 403 `quota_exceeded` over `bound`.
    pub fn adding(&self, existing: Option<u64>, amount: u64, bound: Bound, quota: &str) -> Result<Option<Counts>> {
        if existing.is_some() {
            return Ok(None);
        }
        let exceeded = |limit: u64, usage: u64, asked: String| {
            Error::forbidden(
                "quota_exceeded",
                format!("quota {quota} reached: limit {limit}, usage {usage}{asked}"),
            )
        };
        match bound {
            Bound::Count(limit) if self.count >= limit => return Err(exceeded(limit, self.count, String::new())),
            Bound::Total(limit) if self.total.saturating_add(amount) > limit => {
                return Err(exceeded(limit, self.total, format!(", asked {amount}")));
            }
            _ => {}
        }
        Ok(Some(Counts {
            count: self.count + 1,
            total: self.total.saturating_add(amount),
        }))
    }

    /// Uncounting a thing counted with `existing` (`None`: not counted,
    /// nothing changes).
    pub fn removing(&self, existing: Option<u64>) -> Option<Counts> {
        existing.map(|amount| Counts {
            count: self.count.saturating_sub(1),
            total: self.total.saturating_sub(amount),
        })
    }
}

/// A quota some things count against: its name, and the entity kind
/// that keeps each owner's things.
pub trait Quota: Send + Sync + 'static {
    /// The entity kind (stored under it: never change it).
    const KIND: &'static str;
    /// The quota's name, e.g. `max_products`.
    const NAME: &'static str;
    /// Whether schema version 1 stored amounts per thing (a tally) rather
    /// than a set of ids.
    const V1_TALLY: bool = false;
}

/// One entity per owner: the things they have under quota `Q`.
pub struct Counted<Q> {
    context: EntityContext,
    quota: PhantomData<Q>,
}

/// Things counted one each (`max_products`).
pub type Owners<Q> = Counted<Q>;
/// Things counted by amount (`max_held_units`).
pub type Tallies<Q> = Counted<Q>;

impl<Q> Counted<Q> {
    pub fn new(context: EntityContext) -> Self {
        Self {
            context,
            quota: PhantomData,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CountedCommand {
    /// Counts `id` with `amount` within `bound`; idempotent.
    Add {
        id: String,
        amount: u64,
        bound: Bound,
    },
    Remove {
        id: String,
    },
    Get,
    /// Up to `limit` things after `after`, by id.
    Page {
        after: Option<String>,
        limit: u32,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CountedReply {
    Counts(Counts),
    Page { counts: Counts, items: Vec<(String, u64)> },
}

/// The record as schema version 1 stored it: every id in the state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OwnedV1 {
    pub ids: BTreeSet<String>,
}

/// A tally as schema version 1 stored it: every id's amount in the state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TallyV1 {
    pub items: BTreeMap<String, u64>,
}

fn member(amount: u64) -> Result<Vec<u8>> {
    encode(&amount)
}

impl<Q: Quota> Entity for Counted<Q> {
    const KIND: &'static str = Q::KIND;
    /// 2: the things are member records; the state only counts them.
    const SCHEMA_VERSION: u32 = 2;
    type State = Counts;
    type Command = CountedCommand;
    type Reply = CountedReply;

    fn upgrade_members(schema_version: u32, body: &[u8]) -> Result<Option<(Counts, Vec<MemberWrite>)>> {
        if schema_version != 1 {
            return Ok(None);
        }
        let items: Vec<(String, u64)> = if Q::V1_TALLY {
            decode::<TallyV1>(body)?.items.into_iter().collect()
        } else {
            decode::<OwnedV1>(body)?.ids.into_iter().map(|id| (id, 1)).collect()
        };
        let counts = Counts {
            count: items.len() as u64,
            total: items.iter().fold(0u64, |t, (_, a)| t.saturating_add(*a)),
        };
        let members = items
            .into_iter()
            .map(|(id, amount)| Ok((id, Some(member(amount)?))))
            .collect::<Result<_>>()?;
        Ok(Some((counts, members)))
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&Counts>,
        command: CountedCommand,
    ) -> Result<Outcome<Counts, CountedReply>> {
        let counts = state.copied().unwrap_or_default();
        let members = self.context.members(Q::KIND, key)?;
        let existing = |id: &str| members.decoded::<u64>(id);
        Ok(match command {
            CountedCommand::Add { id, amount, bound } => match counts.adding(existing(&id)?, amount, bound, Q::NAME)? {
                Some(next) => {
                    Outcome::write(next, CountedReply::Counts(next)).with_members(vec![(id, Some(member(amount)?))])
                }
                None => Outcome::read(CountedReply::Counts(counts)),
            },
            CountedCommand::Remove { id } => match counts.removing(existing(&id)?) {
                Some(next) => Outcome::write(next, CountedReply::Counts(next)).with_members(vec![(id, None)]),
                None => Outcome::read(CountedReply::Counts(counts)),
            },
            CountedCommand::Get => Outcome::read(CountedReply::Counts(counts)),
            CountedCommand::Page { after, limit } => {
                let items = members
                    .page(after.as_deref(), limit as usize)?
                    .into_iter()
                    .map(|(id, v)| Ok((id, decode(&v)?)))
                    .collect::<Result<_>>()?;
                Outcome::read(CountedReply::Page { counts, items })
            }
        })
    }
}

async fn ask<Q: Quota>(router: &Router, owner: &str, command: CountedCommand) -> Result<CountedReply> {
    router.ask::<Counted<Q>>(owner, command).await
}

/// How many things `owner` has under quota `Q`, and their total.
pub async fn counts<Q: Quota>(router: &Router, owner: &str) -> Result<Counts> {
    match ask::<Q>(router, owner, CountedCommand::Get).await? {
        CountedReply::Counts(counts) | CountedReply::Page { counts, .. } => Ok(counts),
    }
}

/// Up to `limit` of the ids `owner` has under quota `Q` after `after`, in
/// id order: a range read, as cheap for the 100,000th as for the first.
pub async fn owned_page<Q: Quota>(
    router: &Router,
    owner: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>> {
    let page = CountedCommand::Page {
        after: after.map(str::to_string),
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
    };
    match ask::<Q>(router, owner, page).await? {
        CountedReply::Page { items, .. } => Ok(items.into_iter().map(|(id, _)| id).collect()),
        other => Err(Error::unexpected_reply(&other)),
    }
}

/// Counts `id` against `owner`'s quota `Q` (403 `quota_exceeded` when it
/// is reached); idempotent for an id already counted.
pub async fn count<Q: Quota>(router: &Router, owner: &str, id: &str, limit: u64) -> Result<()> {
    let add = CountedCommand::Add {
        id: id.to_string(),
        amount: 1,
        bound: Bound::Count(limit),
    };
    ask::<Q>(router, owner, add).await.map(|_| ())
}

/// Counts `id` against `owner`'s quota `Q` (403 `quota_exceeded` when it
/// is reached), then runs `create`; if that fails, the count is undone.
pub async fn counted<Q: Quota, T>(
    router: &Router,
    owner: &str,
    id: &str,
    limit: u64,
    create: impl Future<Output = Result<T>>,
) -> Result<T> {
    count::<Q>(router, owner, id, limit).await?;
    match create.await {
        Ok(made) => Ok(made),
        Err(error) => {
            if let Err(undo) = uncount::<Q>(router, owner, id).await {
                tracing::warn!(%undo, quota = Q::NAME, "a failed creation stays counted");
            }
            Err(error)
        }
    }
}

/// `id` no longer counts against `owner`'s quota `Q`.
pub async fn uncount<Q: Quota>(router: &Router, owner: &str, id: &str) -> Result<()> {
    let remove = CountedCommand::Remove { id: id.to_string() };
    ask::<Q>(router, owner, remove).await.map(|_| ())
}

/// Counts `amount` for `id` against `owner`'s quota `Q` of a total.
pub async fn tally<Q: Quota>(router: &Router, owner: &str, id: &str, amount: u64, limit: u64) -> Result<()> {
    let add = CountedCommand::Add {
        id: id.to_string(),
        amount,
        bound: Bound::Total(limit),
    };
    ask::<Q>(router, owner, add).await.map(|_| ())
}

/// `id` no longer counts against `owner`'s total under quota `Q`.
pub async fn untally<Q: Quota>(router: &Router, owner: &str, id: &str) -> Result<()> {
    uncount::<Q>(router, owner, id).await
}

#[cfg(test)]
#[path = "quota_tests.rs"]
mod tests;
