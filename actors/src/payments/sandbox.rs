//! The built-in processor: deterministic, behaving like a card processor's
//! test mode with Stripe's test payment methods. `pm_card_visa` (or a raw
//! 4242… number) succeeds; `pm_card_chargeDeclined` (4000000000000002) is
//! declined; `pm_card_authenticationRequired` (4000000000003220) waits for
//! the buyer to authenticate ([`Sandbox::authenticate`]).
//!
//! Its books are entities of the runtime (one per payment, keyed by the
//! payment's id, which the idempotency key determines), so they are as
//! durable as a real processor's: a node killed after the sandbox took a
//! payment finds it again, and every node of a cluster sees the same
//! sandbox. Each payment counts how often it was created under its key
//! ("exactly one"). State changes are announced as signed webhooks
//! (`delivery.rs`), like a processor's.

use super::events::{payment_event, refund_event};
use super::model::ChargeStatus;
use super::ports::*;
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::runtime::{Entity, EntityContext, Outcome, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a payment method does at the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Succeeds,
    Declined,
    NeedsAuthentication,
}

/// The behaviour of `method`, or `None` for one the sandbox does not know.
pub fn behaviour(method: &str) -> Option<Behaviour> {
    match method {
        "pm_card_visa" | "pm_card_mastercard" => Some(Behaviour::Succeeds),
        "pm_card_chargeDeclined" | "4000000000000002" => Some(Behaviour::Declined),
        "pm_card_authenticationRequired" | "4000000000003220" => Some(Behaviour::NeedsAuthentication),
        raw if raw.starts_with("4242") && raw.len() == 16 && raw.bytes().all(|b| b.is_ascii_digit()) => {
            Some(Behaviour::Succeeds)
        }
        _ => None,
    }
}

/// The id of the payment created with idempotency key `key`.
pub fn payment_id(key: &str) -> String {
    format!("sbx_pi_{:032x}", xxhash_rust::xxh3::xxh3_128(key.as_bytes()))
}

/// The payment a sandbox refund id belongs to.
fn payment_of_refund(refund_id: &str) -> Option<String> {
    let rest = refund_id.strip_prefix("sbx_re_")?;
    let (payment, _) = rest.split_once('_')?;
    Some(format!("sbx_pi_{payment}"))
}

pub(crate) fn refused(code: &str, message: impl Into<String>) -> ProcessorError {
    ProcessorError::Refused {
        code: code.into(),
        message: message.into(),
    }
}

/// One payment in the sandbox's books, with its refunds. Pure transitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxPayment {
    pub payment: ProcessorPayment,
    pub capture: CaptureMode,
    /// How many payments were created under its key: one, however often
    /// the key was sent.
    pub created: u32,
    /// Each refund with its idempotency key.
    pub refunds: Vec<(String, ProcessorRefund)>,
    /// Events announced about it so far (numbers the next one).
    pub events: u32,
}

impl SandboxPayment {
    /// A new payment, decided at once by its payment method.
    pub fn create(request: CreatePayment, authenticate_url: &str) -> Result<Self, ProcessorError> {
        let Some(behaviour) = behaviour(&request.payment_method) else {
            return Err(refused(
                "payment_method_unknown",
                "the sandbox does not know this payment method",
            ));
        };
        if request.amount_minor <= 0 {
            return Err(refused("amount_too_small", "the amount must be positive"));
        }
        let id = payment_id(&request.idempotency_key);
        let mut payment = ProcessorPayment {
            id: id.clone(),
            status: ChargeStatus::Processing,
            amount_minor: request.amount_minor,
            captured_minor: 0,
            currency: request.currency,
            redirect_url: None,
            decline: None,
            metadata: request.metadata,
        };
        match behaviour {
            Behaviour::Succeeds => settle(&mut payment, request.capture),
            Behaviour::Declined => decline(&mut payment, "card_declined", "your card was declined"),
            Behaviour::NeedsAuthentication => {
                payment.status = ChargeStatus::RequiresAction;
                payment.redirect_url = Some(format!("{}/{id}", authenticate_url.trim_end_matches('/')));
            }
        }
        Ok(Self {
            payment,
            capture: request.capture,
            created: 1,
            refunds: Vec::new(),
            events: 0,
        })
    }

    /// The buyer authenticated (it goes on as its capture mode says) or
    /// did not (declined).
    pub fn authenticate(&self, succeed: bool) -> Result<Self, ProcessorError> {
        if self.payment.status != ChargeStatus::RequiresAction {
            return Err(refused(
                "payment_intent_unexpected_state",
                "the payment does not wait for authentication",
            ));
        }
        let mut next = self.clone();
        next.payment.redirect_url = None;
        if succeed {
            settle(&mut next.payment, self.capture);
        } else {
            decline(
                &mut next.payment,
                "authentication_failed",
                "the buyer did not authenticate",
            );
        }
        Ok(next)
    }

