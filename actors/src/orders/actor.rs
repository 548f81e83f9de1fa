//! One entity per order. Its key is derived from the buyer and the
//! request's `Idempotency-Key`, so the entity itself is the idempotency
//! record: it remembers the request's hash, whether a placement is in
//! flight, and the order once placed.
//!
//! Stock steps a transition needs (selling or returning holds, restocking
//! returns) and index entries are written with the state as `pending`, then
//! carried out by [`OrderCommand::Flush`] (sent by the service right after)
//! or by the entity's alarm, until each has succeeded: a step never runs
//! before the transition that needs it is durable. Every step is
//! idempotent, so repeating one after a crash is harmless.

use super::index::{IndexCommand, OrderIndex};
use super::model::{ChargeUpdate, Decision, Order, PaymentOutcome, Return, ShipmentRequest, StockStep};
use crate::error::{Error, Result};
use crate::inventory::actor::{StockCommand, StockItems, stock_key};
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, Outcome, Router, WeakRouter};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};

/// A placement not confirmed within this time was abandoned (its process
/// died): its holds are released and the key may be used again.
pub const PLACING_LEASE: Millis = 60_000;
// Stock forgets ended holds long after a placement could still ask for one.
const _: () = assert!(crate::inventory::model::ENDED_KEPT >= 10 * PLACING_LEASE);
/// Pending steps that failed are tried again after this long.
pub const RETRY_AFTER: Millis = 1_000;

/// The order id for a buyer's idempotency key.
pub fn order_id(buyer: &str, idempotency_key: &str) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(format!("{buyer}\0{idempotency_key}").as_bytes());
    format!("ord_{hash:032x}")
}

