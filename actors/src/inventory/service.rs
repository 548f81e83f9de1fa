//! Stock: what store staff do through the edge (counts and policies), and
//! what other domains ask of it — orders hold units for their lines, settle
//! the holds and restock returns.

use super::actor::{StockCommand, StockItems, StockReply};
use super::model::{Held, Policy, Shortage, StockStatus, stock_key};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::ports::Clock;
use crate::runtime::{Router, RuntimeBuilder};
use crate::storefront::Storefront;
use std::sync::Arc;

#[derive(Clone)]
pub struct Inventory {
    router: Router,
    storefront: Storefront,
    catalog: Catalog,
    clock: Arc<dyn Clock>,
}

impl Inventory {
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        let context = builder.context();
        builder.register(Arc::new(StockItems { clock, context }))
    }

    pub fn new(router: Router, storefront: Storefront, catalog: Catalog, clock: Arc<dyn Clock>) -> Self {
        Self {
            router,
            storefront,
            catalog,
            clock,
        }
    }

    /// The caller must be the store's supervisor or staff now, and the
    /// product must exist.
    async fn check(&self, caller: &str, store_id: &str, product_id: &str) -> Result<()> {
        let store = self.storefront.get(store_id).await?;
        store.check_staff(caller, self.clock.now())?;
        if !self.catalog.product_exists(product_id).await? {
            return Err(Error::invalid("product_id", "no product has this id"));
        }
        Ok(())
    }

    async fn ask(&self, store_id: &str, product_id: &str, command: StockCommand) -> Result<StockStatus> {
        let key = stock_key(store_id, product_id);
        expect_reply!(self.router.ask::<StockItems>(&key, command).await?, StockReply::Status(status) => status)
    }

    /// Adds (`delta > 0`, optionally in a batch expiring at `expires_at`) or
    /// removes units nobody holds.
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

    /// Asks the stock of `product_id` in `store_id` to hold `quantity`
    /// units for the order line `hold` (see [`super::model::StockItem::hold`]).
    /// Takes the caller's router: an entity that asks holds only a weak one.
    pub async fn hold(
        router: &Router,
        store_id: &str,
        product_id: &str,
        hold: &str,
        quantity: u64,
    ) -> Result<std::result::Result<Held, Shortage>> {
        let command = StockCommand::Hold {
            id: hold.to_string(),
            quantity,
        };
        match router
            .ask::<StockItems>(&stock_key(store_id, product_id), command)
            .await?
        {
            StockReply::Holding(held) => Ok(Ok(held)),
            StockReply::Refused(shortage) => Ok(Err(shortage)),
            other => Err(Error::unexpected_reply(&other)),
        }
    }

    /// Ends the hold, selling `sold` of its units and returning the rest.
    /// Idempotent; ending a hold that never arrived makes it refuse later.
    pub async fn settle(router: &Router, store_id: &str, product_id: &str, hold: &str, sold: u64) -> Result<()> {
        let command = StockCommand::Settle {
            id: hold.to_string(),
            sold,
        };
        Self::tell(router, store_id, product_id, command).await
    }

    /// Puts `quantity` units of an approved return line back, once.
    pub async fn restock(
        router: &Router,
        store_id: &str,
        product_id: &str,
        return_line: &str,
        quantity: u64,
    ) -> Result<()> {
        let command = StockCommand::Restock {
            return_line: return_line.to_string(),
            quantity,
        };
        Self::tell(router, store_id, product_id, command).await
    }

    async fn tell(router: &Router, store_id: &str, product_id: &str, command: StockCommand) -> Result<()> {
        let key = stock_key(store_id, product_id);
        router.ask::<StockItems>(&key, command).await.map(|_| ())
    }

    /// Tests of other domains: stock up (`Some(units)`) or read the counts
    /// (`None`) without a store.
    #[cfg(test)]
    pub(crate) async fn stock_up(router: &Router, store_id: &str, product_id: &str, units: Option<i64>) -> StockStatus {
        let command = match units {
            Some(delta) => StockCommand::Adjust {
                delta,
                expires_at: None,
            },
            None => StockCommand::Get,
        };
        match router
            .ask::<StockItems>(&stock_key(store_id, product_id), command)
            .await
        {
            Ok(StockReply::Status(status)) => status,
            other => panic!("{other:?}"),
        }
    }
}