    /// Captures an authorization, all of it or `amount`; a repeated
    /// capture answers the captured payment.
    pub fn capture(&self, amount: Option<i64>) -> Result<Self, ProcessorError> {
        match self.payment.status {
            ChargeStatus::Authorized => {
                let amount = amount.unwrap_or(self.payment.amount_minor);
                if amount <= 0 || amount > self.payment.amount_minor {
                    return Err(refused("amount_too_large", "more than was authorized"));
                }
                let mut next = self.clone();
                next.payment.captured_minor = amount;
                next.payment.status = ChargeStatus::Succeeded;
                Ok(next)
            }
            ChargeStatus::Succeeded => Ok(self.clone()),
            _ => Err(refused(
                "payment_intent_unexpected_state",
                "only an authorized payment is captured",
            )),
        }
    }

    /// Cancels (voids) a payment not yet captured; a repeated cancel
    /// answers the cancelled payment.
    pub fn cancel(&self) -> Result<Self, ProcessorError> {
        match self.payment.status {
            ChargeStatus::RequiresAction | ChargeStatus::Processing | ChargeStatus::Authorized => {
                let mut next = self.clone();
                next.payment.status = ChargeStatus::Canceled;
                next.payment.redirect_url = None;
                Ok(next)
            }
            ChargeStatus::Canceled => Ok(self.clone()),
            _ => Err(refused(
                "payment_intent_unexpected_state",
                "a settled payment is not cancelled",
            )),
        }
    }

    /// Refunds part of what was captured and not refunded yet; the same
    /// key answers the same refund.
    pub fn refund(&self, request: CreateRefund) -> Result<(Self, ProcessorRefund), ProcessorError> {
        if let Some((_, done)) = self.refunds.iter().find(|(key, _)| *key == request.idempotency_key) {
            return Ok((self.clone(), done.clone()));
        }
        let refunded: i64 = self
            .refunds
            .iter()
            .filter(|(_, r)| r.status != RefundStatus::Failed)
            .map(|(_, r)| r.amount_minor)
            .sum();
        if request.amount_minor <= 0 || refunded + request.amount_minor > self.payment.captured_minor {
            return Err(refused("charge_already_refunded", "more than is left to refund"));
        }
        let suffix = self.payment.id.strip_prefix("sbx_pi_").unwrap_or(&self.payment.id);
        let refund = ProcessorRefund {
            id: format!("sbx_re_{suffix}_{}", self.refunds.len() + 1),
            payment_id: self.payment.id.clone(),
            amount_minor: request.amount_minor,
            status: RefundStatus::Succeeded,
            metadata: request.metadata,
        };
        let mut next = self.clone();
        next.refunds.push((request.idempotency_key, refund.clone()));
        Ok((next, refund))
    }

    pub fn find_refund(&self, refund_id: &str) -> Option<&ProcessorRefund> {
        self.refunds.iter().map(|(_, r)| r).find(|r| r.id == refund_id)
    }
}

/// A payment the card allows: taken at once, or held to be captured.
fn settle(payment: &mut ProcessorPayment, capture: CaptureMode) {
    match capture {
        CaptureMode::Automatic => {
            payment.status = ChargeStatus::Succeeded;
            payment.captured_minor = payment.amount_minor;
        }
        CaptureMode::Manual => payment.status = ChargeStatus::Authorized,
    }
}

fn decline(payment: &mut ProcessorPayment, code: &str, message: &str) {
    payment.status = ChargeStatus::Failed;
    payment.decline = Some(Decline {
        code: code.into(),
        message: message.into(),
    });
}

