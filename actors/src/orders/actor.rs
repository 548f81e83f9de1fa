//! One entity per order: thin. It loads the [`OrderRecord`], carries out
//! the steps the record left pending (stock and index messages) on
//! [`OrderCommand::Flush`] (sent by the service right after a change) or
//! when its alarm rings, asks the record (`record.rs`, pure) for the
//! transition, and saves what that returns.

use super::index::{IndexCommand, OrderIndex};
use super::model::{ChargeUpdate, Decision, Order, PaymentOutcome, Return, ShipmentRequest, StockStep};
use super::record::{Begun, HeldUnits, OpenOrders, OrderRecordV1, OrderRecordV2, Step};
pub use super::record::{OrderRecord, hold_id, key_reused, order_id};
use super::refunds::{ReturnRefund, ReturnRefunds};
use super::sales_book::{SalesCommand, StoreSales};
use crate::error::{Error, Result};
use crate::inventory::Inventory;
use crate::ports::{Clock, Millis};
use crate::quota;
use crate::runtime::{Entity, EntityContext, Outcome, Router, decode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OrderCommand {
    /// Starts (or resumes) placing: answers the attempt to use, or the
    /// order if it was placed already.
    Begin {
        buyer: String,
        request_hash: u64,
        lines: Vec<(String, String)>,
    },
    Confirm {
        attempt: u32,
        order: Box<Order>,
    },
    /// The attempt failed: the holds it may have taken are released (not
    /// those of the lines in `untaken`).
    Abort {
        attempt: u32,
        untaken: Vec<usize>,
    },
    Flush,
    Wake,
    Get,
    Cancel {
        buyer: String,
    },
    Pay {
        charge_id: String,
        update: ChargeUpdate,
    },
    Ship {
        store_id: String,
        shipment: ShipmentRequest,
    },
    Deliver {
        store_id: String,
        shipment_id: String,
    },
    RequestReturn {
        buyer: String,
        ret: Return,
    },
    Decide {
        store_id: String,
        return_id: String,
        decisions: Vec<Decision>,
    },
    /// A refund gave back the money of these units (idempotent per refund).
    Refunded {
        refund_id: String,
        units: BTreeMap<String, u64>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OrderReply {
    Attempt(u32),
    Order(Box<Order>),
    Paid(Box<Order>, PaymentOutcome),
    Done,
}

pub struct OrderEntity {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
    /// `[orders] placement_lease_ms`.
    pub lease: Millis,
    /// Gives back the money of returned units (the payments domain).
    pub refunds: Arc<dyn ReturnRefunds>,
}

/// Carries out one stock step through the inventory's service.
async fn stock_step(router: &Router, step: &StockStep) -> Result<()> {
    match step {
        StockStep::Settle {
            store_id,
            product_id,
            hold,
            sold,
        } => Inventory::settle(router, store_id, product_id, hold, *sold).await,
        StockStep::Restock {
            store_id,
            product_id,
            return_line,
            quantity,
        } => Inventory::restock(router, store_id, product_id, return_line, *quantity).await,
    }
}

impl OrderEntity {
    /// Carries out pending steps; answers those that failed.
    async fn flush(&self, key: &str, record: &OrderRecord, now: Millis) -> Result<Vec<Step>> {
        let router = &self.context.router()?;
        let created_at = record.placed().map_or(now, |order| order.created_at);
        let outcomes = futures::future::join_all(record.pending.iter().map(|step| async move {
            match step {
                Step::Stock(step) => stock_step(router, step).await,
                Step::Close { buyer } => {
                    quota::untally::<HeldUnits>(router, buyer, key).await?;
                    quota::uncount::<OpenOrders>(router, buyer, key).await
                }
                Step::Index { name } => router
                    .ask::<OrderIndex>(name, IndexCommand::Add((created_at, key.to_string())))
                    .await
                    .map(|_| ()),
                Step::Refund {
                    return_id,
                    store_id,
                    line_id,
                    units,
                } => {
                    let order = record.placed()?.clone();
                    let refund = ReturnRefund {
                        return_id: return_id.clone(),
                        store_id: store_id.clone(),
                        line_id: line_id.clone(),
                        units: *units,
                    };
                    self.refunds.refund(order, refund).await
                }
                Step::Sales { store_id, figure } => {
                    let apply = SalesCommand::Apply {
                        order_id: key.to_string(),
                        created_at,
                        figure: figure.clone(),
                        if_absent: false,
                    };
                    router.ask::<StoreSales>(store_id, apply).await.map(|_| ())
                }
            }
        }))
        .await;
        let mut failed = Vec::new();
        for (step, outcome) in record.pending.iter().zip(outcomes) {
            if let Err(error) = outcome {
                tracing::warn!(order = key, %error, "an order step failed; it is retried");
                failed.push(step.clone());
            }
        }
        Ok(failed)
    }
}

impl Entity for OrderEntity {
    const KIND: &'static str = "order";
    /// 2: the record counts failed flushes in a row (backoff); 3: the
    /// order keeps its refunds.
    const SCHEMA_VERSION: u32 = 3;
    type State = OrderRecord;
    type Command = OrderCommand;
    type Reply = OrderReply;

    fn upgrade(schema_version: u32, body: &[u8]) -> Result<OrderRecord> {
        match schema_version {
            1 => Ok(decode::<OrderRecordV1>(body)?.into()),
            2 => Ok(decode::<OrderRecordV2>(body)?.into()),
            v => Err(Error::internal(format!("order: no upgrade from schema version {v}"))),
        }
    }

    fn due(&self, record: &OrderRecord) -> Option<Millis> {
        record.due(self.lease)
    }

    fn wake(&self) -> Option<OrderCommand> {
        Some(OrderCommand::Wake)
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&OrderRecord>,
        command: OrderCommand,
    ) -> Result<Outcome<OrderRecord, OrderReply>> {
        let now = self.clock.now();
        if let OrderCommand::Begin {
            buyer,
            request_hash,
            lines,
        } = command
        {
            return Ok(match OrderRecord::begin(state, &buyer, request_hash, lines, now)? {
                Begun::Placed(order) => Outcome::read(OrderReply::Order(order)),
                Begun::Attempt(n, record) => Outcome::write(record, OrderReply::Attempt(n)),
            });
        }
        let Some(record) = state else {
            return Err(Error::not_found("order"));
        };
        let mut next = record.clone();
        // Only steps already persisted are carried out, never those a
        // command is about to write: a step must not happen unless the
        // transition that needs it is durable.
        if matches!(command, OrderCommand::Flush | OrderCommand::Wake) && !next.pending.is_empty() {
            let failed = self.flush(key, &next, now).await?;
            next = next.flushed(failed, now);
        }
        // Striking carried-out steps from the list need not be durable
        // before the answer: lost in a crash, they are carried out again
        // (each is idempotent).
        let only_steps_struck = matches!(command, OrderCommand::Flush) && next.pending.len() < record.pending.len();
        let next = next.expire(now);
        let order = |(record, order): (OrderRecord, Order)| (record, OrderReply::Order(Box::new(order)));
        let (next, reply) = match command {
            OrderCommand::Begin { .. } => return Err(Error::internal("Begin is answered before this match")),
            OrderCommand::Confirm { attempt, order: placed } => order(next.confirm(attempt, *placed, now)?),
            OrderCommand::Abort { attempt, untaken } => (next.abort(key, attempt, &untaken, now), OrderReply::Done),
            OrderCommand::Flush => (next, OrderReply::Done),
            OrderCommand::Wake => (next.wake(key, now, self.lease), OrderReply::Done),
            OrderCommand::Get => {
                let placed = next.placed()?.clone();
                order((next, placed))
            }
            OrderCommand::Cancel { buyer } => order(next.cancel(&buyer, now)?),
            OrderCommand::Pay { charge_id, update } => {
                let (next, paid, outcome) = next.pay(&charge_id, update, now)?;
                (next, OrderReply::Paid(Box::new(paid), outcome))
            }
            OrderCommand::Ship { store_id, shipment } => order(next.ship(&store_id, shipment, now)?),
            OrderCommand::Deliver { store_id, shipment_id } => order(next.deliver(&store_id, &shipment_id, now)?),
            OrderCommand::RequestReturn { buyer, ret } => order(next.request_return(&buyer, ret, now)?),
            OrderCommand::Decide {
                store_id,
                return_id,
                decisions,
            } => order(next.decide(&store_id, &return_id, &decisions, now)?),
            OrderCommand::Refunded { refund_id, units } => order(next.refunded(&refund_id, &units, now)?),
        };
        Ok(if &next == record {
            Outcome::read(reply)
        } else if only_steps_struck && next.phase == record.phase {
            Outcome::write_quietly(next, reply)
        } else {
            Outcome::write(next, reply)
        })
    }
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
