//! Things a user owns, counted against one of their quotas (`max_products`,
//! `max_stores`). Kept by one entity per owner and quota, so the count is
//! exact; [`counted`] is the one "count, create, undo" flow every domain
//! uses to create something that counts.

use crate::error::{Error, Result};
use crate::runtime::{Entity, Outcome, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::future::Future;
use std::marker::PhantomData;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    pub ids: BTreeSet<String>,
}

impl Owned {
    /// Counts `id` against `limit` of the quota named `quota`; idempotent for
    /// an id already counted.
    pub fn with(&self, id: &str, limit: u64, quota: &str) -> Result<Self> {
        if self.ids.contains(id) {
            return Ok(self.clone());
        }
        if self.ids.len() as u64 >= limit {
            return Err(Error::forbidden(
                "quota_exceeded",
                format!("quota {quota} reached: limit {limit}, usage {}", self.ids.len()),
            ));
        }
        let mut next = self.clone();
        next.ids.insert(id.to_string());
        Ok(next)
    }

    pub fn without(&self, id: &str) -> Self {
        let mut next = self.clone();
        next.ids.remove(id);
        next
    }
}

/// A quota some things count against: its name, and the entity kind
/// that keeps each owner's things.
pub trait Quota: Send + Sync + 'static {
    /// The entity kind (stored under it: never change it).
    const KIND: &'static str;
    /// The quota's name, e.g. `max_products`.
    const NAME: &'static str;
}

/// One entity per owner: the things they own under quota `Q`.
pub struct Owners<Q>(PhantomData<Q>);

impl<Q> Default for Owners<Q> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OwnedCommand {
    /// Counts `id` against `limit`; idempotent.
    Add {
        id: String,
        limit: u64,
    },
    Remove {
        id: String,
    },
    Get,
}

impl<Q: Quota> Entity for Owners<Q> {
    const KIND: &'static str = Q::KIND;
    type State = Owned;
    type Command = OwnedCommand;
    type Reply = Owned;

    async fn handle(&self, _key: &str, state: Option<&Owned>, command: OwnedCommand) -> Result<Outcome<Owned, Owned>> {
        let empty = Owned::default();
        let owned = state.unwrap_or(&empty);
        match command {
            OwnedCommand::Add { id, limit } => Ok(Outcome::put(owned.with(&id, limit, Q::NAME)?)),
            OwnedCommand::Remove { id } => Ok(Outcome::put(owned.without(&id))),
            OwnedCommand::Get => Ok(Outcome::read(owned.clone())),
        }
    }
}

/// What `owner` owns under quota `Q`.
pub async fn owned<Q: Quota>(router: &Router, owner: &str) -> Result<Owned> {
    router.ask::<Owners<Q>>(owner, OwnedCommand::Get).await
}

/// Counts `id` against `owner`'s quota `Q` (403 `quota_exceeded` when it
/// is reached); idempotent for an id already counted.
pub async fn count<Q: Quota>(router: &Router, owner: &str, id: &str, limit: u64) -> Result<()> {
    let add = OwnedCommand::Add {
        id: id.to_string(),
        limit,
    };
    router.ask::<Owners<Q>>(owner, add).await.map(|_| ())
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
    let remove = OwnedCommand::Remove { id: id.to_string() };
    router.ask::<Owners<Q>>(owner, remove).await.map(|_| ())
}

/// Amounts per item counted against a quota of their total (the units a
/// buyer's open orders hold, say), one entity per owner.
pub struct Tallies<Q>(PhantomData<Q>);

impl<Q> Default for Tallies<Q> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub items: std::collections::BTreeMap<String, u64>,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.items.values().fold(0u64, |t, a| t.saturating_add(*a))
    }

    /// Counts `amount` for `id` within `limit` of the quota `quota`;
    /// idempotent for an id already counted.
    pub fn with(&self, id: &str, amount: u64, limit: u64, quota: &str) -> Result<Self> {
        if self.items.contains_key(id) {
            return Ok(self.clone());
        }
        let total = self.total();
        if total.saturating_add(amount) > limit {
            return Err(Error::forbidden(
                "quota_exceeded",
                format!("quota {quota} reached: limit {limit}, usage {total}, asked {amount}"),
            ));
        }
        let mut next = self.clone();
        next.items.insert(id.to_string(), amount);
        Ok(next)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TallyCommand {
    Add { id: String, amount: u64, limit: u64 },
    Remove { id: String },
}

impl<Q: Quota> Entity for Tallies<Q> {
    const KIND: &'static str = Q::KIND;
    type State = Tally;
    type Command = TallyCommand;
    type Reply = Tally;

    async fn handle(&self, _key: &str, state: Option<&Tally>, command: TallyCommand) -> Result<Outcome<Tally, Tally>> {
        let empty = Tally::default();
        let tally = state.unwrap_or(&empty);
        match command {
            TallyCommand::Add { id, amount, limit } => Ok(Outcome::put(tally.with(&id, amount, limit, Q::NAME)?)),
            TallyCommand::Remove { id } if tally.items.contains_key(&id) => {
                let mut next = tally.clone();
                next.items.remove(&id);
                Ok(Outcome::put(next))
            }
            TallyCommand::Remove { .. } => Ok(Outcome::read(tally.clone())),
        }
    }
}

/// Counts `amount` for `id` against `owner`'s quota `Q` of a total.
pub async fn tally<Q: Quota>(router: &Router, owner: &str, id: &str, amount: u64, limit: u64) -> Result<()> {
    let add = TallyCommand::Add {
        id: id.to_string(),
        amount,
        limit,
    };
    router.ask::<Tallies<Q>>(owner, add).await.map(|_| ())
}

/// `id` no longer counts against `owner`'s total under quota `Q`.
pub async fn untally<Q: Quota>(router: &Router, owner: &str, id: &str) -> Result<()> {
    let remove = TallyCommand::Remove { id: id.to_string() };
    router.ask::<Tallies<Q>>(owner, remove).await.map(|_| ())
}

#[cfg(test)]
#[path = "quota_tests.rs"]
mod tests;