/// What the sandbox's books are asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SandboxCommand {
    Create {
        request: CreatePayment,
        authenticate_url: String,
    },
    Get,
    Authenticate {
        succeed: bool,
    },
    Capture {
        amount_minor: Option<i64>,
    },
    Cancel,
    Refund(CreateRefund),
    GetRefund(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SandboxReply {
    Payment(Box<SandboxPayment>),
    Refund(ProcessorRefund),
}

/// Where the sandbox's webhooks go (see `delivery.rs`): event bodies.
pub type Outbox = tokio::sync::mpsc::UnboundedSender<Vec<u8>>;

/// The sandbox's books: one entity per payment.
pub struct SandboxEntity {
    /// `None`: no webhooks are sent (tests of the books alone).
    pub outbox: Option<Outbox>,
}

pub(crate) fn to_error(error: ProcessorError) -> Error {
    match error {
        ProcessorError::Refused { code, message } => Error::conflict(&code, message),
        ProcessorError::Unknown(why) => Error::unavailable("processor_unavailable", why, 1),
    }
}

impl SandboxEntity {
    /// Announces what changed from `before` to `after`.
    fn announce(&self, before: Option<&SandboxPayment>, after: &mut SandboxPayment, refund: Option<&ProcessorRefund>) {
        let Some(outbox) = &self.outbox else { return };
        let mut bodies = Vec::new();
        if before.is_none_or(|b| b.payment.status != after.payment.status) {
            after.events += 1;
            let event_id = format!("evt_{}_{}", after.payment.id, after.events);
            bodies.push(payment_event(&event_id, &after.payment));
        }
        if let Some(refund) = refund {
            after.events += 1;
            let event_id = format!("evt_{}_{}", after.payment.id, after.events);
            bodies.push(refund_event(&event_id, refund));
        }
        for body in bodies {
            // A stopped deliverer only means no webhooks: reads still tell.
            let _ = outbox.send(body);
        }
    }
}

impl Entity for SandboxEntity {
    const KIND: &'static str = "sandbox_payment";
    type State = SandboxPayment;
    type Command = SandboxCommand;
    type Reply = SandboxReply;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&SandboxPayment>,
        command: SandboxCommand,
    ) -> Result<Outcome<SandboxPayment, SandboxReply>> {
        let reply = |p: &SandboxPayment| SandboxReply::Payment(Box::new(p.clone()));
        if let SandboxCommand::Create {
            request,
            authenticate_url,
        } = command
        {
            return Ok(match state {
                Some(existing) => Outcome::read(reply(existing)),
                None => {
                    let mut created = SandboxPayment::create(request, &authenticate_url).map_err(to_error)?;
                    self.announce(None, &mut created, None);
                    Outcome::write(created.clone(), reply(&created))
                }
            });
        }
        let current = state.ok_or_else(|| Error::conflict("resource_missing", "no such payment"))?;
        let (mut next, refund) = match command {
            SandboxCommand::Create { .. } | SandboxCommand::Get => return Ok(Outcome::read(reply(current))),
            SandboxCommand::GetRefund(id) => {
                let refund = current
                    .find_refund(&id)
                    .cloned()
                    .ok_or_else(|| Error::conflict("resource_missing", "no such refund"))?;
                return Ok(Outcome::read(SandboxReply::Refund(refund)));
            }
            SandboxCommand::Authenticate { succeed } => (current.authenticate(succeed).map_err(to_error)?, None),
            SandboxCommand::Capture { amount_minor } => (current.capture(amount_minor).map_err(to_error)?, None),
            SandboxCommand::Cancel => (current.cancel().map_err(to_error)?, None),
            SandboxCommand::Refund(request) => {
                let (next, refund) = current.refund(request).map_err(to_error)?;
                (next, Some(refund))
            }
        };
        if next == *current {
            return Ok(Outcome::read(match refund {
                Some(refund) => SandboxReply::Refund(refund),
                None => reply(current),
            }));
        }
        self.announce(Some(current), &mut next, refund.as_ref());
        Ok(match refund {
            Some(refund) => Outcome::write(next, SandboxReply::Refund(refund)),
            None => Outcome::write(next.clone(), reply(&next)),
        })
    }
}

/// The sandbox processor: an adapter over its books. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    context: EntityContext,
    /// Where a buyer authenticates (the platform's sandbox endpoint).
    authenticate_url: Arc<str>,
    /// Where a store's onboarding link points (`/{account_id}/complete`).
    accounts_url: Arc<str>,
    clock: Arc<dyn Clock>,
}

pub(crate) fn from_error(error: Error) -> ProcessorError {
    match error {
        Error::Conflict { code, message } => ProcessorError::Refused { code, message },
        other => ProcessorError::Unknown(other.to_string()),
    }
}

