//! The payment entities, thin: one per order's ledger (`ledger.rs` decides),
//! one per charge (`record.rs`), one per refund (`refund.rs`). Each carries
//! out the steps its persisted record asks for — calls to the processor,
//! messages to the order and the ledger — and saves what the pure rules
//! make of the answers. Steps run only from a durable record: on
//! `Work` (sent by the service right after a change) or when the entity's
//! alarm rings (the reconcile sweep).

use super::processors::Processors;
use crate::ports::{Clock, Millis};
use crate::runtime::EntityContext;
use std::sync::Arc;

mod charge;
mod dispute;
mod dispute_watch;
mod funds;
mod ledger;
mod refund;

pub use charge::{ChargeCommand, ChargeEntity, ChargeReply};
pub use dispute::{DisputeCommand, DisputesEntity, processor_unknown, record_dispute};
pub use dispute_watch::{DisputeWatchEntity, WatchCommand};
pub use funds::{FundsCommand, FundsEntity, FundsReply};
pub use ledger::{LedgerCommand, LedgerEntity, LedgerReply};
pub use refund::{RefundCommand, RefundEntity, RefundReply};

/// What every payment entity kind holds.
#[derive(Clone)]
pub struct PaymentContext {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
    pub processors: Processors,
    /// `[payments] reconcile_every_secs`, in ms.
    pub reconcile_every: Millis,
    /// `[payments] dispute_sweep_secs`, in ms.
    pub dispute_sweep_every: Millis,
    /// `[payments] authorization_days`, in ms.
    pub authorization: Millis,
    /// `[payments] fee_rate`: the platform's part of each payout line.
    pub fee_rate: rust_decimal::Decimal,
    /// `[payments] payout_hold_days`, in ms.
    pub payout_hold: Millis,
}
