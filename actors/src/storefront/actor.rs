//! Storefront entities: one per store, and one per supervisor counting their
//! stores against the `max_stores` quota.

use super::model::{Hours, PendingTransfer, StaffWindow, Store, StoreSpec, StoreV1};
use super::offers::Offer;
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::quota::Quota;
use crate::runtime::{Entity, EntityContext, MemberWrite, Outcome, decode, encode};
use crate::shared::money::RateSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Stores {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StoreCommand {
    /// Idempotent for the same supervisor (a retried create).
    Create {
        supervisor: String,
        spec: StoreSpec,
    },
    Update {
        caller: String,
        spec: StoreSpec,
    },
    SetStaff {
        caller: String,
        user: String,
        window: Option<StaffWindow>,
    },
    SetHours {
        caller: String,
        hours: Vec<Hours>,
    },
    /// Sets the offer for one product (supervisor or staff).
    SetOffer {
        caller: String,
        offer: Offer,
    },
    RemoveOffer {
        caller: String,
        product_id: String,
    },
    /// Hand the store to `to` (whose quota the service has counted).
    Transfer {
        caller: String,
        to: String,
    },
    Get,
    /// The store and its offer for one product, if any.
    GetOffer {
        product_id: String,
    },
    /// Up to `limit` offers after product `after`, by product id.
    Offers {
        after: Option<String>,
        limit: u32,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StoreReply {
    Store(Store),
    Offer(Store, Option<Offer>),
    Offers(Vec<Offer>),
}

fn offer_member(offer: &Offer) -> Result<MemberWrite> {
    Ok((offer.product_id.clone(), Some(encode(offer)?)))
}

impl Entity for Stores {
    const KIND: &'static str = "store";
    /// 2: the offers are member records.
    const SCHEMA_VERSION: u32 = 2;
    type State = Store;
    type Command = StoreCommand;
    type Reply = StoreReply;

    fn upgrade_members(schema_version: u32, body: &[u8]) -> Result<Option<(Store, Vec<MemberWrite>)>> {
        if schema_version != 1 {
            return Ok(None);
        }
        let (store, offers) = decode::<StoreV1>(body)?.upgraded();
        let members = offers.values().map(offer_member).collect::<Result<_>>()?;
        Ok(Some((store, members)))
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&Store>,
        command: StoreCommand,
    ) -> Result<Outcome<Store, StoreReply>> {
        let now = self.clock.now();
        let put = |s: Store| Ok(Outcome::write(s.clone(), StoreReply::Store(s)));
        let offer = |product_id: &str| self.context.members(Self::KIND, key)?.decoded::<Offer>(product_id);
        match (command, state) {
            (StoreCommand::Create { supervisor, spec }, None) => {
                put(Store::create(key.to_string(), &supervisor, &spec, now)?)
            }
            (StoreCommand::Create { supervisor, .. }, Some(s)) if s.supervisor_id == supervisor => {
                Ok(Outcome::read(StoreReply::Store(s.clone())))
            }
            (StoreCommand::Create { .. }, Some(_)) => {
                Err(Error::conflict("store_exists", "a store with this id exists"))
            }
            (_, None) => Err(Error::not_found("store")),
            (StoreCommand::Update { caller, spec }, Some(s)) => {
                s.check_supervisor(&caller)?;
                put(s.with_spec(&spec, now)?)
            }
            (StoreCommand::SetStaff { caller, user, window }, Some(s)) => {
                s.check_supervisor(&caller)?;
                put(s.with_staff(&user, window, now)?)
            }
            (StoreCommand::SetHours { caller, hours }, Some(s)) => {
                s.check_supervisor(&caller)?;
                put(s.with_hours(hours, now))
            }
            (StoreCommand::SetOffer { caller, offer: new }, Some(s)) => {
                s.check_staff(&caller, now)?;
                let next = s.with_offer(offer(&new.product_id)?.is_some(), now)?;
                Ok(put(next)?.with_members(vec![offer_member(&new)?]))
            }
            (StoreCommand::RemoveOffer { caller, product_id }, Some(s)) => {
                s.check_staff(&caller, now)?;
                let next = s.without_offer(offer(&product_id)?.is_some(), now)?;
                Ok(put(next)?.with_members(vec![(product_id, None)]))
            }
            (StoreCommand::Transfer { caller, to }, Some(s)) => {
                s.check_supervisor(&caller)?;
                put(s.with_supervisor(&to, now)?)
            }
            (StoreCommand::Get, Some(s)) => Ok(Outcome::read(StoreReply::Store(s.clone()))),
            (StoreCommand::GetOffer { product_id }, Some(s)) => {
                Ok(Outcome::read(StoreReply::Offer(s.clone(), offer(&product_id)?)))
            }
            (StoreCommand::Offers { after, limit }, Some(_)) => {
                let offers = self
                    .context
                    .members(Self::KIND, key)?
                    .page(after.as_deref(), limit as usize)?
                    .into_iter()
                    .map(|(_, v)| decode(&v))
                    .collect::<Result<_>>()?;
                Ok(Outcome::read(StoreReply::Offers(offers)))
            }
        }
    }
}

/// Transfers offered and not yet accepted, one entity per store.
pub struct Transfers;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TransferCommand {
    Offer(PendingTransfer),
    Get,
    Clear,
}

impl Entity for Transfers {
    const KIND: &'static str = "store_transfer";
    type State = PendingTransfer;
    type Command = TransferCommand;
    type Reply = Option<PendingTransfer>;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&PendingTransfer>,
        command: TransferCommand,
    ) -> Result<Outcome<PendingTransfer, Option<PendingTransfer>>> {
        Ok(match command {
            TransferCommand::Offer(pending) => Outcome::write(pending.clone(), Some(pending)),
            TransferCommand::Get => Outcome::read(state.cloned()),
            TransferCommand::Clear if state.is_some() => Outcome::delete(None),
            TransferCommand::Clear => Outcome::read(None),
        })
    }
}

/// The stores a user supervises, counted against `max_stores`.
pub struct StoreQuota;

impl Quota for StoreQuota {
    const KIND: &'static str = "store_supervisor";
    const NAME: &'static str = "max_stores";
}

/// Every published set of exchange rates, kept with its time so that an
/// order can snapshot one. One entity (`fx_rates/rates`).
pub struct FxRates {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
}

pub const FX_RATES: &str = "rates";

/// The current set; every set ever published is a member record (by id,
/// zero-padded so that member order is id order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxHistory {
    pub current: Option<RateSet>,
}

/// The history as schema version 1 stored it: every set inside.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FxHistoryV1 {
    pub sets: Vec<RateSet>,
}