impl Sandbox {
    /// A sandbox keeping its books in the runtime `context` belongs to,
    /// whose buyers authenticate at `authenticate_url/{id}`.
    pub fn new(context: EntityContext, authenticate_url: &str, accounts_url: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            context,
            authenticate_url: authenticate_url.trim_end_matches('/').into(),
            accounts_url: accounts_url.trim_end_matches('/').into(),
            clock,
        }
    }

    pub(crate) fn context(&self) -> &EntityContext {
        &self.context
    }

    pub(crate) fn accounts_url(&self) -> &str {
        &self.accounts_url
    }

    pub(crate) fn now_secs(&self) -> i64 {
        self.clock.now() / 1000
    }

    async fn ask(router: Router, id: String, command: SandboxCommand) -> Result<SandboxReply, ProcessorError> {
        router.ask::<SandboxEntity>(&id, command).await.map_err(from_error)
    }

    fn payment_answer(&self, id: String, command: SandboxCommand) -> Answer<ProcessorPayment> {
        let router = self.context.router();
        Box::pin(async move {
            match Self::ask(router.map_err(from_error)?, id, command).await? {
                SandboxReply::Payment(p) => Ok(p.payment),
                other => Err(ProcessorError::Unknown(format!("unexpected reply {other:?}"))),
            }
        })
    }

    fn refund_answer(&self, id: String, command: SandboxCommand) -> Answer<ProcessorRefund> {
        let router = self.context.router();
        Box::pin(async move {
            match Self::ask(router.map_err(from_error)?, id, command).await? {
                SandboxReply::Refund(r) => Ok(r),
                other => Err(ProcessorError::Unknown(format!("unexpected reply {other:?}"))),
            }
        })
    }

    /// Completes a payment waiting for the buyer: authenticated or not.
    pub fn authenticate(&self, payment_id: &str, succeed: bool) -> Answer<ProcessorPayment> {
        self.payment_answer(payment_id.to_string(), SandboxCommand::Authenticate { succeed })
    }

    /// How many payments the sandbox created for `key` (at most one).
    pub async fn created_for(&self, key: &str) -> Result<u32> {
        let router = self.context.router()?;
        match router.ask::<SandboxEntity>(&payment_id(key), SandboxCommand::Get).await {
            Ok(SandboxReply::Payment(p)) => Ok(p.created),
            Ok(other) => Err(Error::unexpected_reply(&other)),
            Err(Error::Conflict { .. }) => Ok(0),
            Err(e) => Err(e),
        }
    }
}

impl PaymentProcessor for Sandbox {
    fn create(&self, payment: CreatePayment) -> Answer<ProcessorPayment> {
        let id = payment_id(&payment.idempotency_key);
        let command = SandboxCommand::Create {
            request: payment,
            authenticate_url: self.authenticate_url.to_string(),
        };
        self.payment_answer(id, command)
    }

    fn get(&self, payment_id: &str) -> Answer<ProcessorPayment> {
        self.payment_answer(payment_id.to_string(), SandboxCommand::Get)
    }

    fn capture(&self, payment_id: &str, amount_minor: Option<i64>, _key: &str) -> Answer<ProcessorPayment> {
        self.payment_answer(payment_id.to_string(), SandboxCommand::Capture { amount_minor })
    }

    fn cancel(&self, payment_id: &str, _key: &str) -> Answer<ProcessorPayment> {
        self.payment_answer(payment_id.to_string(), SandboxCommand::Cancel)
    }

    fn refund(&self, refund: CreateRefund) -> Answer<ProcessorRefund> {
        self.refund_answer(refund.payment_id.clone(), SandboxCommand::Refund(refund))
    }

    fn get_refund(&self, refund_id: &str) -> Answer<ProcessorRefund> {
        match payment_of_refund(refund_id) {
            Some(payment) => self.refund_answer(payment, SandboxCommand::GetRefund(refund_id.to_string())),
            None => Box::pin(async { Err(refused("resource_missing", "no such refund")) }),
        }
    }

    fn create_account(&self, account: CreateAccount) -> Answer<ProcessorAccount> {
        self.open_account(account)
    }

    fn get_account(&self, account_id: &str) -> Answer<ProcessorAccount> {
        self.read_account(account_id)
    }

    fn account_link(&self, account_id: &str, _return_url: &str, _refresh_url: &str) -> Answer<AccountLink> {
        self.link(account_id)
    }

    fn transfer(&self, transfer: CreateTransfer) -> Answer<ProcessorTransfer> {
        self.make_transfer(transfer)
    }

    fn reverse(&self, reversal: CreateReversal) -> Answer<ProcessorReversal> {
        self.reverse_transfer(reversal)
    }

    fn get_dispute(&self, dispute_id: &str) -> Answer<ProcessorDispute> {
        self.read_dispute(dispute_id)
    }

    fn get_transfer(&self, transfer_id: &str) -> Answer<ProcessorTransfer> {
        self.read_transfer(transfer_id)
    }

    fn list_disputes(&self, _since: i64, page: Option<String>) -> Answer<DisputePage> {
        self.list_sandbox_disputes(page)
    }
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
pub(crate) mod tests;
