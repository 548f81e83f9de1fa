//! Stock and policy flows, called by the edge. Store staff only.

use super::actor::{StockCommand, StockItems, StockReply, StockStatus, stock_key};
use super::model::Policy;
use crate::catalog::actor::{ProductCommand, Products};
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::runtime::{Router, RuntimeBuilder};
use crate::storefront::actor::{StoreCommand, Stores};
use std::sync::Arc;

#[derive(Clone)]
pub struct Inventory {
    router: Router,
    clock: Arc<dyn Clock>,
}

impl Inventory {
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        builder.register(Arc::new(StockItems { clock }))
    }

    pub fn new(router: Router, clock: Arc<dyn Clock>) -> Self {
        Self { router, clock }
    }

    /// The caller must be the store's supervisor or staff now, and the
    /// product must exist.
    async fn check(&self, caller: &str, store_id: &str, product_id: &str) -> Result<()> {
        let store = self.router.ask::<Stores>(store_id, StoreCommand::Get).await?;
        store.check_staff(caller, self.clock.now())?;
        let unknown = || Error::invalid("product_id", "no product has this id");
        match self.router.ask::<Products>(product_id, ProductCommand::Get).await {
            Ok(p) if !p.deleted => Ok(()),
            Ok(_) | Err(Error::NotFound { .. }) => Err(unknown()),
            Err(e) => Err(e),
        }
    }

    async fn ask(&self, store_id: &str, product_id: &str, command: StockCommand) -> Result<StockStatus> {
        match self
            .router
            .ask::<StockItems>(&stock_key(store_id, product_id), command)
            .await?
        {
            StockReply::Status(status) => Ok(status),
            other => Err(Error::internal(format!("stock answered {other:?}"))),
        }
    }

    /// Adds (`delta > 0`, optionally in a batch expiring at `expires_at`) or
    /// removes unreserved units.
    pub async fn adjust(
        &self,
        caller: &str,
        store_id: &str,
        product_id: &str,
        delta: i64,
        expires_at: Option<i64>,
    ) -> Result<StockStatus> {
        self.check(caller, store_id, product_id).await?;
        self.ask(store_id, product_id, StockCommand::Adjust { delta, expires_at })
            .await
    }

    pub async fn stock(&self, caller: &str, store_id: &str, product_id: &str) -> Result<StockStatus> {
        self.check(caller, store_id, product_id).await?;
        self.ask(store_id, product_id, StockCommand::Get).await
    }

    pub async fn set_policy(
        &self,
        caller: &str,
        store_id: &str,
        product_id: &str,
        policy: Policy,
    ) -> Result<StockStatus> {
        policy.check()?;
        self.check(caller, store_id, product_id).await?;
        self.ask(store_id, product_id, StockCommand::SetPolicy(policy)).await
    }
}
