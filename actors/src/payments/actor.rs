//! The payment entities, thin: one per order's ledger (`ledger.rs` decides),
//! one per charge (`record.rs`), one per refund (`refund.rs`). Each carries
//! out the steps its persisted record asks for — calls to the processor,
//! messages to the order and the ledger — and saves what the pure rules
//! make of the answers. Steps run only from a durable record: on
//! `Work` (sent by the service right after a change) or when the entity's
//! alarm rings (the reconcile sweep).

use super::charge::ChargeLine;
use super::ledger::{Claim, Ledger, Opened, RefundClaim, Refunding};
use super::model::ChargeStatus;
use super::ports::{CreateRefund, ProcessorError, RefundStatus};
use super::processors::Processors;
use super::record::{AuthorizationStep, Charge, Intent};
use super::refund::RefundRecord;
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::orders::Orders;
use crate::orders::model::Order;
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, EntityContext, Outcome, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What every payment entity kind holds.
#[derive(Clone)]
pub struct PaymentContext {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
    pub processors: Processors,
    /// `[payments] reconcile_every_secs`, in ms.
    pub reconcile_every: Millis,
    /// `[payments] authorization_days`, in ms.
    pub authorization: Millis,
}

// ---------------------------------------------------------------- ledger

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

// ---------------------------------------------------------------- charge

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
        let tell_ledger = async {
            let settle = LedgerCommand::Settle {
                charge_id: charge_id.clone(),
                status: charge.status,
            };
            match charge.must_tell_ledger() {
                true => Some(router.ask::<LedgerEntity>(&charge.intent.order_id, settle).await),
                false => None,
            }
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

// ---------------------------------------------------------------- refund

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

    /// Sends every open part to its processor, then tells the ledger.
    async fn work(&self, record: &RefundRecord, now: Millis) -> Result<RefundRecord> {
        let router = self.0.context.router()?;
        let mut next = record.clone();
        let mut failed = false;
        let refund_id = record.claim.refund_id.clone();
        for part in next.parts.iter_mut().filter(|p| p.open()) {
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
                            amount_minor: super::minor::to_minor(amount.amount(), currency)?,
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
        if next.must_tell_ledger() {
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
