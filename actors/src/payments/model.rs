//! A charge's states. A charge only moves forward: a later report of an
//! earlier state (a webhook that arrives late, a retried read) changes
//! nothing, and a final state is never left. Pure.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChargeStatus {
    /// The buyer must act (authenticate) before the processor decides.
    RequiresAction,
    /// The processor is deciding.
    Processing,
    /// The money is held on the buyer's card, to be captured.
    Authorized,
    Succeeded,
    Failed,
    Canceled,
}

impl ChargeStatus {
    pub const ALL: [ChargeStatus; 6] = [
        ChargeStatus::RequiresAction,
        ChargeStatus::Processing,
        ChargeStatus::Authorized,
        ChargeStatus::Succeeded,
        ChargeStatus::Failed,
        ChargeStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::RequiresAction => "requires_action",
            ChargeStatus::Processing => "processing",
            ChargeStatus::Authorized => "authorized",
            ChargeStatus::Succeeded => "succeeded",
            ChargeStatus::Failed => "failed",
            ChargeStatus::Canceled => "canceled",
        }
    }

    /// How far along a charge is: moves go to a higher rank only.
    pub fn rank(self) -> u8 {
        match self {
            ChargeStatus::RequiresAction => 1,
            ChargeStatus::Processing => 2,
            ChargeStatus::Authorized => 3,
            ChargeStatus::Succeeded | ChargeStatus::Failed | ChargeStatus::Canceled => 4,
        }
    }

    /// No move leaves it.
    pub fn is_final(self) -> bool {
        self.rank() == 4
    }

    /// The money is the shop's, or held for it: the charged units count
    /// as paid.
    pub fn pays(self) -> bool {
        matches!(self, ChargeStatus::Authorized | ChargeStatus::Succeeded)
    }

    /// The status after a report of `reported`: `reported` if it is a move
    /// forward, `None` if the report changes nothing (a late or repeated
    /// one, or anything after a final state).
    pub fn advanced(self, reported: ChargeStatus) -> Option<ChargeStatus> {
        (reported.rank() > self.rank()).then_some(reported)
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
