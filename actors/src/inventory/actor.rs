//! One entity per store × product: its stock and policy. Due reservations
//! are returned before every command, so what it answers is always current
//! even if nothing woke it when they fell due.

use super::model::{Policy, Stock, StockView};
use crate::error::Result;
use crate::ports::Clock;
use crate::runtime::{Entity, Outcome};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The key of the stock of `product_id` in `store_id`.
pub fn stock_key(store_id: &str, product_id: &str) -> String {
    format!("{store_id}/{product_id}")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockItem {
    pub stock: Stock,
    /// `None`: the defaults.
    pub policy: Option<Policy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReply {
    pub view: StockView,
    pub policy: Policy,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StockCommand {
    Adjust { delta: i64, expires_at: Option<i64> },
    SetPolicy(Policy),
    Get,
}

pub struct StockItems {
    pub clock: Arc<dyn Clock>,
}

impl Entity for StockItems {
    const KIND: &'static str = "stock";
    type State = StockItem;
    type Command = StockCommand;
    type Reply = StockReply;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&StockItem>,
        command: StockCommand,
    ) -> Result<Outcome<StockItem, StockReply>> {
        let now = self.clock.now();
        let mut item = state.cloned().unwrap_or_default();
        let (current, expired) = item.stock.expire(now);
        item.stock = current;
        let reply = |item: &StockItem| StockReply {
            view: item.stock.view(now),
            policy: item.policy.unwrap_or_default(),
        };
        match command {
            StockCommand::Adjust { delta, expires_at } => {
                item.stock = item.stock.adjust(delta, expires_at, now)?;
                Ok(Outcome::write(item.clone(), reply(&item)))
            }
            StockCommand::SetPolicy(policy) => {
                policy.check()?;
                item.policy = Some(policy);
                Ok(Outcome::write(item.clone(), reply(&item)))
            }
            StockCommand::Get if expired.is_empty() => Ok(Outcome::read(reply(&item))),
            StockCommand::Get => Ok(Outcome::write(item.clone(), reply(&item))),
        }
    }
}
