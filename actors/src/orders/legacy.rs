//! Order records as older schema versions stored them, and their upgrade
//! to today's. Version 1 kept no failure count; versions 1 and 2 kept no
//! refunds in the order and knew no authorized-only payments.

use super::model::{Billing, ChargeUpdate, FxSnapshot, Line, Order, Return, Shipment, Shipping};

/// A charge's update as versions 1 and 2 stored it: every payment then was
/// captured at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeUpdateV2 {
    pub version: u64,
    pub paid: BTreeMap<String, u64>,
}
use super::record::{OrderRecord, Phase, Step};
use crate::ports::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An order as schema versions 1 and 2 stored it (no refunds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderV2 {
    pub id: String,
    pub buyer: String,
    pub created_at: Millis,
    pub currency: String,
    pub fx: Option<FxSnapshot>,
    pub shipping: Shipping,
    pub billing: Billing,
    pub lines: Vec<Line>,
    pub cancelled: bool,
    pub payments: BTreeMap<String, ChargeUpdateV2>,
    pub shipments: Vec<Shipment>,
    pub returns: Vec<Return>,
    pub updated_at: Millis,
}

impl From<OrderV2> for Order {
    fn from(o: OrderV2) -> Self {
        Order {
            id: o.id,
            buyer: o.buyer,
            created_at: o.created_at,
            currency: o.currency,
            fx: o.fx,
            shipping: o.shipping,
            billing: o.billing,
            lines: o.lines,
            cancelled: o.cancelled,
            payments: o
                .payments
                .into_iter()
                .map(|(id, u)| {
                    let update = ChargeUpdate {
                        version: u.version,
                        paid: u.paid,
                        captured: true,
                    };
                    (id, update)
                })
                .collect(),
            shipments: o.shipments,
            returns: o.returns,
            updated_at: o.updated_at,
            refunds: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhaseV2 {
    Open,
    Placing {
        attempt: u32,
        since: Millis,
        lines: Vec<(String, String)>,
    },
    Placed(Box<OrderV2>),
}

impl From<PhaseV2> for Phase {
    fn from(p: PhaseV2) -> Self {
        match p {
            PhaseV2::Open => Phase::Open,
            PhaseV2::Placing { attempt, since, lines } => Phase::Placing { attempt, since, lines },
            PhaseV2::Placed(order) => Phase::Placed(Box::new((*order).into())),
        }
    }
}

/// The record as schema version 1 stored it (no failure count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecordV1 {
    pub buyer: String,
    pub request_hash: u64,
    pub attempts: u32,
    pub phase: PhaseV2,
    pub pending: Vec<Step>,
    pub retry_at: Millis,
}

/// The record as schema version 2 stored it (no refunds in the order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecordV2 {
    pub buyer: String,
    pub request_hash: u64,
    pub attempts: u32,
    pub phase: PhaseV2,
    pub pending: Vec<Step>,
    pub retry_at: Millis,
    pub failures: u32,
}

impl From<OrderRecordV1> for OrderRecord {
    fn from(v1: OrderRecordV1) -> Self {
        OrderRecordV2 {
            buyer: v1.buyer,
            request_hash: v1.request_hash,
            attempts: v1.attempts,
            phase: v1.phase,
            pending: v1.pending,
            retry_at: v1.retry_at,
            failures: 0,
        }
        .into()
    }
}

impl From<OrderRecordV2> for OrderRecord {
    fn from(v2: OrderRecordV2) -> Self {
        Self {
            buyer: v2.buyer,
            request_hash: v2.request_hash,
            attempts: v2.attempts,
            phase: v2.phase.into(),
            pending: v2.pending,
            retry_at: v2.retry_at,
            failures: v2.failures,
        }
    }
}
