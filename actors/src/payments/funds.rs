//! A store's money at the platform (issue 17): its merchant account, its
//! payout schedule, the payouts it was paid with their statements, and the
//! reversals asked of it. The arithmetic of earnings, fees and debts is
//! `payout.rs`'s [`Balance`]; this is the record around it, kept by one
//! entity per store (`actor/funds.rs`) whose earnings are member records.
//! Pure.

use super::account::Account;
use super::minor;
use super::payout::{Balance, Earning, PayoutLine};
use super::record::Charge;
use crate::error::{Error, Result};
use crate::orders::model::DAY;
use crate::orders::model::Order;
use crate::ports::Millis;
use crate::shared::money::{Money, round};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// Payout lines a round of work transfers at most (the rest: next round).
pub const LINES_PER_ROUND: usize = 500;

/// When a store is paid out by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Every {
    Daily,
    Weekly,
    /// Only when asked.
    Manual,
}

impl Every {
    pub fn parse(text: &str) -> Result<Every> {
        match text {
            "daily" => Ok(Every::Daily),
            "weekly" => Ok(Every::Weekly),
            "manual" => Ok(Every::Manual),
            _ => Err(Error::invalid("every", "must be daily, weekly or manual")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Every::Daily => "daily",
            Every::Weekly => "weekly",
            Every::Manual => "manual",
        }
    }

    pub fn period(self) -> Option<Millis> {
        match self {
            Every::Daily => Some(DAY),
            Every::Weekly => Some(7 * DAY),
            Every::Manual => None,
        }
    }
}

/// What a succeeded charge earned a store, with what its statement shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earned {
    pub charge_id: String,
    pub order_id: String,
    pub earning: Earning,
    /// The charge's processor and its payment there (a transfer's source).
    pub processor: String,
    pub payment_id: Option<String>,
    /// The transfer that paid it out.
    pub transfer_id: Option<String>,
    /// A dispute of the charge is open: it is not paid out meanwhile.
    pub disputed: bool,
    /// The store's lines in the charge (their gross adds up to the
    /// earning's), for the sales report.
    pub lines: Vec<SoldLine>,
    /// Per product, the units and amount given back.
    pub returned: BTreeMap<String, (u64, i64)>,
    /// Refunds of the charge asked and not settled yet: it is not paid out
    /// meanwhile (its share is not known).
    pub pending_refunds: BTreeSet<String>,
    /// The store's currency and the gross in it at the order's rates.
    pub store_currency: String,
    pub store_gross: i64,
}

impl Earned {
    /// Its share is settled and may be paid out: no dispute open, no
    /// refund pending.
    pub fn payable(&self) -> bool {
        !self.disputed && self.pending_refunds.is_empty()
    }

    /// `amount` (in the charge's currency) in the store's, at the order's
    /// exchange-rate snapshot, rounded half-even to a minor unit.
    pub fn in_store_currency(&self, amount: i64) -> i64 {
        use rust_decimal::prelude::ToPrimitive;
        if self.earning.gross == 0 || self.store_currency == self.earning.currency {
            return amount;
        }
        (Decimal::from(amount) * Decimal::from(self.store_gross) / Decimal::from(self.earning.gross))
            .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)
            .to_i64()
            .unwrap_or(0)
    }
}

/// A dispute of a charge, as the store sees it (its part of the amount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreDispute {
    pub dispute_id: String,
    pub charge_id: String,
    pub order_id: String,
    pub currency: String,
    /// The disputed amount and the store's part of it (minor units).
    pub amount: i64,
    pub store_part: i64,
    pub status: String,
    pub reason: String,
    pub open: bool,
    pub lost: bool,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
}

pub use super::sales::{SalesRow, SoldLine, sales, share_out};

/// A reversal asked of a store's transfer, not answered yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reversal {
    pub charge_id: String,
    pub amount: i64,
    /// The processor's idempotency key.
    pub key: String,
    /// Why: a refund's or a dispute's id.
    pub cause: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayoutStatus {
    /// Transfers still being made.
    InProgress,
    /// Every line transferred (or refused: see each line).
    Paid,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::InProgress => "in_progress",
            PayoutStatus::Paid => "paid",
        }
    }
}

