//! Storefront entities: one per store, and one per supervisor counting their
//! stores against the `max_stores` quota.

use super::model::{Hours, PendingTransfer, StaffWindow, Store, StoreSpec};
use super::offers::Offer;
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::quota::Quota;
use crate::runtime::{Entity, Outcome};
use crate::shared::money::RateSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Stores {
    pub clock: Arc<dyn Clock>,
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
}

impl Entity for Stores {
    const KIND: &'static str = "store";
    type State = Store;
    type Command = StoreCommand;
    type Reply = Store;

    async fn handle(&self, key: &str, state: Option<&Store>, command: StoreCommand) -> Result<Outcome<Store, Store>> {
        let now = self.clock.now();
        let put = |s: Store| Ok(Outcome::put(s));
        match (command, state) {
            (StoreCommand::Create { supervisor, spec }, None) => {
                put(Store::create(key.to_string(), &supervisor, &spec, now)?)
            }
            (StoreCommand::Create { supervisor, .. }, Some(s)) if s.supervisor_id == supervisor => {
                Ok(Outcome::read(s.clone()))
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
            (StoreCommand::SetOffer { caller, offer }, Some(s)) => {
                s.check_staff(&caller, now)?;
                put(s.with_offer(offer, now)?)
            }
            (StoreCommand::RemoveOffer { caller, product_id }, Some(s)) => {
                s.check_staff(&caller, now)?;
                put(s.without_offer(&product_id, now)?)
            }
            (StoreCommand::Transfer { caller, to }, Some(s)) => {
                s.check_supervisor(&caller)?;
                put(s.with_supervisor(&to, now)?)
            }
            (StoreCommand::Get, Some(s)) => Ok(Outcome::read(s.clone())),
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
}

pub const FX_RATES: &str = "rates";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxHistory {
    pub sets: Vec<RateSet>,
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
    type State = FxHistory;
    type Command = FxCommand;
    type Reply = RateSet;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&FxHistory>,
        command: FxCommand,
    ) -> Result<Outcome<FxHistory, RateSet>> {
        let empty = FxHistory::default();
        let history = state.unwrap_or(&empty);
        let none = || Error::not_found("exchange rates");
        match command {
            FxCommand::Publish { base, rates } => {
                let id = history.sets.last().map_or(1, |s| s.id + 1);
                let set = RateSet::parse(id, &base, &rates, self.clock.now())?;
                let mut next = history.clone();
                next.sets.push(set.clone());
                Ok(Outcome::write(next, set))
            }
            FxCommand::Current => history.sets.last().cloned().map(Outcome::read).ok_or_else(none),
            FxCommand::Get { id } => history
                .sets
                .iter()
                .find(|s| s.id == id)
                .cloned()
                .map(Outcome::read)
                .ok_or_else(none),
        }
    }
}
