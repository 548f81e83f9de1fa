//! The refund entity (`payments/refund.rs` decides).

use super::PaymentContext;
use super::charge::{ChargeCommand, ChargeEntity, ChargeReply};
use super::funds::{FundsCommand, FundsEntity};
use super::ledger::{LedgerCommand, LedgerEntity};
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::orders::Orders;
use crate::payments::ledger::RefundClaim;
use crate::payments::ports::{CreateRefund, ProcessorError, RefundStatus};
use crate::payments::record::Charge;
use crate::payments::refund::RefundRecord;
use crate::ports::Millis;
use crate::runtime::{Entity, Outcome, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RefundCommand {
    Create { order_id: String, claim: Box<RefundClaim> },
    Work,
    Wake,
    Get,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RefundReply {
    Refund(Box<RefundRecord>),
}

/// One per refund.
pub struct RefundEntity(pub PaymentContext);

impl RefundEntity {
    async fn charge(router: &Router, charge_id: &str) -> Result<Charge> {
        expect_reply!(
            router.ask::<ChargeEntity>(charge_id, ChargeCommand::Get).await?,
            ChargeReply::Charge(c) => *c
        )
    }

    /// The store learns how each part of a settled refund ended: one that
    /// succeeded gives back the store's part of what its charge refunded;
    /// one that failed makes its charge payable again (idempotent per
    /// refund and charge).
    async fn tell_store(router: &Router, record: &RefundRecord) -> Result<()> {
        let currency = &record.claim.currency;
        let cause = record.claim.refund_id.clone();
        for part in &record.parts {
            let succeeded = part.refused.is_none()
                && part
                    .refund
                    .as_ref()
                    .is_some_and(|r| r.status == RefundStatus::Succeeded);
            let command = match succeeded {
                true => {
                    let amount = crate::shared::money::Money::stored(&part.amount, currency)?;
                    FundsCommand::Refunded {
                        cause: cause.clone(),
                        charge_id: part.charge_id.clone(),
                        amount: crate::payments::minor::to_minor(amount.amount(), currency)?,
                        lines: part.lines.iter().map(|l| (l.line_id.clone(), l.quantity)).collect(),
                    }
                }
                false => FundsCommand::RefundFailed {
                    cause: cause.clone(),
                    charge_id: part.charge_id.clone(),
                },
            };
            router.ask::<FundsEntity>(&record.claim.store_id, command).await?;
        }
        Ok(())
    }

    /// Sends every open part to its processor, then tells the ledger.
    async fn work(&self, record: &RefundRecord, now: Millis) -> Result<RefundRecord> {
        let router = self.0.context.router()?;
        let mut next = record.clone();
        let mut failed = false;
        let refund_id = record.claim.refund_id.clone();
        for part in next.parts.iter_mut().filter(|p| p.open()) {
            // The store holds the charge's payout until the refund settles
            // (its share is not known before): told first, every round
            // while open (idempotent).
            let pending = FundsCommand::RefundPending {
                cause: refund_id.clone(),
                charge_id: part.charge_id.clone(),
            };
            if let Err(error) = router.ask::<FundsEntity>(&record.claim.store_id, pending).await {
                tracing::warn!(refund = refund_id, %error, "the store is told of the refund later");
                failed = true;
                continue;
            }
            if part.payment_id.is_none() {
                match Self::charge(&router, &part.charge_id).await {
                    Ok(charge) => {
                        part.processor = Some(charge.intent.processor.clone());
                        part.payment_id = charge.processor_payment_id.clone();
                    }
                    Err(error) => {
                        tracing::warn!(refund = refund_id, %error, "the charge of a refund is read later");
                        failed = true;
                        continue;
                    }
                }
            }
            let (Some(processor), Some(payment_id)) = (&part.processor, &part.payment_id) else {
                part.refused = Some("the charge has no payment at its processor".into());
                continue;
            };
            let adapter = self.0.processors.adapter(processor)?;
            let answer = match &part.refund {
                Some(done) => adapter.get_refund(&done.id).await,
                None => {
                    let currency = &record.claim.currency;
                    let amount = crate::shared::money::Money::stored(&part.amount, currency)?;
                    adapter
                        .refund(CreateRefund {
                            payment_id: payment_id.clone(),
                            amount_minor: crate::payments::minor::to_minor(amount.amount(), currency)?,
                            idempotency_key: part.key(&refund_id),
                            metadata: BTreeMap::from([("refund_id".to_string(), refund_id.clone())]),
                        })
                        .await
                }
            };
            match answer {
                Ok(refund) => part.refund = Some(refund),
                Err(ProcessorError::Refused { code, message }) => {
                    tracing::warn!(refund = refund_id, code, "the processor refused a refund");
                    part.refused = Some(format!("{code}: {message}"));
                }
                Err(ProcessorError::Unknown(why)) => {
                    tracing::warn!(refund = refund_id, why, "refund outcome unknown; asked again later");
                    failed = true;
                }
            }
        }
        let mut store_told = true;
        if next.must_tell_ledger() && next.status() != RefundStatus::Pending {
            let told = Self::tell_store(&router, &next).await;
            if let Err(error) = told {
                tracing::warn!(refund = refund_id, %error, "the store learns of the refund later");
                failed = true;
                store_told = false;
            }
        }
        if next.must_tell_ledger() && store_told {
            let status = next.status();
            let settle = LedgerCommand::RefundSettled {
                refund_id: refund_id.clone(),
                failed: status == RefundStatus::Failed,
            };
            match router.ask::<LedgerEntity>(&record.order_id, settle).await {
                Ok(_) => next.told_ledger = Some(status),
                Err(error) => {
                    tracing::warn!(refund = refund_id, %error, "the ledger learns later");
                    failed = true;
                }
            }
        }
        if next.must_tell_order() {
            match Orders::tell_refund(&router, &record.order_id, &refund_id, next.units()).await {
                Ok(()) => next.told_order = true,
                Err(error) => {
                    tracing::warn!(refund = refund_id, %error, "the order learns of the refund later");
                    failed = true;
                }
            }
        }
        next.retries = if failed { record.retries + 1 } else { 0 };
        if next != *record {
            next.updated_at = now;
        }
        Ok(next.scheduled(now))
    }
}

impl Entity for RefundEntity {
    const KIND: &'static str = "refund";
    type State = RefundRecord;
    type Command = RefundCommand;
    type Reply = RefundReply;

    fn due(&self, record: &RefundRecord) -> Option<Millis> {
        record.next_check
    }

    fn wake(&self) -> Option<RefundCommand> {
        Some(RefundCommand::Wake)
    }

    async fn handle(
        &self,
        _key: &str,
        state: Option<&RefundRecord>,
        command: RefundCommand,
    ) -> Result<Outcome<RefundRecord, RefundReply>> {
        let now = self.0.clock.now();
        let reply = |r: &RefundRecord| RefundReply::Refund(Box::new(r.clone()));
        if let RefundCommand::Create { order_id, claim } = command {
            return Ok(match state {
                Some(existing) => Outcome::read(reply(existing)),
                None => {
                    let record = RefundRecord::new(&order_id, *claim, now);
                    Outcome::write(record.clone(), reply(&record))
                }
            });
        }
        let Some(record) = state else {
            return Err(Error::not_found("refund"));
        };
        let next = match command {
            RefundCommand::Create { .. } | RefundCommand::Get => record.clone(),
            RefundCommand::Work | RefundCommand::Wake => {
                if record.has_steps() {
                    self.work(record, now).await?
                } else {
                    record.clone()
                }
            }
        };
        Ok(if next == *record {
            Outcome::read(reply(record))
        } else {
            Outcome::write(next.clone(), reply(&next))
        })
    }
}
