//! Stock and product policies.

use super::*;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockRequest {
    /// Units to add (positive) or remove (negative; only unreserved ones).
    pub adjust: i64,
    /// RFC 3339: the added units expire then (added units only).
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchDto {
    pub expires_at: Option<String>,
    pub quantity: u64,
}

#[derive(Serialize, ToSchema)]
pub struct StockResponse {
    pub on_hand: u64,
    pub reserved: u64,
    pub available: u64,
    /// Earliest expiry first; never-expiring stock last.
    pub batches: Vec<BatchDto>,
    pub policy: PolicyDto,
}

/// How a store sells a product (defaults: 15, 30, 1, 1000).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDto {
    /// 1–1440: how long an unpaid order holds its units.
    pub reservation_minutes: u32,
    /// 0–3650: how long after purchase a return is accepted.
    pub warranty_days: u32,
    pub min_per_order: u32,
    pub max_per_order: u32,
}

impl From<PolicyDto> for actors::inventory::model::Policy {
    fn from(p: PolicyDto) -> Self {
        Self {
            hold_minutes: p.reservation_minutes,
            warranty_days: p.warranty_days,
            min_per_order: p.min_per_order,
            max_per_order: p.max_per_order,
        }
    }
}

impl From<actors::inventory::model::StockStatus> for StockResponse {
    fn from(r: actors::inventory::model::StockStatus) -> Self {
        Self {
            on_hand: r.view.on_hand,
            reserved: r.view.held,
            available: r.view.available,
            batches: r
                .view
                .batches
                .into_iter()
                .map(|(expires_at, quantity)| BatchDto {
                    expires_at: expires_at.map(rfc3339),
                    quantity,
                })
                .collect(),
            policy: PolicyDto {
                reservation_minutes: r.policy.hold_minutes,
                warranty_days: r.policy.warranty_days,
                min_per_order: r.policy.min_per_order,
                max_per_order: r.policy.max_per_order,
            },
        }
    }
}