/// One charge's line of a payout, as its statement shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub line: PayoutLine,
    pub order_id: String,
    pub gross: i64,
    pub refunded: i64,
    pub store_currency: String,
    /// `share`, `fee`, `debt_netted` and `amount` in the store's currency.
    pub store_amounts: [i64; 4],
    /// The processor's transfer, once made (none needed for 0).
    pub transfer_id: Option<String>,
    /// The processor refused it for good: the charge stays payable.
    pub refused: Option<String>,
    pub done: bool,
    /// Since the payout (filled in when read): refunds and lost disputes
    /// of the charge, what they took back from the transfer, and what the
    /// store was left owing for them.
    pub after: Option<AfterPayout>,
}

/// What happened to a paid-out charge since its payout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterPayout {
    pub refunded: i64,
    pub reversed: i64,
    pub reversing: i64,
}

impl StatementLine {
    /// With what happened since, from the charge's earning now.
    pub fn with_after(mut self, earned: &Earned) -> StatementLine {
        if let (Some(paid), true) = (&earned.earning.paid, self.transfer_id.is_some()) {
            self.after = Some(AfterPayout {
                refunded: earned.earning.refunded - self.refunded,
                reversed: paid.reversed,
                reversing: paid.reversing,
            });
        }
        self
    }
}

/// A payout: what was due when it was asked, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub id: String,
    pub seq: u64,
    /// Who asked (a user id), or `schedule`.
    pub requested_by: String,
    pub created_at: Millis,
    pub status: PayoutStatus,
    pub lines: Vec<StatementLine>,
    pub finished_at: Option<Millis>,
}

impl Payout {
    /// A payout of `lines` (each with what its charge earned).
    pub fn new(id: &str, seq: u64, requested_by: &str, now: Millis, lines: Vec<(PayoutLine, &Earned)>) -> Payout {
        let lines = lines
            .into_iter()
            .map(|(line, earned)| StatementLine {
                order_id: earned.order_id.clone(),
                gross: earned.earning.gross,
                refunded: earned.earning.refunded,
                store_currency: earned.store_currency.clone(),
                store_amounts: [line.share, line.fee, line.debt_netted, line.amount]
                    .map(|a| earned.in_store_currency(a)),
                transfer_id: None,
                refused: None,
                // Even a line the debt took whole is recorded paid by the
                // transfer round (which needs no transfer for it).
                done: false,
                after: None,
                line,
            })
            .collect();
        Payout {
            id: id.to_string(),
            seq,
            requested_by: requested_by.to_string(),
            created_at: now,
            status: PayoutStatus::InProgress,
            lines,
            finished_at: None,
        }
    }

    /// Lines still to transfer, at most `n`.
    pub fn next_lines(&self, n: usize) -> Vec<usize> {
        (0..self.lines.len()).filter(|&i| !self.lines[i].done).take(n).collect()
    }

    /// Finished once every line is done.
    pub fn finish_if_done(mut self, now: Millis) -> Payout {
        if self.lines.iter().all(|l| l.done) && self.status == PayoutStatus::InProgress {
            self.status = PayoutStatus::Paid;
            self.finished_at = Some(now);
        }
        self
    }

    /// Totals transferred per currency.
    pub fn totals(&self) -> BTreeMap<String, i64> {
        let mut totals = BTreeMap::new();
        for l in self
            .lines
            .iter()
            .filter(|l| l.transfer_id.is_some() || (l.done && l.refused.is_none()))
        {
            *totals.entry(l.line.currency.clone()).or_default() += l.line.amount;
        }
        totals
    }
}

