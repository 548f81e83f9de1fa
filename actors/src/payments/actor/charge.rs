//! The charge entity (`payments/record.rs` decides).

use super::PaymentContext;
use super::funds::{FundsCommand, FundsEntity};
use super::ledger::{LedgerCommand, LedgerEntity};
use crate::error::{Error, Result};
use crate::orders::Orders;
use crate::payments::funds::earnings_of;
use crate::payments::model::ChargeStatus;
use crate::payments::ports::{CreateRefund, ProcessorError};
use crate::payments::record::{AuthorizationStep, Charge, Intent};
use crate::ports::Millis;
use crate::runtime::{Entity, Outcome, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ChargeCommand {
    /// Records the intent (once; the same charge answers a repeat).
    Create(Box<Intent>),
    /// Carries out what the record asks for: first the processor, then
    /// (once that answer is durable) the order, the ledger and any refund.
    Work,
    /// The alarm: `Work`, and a charge not settled asks its processor.
    Wake,
    /// An authorization is looked at against its order now (after a
    /// shipment or a cancellation): captured or voided if it must be.
    Review,
    /// A webhook event about the charge: its state is read back from the
    /// processor and applied with the event's id in one write.
    Webhook {
        event_id: String,
    },
    Get,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ChargeReply {
    Charge(Box<Charge>),
}

/// One per charge.
pub struct ChargeEntity(pub PaymentContext);

impl ChargeEntity {
    /// Sends the creation (again, with the same key), or reads the payment
    /// back: what the processor says now, and whether it answered (an
    /// unknown outcome changes nothing but the retry count).
    async fn ask_processor(&self, charge: &Charge, now: Millis) -> Result<(Charge, bool)> {
        let processor = self.0.processors.adapter(&charge.intent.processor)?;
        let answer = match (&charge.processor_payment_id, charge.must_send()) {
            (Some(id), false) => processor.get(id).await,
            _ => processor.create(charge.request.clone()).await,
        };
        Ok(match answer {
            Ok(payment) => (charge.observe(&payment, now), true),
            Err(ProcessorError::Unknown(why)) => {
                tracing::warn!(
                    charge = charge.intent.charge_id,
                    why,
                    "processor outcome unknown; asked again later"
                );
                let mut next = charge.clone();
                if next.must_send() {
                    next = next.send_failed(&ProcessorError::Unknown(why), now);
                }
                next.retries = charge.retries + 1;
                (next, false)
            }
            Err(error @ ProcessorError::Refused { .. }) => {
                if let ProcessorError::Refused { code, .. } = &error
                    && code == "idempotency_error"
                {
                    tracing::error!(
                        charge = charge.intent.charge_id,
                        "the processor saw our key with another request: a bug; never retried with a new key"
                    );
                }
                if charge.must_send() {
                    (charge.send_failed(&error, now), true)
                } else {
                    // A read refused (the payment is unknown there): the
                    // record stands; the sweep asks again.
                    (charge.clone(), false)
                }
            }
        })
    }

    /// Each store in a succeeded charge earns its share (idempotent).
    async fn tell_stores(router: &Router, charge: &Charge) -> Result<()> {
        let order = Orders::read_with(router, &charge.intent.order_id).await?;
        for (store, earned) in earnings_of(charge, &order)? {
            router
                .ask::<FundsEntity>(&store, FundsCommand::Earn(Box::new(earned)))
                .await?;
        }
        Ok(())
    }

    /// The steps after a durable change: the order, then any refund of
    /// what it could not take, then the ledger. Failed steps stay pending.
    async fn follow_up(&self, charge: &Charge) -> Result<(Charge, bool)> {
        let router = self.0.context.router()?;
        let mut next = charge.clone();
        let mut failed = false;
        let charge_id = &charge.intent.charge_id;
        // The order and the ledger learn at once (neither needs the other).
        let tell_order = async {
            match charge.order_update().filter(|_| charge.must_tell_order()) {
                Some(update) => Some((
                    update.version,
                    Orders::tell_payment(&router, &charge.intent.order_id, charge_id, update).await,
                )),
                None => None,
            }
        };
        // The stores learn what a success earned them before the ledger
        // does (the ledger allows refunds only then).
        let tell_ledger = async {
            let settle = LedgerCommand::Settle {
                charge_id: charge_id.clone(),
                status: charge.status,
            };
            if !charge.must_tell_ledger() {
                return None;
            }
            if charge.status == ChargeStatus::Succeeded
                && let Err(error) = Self::tell_stores(&router, charge).await
            {
                return Some(Err(error));
            }
            Some(router.ask::<LedgerEntity>(&charge.intent.order_id, settle).await)
        };
        let (order, ledger) = futures::join!(tell_order, tell_ledger);
        match ledger {
            Some(Ok(_)) => next.told_ledger = Some(charge.status),
            Some(Err(error)) => {
                tracing::warn!(charge = charge_id, %error, "the ledger learns later");
                failed = true;
            }
            None => {}
        }
        match order {
            Some((version, Ok((order, _)))) => {
                let took = order.payments.get(charge_id);
                let refused: Vec<(String, String)> = charge
                    .intent
                    .lines
                    .iter()
                    .filter(|_| version < 3)
                    .filter(|l| took.and_then(|t| t.paid.get(&l.line_id)).copied().unwrap_or(0) < l.quantity)
                    .map(|l| {
                        let status = order.line(&l.line_id).map_or("unknown", |o| o.status.as_str());
                        (l.line_id.clone(), format!("line is {status}"))
                    })
                    .collect();
                next = next.order_told(version, &refused)?;
            }
            Some((_, Err(error))) => {
                tracing::warn!(charge = charge_id, %error, "the order learns of the payment later");
                failed = true;
            }
            None => {}
        }
        if next.must_refund()
            && let (Some(auto), Some(payment_id)) = (&next.auto_refund, &next.processor_payment_id)
        {
            let request = CreateRefund {
                payment_id: payment_id.clone(),
                amount_minor: auto.amount_minor,
                idempotency_key: next.auto_refund_key(),
                metadata: BTreeMap::from([("charge_id".to_string(), charge_id.clone())]),
            };
            match self.0.processors.adapter(&next.intent.processor)?.refund(request).await {
                Ok(refund) => next = next.refunded(refund),
                Err(error) => {
                    tracing::warn!(charge = charge_id, ?error, "the automatic refund is tried again later");
                    failed = true;
                }
            }
        }
        Ok((next, failed))
    }

    /// An authorization looked at against its order: captured once a line
    /// of it shipped, voided when the order was cancelled or its time is up.
    async fn review(&self, charge: &Charge, now: Millis) -> Result<Charge> {
        let router = self.0.context.router()?;
        let order = Orders::read_with(&router, &charge.intent.order_id).await?;
        let (Some(step), Some(payment_id)) = (charge.authorization_step(&order, now), &charge.processor_payment_id)
        else {
            return Ok(charge.clone());
        };
        let processor = self.0.processors.adapter(&charge.intent.processor)?;
        let answer = match &step {
            AuthorizationStep::Capture(amount) => {
                let part = (*amount < charge.request.amount_minor).then_some(*amount);
                processor.capture(payment_id, part, &charge.capture_key()).await
            }
            AuthorizationStep::Void(_) => processor.cancel(payment_id, &charge.void_key()).await,
        };
        let mut next = charge.clone();
        match answer {
            Ok(payment) => {
                next = next.observe(&payment, now);
                if let AuthorizationStep::Void(reason) = step
                    && next.status == ChargeStatus::Canceled
                {
                    next.void_reason = Some(reason);
                }
                next.retries = 0;
            }
            Err(error) => {
                tracing::warn!(
                    charge = charge.intent.charge_id,
                    ?error,
                    "an authorization is looked at again later"
                );
                next.retries = charge.retries + 1;
            }
        }
        Ok(next)
    }

    /// One round of work on a durable record.
    async fn work(&self, charge: &Charge, wake: bool, now: Millis) -> Result<Charge> {
        let every = self.0.reconcile_every;
        if charge.must_send() {
            crate::faults::pause_point("charge.intent_persisted");
            let (mut next, answered) = self.ask_processor(charge, now).await?;
            if answered {
                crate::faults::pause_point("charge.processor_answered");
            }
            if answered {
                next.retries = 0;
            }
            return Ok(next.scheduled(now, every));
        }
        if charge.has_steps() {
            let (mut next, failed) = self.follow_up(charge).await?;
            next.retries = if failed { charge.retries + 1 } else { 0 };
            return Ok(next.scheduled(now, every));
        }
        if wake && charge.next_check.is_some_and(|at| at <= now) {
            let mut next = if charge.status.is_final() {
                charge.clone()
            } else {
                self.ask_processor(charge, now).await?.0
            };
            if next.status == ChargeStatus::Authorized && !next.has_steps() {
                next = self.review(&next, now).await?;
            }
            return Ok(next.scheduled(now, every));
        }
        Ok(charge.clone())
    }
}

impl Entity for ChargeEntity {
    const KIND: &'static str = "charge";
    type State = Charge;
    type Command = ChargeCommand;
    type Reply = ChargeReply;

    fn due(&self, charge: &Charge) -> Option<Millis> {
        charge.next_check
    }

    fn wake(&self) -> Option<ChargeCommand> {
        Some(ChargeCommand::Wake)
    }

    async fn handle(
        &self,
        _key: &str,
        state: Option<&Charge>,
        command: ChargeCommand,
    ) -> Result<Outcome<Charge, ChargeReply>> {
        let now = self.0.clock.now();
        let reply = |c: &Charge| ChargeReply::Charge(Box::new(c.clone()));
        if let ChargeCommand::Create(intent) = command {
            return Ok(match state {
                Some(existing) => Outcome::read(reply(existing)),
                None => {
                    self.0.processors.get(&intent.processor)?;
                    let charge = Charge::new(*intent, now, self.0.reconcile_every, self.0.authorization)?;
                    Outcome::write(charge.clone(), reply(&charge))
                }
            });
        }
        let Some(charge) = state else {
            return Err(Error::not_found("charge"));
        };
        let next = match command {
            ChargeCommand::Create(_) | ChargeCommand::Get => charge.clone(),
            ChargeCommand::Work => self.work(charge, false, now).await?,
            ChargeCommand::Wake => self.work(charge, true, now).await?,
            ChargeCommand::Review => {
                if charge.status == ChargeStatus::Authorized && !charge.has_steps() {
                    self.review(charge, now).await?.scheduled(now, self.0.reconcile_every)
                } else {
                    charge.clone()
                }
            }
            ChargeCommand::Webhook { event_id } => {
                if charge.seen(&event_id) {
                    charge.clone()
                } else {
                    let (read, answered) = self.ask_processor(charge, now).await?;
                    if !answered {
                        return Err(Error::unavailable(
                            "processor_unavailable",
                            "the processor could not be asked; send the event again",
                            5,
                        ));
                    }
                    if read == *charge {
                        // Nothing to apply: the event needs no record (a
                        // repeat reads back the same and changes nothing).
                        charge.clone()
                    } else {
                        read.with_event(&event_id).scheduled(now, self.0.reconcile_every)
                    }
                }
            }
        };
        Ok(if next == *charge {
            Outcome::read(reply(charge))
        } else if next.only_struck_from(charge) {
            // Lost in a crash, these marks only mean telling the order or
            // the ledger again, which is idempotent.
            Outcome::write_quietly(next.clone(), reply(&next))
        } else {
            Outcome::write(next.clone(), reply(&next))
        })
    }
}
