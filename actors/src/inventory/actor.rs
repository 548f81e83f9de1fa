//! One entity per store × product: its stock and policy. Due holds
//! are returned before every command, so what it answers is always current;
//! its alarm wakes it when the earliest hold falls due, so expired
//! units return to stock even if nobody asks (also after a restart).

use super::model::{Ended, Policy, Shortage};
use super::model::{Held, StockItem, StockStatus};
use crate::error::Result;
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, Outcome};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StockCommand {
    Adjust {
        delta: i64,
        expires_at: Option<i64>,
    },
    SetPolicy(Policy),
    Get,
    /// Holds `quantity` units for hold `id` (one order line) for the
    /// policy's hold time, if the policy allows that quantity.
    /// Repeating it answers the same hold.
    Hold {
        id: String,
        quantity: u64,
    },
    /// Ends hold `id`: sold or returned to stock. Idempotent.
    End {
        id: String,
        how: Ended,
    },
    /// Ends hold `id` selling `sold` units and returning the rest.
    Settle {
        id: String,
        sold: u64,
    },
    /// Puts units of an approved return back, once per return line.
    Restock {
        return_line: String,
        quantity: u64,
    },
    /// The alarm: due holds expire.
    Wake,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockReply {
    Status(StockStatus),
    Holding(Held),
    Refused(Shortage),
    Done,
}

pub struct StockItems {
    pub clock: Arc<dyn Clock>,
}

impl Entity for StockItems {
    const KIND: &'static str = "stock";
    type State = StockItem;
    type Command = StockCommand;
    type Reply = StockReply;

    fn due(&self, state: &StockItem) -> Option<Millis> {
        state.stock.next_due()
    }

    fn wake(&self) -> Option<StockCommand> {
        Some(StockCommand::Wake)
    }

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
        let changed = !expired.is_empty();
        let status = |item: &StockItem| StockReply::Status(item.status(now));
        let answer = |item: StockItem, reply: StockReply| {
            if changed || state != Some(&item) {
                Outcome::write(item, reply)
            } else {
                Outcome::read(reply)
            }
        };
        Ok(match command {
            StockCommand::Adjust { delta, expires_at } => {
                item.stock = item.stock.adjust(delta, expires_at, now)?;
                let reply = status(&item);
                answer(item, reply)
            }
            StockCommand::SetPolicy(policy) => {
                policy.check()?;
                item.policy = Some(policy);
                let reply = status(&item);
                answer(item, reply)
            }
            StockCommand::Get => {
                let reply = status(&item);
                answer(item, reply)
            }
            StockCommand::Hold { id, quantity } => {
                let (next, held) = item.hold(&id, quantity, now);
                let reply = match held {
                    Ok(held) => StockReply::Holding(held),
                    Err(shortage) => StockReply::Refused(shortage),
                };
                answer(next, reply)
            }
            StockCommand::End { id, how } => {
                item.stock = item.stock.end(&id, how, now);
                answer(item, StockReply::Done)
            }
            StockCommand::Settle { id, sold } => {
                item.stock = item.stock.settle(&id, sold, now);
                answer(item, StockReply::Done)
            }
            StockCommand::Restock { return_line, quantity } => {
                item.stock = item.stock.restock(&return_line, quantity, now)?;
                answer(item, StockReply::Done)
            }
            StockCommand::Wake => answer(item, StockReply::Done),
        })
    }
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