/// A store's money record (its earnings and payouts are member records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funds {
    pub account: Option<Account>,
    pub every: Every,
    /// When the schedule pays out next.
    pub next_payout_at: Option<Millis>,
    /// Per currency, what the store owes.
    pub debt: BTreeMap<String, i64>,
    /// Earnings not paid out yet.
    pub unpaid: u64,
    /// Payouts made (numbers the next one).
    pub payouts: u64,
    /// The payout whose transfers are being made.
    pub running: Option<u64>,
    pub reversals: Vec<Reversal>,
    /// Failed rounds in a row (backoff).
    pub retries: u32,
    /// When the alarm wakes it (see [`Funds::due`]).
    pub next_check: Option<Millis>,
    pub updated_at: Millis,
}

impl Funds {
    pub fn new(now: Millis) -> Funds {
        Funds {
            account: None,
            every: Every::Manual,
            next_payout_at: None,
            debt: BTreeMap::new(),
            unpaid: 0,
            payouts: 0,
            running: None,
            reversals: Vec::new(),
            retries: 0,
            next_check: None,
            updated_at: now,
        }
    }

    /// With its alarm set (see [`Funds::due`]).
    pub fn scheduled(mut self, now: Millis) -> Funds {
        self.next_check = self.due(now);
        self
    }

