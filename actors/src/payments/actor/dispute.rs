//! The charge disputes entity, one per charge (`payments/dispute.rs`
//! decides), and how a dispute read from its processor is recorded — by a
//! webhook or by the sweep (`dispute_watch.rs`).

use super::{ChargeCommand, ChargeEntity, ChargeReply, FundsCommand, FundsEntity, PaymentContext};
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::orders::Orders;
use crate::payments::dispute::{ChargeDisputes, split};
use crate::payments::funds::{StoreDispute, earnings_of};
use crate::payments::ports::{PaymentProcessor, ProcessorDispute, ProcessorError};
use crate::runtime::{Entity, Outcome, Router};
use serde::{Deserialize, Serialize};

pub fn processor_unknown(e: ProcessorError) -> Error {
    Error::unavailable("processor_unavailable", format!("{e:?}"), 5)
}

/// Records `dispute` (as its processor reads now) on its charge, and tells
/// each store of the charge its part (a lost one is taken back from it like
/// a refund after payout). Idempotent: the same reading changes nothing.
pub async fn record_dispute(
    router: &Router,
    adapter: &dyn PaymentProcessor,
    processor: &str,
    dispute: ProcessorDispute,
) -> Result<()> {
    let payment = adapter.get(&dispute.payment_id).await.map_err(processor_unknown)?;
    let Some(charge_id) = payment.metadata.get("charge_id").cloned() else {
        return Ok(());
    };
    let observe = DisputeCommand::Observe {
        processor: processor.to_string(),
        dispute: dispute.clone(),
    };
    let disputes = router.ask::<DisputesEntity>(&charge_id, observe).await?;
    let Some(record) = disputes.disputes.iter().find(|d| d.dispute.id == dispute.id) else {
        return Ok(());
    };
    let charge = expect_reply!(
        router.ask::<ChargeEntity>(&charge_id, ChargeCommand::Get).await?,
        ChargeReply::Charge(c) => *c
    )?;
    let order = Orders::read_with(router, &charge.intent.order_id).await?;
    let earned = earnings_of(&charge, &order)?;
    let gross: Vec<(String, i64)> = earned.iter().map(|(s, e)| (s.clone(), e.earning.gross)).collect();
    for (store, part) in split(dispute.amount_minor, &gross) {
        let view = StoreDispute {
            dispute_id: dispute.id.clone(),
            charge_id: charge_id.clone(),
            order_id: charge.intent.order_id.clone(),
            currency: dispute.currency.clone(),
            amount: dispute.amount_minor,
            store_part: part,
            status: dispute.status.clone(),
            reason: dispute.reason.clone(),
            open: dispute.open(),
            lost: dispute.lost(),
            opened_at: record.opened_at,
            closed_at: record.closed_at,
        };
        router
            .ask::<FundsEntity>(&store, FundsCommand::Disputed(Box::new(view)))
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DisputeCommand {
    /// The processor's dispute as read back now.
    Observe {
        processor: String,
        dispute: ProcessorDispute,
    },
    Get,
}

/// One per charge that was ever disputed.
pub struct DisputesEntity(pub PaymentContext);

impl Entity for DisputesEntity {
    const KIND: &'static str = "charge_disputes";
    type State = ChargeDisputes;
    type Command = DisputeCommand;
    type Reply = ChargeDisputes;

    async fn handle(
        &self,
        charge_id: &str,
        state: Option<&ChargeDisputes>,
        command: DisputeCommand,
    ) -> Result<Outcome<ChargeDisputes, ChargeDisputes>> {
        let current = state.cloned().unwrap_or_default();
        Ok(match command {
            DisputeCommand::Get => Outcome::read(current),
            DisputeCommand::Observe { processor, dispute } => {
                let next = current.observe(&processor, charge_id, dispute, self.0.clock.now());
                match next == current {
                    true => Outcome::read(current),
                    false => Outcome::write(next.clone(), next),
                }
            }
        })
    }
}
