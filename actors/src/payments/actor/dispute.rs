//! The charge disputes entity, one per charge (`payments/dispute.rs`
//! decides).

use super::PaymentContext;
use crate::error::Result;
use crate::payments::dispute::ChargeDisputes;
use crate::payments::ports::ProcessorDispute;
use crate::runtime::{Entity, Outcome};
use serde::{Deserialize, Serialize};

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
