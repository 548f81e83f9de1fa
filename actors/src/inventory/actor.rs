//! One entity per store × product: its stock and policy. Due reservations
//! are returned before every command, so what it answers is always current;
//! its alarm wakes it when the earliest reservation falls due, so expired
//! units return to stock even if nobody asks (also after a restart).

use super::model::{Ended, MINUTE, Policy, Shortage, Stock, StockView};
use crate::error::Result;
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, Outcome};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A hold outlives the time its order is told by this much: the order
/// expires its lines at `until` and settles them (selling what was paid just
/// in time); the stock's own expiry is the safety net for holds whose order
/// never came to be.
pub const HOLD_GRACE: Millis = 5 * MINUTE;

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

/// What staff see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockStatus {
    pub view: StockView,
    pub policy: Policy,
}

/// Units held for an order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub quantity: u64,
    pub until: Millis,
    pub warranty_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StockCommand {
    Adjust {
        delta: i64,
        expires_at: Option<i64>,
    },
    SetPolicy(Policy),
    Get,
    /// Holds `quantity` units for reservation `id` (one order line) for the
    /// policy's reservation time, if the policy allows that quantity.
    /// Repeating it answers the same hold.
    Reserve {
        id: String,
        quantity: u64,
    },
    /// Ends reservation `id`: sold or returned to stock. Idempotent.
    End {
        id: String,
        how: Ended,
    },
    /// Ends reservation `id` selling `sold` units and returning the rest.
    Settle {
        id: String,
        sold: u64,
    },
    /// Puts units of an approved return back, once per return line.
    Restock {
        return_line: String,
        quantity: u64,
    },
    /// The alarm: due reservations expire.
    Wake,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockReply {
    Status(StockStatus),
    Reserved(Held),
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
        let policy = item.policy.unwrap_or_default();
        let status = |item: &StockItem| {
            StockReply::Status(StockStatus {
                view: item.stock.view(now),
                policy: item.policy.unwrap_or_default(),
            })
        };
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
            StockCommand::Reserve { id, quantity } => {
                let reply = match item.stock.reservations.get(&id) {
                    Some(held) => StockReply::Reserved(Held {
                        quantity: held.quantity,
                        until: held.until - HOLD_GRACE,
                        warranty_days: policy.warranty_days,
                    }),
                    None if item.stock.ended.contains_key(&id) => StockReply::Refused(Shortage {
                        reason: "reservation_ended".into(),
                        available: item.stock.available(now),
                    }),
                    None => match policy.refuses(quantity) {
                        Some(reason) => StockReply::Refused(Shortage {
                            reason: format!("policy: {reason}"),
                            available: item.stock.available(now),
                        }),
                        None => {
                            let until = now + i64::from(policy.reservation_minutes) * MINUTE;
                            match item.stock.reserve(&id, quantity, until + HOLD_GRACE, now) {
                                Ok(next) => {
                                    item.stock = next;
                                    StockReply::Reserved(Held {
                                        quantity,
                                        until,
                                        warranty_days: policy.warranty_days,
                                    })
                                }
                                Err(shortage) => StockReply::Refused(shortage),
                            }
                        }
                    },
                };
                answer(item, reply)
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
