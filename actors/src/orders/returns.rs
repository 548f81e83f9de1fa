//! Returns: a buyer asks to send back paid units inside their warranty; each
//! store decides its lines. Pure, like the rest of the order model.

use super::model::{LineStatus, Order, StockStep};
use crate::error::{Error, FieldErrors, Result};
use crate::ports::Millis;
use crate::shared::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub line_id: String,
    pub quantity: u64,
    pub reason: String,
    /// Set by the store's decision.
    pub approved: Option<u64>,
    pub rejected: Option<u64>,
    pub decision_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub id: String,
    /// Hash of the request, for idempotent replays.
    pub request_hash: u64,
    pub lines: Vec<ReturnLine>,
    /// What approving every line would refund, in the order's currency.
    pub refund_amount: String,
    pub created_at: Millis,
}

impl Return {
    /// `requested` until every line is decided; then `approved`,
    /// `rejected` or `partially_approved`.
    pub fn status(&self) -> &'static str {
        if self.lines.iter().any(|l| l.approved.is_none()) {
            return "requested";
        }
        let approved: u64 = self.lines.iter().filter_map(|l| l.approved).sum();
        let requested: u64 = self.lines.iter().map(|l| l.quantity).sum();
        match approved {
            0 => "rejected",
            a if a == requested => "approved",
            _ => "partially_approved",
        }
    }

    /// The refund owed for the approved quantities.
    pub fn approved_refund(&self, order: &Order) -> Result<String> {
        order.refund(
            self.lines
                .iter()
                .filter_map(|r| Some((r.line_id.as_str(), r.approved?))),
        )
    }
}

/// A store's decision on one line of a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub line_id: String,
    pub approve: u64,
    pub reject: u64,
    pub reason: String,
    /// Put the approved units back in stock.
    pub restock: bool,
}

impl Order {
    /// What `units` of each line cost, in the order's currency, rounded once.
    pub fn refund<'a>(&self, units: impl Iterator<Item = (&'a str, u64)>) -> Result<String> {
        let currency = Currency::stored(&self.currency)?;
        let parts = units
            .filter_map(|(id, q)| Some((self.line(id)?, q)))
            .map(|(line, q)| Money::stored(&line.unit_price, currency.code())?.times(q))
            .collect::<Result<Vec<_>>>()?;
        Ok(Money::sum(parts, currency)?.to_string())
    }

    /// The buyer asks to return units of paid lines inside their warranty,
    /// at most what was paid minus what is already being returned.
    /// The request's `refund_amount` is set here: what the asked units cost.
    pub fn request_return(&self, mut ret: Return, now: Millis) -> Result<Self> {
        let mut errors = FieldErrors::new();
        if ret.lines.is_empty() {
            errors.add("lines", "name at least one line");
        }
        let mut wanted: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &ret.lines {
            *wanted.entry(r.line_id.as_str()).or_default() += r.quantity;
        }
        for (i, r) in ret.lines.iter().enumerate() {
            let field = |f: &str| format!("lines[{i}].{f}");
            if r.reason.trim().is_empty() || r.reason.chars().count() > 500 {
                errors.add(field("reason"), "must be 1 to 500 characters");
            }
            let Some(line) = self.line(&r.line_id) else {
                errors.add(field("line_id"), "no line of this order has this id");
                continue;
            };
            if !matches!(
                line.status,
                LineStatus::Paid | LineStatus::Shipped | LineStatus::Delivered
            ) || line.paid == 0
            {
                errors.add(field("line_id"), "only paid lines can be returned");
            } else if now > line.warranty_until(self.created_at) {
                errors.add(field("line_id"), "the warranty has ended");
            } else if r.quantity == 0 || line.returning + wanted[r.line_id.as_str()] > line.paid {
                errors.add(
                    field("quantity"),
                    format!("at most {} units can be returned", line.paid - line.returning),
                );
            }
        }
        errors.into_result()?;
        let mut next = self.clone();
        for r in &ret.lines {
            if let Some(line) = next.line_mut(&r.line_id) {
                line.returning += r.quantity;
            }
        }
        ret.refund_amount = self.refund(ret.lines.iter().map(|r| (r.line_id.as_str(), r.quantity)))?;
        next.returns.push(ret);
        next.updated_at = now;
        Ok(next)
    }

    /// A store decides its lines of a return: each line's approved and
    /// rejected units must add up to what was asked. Approved units may be
    /// put back in stock; rejected ones can be asked for again.
    pub fn decide(
        &self,
        store_id: &str,
        return_id: &str,
        decisions: &[Decision],
        now: Millis,
    ) -> Result<(Self, Vec<StockStep>)> {
        let mut next = self.clone();
        let at = next
            .returns
            .iter()
            .position(|r| r.id == return_id)
            .ok_or_else(|| Error::not_found("return"))?;
        let mut errors = FieldErrors::new();
        let mut steps = Vec::new();
        let mut released: Vec<(String, u64)> = Vec::new();
        if decisions.is_empty() {
            errors.add("lines", "decide at least one line");
        }
        for (i, d) in decisions.iter().enumerate() {
            let field = |f: &str| format!("lines[{i}].{f}");
            let Some(line) = self.line(&d.line_id).filter(|l| l.store_id == store_id) else {
                errors.add(field("line_id"), "no line of this store has this id");
                continue;
            };
            let Some(asked) = next.returns[at].lines.iter_mut().find(|r| r.line_id == d.line_id) else {
                errors.add(field("line_id"), "this return does not include this line");
                continue;
            };
            if asked.approved.is_some() {
                errors.add(field("line_id"), "already decided");
                continue;
            }
            if d.approve + d.reject != asked.quantity {
                errors.add(
                    field("approve_quantity"),
                    format!("approved + rejected must be {}", asked.quantity),
                );
                continue;
            }
            if d.reason.chars().count() > 500 {
                errors.add(field("reason"), "at most 500 characters");
            }
            asked.approved = Some(d.approve);
            asked.rejected = Some(d.reject);
            asked.decision_reason = Some(d.reason.clone());
            released.push((d.line_id.clone(), d.reject));
            if d.restock && d.approve > 0 {
                steps.push(StockStep::Restock {
                    store_id: line.store_id.clone(),
                    product_id: line.product_id.clone(),
                    return_line: format!("{return_id}/{}", d.line_id),
                    quantity: d.approve,
                });
            }
        }
        errors.into_result()?;
        for (line_id, rejected) in released {
            if let Some(line) = next.line_mut(&line_id) {
                line.returning -= rejected;
            }
        }
        next.updated_at = now;
        Ok((next, steps))
    }
}
