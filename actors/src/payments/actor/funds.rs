//! The store funds entity, one per store (`payments/funds.rs` and
//! `payout.rs` decide): the store's merchant account, earnings (member
//! records), payouts and reversals. A payout is written with its lines
//! before any transfer is made; each transfer carries the key
//! `payout:<store>:<charge>`, so a transfer made and not yet recorded (the
//! node died in between) is found again, never made twice.

use super::PaymentContext;
use crate::error::{Error, Result};
use crate::payments::account::Account;
use crate::payments::funds::{
    Earned, Every, Funds, Payout, Reversal, SalesRow, StatementLine, StoreDispute, members, sales,
};
use crate::payments::payout::Recovery;
use crate::payments::ports::{CreateAccount, ProcessorAccount, ProcessorError};
use crate::ports::Millis;
use crate::runtime::{Entity, MemberWrite, Members, Outcome, encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[path = "funds_rounds.rs"]
mod rounds;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FundsCommand {
    /// Opens (or reuses) the store's account; a fresh onboarding link when
    /// the old one is missing or expired.
    Onboard {
        processor: String,
        email: String,
        return_url: String,
        refresh_url: String,
    },
    /// Reads the account back from its processor.
    Refresh,
    /// The processor reported the account (a webhook): read back.
    Reported(Box<ProcessorAccount>),
    /// A succeeded charge earned the store this (once per charge).
    Earn(Box<Earned>),
    /// `amount` of the store's lines in `charge_id` went back to the buyer
    /// (once per `cause`, a refund's id or a dispute's).
    Refunded {
        cause: String,
        charge_id: String,
        amount: i64,
        /// The order lines (id, units) it gave back.
        lines: Vec<(String, u64)>,
    },
    /// A refund of the store's lines in `charge_id` was asked: the charge
    /// is not paid out until it settled.
    RefundPending {
        cause: String,
        charge_id: String,
    },
    /// That refund failed: the charge is payable again.
    RefundFailed {
        cause: String,
        charge_id: String,
    },
    /// The sales of charges captured in `[from, to)`.
    Sales {
        from: Millis,
        to: Millis,
    },
    /// Pays out everything payable now (once per `payout_id`).
    Payout {
        payout_id: String,
        requested_by: String,
    },
    Schedule(Every),
    /// A dispute of one of the store's charges moved; a lost one takes
    /// back the store's part like a refund.
    Disputed(Box<StoreDispute>),
    /// The lines of payouts made in `[from, to)` (for reports).
    PayoutLines {
        from: Millis,
        to: Millis,
    },
    /// The store's disputes, after id `after`.
    Disputes {
        after: String,
        limit: usize,
    },
    Work,
    Wake,
    Get,
    GetPayout(String),
    /// Payouts after number `after`, oldest first.
    Payouts {
        after: u64,
        limit: usize,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FundsReply {
    Funds(Box<Funds>),
    Payout(Box<Payout>),
    Payouts(Vec<Payout>),
    Disputes(Vec<StoreDispute>),
    Lines(Vec<(Millis, StatementLine)>),
    Sales(Vec<SalesRow>),
    Done,
}

/// One per store.
pub struct FundsEntity(pub PaymentContext);

/// A change in the making: the new state and the members it writes.
struct Change {
    funds: Funds,
    members: BTreeMap<String, Option<Vec<u8>>>,
}

impl Change {
    fn put<T: Serialize>(&mut self, member: String, value: &T) -> Result<()> {
        self.members.insert(member, Some(encode(value)?));
        Ok(())
    }

    /// A charge's earning as this change leaves it.
    fn earned(&self, members: &Members, charge_id: &str) -> Result<Option<Earned>> {
        match self.members.get(&members::earned(charge_id)) {
            Some(Some(bytes)) => Ok(Some(crate::runtime::decode(bytes)?)),
            Some(None) => Ok(None),
            None => members.decoded(&members::earned(charge_id)),
        }
    }

    fn remove(&mut self, member: String) {
        self.members.insert(member, None);
    }
}

impl FundsEntity {
    fn members(&self, store: &str) -> Result<Members> {
        self.0.context.members(Self::KIND, store)
    }

    fn earned(members: &Members, charge_id: &str) -> Result<Option<Earned>> {
        members.decoded(&members::earned(charge_id))
    }

    fn payout(members: &Members, seq: u64) -> Result<Payout> {
        members
            .decoded(&members::payout(seq))?
            .ok_or_else(|| Error::internal(format!("payout {seq} is missing")))
    }

    async fn onboard(
        &self,
        store: &str,
        funds: &Funds,
        processor: &str,
        email: &str,
        urls: (&str, &str),
        now: Millis,
    ) -> Result<Funds> {
        let adapter = self.0.processors.adapter(processor)?;
        let unavailable = |e: ProcessorError| match e {
            ProcessorError::Refused { code, message } => Error::conflict(&code, message),
            ProcessorError::Unknown(why) => Error::unavailable("processor_unavailable", why, 5),
        };
        let mut account = match &funds.account {
            Some(a) if a.processor != processor => {
                return Err(Error::conflict(
                    "payment_account_exists",
                    format!("the store already has an account at {}", a.processor),
                ));
            }
            Some(a) => match adapter.get_account(&a.account_id).await {
                Ok(read) => a.reported(&read.reported, now),
                Err(ProcessorError::Unknown(_)) => a.clone(),
                Err(e) => return Err(unavailable(e)),
            },
            None => {
                let opened = adapter
                    .create_account(CreateAccount {
                        store_id: store.to_string(),
                        email: email.to_string(),
                        idempotency_key: format!("account:{store}"),
                    })
                    .await
                    .map_err(unavailable)?;
                let fresh = Account {
                    processor: processor.to_string(),
                    account_id: opened.id.clone(),
                    status: crate::payments::account::AccountStatus::Pending,
                    requirements: Vec::new(),
                    onboarding_url: None,
                    onboarding_expires_at: None,
                    updated_at: now,
                };
                fresh.reported(&opened.reported, now)
            }
        };
        if account.needs_link(now) {
            let link = adapter
                .account_link(&account.account_id, urls.0, urls.1)
                .await
                .map_err(unavailable)?;
            account.onboarding_url = Some(link.url);
            account.onboarding_expires_at = Some(link.expires_at.saturating_mul(1000));
        }
        let mut next = funds.clone();
        next.account = Some(account);
        Ok(next)
    }

    /// The payout with what happened to each paid-out charge since.
    fn with_after(members: &Members, mut payout: Payout) -> Result<Payout> {
        let mut lines = Vec::with_capacity(payout.lines.len());
        for line in payout.lines {
            lines.push(match Self::earned(members, &line.line.charge_id)? {
                Some(e) => line.with_after(&e),
                None => line,
            });
        }
        payout.lines = lines;
        Ok(payout)
    }

    /// The account as its processor reports it now (unchanged if it cannot
    /// be asked).
    async fn refresh(&self, store: &str, funds: &Funds, now: Millis) -> Result<Option<Account>> {
        let Some(account) = &funds.account else {
            return Ok(None);
        };
        let adapter = self.0.processors.adapter(&account.processor)?;
        Ok(Some(match adapter.get_account(&account.account_id).await {
            Ok(read) => account.reported(&read.reported, now),
            Err(error) => {
                tracing::warn!(store, ?error, "the account is read again later");
                account.clone()
            }
        }))
    }

    fn disputed(&self, store: &str, change: &mut Change, dispute: &StoreDispute) -> Result<()> {
        let members = self.members(store)?;
        let member = members::dispute(&dispute.dispute_id);
        if members.decoded::<StoreDispute>(&member)?.as_ref() == Some(dispute) {
            return Ok(());
        }
        if let Some(mut e) = Self::earned(&members, &dispute.charge_id)?
            && e.disputed != dispute.open
        {
            e.disputed = dispute.open;
            change.put(members::earned(&e.charge_id), &e)?;
        }
        change.put(member, dispute)?;
        if dispute.lost {
            // What the platform lost comes back from the store like a
            // refund (after the earning's write above, which it reads).
            self.refunded(
                store,
                change,
                &dispute.dispute_id,
                &dispute.charge_id,
                dispute.store_part,
                &[],
            )?;
        }
        Ok(())
    }

    /// Marks (or clears) refund `cause` pending on the charge's earning;
    /// an applied refund is never pending again.
    fn mark_pending(
        &self,
        store: &str,
        change: &mut Change,
        cause: &str,
        charge_id: &str,
        pending: bool,
    ) -> Result<()> {
        let members = self.members(store)?;
        let applied = members.contains(&members::applied(cause, charge_id))?;
        let Some(mut e) = change.earned(&members, charge_id)? else {
            return Ok(());
        };
        let changed = match pending && !applied {
            true => e.pending_refunds.insert(cause.to_string()),
            false => e.pending_refunds.remove(cause),
        };
        if changed {
            change.put(members::earned(charge_id), &e)?;
        }
        Ok(())
    }

    fn refunded(
        &self,
        store: &str,
        change: &mut Change,
        cause: &str,
        charge_id: &str,
        amount: i64,
        lines: &[(String, u64)],
    ) -> Result<()> {
        let members = self.members(store)?;
        if members.contains(&members::applied(cause, charge_id))? {
            return Ok(());
        }
        let Some(mut e) = change.earned(&members, charge_id)? else {
            tracing::warn!(store, charge_id, "a refund of a charge that earned the store nothing");
            return Ok(());
        };
        if let Some(seq) = change.funds.running {
            let payout = Self::payout(&members, seq)?;
            if payout.lines.iter().any(|l| l.line.charge_id == charge_id && !l.done) {
                return Err(Error::unavailable(
                    "payout_in_progress",
                    "the charge is being paid out; the refund is applied after",
                    5,
                ));
            }
        }
        let amount = amount.min(e.earning.share());
        if amount > 0 {
            let (after, recovery) =
                change
                    .funds
                    .balance(std::iter::once(&e))
                    .refund(charge_id, amount, self.0.fee_rate)?;
            e.earning = after.earnings.get(charge_id).cloned().unwrap_or(e.earning);
            e.returned(lines, amount);
            change.funds.debt = after.debt;
            if let Recovery::Reverse { amount, .. } = recovery {
                change.funds.reversals.push(Reversal {
                    charge_id: charge_id.to_string(),
                    amount,
                    key: format!("reversal:{cause}:{charge_id}"),
                    cause: cause.to_string(),
                });
            }
            change.put(members::earned(charge_id), &e)?;
        }
        change.put(members::applied(cause, charge_id), &amount)?;
        self.mark_pending(store, change, cause, charge_id, false)
    }
}

impl Entity for FundsEntity {
    const KIND: &'static str = "store_funds";
    type State = Funds;
    type Command = FundsCommand;
    type Reply = FundsReply;

    fn due(&self, funds: &Funds) -> Option<Millis> {
        funds.next_check
    }

    fn wake(&self) -> Option<FundsCommand> {
        Some(FundsCommand::Wake)
    }

    async fn handle(
        &self,
        store: &str,
        state: Option<&Funds>,
        command: FundsCommand,
    ) -> Result<Outcome<Funds, FundsReply>> {
        let now = self.0.clock.now();
        let current = state.cloned().unwrap_or_else(|| Funds::new(now));
        let mut change = Change {
            funds: current.clone(),
            members: BTreeMap::new(),
        };
        let mut reply = None;
        match command {
            FundsCommand::Get => return Ok(Outcome::read(FundsReply::Funds(Box::new(current)))),
            FundsCommand::GetPayout(id) => {
                let members = self.members(store)?;
                let seq: u64 = members
                    .decoded(&members::payout_id(&id))?
                    .ok_or_else(|| Error::not_found("payout"))?;
                let payout = Self::with_after(&members, Self::payout(&members, seq)?)?;
                return Ok(Outcome::read(FundsReply::Payout(Box::new(payout))));
            }
            FundsCommand::Payouts { after, limit } => {
                let members = self.members(store)?;
                let page = members.page(Some(&members::payout(after)), limit)?;
                let payouts = page
                    .into_iter()
                    .take_while(|(m, _)| m.starts_with(members::PAYOUT))
                    .map(|(_, bytes)| Self::with_after(&members, crate::runtime::decode(&bytes)?))
                    .collect::<Result<_>>()?;
                return Ok(Outcome::read(FundsReply::Payouts(payouts)));
            }
            FundsCommand::Onboard {
                processor,
                email,
                return_url,
                refresh_url,
            } => {
                let urls = (return_url.as_str(), refresh_url.as_str());
                change.funds = self.onboard(store, &current, &processor, &email, urls, now).await?;
            }
            FundsCommand::Refresh => change.funds.account = self.refresh(store, &current, now).await?,
            // Webhooks come in any order: what one says is read back from
            // the processor rather than taken as it is.
            FundsCommand::Reported(read) if current.account.as_ref().is_some_and(|a| a.account_id == read.id) => {
                change.funds.account = self.refresh(store, &current, now).await?;
            }
            FundsCommand::Reported(_) => {}
            FundsCommand::Earn(earned) => {
                let members = self.members(store)?;
                if Self::earned(&members, &earned.charge_id)?.is_none() {
                    change.funds.unpaid += 1;
                    change.put(members::due(earned.earning.captured_at, &earned.charge_id), &())?;
                    change.put(members::earned(&earned.charge_id), &*earned)?;
                }
                reply = Some(FundsReply::Done);
            }
            FundsCommand::Refunded {
                cause,
                charge_id,
                amount,
                lines,
            } => {
                self.refunded(store, &mut change, &cause, &charge_id, amount, &lines)?;
                reply = Some(FundsReply::Done);
            }
            FundsCommand::Payout {
                payout_id,
                requested_by,
            } => {
                let members = self.members(store)?;
                if let Some(seq) = members.decoded::<u64>(&members::payout_id(&payout_id))? {
                    return Ok(Outcome::read(FundsReply::Payout(Box::new(Self::payout(
                        &members, seq,
                    )?))));
                }
                if let Some(seq) = current.running {
                    let running = Self::payout(&members, seq)?;
                    return Err(Error::conflict(
                        "payout_in_progress",
                        format!("payout {} is still being made; retry when it is paid", running.id),
                    ));
                }
                if !current.account.as_ref().is_some_and(Account::accepts_payments) {
                    return Err(Error::conflict(
                        "payouts_disabled",
                        "the store has no active payment account",
                    ));
                }
                let payout = self
                    .plan(store, &mut change, &payout_id, &requested_by, now)?
                    .ok_or_else(|| Error::conflict("nothing_payable", "nothing is payable to the store now"))?;
                reply = Some(FundsReply::Payout(Box::new(payout)));
            }
            FundsCommand::Schedule(every) => {
                change.funds = current.schedule(every, now);
            }
            FundsCommand::RefundPending { cause, charge_id } => {
                self.mark_pending(store, &mut change, &cause, &charge_id, true)?;
                reply = Some(FundsReply::Done);
            }
            FundsCommand::RefundFailed { cause, charge_id } => {
                self.mark_pending(store, &mut change, &cause, &charge_id, false)?;
                reply = Some(FundsReply::Done);
            }
            FundsCommand::Sales { from, to } => {
                let members = self.members(store)?;
                let mut earned: Vec<Earned> = Vec::new();
                let mut after = members::earned("");
                loop {
                    let page = members.page(Some(&after), 1_000)?;
                    let full = page.len() == 1_000;
                    let mut done = !full;
                    for (member, bytes) in page {
                        if !member.starts_with("earned:") {
                            done = true;
                            break;
                        }
                        earned.push(crate::runtime::decode(&bytes)?);
                        after = member;
                    }
                    if done {
                        break;
                    }
                }
                return Ok(Outcome::read(FundsReply::Sales(sales(earned.iter(), from, to))));
            }
            FundsCommand::PayoutLines { from, to } => {
                let members = self.members(store)?;
                let mut lines = Vec::new();
                let mut after = members::payout(0);
                loop {
                    let page = members.page(Some(&after), 100)?;
                    let full = page.len() == 100;
                    for (member, bytes) in page {
                        if !member.starts_with(members::PAYOUT) {
                            return Ok(Outcome::read(FundsReply::Lines(lines)));
                        }
                        let payout: Payout = crate::runtime::decode(&bytes)?;
                        if (from..to).contains(&payout.created_at) {
                            lines.extend(payout.lines.into_iter().map(|l| (payout.created_at, l)));
                        }
                        after = member;
                    }
                    if !full {
                        return Ok(Outcome::read(FundsReply::Lines(lines)));
                    }
                }
            }
            FundsCommand::Disputes { after, limit } => {
                let members = self.members(store)?;
                let page = members.page(Some(&members::dispute(&after)), limit)?;
                let disputes = page
                    .into_iter()
                    .take_while(|(m, _)| m.starts_with(members::DISPUTE))
                    .map(|(_, bytes)| crate::runtime::decode(&bytes))
                    .collect::<Result<_>>()?;
                return Ok(Outcome::read(FundsReply::Disputes(disputes)));
            }
            FundsCommand::Disputed(dispute) => {
                self.disputed(store, &mut change, &dispute)?;
                reply = Some(FundsReply::Done);
            }
            FundsCommand::Work | FundsCommand::Wake => {
                if current.has_steps() || current.schedule_due(now) {
                    self.work(store, &mut change, now).await?;
                }
            }
        }
        let mut next = change.funds.scheduled(now);
        let reply = reply.unwrap_or_else(|| FundsReply::Funds(Box::new(next.clone())));
        if next == current && change.members.is_empty() && state.is_some() {
            return Ok(Outcome::read(reply));
        }
        next.updated_at = now;
        let members: Vec<MemberWrite> = change.members.into_iter().collect();
        Ok(Outcome::write(next, reply).with_members(members))
    }
}
