//! Storefront flows, called by the edge.

use super::actor::{FX_RATES, FxCommand, FxRates, StoreCommand, Stores, SupervisorCommand, Supervisors};
use super::model::{self, StaffWindow, Store, StoreSpec};
use crate::error::{Error, Result};
use crate::identity::actor::{UserCommand, UserReply, Users};
use crate::identity::model::access::quota;
use crate::money::RateSet;
use crate::ports::Clock;
use crate::runtime::{Router, RuntimeBuilder};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone)]
pub struct Storefront {
    router: Router,
    clock: Arc<dyn Clock>,
}

impl Storefront {
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        builder
            .register(Arc::new(Stores { clock: clock.clone() }))
            .register(Arc::new(Supervisors))
            .register(Arc::new(FxRates { clock }))
    }

    pub fn new(router: Router, clock: Arc<dyn Clock>) -> Self {
        Self { router, clock }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Creates a store supervised by `caller`, within their `max_stores`.
    pub async fn create(&self, caller: &str, max_stores: u64, spec: StoreSpec) -> Result<Store> {
        // Validate before counting against the quota.
        Store::create(String::new(), caller, &spec, 0)?;
        let id = ulid::Ulid::new().to_string();
        let add = SupervisorCommand::Add {
            store: id.clone(),
            limit: max_stores,
        };
        self.router.ask::<Supervisors>(caller, add).await?;
        let create = StoreCommand::Create {
            supervisor: caller.to_string(),
            spec,
        };
        match self.router.ask::<Stores>(&id, create).await {
            Ok(store) => Ok(store),
            Err(e) => {
                let _ = self
                    .router
                    .ask::<Supervisors>(caller, SupervisorCommand::Remove { store: id })
                    .await;
                Err(e)
            }
        }
    }

    pub async fn get(&self, id: &str) -> Result<Store> {
        self.router.ask::<Stores>(id, StoreCommand::Get).await
    }

    pub async fn update(&self, caller: &str, id: &str, spec: StoreSpec) -> Result<Store> {
        let command = StoreCommand::Update {
            caller: caller.to_string(),
            spec,
        };
        self.router.ask::<Stores>(id, command).await
    }

    pub async fn set_staff(&self, caller: &str, id: &str, user: &str, window: Option<StaffWindow>) -> Result<Store> {
        let command = StoreCommand::SetStaff {
            caller: caller.to_string(),
            user: user.to_string(),
            window,
        };
        self.router.ask::<Stores>(id, command).await
    }

    pub async fn set_hours(&self, caller: &str, id: &str, week: &[(u8, String, String)]) -> Result<Store> {
        let command = StoreCommand::SetHours {
            caller: caller.to_string(),
            hours: model::week(week)?,
        };
        self.router.ask::<Stores>(id, command).await
    }

    /// Hands a store to `to`, who must exist and have `max_stores` left.
    pub async fn transfer(&self, caller: &str, id: &str, to: &str) -> Result<Store> {
        self.get(id).await?.check_supervisor(caller)?;
        let target = match self.router.ask::<Users>(to, UserCommand::Get).await {
            Ok(UserReply::User(user)) => user,
            Ok(_) => return Err(Error::internal("unexpected reply")),
            Err(Error::NotFound { .. }) => return Err(Error::invalid("user_id", "no user has this id")),
            Err(e) => return Err(e),
        };
        let limit = quota(&target.quotas(), "max_stores");
        let add = SupervisorCommand::Add {
            store: id.to_string(),
            limit,
        };
        self.router
            .ask::<Supervisors>(to, add)
            .await
            .map_err(|e| match e.code() {
                "quota_exceeded" => Error::conflict(
                    "target_quota_exceeded",
                    format!("the new supervisor cannot take it: {e}"),
                ),
                _ => e,
            })?;
        let command = StoreCommand::Transfer {
            caller: caller.to_string(),
            to: to.to_string(),
        };
        match self.router.ask::<Stores>(id, command).await {
            Ok(store) => {
                self.router
                    .ask::<Supervisors>(caller, SupervisorCommand::Remove { store: id.to_string() })
                    .await?;
                Ok(store)
            }
            Err(e) => {
                let _ = self
                    .router
                    .ask::<Supervisors>(to, SupervisorCommand::Remove { store: id.to_string() })
                    .await;
                Err(e)
            }
        }
    }

    /// Publishes a new set of exchange rates; older sets stay readable.
    pub async fn publish_rates(&self, base: &str, rates: BTreeMap<String, String>) -> Result<RateSet> {
        let command = FxCommand::Publish {
            base: base.to_string(),
            rates,
        };
        self.router.ask::<FxRates>(FX_RATES, command).await
    }

    pub async fn current_rates(&self) -> Result<RateSet> {
        self.router.ask::<FxRates>(FX_RATES, FxCommand::Current).await
    }

    pub async fn rates(&self, id: u64) -> Result<RateSet> {
        self.router.ask::<FxRates>(FX_RATES, FxCommand::Get { id }).await
    }
}
