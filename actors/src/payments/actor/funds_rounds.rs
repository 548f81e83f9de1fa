//! A store's payout rounds: planning a payout (written before any
//! transfer), its transfers a round at a time, the reversals asked of it,
//! and the schedule — the work the funds entity does on `Work` and on its
//! alarm.

use super::{Change, FundsEntity};
use crate::error::{Error, Result};
use crate::payments::account::Account;
use crate::payments::funds::{Earned, LINES_PER_ROUND, Payout, PayoutStatus, members};
use crate::payments::ports::{CreateReversal, CreateTransfer, ProcessorError};
use crate::ports::Millis;
use futures::StreamExt;
use std::collections::BTreeMap;

/// Transfers in flight at once during a payout.
const TRANSFERS_AT_ONCE: usize = 16;
/// Unpaid earnings read per page when a payout is planned.
const DUE_PAGE: usize = 1_000;

impl FundsEntity {
    /// Plans a payout of everything payable now; `None` if nothing is.
    pub(super) fn plan(
        &self,
        store: &str,
        change: &mut Change,
        id: &str,
        by: &str,
        now: Millis,
    ) -> Result<Option<Payout>> {
        let members = self.members(store)?;
        let mut due = Vec::new();
        let mut after = members::DUE.to_string();
        'pages: loop {
            let page = members.page(Some(&after), DUE_PAGE)?;
            let last = page.len() < DUE_PAGE;
            for (member, _) in page {
                let Some((captured_at, charge)) = members::parse_due(&member) else {
                    break 'pages;
                };
                if captured_at.saturating_add(self.0.payout_hold) > now {
                    break 'pages;
                }
                if let Some(earned) = Self::earned(&members, charge)?.filter(Earned::payable) {
                    due.push(earned);
                }
                after = member;
            }
            if last {
                break;
            }
        }
        let balance = change.funds.balance(due.iter());
        let lines = balance.payable(store, now, self.0.payout_hold, self.0.fee_rate);
        if lines.is_empty() {
            return Ok(None);
        }
        let by_charge: BTreeMap<&str, &Earned> = due.iter().map(|e| (e.charge_id.as_str(), e)).collect();
        let lines = lines
            .into_iter()
            .filter_map(|l| {
                let earned = *by_charge.get(l.charge_id.as_str())?;
                Some((l, earned))
            })
            .collect();
        let seq = change.funds.payouts + 1;
        let payout = Payout::new(id, seq, by, now, lines);
        change.funds.payouts = seq;
        change.funds.running = Some(seq);
        change.put(members::payout(seq), &payout)?;
        change.put(members::payout_id(id), &seq)?;
        Ok(Some(payout))
    }

    /// One round of a running payout's transfers.
    pub(super) async fn transfer_round(&self, store: &str, change: &mut Change, seq: u64, now: Millis) -> Result<bool> {
        let members = self.members(store)?;
        let mut payout = Self::payout(&members, seq)?;
        let Some(account) = change.funds.account.clone() else {
            return Err(Error::internal("a payout without an account"));
        };
        let adapter = self.0.processors.adapter(&account.processor)?;
        let mut earned = BTreeMap::new();
        for i in payout.next_lines(LINES_PER_ROUND) {
            let charge = &payout.lines[i].line.charge_id;
            if let Some(e) = Self::earned(&members, charge)? {
                earned.insert(i, e);
            }
        }
        let requests: Vec<(usize, Option<CreateTransfer>)> = earned
            .iter()
            .map(|(&i, e)| {
                let line = &payout.lines[i].line;
                let request = (line.amount > 0).then(|| CreateTransfer {
                    account_id: account.account_id.clone(),
                    amount_minor: line.amount,
                    currency: line.currency.clone(),
                    idempotency_key: line.key.clone(),
                    transfer_group: format!("order_{}", e.order_id),
                    source_payment_id: e.payment_id.clone().filter(|_| e.processor == account.processor),
                    metadata: BTreeMap::from([
                        ("store_id".to_string(), store.to_string()),
                        ("charge_id".to_string(), line.charge_id.clone()),
                        ("payout_id".to_string(), payout.id.clone()),
                    ]),
                });
                (i, request)
            })
            .collect();
        let answers: Vec<(usize, Option<Result<_, ProcessorError>>)> = futures::stream::iter(requests)
            .map(|(i, request)| {
                let adapter = adapter.clone();
                async move {
                    match request {
                        Some(r) => (i, Some(adapter.transfer(r).await)),
                        None => (i, None),
                    }
                }
            })
            .buffer_unordered(TRANSFERS_AT_ONCE)
            .collect()
            .await;
        crate::faults::pause_point("payout.transferred");
        let mut failed = false;
        let mut answers = answers;
        answers.sort_by_key(|(i, _)| *i);
        for (i, answer) in answers {
            let transfer_id = match answer {
                None => None,
                Some(Ok(t)) => Some(t.id),
                Some(Err(ProcessorError::Refused { code, message })) => {
                    tracing::warn!(store, code, "the processor refused a payout transfer");
                    payout.lines[i].refused = Some(format!("{code}: {message}"));
                    payout.lines[i].done = true;
                    continue;
                }
                Some(Err(ProcessorError::Unknown(why))) => {
                    tracing::warn!(store, why, "payout transfer outcome unknown; sent again later");
                    failed = true;
                    continue;
                }
            };
            let Some(mut e) = earned.remove(&i) else { continue };
            let line = &payout.lines[i].line;
            let paid = change.funds.balance(std::iter::once(&e)).paid(line, now)?;
            e.earning = paid.earnings.get(&e.charge_id).cloned().unwrap_or(e.earning);
            e.transfer_id = transfer_id.clone();
            change.funds.debt = paid.debt;
            change.funds.unpaid = change.funds.unpaid.saturating_sub(1);
            change.put(members::earned(&e.charge_id), &e)?;
            change.remove(members::due(e.earning.captured_at, &e.charge_id));
            payout.lines[i].transfer_id = transfer_id;
            payout.lines[i].done = true;
        }
        let payout = payout.finish_if_done(now);
        if payout.status == PayoutStatus::Paid {
            change.funds.running = None;
        }
        change.put(members::payout(seq), &payout)?;
        Ok(failed)
    }

    /// Asks every pending reversal of its processor.
    pub(super) async fn reverse(&self, store: &str, change: &mut Change) -> Result<bool> {
        let members = self.members(store)?;
        let mut failed = false;
        let processor = change.funds.account.as_ref().map(|a| a.processor.clone());
        let mut left = Vec::new();
        for reversal in change.funds.reversals.clone() {
            let (Some(mut e), Some(processor)) = (Self::earned(&members, &reversal.charge_id)?, &processor) else {
                continue;
            };
            let Some(transfer_id) = e.transfer_id.clone() else {
                continue;
            };
            let request = CreateReversal {
                transfer_id,
                amount_minor: reversal.amount,
                idempotency_key: reversal.key.clone(),
            };
            let done = match self.0.processors.adapter(processor)?.reverse(request).await {
                Ok(_) => true,
                Err(ProcessorError::Refused { code, .. }) => {
                    tracing::warn!(store, code, "a reversal was refused: the store owes it");
                    false
                }
                Err(ProcessorError::Unknown(why)) => {
                    tracing::warn!(store, why, "reversal outcome unknown; asked again later");
                    failed = true;
                    left.push(reversal);
                    continue;
                }
            };
            let after =
                change
                    .funds
                    .balance(std::iter::once(&e))
                    .reversed(&reversal.charge_id, reversal.amount, done)?;
            e.earning = after.earnings.get(&e.charge_id).cloned().unwrap_or(e.earning);
            change.funds.debt = after.debt;
            change.put(members::earned(&e.charge_id), &e)?;
        }
        change.funds.reversals = left;
        Ok(failed)
    }

    pub(super) async fn work(&self, store: &str, change: &mut Change, now: Millis) -> Result<()> {
        let mut failed = false;
        if change.funds.running.is_none() && change.funds.schedule_due(now) {
            let at = change.funds.next_payout_at.unwrap_or(now);
            change.funds = change.funds.advance_schedule(now);
            let active = change.funds.account.as_ref().is_some_and(Account::accepts_payments);
            // A payout planned now is durable before any of its transfers:
            // they follow at the next round (at once).
            if active
                && self
                    .plan(store, change, &format!("scheduled_{at}"), "schedule", now)?
                    .is_some()
            {
                return Ok(());
            }
        }
        if let Some(seq) = change.funds.running {
            failed |= self.transfer_round(store, change, seq, now).await?;
        }
        if !change.funds.reversals.is_empty() {
            failed |= self.reverse(store, change).await?;
        }
        change.funds.retries = if failed { change.funds.retries + 1 } else { 0 };
        Ok(())
    }
}
