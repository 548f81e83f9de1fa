//! The sandbox's disputes: a buyer disputes a succeeded payment (at most
//! one dispute per payment, for at most what is left of it), the funds are
//! withdrawn at once, and the sandbox closes it won (funds reinstated) or
//! lost — each step announced as Stripe's `charge.dispute.*` webhooks. One
//! entity per dispute, keyed by its id.

use super::events::dispute_event;
use super::model::ChargeStatus;
use super::ports::*;
use super::sandbox::{Outbox, Sandbox, SandboxCommand, SandboxEntity, SandboxReply, from_error, refused};
use crate::error::{Error, Result};
use crate::runtime::{Cursor, Entity, Outcome};
use crate::shared::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// The id of the dispute of sandbox payment `payment_id`.
pub fn dispute_id(payment_id: &str) -> String {
    format!("sbx_dp_{}", payment_id.strip_prefix("sbx_pi_").unwrap_or(payment_id))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxDispute {
    pub dispute: ProcessorDispute,
    pub events: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DisputeCommand {
    Open(ProcessorDispute),
    Get,
    Close { won: bool },
}

/// The sandbox's disputes.
pub struct SandboxDisputes {
    pub outbox: Option<Outbox>,
}

impl SandboxDisputes {
    fn announce(&self, d: &mut SandboxDispute, happened: &[&str]) {
        let Some(outbox) = &self.outbox else { return };
        for what in happened {
            d.events += 1;
            let event_id = format!("evt_{}_{}", d.dispute.id, d.events);
            let _ = outbox.send(dispute_event(&event_id, what, &d.dispute));
        }
    }
}

impl Entity for SandboxDisputes {
    const KIND: &'static str = "sandbox_dispute";
    type State = SandboxDispute;
    type Command = DisputeCommand;
    type Reply = ProcessorDispute;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&SandboxDispute>,
        command: DisputeCommand,
    ) -> Result<Outcome<SandboxDispute, ProcessorDispute>> {
        match (state, command) {
            (Some(d), DisputeCommand::Open(_) | DisputeCommand::Get) => Ok(Outcome::read(d.dispute.clone())),
            (None, DisputeCommand::Open(dispute)) => {
                let mut d = SandboxDispute { dispute, events: 0 };
                self.announce(&mut d, &["created", "funds_withdrawn"]);
                Ok(Outcome::write(d.clone(), d.dispute))
            }
            (Some(d), DisputeCommand::Close { won }) => {
                if !d.dispute.open() {
                    return Err(Error::conflict("dispute_closed", "the dispute is closed already"));
                }
                let mut next = d.clone();
                next.dispute.status = if won { "won" } else { "lost" }.into();
                let happened: &[&str] = if won {
                    &["funds_reinstated", "closed"]
                } else {
                    &["closed"]
                };
                self.announce(&mut next, happened);
                Ok(Outcome::write(next.clone(), next.dispute))
            }
            (None, _) => Err(Error::conflict("resource_missing", "no such dispute")),
        }
    }
}

impl Sandbox {
    /// The buyer disputes `amount` (in the payment's currency) of a
    /// succeeded payment.
    pub async fn open_dispute(&self, payment_id: &str, amount: &str) -> Result<ProcessorDispute> {
        let router = self.context().router()?;
        let payment = match router.ask::<SandboxEntity>(payment_id, SandboxCommand::Get).await {
            Ok(SandboxReply::Payment(p)) => p,
            Ok(other) => return Err(Error::unexpected_reply(&other)),
            Err(Error::Conflict { .. }) => return Err(Error::not_found("sandbox payment")),
            Err(e) => return Err(e),
        };
        let refunded: i64 = payment
            .refunds
            .iter()
            .filter(|(_, r)| r.status != RefundStatus::Failed)
            .map(|(_, r)| r.amount_minor)
            .sum();
        let currency = Currency::stored(&payment.payment.currency)?;
        let amount = Money::price(amount, currency).map_err(|why| Error::invalid("amount", why))?;
        let amount_minor = super::minor::to_minor(amount.amount(), currency.code())?;
        if payment.payment.status != ChargeStatus::Succeeded {
            return Err(Error::conflict(
                "charge_not_succeeded",
                "only a succeeded payment is disputed",
            ));
        }
        if amount_minor <= 0 || amount_minor > payment.payment.captured_minor - refunded {
            return Err(Error::invalid(
                "amount",
                "must be positive and at most what is left of the payment",
            ));
        }
        let dispute = ProcessorDispute {
            id: dispute_id(payment_id),
            payment_id: payment_id.to_string(),
            amount_minor,
            currency: payment.payment.currency.clone(),
            status: "needs_response".into(),
            reason: "fraudulent".into(),
        };
        router
            .ask::<SandboxDisputes>(&dispute.id.clone(), DisputeCommand::Open(dispute))
            .await
    }

    /// The sandbox decides a dispute: won (the funds come back) or lost.
    pub async fn close_dispute(&self, dispute_id: &str, won: bool) -> Result<ProcessorDispute> {
        let router = self.context().router()?;
        match router
            .ask::<SandboxDisputes>(dispute_id, DisputeCommand::Close { won })
            .await
        {
            Err(Error::Conflict { code, .. }) if code == "resource_missing" => Err(Error::not_found("sandbox dispute")),
            other => other,
        }
    }

    /// Every dispute the sandbox holds (it keeps no creation time: all of
    /// them, 100 at a time).
    pub(crate) fn list_sandbox_disputes(&self, page: Option<String>) -> Answer<DisputePage> {
        let router = self.context().router();
        Box::pin(async move {
            let router = router.map_err(from_error)?;
            let from = page.as_deref().map(Cursor::decode).transpose().map_err(from_error)?;
            let page = router
                .scan::<SandboxDisputes>(from.as_ref(), 100)
                .await
                .map_err(from_error)?;
            Ok(DisputePage {
                disputes: page.items.into_iter().map(|(_, d)| d.dispute).collect(),
                next: page.next.map(|c| c.encode()),
            })
        })
    }

    pub(crate) fn read_dispute(&self, dispute_id: &str) -> Answer<ProcessorDispute> {
        let router = self.context().router();
        let id = dispute_id.to_string();
        Box::pin(async move {
            let router = router.map_err(from_error)?;
            if !id.starts_with("sbx_dp_") {
                return Err(refused("resource_missing", "no such dispute"));
            }
            router
                .ask::<SandboxDisputes>(&id, DisputeCommand::Get)
                .await
                .map_err(from_error)
        })
    }
}
