//! The per-order ledger entity (`payments/ledger.rs` decides).

use super::PaymentContext;
use super::charge::{ChargeCommand, ChargeEntity, ChargeReply};
use super::refund::{RefundCommand, RefundEntity, RefundReply};
use crate::error::Result;
use crate::orders::model::Order;
use crate::payments::charge::ChargeLine;
use crate::payments::ledger::{Claim, Ledger, Opened, RefundClaim, Refunding};
use crate::payments::model::ChargeStatus;
use crate::payments::ports::RefundStatus;
use crate::payments::record::Intent;
use crate::ports::Millis;
use crate::runtime::{Entity, Outcome};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LedgerCommand {
    Open {
        order: Box<Order>,
        intent: Box<Intent>,
        asked: Option<Vec<ChargeLine>>,
        request_hash: u64,
        limit: u64,
    },
    Settle {
        charge_id: String,
        status: ChargeStatus,
    },
    AskRefund {
        order: Box<Order>,
        refund_id: String,
        request_hash: u64,
        store_id: String,
        lines: Vec<ChargeLine>,
        reason: String,
    },
    RefundSettled {
        refund_id: String,
        failed: bool,
    },
    Get,
    Wake,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LedgerReply {
    Claim(Box<Claim>),
    Refund(Box<RefundClaim>),
    Ledger(Box<Ledger>),
    Done,
}

/// One per order: the single writer of its charges' claims and refunds.
pub struct LedgerEntity(pub PaymentContext);

impl LedgerEntity {
    /// Creates the charges and refunds whose creation was cut short.
    async fn deliver(&self, order_id: &str, ledger: &Ledger, now: Millis) -> Ledger {
        let mut next = ledger.clone();
        let Ok(router) = self.0.context.router() else {
            return next;
        };
        for claim in ledger.undelivered(now) {
            let create = ChargeCommand::Create(Box::new(claim.intent.clone()));
            match router.ask::<ChargeEntity>(&claim.intent.charge_id, create).await {
                Ok(ChargeReply::Charge(charge)) => {
                    if let Some(settled) = next.settle(&claim.intent.charge_id, charge.status) {
                        next = settled;
                    }
                }
                Err(error) => tracing::warn!(order = order_id, %error, "a charge is created again later"),
            }
        }
        for claim in ledger.undelivered_refunds(now) {
            let create = RefundCommand::Create {
                order_id: order_id.to_string(),
                claim: Box::new(claim.clone()),
            };
            match router.ask::<RefundEntity>(&claim.refund_id, create).await {
                Ok(RefundReply::Refund(refund)) => {
                    let failed = refund.status() == RefundStatus::Failed;
                    if let Some(settled) = next.refund_settled(&claim.refund_id, failed) {
                        next = settled;
                    }
                }
                Err(error) => tracing::warn!(order = order_id, %error, "a refund is created again later"),
            }
        }
        next
    }
}

impl Entity for LedgerEntity {
    const KIND: &'static str = "payment_ledger";
    type State = Ledger;
    type Command = LedgerCommand;
    type Reply = LedgerReply;

    fn due(&self, ledger: &Ledger) -> Option<Millis> {
        ledger.due()
    }

    fn wake(&self) -> Option<LedgerCommand> {
        Some(LedgerCommand::Wake)
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&Ledger>,
        command: LedgerCommand,
    ) -> Result<Outcome<Ledger, LedgerReply>> {
        let now = self.0.clock.now();
        let empty = Ledger::default();
        let ledger = state.unwrap_or(&empty);
        let changed = |next: Option<Ledger>| match next {
            Some(next) => Outcome::write(next, LedgerReply::Done),
            None => Outcome::read(LedgerReply::Done),
        };
        Ok(match command {
            LedgerCommand::Open {
                order,
                intent,
                asked,
                request_hash,
                limit,
            } => match ledger.open(&order, *intent, asked.as_deref(), request_hash, limit, now)? {
                Opened::Replay(claim) => Outcome::read(LedgerReply::Claim(claim)),
                Opened::New(claim, next) => Outcome::write(next, LedgerReply::Claim(claim)),
            },
            LedgerCommand::Settle { charge_id, status } => changed(ledger.settle(&charge_id, status)),
            LedgerCommand::AskRefund {
                order,
                refund_id,
                request_hash,
                store_id,
                lines,
                reason,
            } => match ledger.ask_refund(&order, &refund_id, request_hash, &store_id, &lines, &reason, now)? {
                Refunding::Replay(claim) => Outcome::read(LedgerReply::Refund(claim)),
                Refunding::New(claim, next) => Outcome::write(next, LedgerReply::Refund(claim)),
            },
            LedgerCommand::RefundSettled { refund_id, failed } => changed(ledger.refund_settled(&refund_id, failed)),
            LedgerCommand::Get => Outcome::read(LedgerReply::Ledger(Box::new(ledger.clone()))),
            LedgerCommand::Wake => {
                let next = self.deliver(key, ledger, now).await;
                changed((next != *ledger).then_some(next))
            }
        })
    }
}
