//! A store's money (issue 17, first part): what each succeeded charge earned
//! it, what became payable and was paid out, what was taken back after the
//! money left, and what the store owes. Pure; amounts in minor units of
//! each charge's currency.
//!
//! Rules:
//! - A store's share of a charge is its lines' total (`gross`) minus the
//!   refunds of those lines that have not failed. It becomes payable
//!   `hold` after capture; the platform keeps a fee of `share × rate`,
//!   rounded half-even once per payout line; the store's open debt in that
//!   currency is netted from what is transferred.
//! - A charge is paid out at most once, under the transfer key
//!   `payout:<store>:<charge>`: recording a transfer twice changes nothing.
//! - A refund (or a lost dispute) after the payout takes back the store's
//!   part (the refund minus the fee on it) by reversing the transfer, up to
//!   what is left of it; what the reversal cannot take (refused for a short
//!   balance, or more than is left) becomes a debt. The buyer's refund never
//!   waits for the store.

use crate::error::{Error, Result};
use crate::ports::Millis;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a transfer recorded for a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paid {
    /// Transferred to the store.
    pub transferred: i64,
    /// The platform's fee on the share.
    pub fee: i64,
    /// Debt netted from this payout line.
    pub debt_netted: i64,
    /// Taken back since by reversals.
    pub reversed: i64,
    /// Reversals asked and not answered yet.
    pub reversing: i64,
    pub at: Millis,
}

/// What one succeeded charge earned the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earning {
    pub currency: String,
    pub captured_at: Millis,
    /// The store's lines' total in the charge.
    pub gross: i64,
    /// Refunds of those lines that have not failed.
    pub refunded: i64,
    pub paid: Option<Paid>,
}

impl Earning {
    /// The store's share before fees.
    pub fn share(&self) -> i64 {
        self.gross - self.refunded
    }
}

/// One charge's line of a payout, computed by [`Balance::payable`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutLine {
    pub charge_id: String,
    pub currency: String,
    pub share: i64,
    pub fee: i64,
    pub debt_netted: i64,
    /// What to transfer (0: nothing, the debt took it all).
    pub amount: i64,
    /// The processor's idempotency key of its transfer.
    pub key: String,
}

/// What a refund of a store's lines asks of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Not paid out yet: the share shrank, nothing to take back.
    None,
    /// Reverse this much of the charge's transfer (then [`Balance::reversed`]).
    Reverse { charge_id: String, amount: i64 },
}

/// A store's earnings and debts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub earnings: BTreeMap<String, Earning>,
    /// Per currency, what the store owes the platform.
    pub debt: BTreeMap<String, i64>,
}

