//! The port through which an order gives back the money of units a store
//! approved for return. The payments domain implements it; an order only
//! knows that the refund is asked, idempotently, keyed by the return and
//! the line, and learns of it when it succeeded (`OrderCommand::Refunded`).

use super::model::Order;
use crate::error::Result;
use futures::future::BoxFuture;

/// Units of one line of a return, approved by its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRefund {
    pub return_id: String,
    pub store_id: String,
    pub line_id: String,
    pub units: u64,
}

pub trait ReturnRefunds: Send + Sync {
    /// Asks for the refund (again: the same return and line, the same
    /// refund). `order` is the order as it is now. Nothing to refund (the
    /// units were never captured) is not an error: there is nothing to do.
    fn refund(&self, order: Order, refund: ReturnRefund) -> BoxFuture<'static, Result<()>>;
}

/// For orders without payments (tests of the order domain alone).
pub struct NoRefunds;

impl ReturnRefunds for NoRefunds {
    fn refund(&self, _order: Order, _refund: ReturnRefund) -> BoxFuture<'static, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