/// The hold of line `index` in placement `attempt` of an order.
pub fn hold_id(order_id: &str, attempt: u32, index: usize) -> String {
    format!("{order_id}.{attempt}.{index}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    Stock(StockStep),
    /// Add the order to an index (`buyer:{id}` or `store:{id}`).
    Index {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Not placed; the key is free for another attempt with the same body.
    Open,
    /// A placement is reserving stock for these `(store, product)` lines.
    Placing {
        attempt: u32,
        since: Millis,
        lines: Vec<(String, String)>,
    },
    Placed(Box<Order>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub buyer: String,
    pub request_hash: u64,
    pub attempts: u32,
    pub phase: Phase,
    pub pending: Vec<Step>,
    pub retry_at: Millis,
}

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
    /// The attempt failed: its holds are released.
    Abort {
        attempt: u32,
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OrderReply {
    Attempt(u32),
    Order(Box<Order>),
    Paid(Box<Order>, PaymentOutcome),
    Done,
}

pub struct Orders {
    pub clock: Arc<dyn Clock>,
    pub router: Arc<OnceLock<WeakRouter>>,
}

fn placed(record: &OrderRecord) -> Result<&Order> {
    match &record.phase {
        Phase::Placed(order) => Ok(order),
        _ => Err(Error::not_found("order")),
    }
}

impl OrderRecord {
    /// Adds steps to carry out, due at once (the service flushes right
    /// after; the alarm is the safety net).
    fn with_steps(mut self, steps: impl IntoIterator<Item = Step>, now: Millis) -> Self {
        let before = self.pending.len();
        self.pending.extend(steps);
        if self.pending.len() > before {
            self.retry_at = now;
        }
        self
    }

    fn place(mut self, order: Order, now: Millis) -> Self {
        let mut names = vec![format!("buyer:{}", order.buyer)];
        names.extend(order.stores().into_iter().map(|s| format!("store:{s}")));
        self.phase = Phase::Placed(Box::new(order));
        self.with_steps(names.into_iter().map(|name| Step::Index { name }), now)
    }
}

/// The stock entity a step goes to, and the command it sends.
fn stock_command(step: &StockStep) -> (String, StockCommand) {
    match step {
        StockStep::Settle {
            store_id,
            product_id,
            hold,
            sold,
        } => (
            stock_key(store_id, product_id),
            StockCommand::Settle {
                id: hold.clone(),
                sold: *sold,
            },
        ),
        StockStep::Restock {
            store_id,
            product_id,
            return_line,
            quantity,
        } => (
            stock_key(store_id, product_id),
            StockCommand::Restock {
                return_line: return_line.clone(),
                quantity: *quantity,
            },
        ),
    }
}

fn stock(steps: Vec<StockStep>) -> impl Iterator<Item = Step> {
    steps.into_iter().map(Step::Stock)
}

impl Orders {
    fn router(&self) -> Result<Router> {
        self.router
            .get()
            .and_then(WeakRouter::upgrade)
            .ok_or_else(|| Error::internal("orders run without a router"))
    }

    /// Carries out pending steps; keeps those that failed.
    async fn flush(&self, key: &str, record: &mut OrderRecord, now: Millis) -> Result<()> {
        if record.pending.is_empty() {
            return Ok(());
        }
        let router = &self.router()?;
        let created_at = match &record.phase {
            Phase::Placed(order) => order.created_at,
            _ => now,
        };
        let steps = std::mem::take(&mut record.pending);
        let outcomes = futures::future::join_all(steps.iter().map(|step| async move {
            match step {
                Step::Stock(step) => {
                    let (key, command) = stock_command(step);
                    router.ask::<StockItems>(&key, command).await.map(|_| ())
                }
                Step::Index { name } => router
                    .ask::<OrderIndex>(name, IndexCommand::Add((created_at, key.to_string())))
                    .await
                    .map(|_| ()),
            }
        }))
        .await;
        for (step, outcome) in steps.into_iter().zip(outcomes) {
            if let Err(error) = outcome {
                tracing::warn!(order = key, %error, "an order step failed; it is retried");
                record.pending.push(step);
            }
        }
        record.retry_at = now + RETRY_AFTER;
        Ok(())
    }
}

impl Entity for Orders {
    const KIND: &'static str = "order";
    type State = OrderRecord;
    type Command = OrderCommand;
    type Reply = OrderReply;

    fn due(&self, record: &OrderRecord) -> Option<Millis> {
        let pending = (!record.pending.is_empty()).then_some(record.retry_at);
        let phase = match &record.phase {
            Phase::Open => None,
            Phase::Placing { since, .. } => Some(since + PLACING_LEASE),
            Phase::Placed(order) => order.next_expiry(),
        };
        pending.into_iter().chain(phase).min()
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
            return begin(state, buyer, request_hash, lines, now);
        }
        let Some(record) = state else {
            return Err(Error::not_found("order"));
        };
        let mut next = record.clone();
        // Only steps already persisted are carried out, never those a
        // command is about to write: a step must not happen unless the
        // transition that needs it is durable.
        if matches!(command, OrderCommand::Flush | OrderCommand::Wake) {
            self.flush(key, &mut next, now).await?;
        }
        // Holds that ended unpaid expire before anything else is looked at.
        if let Phase::Placed(order) = &record.phase {
            let (current, steps) = order.expire(now);
            if !steps.is_empty() {
                next.phase = Phase::Placed(Box::new(current));
                next = next.with_steps(stock(steps), now);
            }
        }
        let reply = match command {
            OrderCommand::Begin { .. } => return Err(Error::internal("Begin is answered before this match")),
            OrderCommand::Confirm { attempt, order } => match &next.phase {
                Phase::Placing { attempt: a, .. } if *a == attempt => {
                    next = next.place(*order, now);
                    OrderReply::Order(Box::new(placed(&next)?.clone()))
                }
                Phase::Placed(order) => OrderReply::Order(order.clone()),
                _ => return Err(abandoned()),
            },
            OrderCommand::Abort { attempt } => {
                if let Phase::Placing { attempt: a, .. } = &next.phase
                    && *a == attempt
                {
                    next = release_attempt(next, key, now);
                }
                OrderReply::Done
            }
            OrderCommand::Flush => OrderReply::Done,
            OrderCommand::Wake => {
                if let Phase::Placing { since, .. } = &next.phase
                    && since + PLACING_LEASE <= now
                {
                    next = release_attempt(next, key, now);
                }
                OrderReply::Done
            }
            OrderCommand::Get => OrderReply::Order(Box::new(placed(&next)?.clone())),
            OrderCommand::Cancel { buyer } => {
                let order = placed(&next)?;
                if order.buyer != buyer {
                    return Err(Error::not_found("order"));
                }
                let (order, steps) = order.cancel(now)?;
                next.phase = Phase::Placed(Box::new(order.clone()));
                next = next.with_steps(stock(steps), now);
                OrderReply::Order(Box::new(order))
            }
            OrderCommand::Pay { charge_id, update } => {
                let (order, steps, outcome) = placed(&next)?.pay(&charge_id, update, now);
                next.phase = Phase::Placed(Box::new(order.clone()));
                next = next.with_steps(stock(steps), now);
                OrderReply::Paid(Box::new(order), outcome)
            }
            OrderCommand::Ship { store_id, shipment } => {
                let (order, _) = placed(&next)?.ship(&store_id, shipment, now)?;
                next.phase = Phase::Placed(Box::new(order.clone()));
                OrderReply::Order(Box::new(order))
            }
            OrderCommand::Deliver { store_id, shipment_id } => {
                let order = placed(&next)?.deliver(&store_id, &shipment_id, now)?;
                next.phase = Phase::Placed(Box::new(order.clone()));
                OrderReply::Order(Box::new(order))
            }
            OrderCommand::RequestReturn { buyer, ret } => {
                let order = placed(&next)?;
                if order.buyer != buyer {
                    return Err(Error::not_found("order"));
                }
                let order = match order.returns.iter().find(|r| r.id == ret.id) {
                    Some(done) if done.request_hash == ret.request_hash => order.clone(),
                    Some(_) => return Err(key_reused()),
                    None => order.request_return(ret, now)?,
                };
                next.phase = Phase::Placed(Box::new(order.clone()));
                OrderReply::Order(Box::new(order))
            }
            OrderCommand::Decide {
                store_id,
                return_id,
                decisions,
            } => {
                let (order, steps) = placed(&next)?.decide(&store_id, &return_id, &decisions, now)?;
                next.phase = Phase::Placed(Box::new(order.clone()));
                next = next.with_steps(stock(steps), now);
                OrderReply::Order(Box::new(order))
            }
        };
        Ok(if &next == record {
            Outcome::read(reply)
        } else {
            Outcome::write(next, reply)
        })
    }
}

fn abandoned() -> Error {
    Error::unavailable(
        "placement_abandoned",
        "the order took too long to place; please retry with the same key",
        1,
    )
}

pub fn key_reused() -> Error {
    Error::invalid("Idempotency-Key", "this key was already used with a different request")
}

/// The current attempt gave up: its holds go back and the key is free.
fn release_attempt(mut record: OrderRecord, key: &str, now: Millis) -> OrderRecord {
    if let Phase::Placing { attempt, lines, .. } = std::mem::replace(&mut record.phase, Phase::Open) {
        let steps: Vec<Step> = lines
            .into_iter()
            .enumerate()
            .map(|(i, (store_id, product_id))| {
                Step::Stock(StockStep::Settle {
                    store_id,
                    product_id,
                    hold: hold_id(key, attempt, i),
                    sold: 0,
                })
            })
            .collect();
        record = record.with_steps(steps, now);
    }
    record
}

fn begin(
    state: Option<&OrderRecord>,
    buyer: String,
    request_hash: u64,
    lines: Vec<(String, String)>,
    now: Millis,
) -> Result<Outcome<OrderRecord, OrderReply>> {
    let fresh = OrderRecord {
        buyer: buyer.clone(),
        request_hash,
        attempts: 0,
        phase: Phase::Open,
        pending: Vec::new(),
        retry_at: now,
    };
    let record = state.cloned().unwrap_or(fresh);
    if record.buyer != buyer || record.request_hash != request_hash {
        return Err(key_reused());
    }
    match &record.phase {
        Phase::Placed(order) => Ok(Outcome::read(OrderReply::Order(order.clone()))),
        Phase::Placing { .. } => Err(Error::conflict(
            "request_in_flight",
            "an order with this Idempotency-Key is being placed; retry shortly",
        )),
        Phase::Open => {
            let attempt = record.attempts + 1;
            let next = OrderRecord {
                attempts: attempt,
                phase: Phase::Placing {
                    attempt,
                    since: now,
                    lines,
                },
                ..record
            };
            Ok(Outcome::write(next, OrderReply::Attempt(attempt)))
        }
    }
}