/// `amount × rate`, rounded half-even to a whole minor unit.
pub fn fee(amount: i64, rate: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (Decimal::from(amount) * rate)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// The transfer key of a store's payout of a charge.
pub fn transfer_key(store: &str, charge_id: &str) -> String {
    format!("payout:{store}:{charge_id}")
}

fn invalid(why: impl Into<String>) -> Error {
    Error::conflict("payout_inconsistent", why)
}

impl Balance {
    /// A succeeded charge earned the store `gross` (once per charge; the
    /// same again changes nothing).
    pub fn earn(&self, charge_id: &str, currency: &str, gross: i64, captured_at: Millis) -> Result<Balance> {
        if gross < 0 {
            return Err(invalid(format!("a negative share of charge {charge_id}")));
        }
        match self.earnings.get(charge_id) {
            Some(e) if e.gross == gross && e.currency == currency => Ok(self.clone()),
            Some(_) => Err(invalid(format!("charge {charge_id} already earned another amount"))),
            None => {
                let mut next = self.clone();
                next.earnings.insert(
                    charge_id.to_string(),
                    Earning {
                        currency: currency.to_string(),
                        captured_at,
                        gross,
                        refunded: 0,
                        paid: None,
                    },
                );
                Ok(next)
            }
        }
    }

    fn earning(&self, charge_id: &str) -> Result<&Earning> {
        self.earnings
            .get(charge_id)
            .ok_or_else(|| invalid(format!("charge {charge_id} earned this store nothing")))
    }

    fn earning_mut(&mut self, charge_id: &str) -> Result<&mut Earning> {
        self.earnings
            .get_mut(charge_id)
            .ok_or_else(|| invalid(format!("charge {charge_id} earned this store nothing")))
    }

    /// `amount` of the store's lines in `charge_id` was refunded (or lost in
    /// a dispute): what to take back from the store.
    pub fn refund(&self, charge_id: &str, amount: i64, rate: Decimal) -> Result<(Balance, Recovery)> {
        let earning = self.earning(charge_id)?;
        if amount <= 0 || amount > earning.share() {
            return Err(invalid(format!(
                "a refund of {amount} on charge {charge_id}, whose share is {}",
                earning.share()
            )));
        }
        let mut next = self.clone();
        let e = next.earning_mut(charge_id)?;
        e.refunded += amount;
        let Some(paid) = &e.paid else {
            return Ok((next, Recovery::None));
        };
        let part = amount - fee(amount, rate);
        let reversible = (paid.transferred - paid.reversed - paid.reversing).max(0);
        let reverse = part.min(reversible);
        let owed = part - reverse;
        let currency = e.currency.clone();
        if let Some(paid) = e.paid.as_mut() {
            paid.reversing += reverse;
        }
        if owed > 0 {
            *next.debt.entry(currency).or_default() += owed;
        }
        Ok(match reverse {
            0 => (next, Recovery::None),
            amount => (
                next,
                Recovery::Reverse {
                    charge_id: charge_id.to_string(),
                    amount,
                },
            ),
        })
    }

    /// A refund counted by [`Balance::refund`] failed before any payout:
    /// the share grows back.
    pub fn refund_failed(&self, charge_id: &str, amount: i64) -> Result<Balance> {
        let earning = self.earning(charge_id)?;
        if earning.paid.is_some() || amount <= 0 || amount > earning.refunded {
            return Err(invalid(format!("no refund of {amount} to undo on charge {charge_id}")));
        }
        let mut next = self.clone();
        next.earning_mut(charge_id)?.refunded -= amount;
        Ok(next)
    }

    /// The reversal asked by a [`Recovery::Reverse`] was made (`done`) or
    /// refused by the processor (then the store owes it).
    pub fn reversed(&self, charge_id: &str, amount: i64, done: bool) -> Result<Balance> {
        let earning = self.earning(charge_id)?;
        let Some(paid) = &earning.paid else {
            return Err(invalid(format!("charge {charge_id} was not paid out")));
        };
        if amount <= 0 || amount > paid.reversing {
            return Err(invalid(format!("no reversal of {amount} asked on charge {charge_id}")));
        }
        let mut next = self.clone();
        let e = next.earning_mut(charge_id)?;
        if let Some(paid) = e.paid.as_mut() {
            paid.reversing -= amount;
            if done {
                paid.reversed += amount;
            }
        }
        if !done {
            let currency = earning.currency.clone();
            *next.debt.entry(currency).or_default() += amount;
        }
        Ok(next)
    }

    /// What is payable at `now`: one line per charge captured at least
    /// `hold` ago and not paid out, oldest first; the debt of each currency
    /// is netted from the lines in that order.
    pub fn payable(&self, store: &str, now: Millis, hold: Millis, rate: Decimal) -> Vec<PayoutLine> {
        let mut debt = self.debt.clone();
        let mut due: Vec<(&String, &Earning)> = self
            .earnings
            .iter()
            .filter(|(_, e)| e.paid.is_none() && e.captured_at.saturating_add(hold) <= now)
            .collect();
        due.sort_by_key(|(id, e)| (e.captured_at, *id));
        due.into_iter()
            .map(|(id, e)| {
                let share = e.share();
                let fee = fee(share, rate).min(share);
                let owed = debt.entry(e.currency.clone()).or_default();
                let debt_netted = (*owed).min(share - fee).max(0);
                *owed -= debt_netted;
                PayoutLine {
                    charge_id: id.clone(),
                    currency: e.currency.clone(),
                    share,
                    fee,
                    debt_netted,
                    amount: share - fee - debt_netted,
                    key: transfer_key(store, id),
                }
            })
            .collect()
    }

    /// The transfer of `line` was made (or needed none): recorded once;
    /// the netted debt is settled.
    pub fn paid(&self, line: &PayoutLine, at: Millis) -> Result<Balance> {
        let earning = self.earning(&line.charge_id)?;
        if let Some(paid) = &earning.paid {
            return match paid.transferred == line.amount {
                true => Ok(self.clone()),
                false => Err(invalid(format!("charge {} was paid out already", line.charge_id))),
            };
        }
        if line.share != earning.share() || line.currency != earning.currency {
            return Err(invalid(format!(
                "charge {} changed since its payout was computed",
                line.charge_id
            )));
        }
        let owed = self.debt.get(&line.currency).copied().unwrap_or(0);
        if line.debt_netted > owed {
            return Err(invalid(format!(
                "charge {}'s payout nets more debt than is owed",
                line.charge_id
            )));
        }
        let mut next = self.clone();
        next.debt.insert(line.currency.clone(), owed - line.debt_netted);
        next.debt.retain(|_, owed| *owed != 0);
        next.earning_mut(&line.charge_id)?.paid = Some(Paid {
            transferred: line.amount,
            fee: line.fee,
            debt_netted: line.debt_netted,
            reversed: 0,
            reversing: 0,
            at,
        });
        Ok(next)
    }
}

#[cfg(test)]
#[path = "payout_tests.rs"]
mod tests;