/// The member name of rate set `id`.
fn rate_set_key(id: u64) -> String {
    format!("{id:020}")
}

fn rate_set_member(set: &RateSet) -> Result<MemberWrite> {
    Ok((rate_set_key(set.id), Some(encode(set)?)))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FxCommand {
    Publish {
        base: String,
        rates: BTreeMap<String, String>,
    },
    Current,
    Get {
        id: u64,
    },
}

impl Entity for FxRates {
    const KIND: &'static str = "fx_rates";
    /// 2: every set is a member record.
    const SCHEMA_VERSION: u32 = 2;
    type State = FxHistory;
    type Command = FxCommand;
    type Reply = RateSet;

    fn upgrade_members(schema_version: u32, body: &[u8]) -> Result<Option<(FxHistory, Vec<MemberWrite>)>> {
        if schema_version != 1 {
            return Ok(None);
        }
        let v1: FxHistoryV1 = decode(body)?;
        let members = v1.sets.iter().map(rate_set_member).collect::<Result<_>>()?;
        let current = v1.sets.into_iter().last();
        Ok(Some((FxHistory { current }, members)))
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&FxHistory>,
        command: FxCommand,
    ) -> Result<Outcome<FxHistory, RateSet>> {
        let none = || Error::not_found("exchange rates");
        let current = state.and_then(|h| h.current.as_ref());
        match command {
            FxCommand::Publish { base, rates } => {
                let id = current.map_or(1, |s| s.id + 1);
                let set = RateSet::parse(id, &base, &rates, self.clock.now())?;
                let member = rate_set_member(&set)?;
                let next = FxHistory {
                    current: Some(set.clone()),
                };
                Ok(Outcome::write(next, set).with_members(vec![member]))
            }
            FxCommand::Current => current.cloned().map(Outcome::read).ok_or_else(none),
            FxCommand::Get { id } => {
                let members = self.context.members(Self::KIND, key)?;
                let set: RateSet = members.decoded(&rate_set_key(id))?.ok_or_else(none)?;
                Ok(Outcome::read(set))
            }
        }
    }
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