    /// The balance over `earned` (the earnings a step needs) and the debt.
    pub fn balance<'a>(&self, earned: impl Iterator<Item = &'a Earned>) -> Balance {
        Balance {
            earnings: earned.map(|e| (e.charge_id.clone(), e.earning.clone())).collect(),
            debt: self.debt.clone(),
        }
    }

    /// A new schedule: the first scheduled payout one period from now.
    pub fn schedule(&self, every: Every, now: Millis) -> Funds {
        let mut next = self.clone();
        next.every = every;
        next.next_payout_at = every.period().map(|p| now + p);
        next
    }

    /// The schedule is due: its next time moves one period on (past `now`).
    pub fn schedule_due(&self, now: Millis) -> bool {
        self.next_payout_at.is_some_and(|at| at <= now)
    }

    pub fn advance_schedule(&self, now: Millis) -> Funds {
        let mut next = self.clone();
        if let (Some(mut at), Some(period)) = (self.next_payout_at, self.every.period()) {
            while at <= now {
                at += period;
            }
            next.next_payout_at = Some(at);
        }
        next
    }

    /// Work is left: a payout's transfers or reversals.
    pub fn has_steps(&self) -> bool {
        self.running.is_some() || !self.reversals.is_empty()
    }

    /// When the alarm wakes it: soon while steps are left (backing off),
    /// else at the schedule's next time.
    pub fn due(&self, now: Millis) -> Option<Millis> {
        let steps = self.has_steps().then(|| {
            let doublings = self.retries.min(10);
            now + match self.retries {
                0 => 0,
                _ => super::record::RETRY_FIRST
                    .saturating_mul(1 << doublings.saturating_sub(1))
                    .min(super::record::RETRY_MAX),
            }
        });
        match (steps, self.next_payout_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What a succeeded charge earned each store in it: its lines' totals (in
/// the charge's and the store's currency, at the order's rates). A charge
/// that took less than its lines (a partial capture, or lines the order
/// could not take and that were given back) is shared in proportion, the
/// last store taking the rounding.
pub fn earnings_of(charge: &Charge, order: &Order) -> Result<Vec<(String, Earned)>> {
    let currency = &charge.intent.currency;
    let mut per_store: BTreeMap<String, (i64, Decimal)> = BTreeMap::new();
    let mut sold: BTreeMap<String, Vec<SoldLine>> = BTreeMap::new();
    let mut store_currency: BTreeMap<String, String> = BTreeMap::new();
    for charged in &charge.intent.lines {
        let line = order
            .line(&charged.line_id)
            .ok_or_else(|| Error::internal(format!("charge line {} is not in its order", charged.line_id)))?;
        let unit = Money::stored(&line.unit_price, currency)?;
        let total = minor::to_minor(unit.times(charged.quantity)?.amount(), currency)?;
        let store_total = Money::stored(&line.store_line_total, &line.store_currency)?.amount();
        let store_part = match line.quantity {
            0 => Decimal::ZERO,
            q => store_total * Decimal::from(charged.quantity) / Decimal::from(q),
        };
        sold.entry(line.store_id.clone()).or_default().push(SoldLine {
            line_id: line.line_id.clone(),
            product_id: line.product_id.clone(),
            units: charged.quantity,
            gross: total,
        });
        let entry = per_store.entry(line.store_id.clone()).or_default();
        entry.0 += total;
        entry.1 += store_part;
        store_currency.insert(line.store_id.clone(), line.store_currency.clone());
    }
    let lines_total: i64 = per_store.values().map(|(t, _)| t).sum();
    let given_back = charge.auto_refund.as_ref().map_or(0, |r| r.amount_minor);
    let taken = (charge.captured_minor - given_back).clamp(0, lines_total);
    let count = per_store.len();
    let mut left = taken;
    let mut out = Vec::new();
    for (i, (store, (total, store_part))) in per_store.into_iter().enumerate() {
        let gross = match (i + 1 == count, lines_total) {
            (_, 0) => 0,
            (true, _) => left,
            (false, all) => ((i128::from(total) * i128::from(taken)) / i128::from(all)) as i64,
        };
        left -= gross;
        let store_cur = store_currency.get(&store).cloned().unwrap_or_else(|| currency.clone());
        let store_gross = match total {
            0 => 0,
            t => minor::to_minor(
                round(store_part * Decimal::from(gross) / Decimal::from(t), &store_cur),
                &store_cur,
            )?,
        };
        out.push((
            store.clone(),
            Earned {
                charge_id: charge.intent.charge_id.clone(),
                order_id: charge.intent.order_id.clone(),
                earning: Earning {
                    currency: currency.clone(),
                    captured_at: charge.updated_at,
                    gross,
                    refunded: 0,
                    paid: None,
                },
                processor: charge.intent.processor.clone(),
                payment_id: charge.processor_payment_id.clone(),
                transfer_id: None,
                disputed: false,
                lines: {
                    let mut lines = sold.remove(&store).unwrap_or_default();
                    let weights: Vec<i64> = lines.iter().map(|l| l.gross).collect();
                    for (l, g) in lines.iter_mut().zip(share_out(gross, &weights)) {
                        l.gross = g;
                    }
                    lines
                },
                returned: BTreeMap::new(),
                pending_refunds: BTreeSet::new(),
                store_currency: store_cur,
                store_gross,
            },
        ));
    }
    Ok(out)
}

/// `[payments] fee_rate` read: a decimal in [0, 1).
pub fn fee_rate(text: &str) -> std::result::Result<Decimal, String> {
    let rate = Decimal::from_str(text.trim()).map_err(|_| format!("{text:?} is not a decimal"))?;
    if rate < Decimal::ZERO || rate >= Decimal::ONE {
        return Err(format!("{text} is not at least 0 and below 1"));
    }
    Ok(rate)
}

/// Member names of a store's funds: earnings by charge, unpaid earnings
/// by capture time (oldest first), payouts by number and by id, refunds
/// and disputes applied.
pub mod members {
    use crate::ports::Millis;

    pub fn earned(charge_id: &str) -> String {
        format!("earned:{charge_id}")
    }

    pub const DUE: &str = "due:";

    pub fn due(captured_at: Millis, charge_id: &str) -> String {
        format!("{DUE}{:020}:{charge_id}", captured_at.max(0))
    }

    /// The capture time and charge of a `due:` member.
    pub fn parse_due(member: &str) -> Option<(Millis, &str)> {
        let (at, charge) = member.strip_prefix(DUE)?.split_once(':')?;
        Some((at.parse().ok()?, charge))
    }

    pub const PAYOUT: &str = "payout:";

    pub fn payout(seq: u64) -> String {
        format!("{PAYOUT}{seq:020}")
    }

    pub fn payout_id(id: &str) -> String {
        format!("payout_id:{id}")
    }

    pub const DISPUTE: &str = "dispute:";

    pub fn dispute(id: &str) -> String {
        format!("{DISPUTE}{id}")
    }

    pub fn applied(cause: &str, charge_id: &str) -> String {
        format!("applied:{cause}:{charge_id}")
    }
}

#[cfg(test)]
#[path = "funds_tests.rs"]
mod tests;
