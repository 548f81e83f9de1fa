//! The sandbox's connected accounts (Connect, as Stripe's test mode does
//! it): one entity per account, keyed by its id (which the idempotency key
//! of its creation determines). An account is opened `pending`, with
//! requirements due, until the sandbox completes its onboarding
//! ([`Sandbox::complete_account`]). It keeps a balance per currency:
//! transfers add to it, reversals take from it (refused with
//! `balance_insufficient` when it is short), and the store's own bank
//! payouts ([`Sandbox::withdraw`]) drain it. Transfers and reversals are
//! member records (an account may receive many), each found again by its
//! idempotency key: the same key answers the same transfer.

use super::account::Reported;
use super::events::account_event;
use super::ports::*;
use super::sandbox::{Outbox, Sandbox, from_error, refused, to_error};
use crate::error::{Error, Result};
use crate::runtime::{Entity, EntityContext, MemberWrite, Outcome, decode, encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an account opened in the sandbox must still provide.
pub const DUE_AT_OPENING: [&str; 3] = ["business_profile.url", "external_account", "tos_acceptance.date"];

fn hash(key: &str) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(key.as_bytes()))
}

/// The id of the account opened with idempotency key `key`.
pub fn account_id(key: &str) -> String {
    format!("sbx_acct_{}", hash(key))
}

/// The id of the transfer made with `key` to `account_id`.
pub fn transfer_id(account_id: &str, key: &str) -> String {
    let account = account_id.strip_prefix("sbx_acct_").unwrap_or(account_id);
    format!("sbx_tr_{account}_{}", hash(key))
}

/// The account a sandbox transfer went to.
pub fn account_of_transfer(transfer_id: &str) -> Option<String> {
    let rest = transfer_id.strip_prefix("sbx_tr_")?;
    let (account, _) = rest.split_once('_')?;
    Some(format!("sbx_acct_{account}"))
}

fn transfer_member(id: &str) -> String {
    format!("transfer:{id}")
}

fn reversal_member(key: &str) -> String {
    format!("reversal:{}", hash(key))
}

/// A transfer in the books, with the request that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedTransfer {
    pub transfer: ProcessorTransfer,
    pub request: CreateTransfer,
}

/// A connected account in the sandbox's books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxAccount {
    pub account: ProcessorAccount,
    pub email: String,
    /// Available balance per currency (minor units).
    pub balances: BTreeMap<String, i64>,
    /// Transfers received (each a member record).
    pub transfers: u64,
    pub events: u32,
}

impl SandboxAccount {
    pub fn open(request: &CreateAccount) -> Self {
        Self {
            account: ProcessorAccount {
                id: account_id(&request.idempotency_key),
                reported: Reported {
                    currently_due: DUE_AT_OPENING.iter().map(|d| d.to_string()).collect(),
                    ..Reported::default()
                },
                metadata: BTreeMap::from([("store_id".to_string(), request.store_id.clone())]),
            },
            email: request.email.clone(),
            balances: BTreeMap::new(),
            transfers: 0,
            events: 0,
        }
    }

    /// The store finished onboarding: charges and payouts enabled.
    pub fn complete(&self) -> Self {
        let mut next = self.clone();
        next.account.reported = Reported {
            charges_enabled: true,
            payouts_enabled: true,
            details_submitted: true,
            currently_due: Vec::new(),
            disabled_reason: None,
        };
        next
    }

    /// A new transfer (not made before under its key).
    pub fn transfer(&self, request: &CreateTransfer) -> Result<(Self, ProcessorTransfer), ProcessorError> {
        if request.amount_minor <= 0 {
            return Err(refused("amount_too_small", "a transfer must be positive"));
        }
        if !self.account.reported.payouts_enabled {
            return Err(refused(
                "account_invalid",
                "the destination account cannot receive transfers",
            ));
        }
        let transfer = ProcessorTransfer {
            id: transfer_id(&self.account.id, &request.idempotency_key),
            account_id: self.account.id.clone(),
            amount_minor: request.amount_minor,
            currency: request.currency.clone(),
            reversed_minor: 0,
        };
        let mut next = self.clone();
        *next.balances.entry(request.currency.clone()).or_default() += request.amount_minor;
        next.transfers += 1;
        Ok((next, transfer))
    }

    /// A reversal of `booked` (not made before under its key).
    pub fn reverse(
        &self,
        booked: &BookedTransfer,
        request: &CreateReversal,
    ) -> Result<(Self, BookedTransfer, ProcessorReversal), ProcessorError> {
        let t = &booked.transfer;
        if request.amount_minor <= 0 || request.amount_minor > t.amount_minor - t.reversed_minor {
            return Err(refused("amount_too_large", "more than is left of the transfer"));
        }
        let balance = self.balances.get(&t.currency).copied().unwrap_or(0);
        if balance < request.amount_minor {
            return Err(refused(
                "balance_insufficient",
                "the connected account's balance is too low for this reversal",
            ));
        }
        let mut next = self.clone();
        next.balances.insert(t.currency.clone(), balance - request.amount_minor);
        let mut after = booked.clone();
        after.transfer.reversed_minor += request.amount_minor;
        let reversal = ProcessorReversal {
            id: format!("sbx_trr_{}", hash(&request.idempotency_key)),
            transfer_id: t.id.clone(),
            amount_minor: request.amount_minor,
        };
        Ok((next, after, reversal))
    }

    /// The store paid `amount` of its balance out to its bank.
    pub fn withdraw(&self, currency: &str, amount: i64) -> Result<Self, ProcessorError> {
        let balance = self.balances.get(currency).copied().unwrap_or(0);
        if amount <= 0 || amount > balance {
            return Err(refused("balance_insufficient", "more than the account's balance"));
        }
        let mut next = self.clone();
        next.balances.insert(currency.to_string(), balance - amount);
        Ok(next)
    }
}

/// What the sandbox's accounts are asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AccountCommand {
    Open(CreateAccount),
    Get,
    Complete,
    Transfer(CreateTransfer),
    Reverse(CreateReversal),
    Withdraw {
        currency: String,
        amount_minor: i64,
    },
    GetTransfer(String),
    /// The transfers, a page after `after` (member order).
    Transfers {
        after: Option<String>,
        limit: usize,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AccountReply {
    Account(Box<SandboxAccount>),
    Transfer(ProcessorTransfer),
    Reversal(ProcessorReversal),
    Transfers(Vec<BookedTransfer>),
}

/// The sandbox's connected accounts.
pub struct SandboxAccounts {
    pub outbox: Option<Outbox>,
    pub context: EntityContext,
}

impl SandboxAccounts {
    /// Announces `account.updated`.
    fn announce(&self, account: &mut SandboxAccount) {
        if let Some(outbox) = &self.outbox {
            account.events += 1;
            let event_id = format!("evt_{}_{}", account.account.id, account.events);
            let _ = outbox.send(account_event(&event_id, &account.account));
        }
    }

    fn booked(&self, key: &str, member: &str) -> Result<Option<BookedTransfer>> {
        self.context.members(Self::KIND, key)?.decoded(member)
    }
}

impl Entity for SandboxAccounts {
    const KIND: &'static str = "sandbox_account";
    type State = SandboxAccount;
    type Command = AccountCommand;
    type Reply = AccountReply;

    async fn handle(
        &self,
        key: &str,
        state: Option<&SandboxAccount>,
        command: AccountCommand,
    ) -> Result<Outcome<SandboxAccount, AccountReply>> {
        let reply = |a: &SandboxAccount| AccountReply::Account(Box::new(a.clone()));
        if let AccountCommand::Open(request) = &command {
            return Ok(match state {
                Some(existing) => Outcome::read(reply(existing)),
                None => {
                    let mut opened = SandboxAccount::open(request);
                    self.announce(&mut opened);
                    Outcome::write(opened.clone(), reply(&opened))
                }
            });
        }
        let current = state.ok_or_else(|| Error::conflict("resource_missing", "no such account"))?;
        Ok(match command {
            AccountCommand::Open(_) | AccountCommand::Get => Outcome::read(reply(current)),
            AccountCommand::Complete => {
                let mut next = current.complete();
                if next == *current {
                    return Ok(Outcome::read(reply(current)));
                }
                self.announce(&mut next);
                Outcome::write(next.clone(), reply(&next))
            }
            AccountCommand::Transfer(request) => {
                let id = transfer_id(&current.account.id, &request.idempotency_key);
                if let Some(done) = self.booked(key, &transfer_member(&id))? {
                    if done.request.amount_minor != request.amount_minor || done.request.currency != request.currency {
                        return Err(Error::conflict(
                            "idempotency_error",
                            "this key was used for another transfer",
                        ));
                    }
                    return Ok(Outcome::read(AccountReply::Transfer(done.transfer)));
                }
                let (next, transfer) = current.transfer(&request).map_err(to_error)?;
                let booked = BookedTransfer {
                    transfer: transfer.clone(),
                    request,
                };
                let member: MemberWrite = (transfer_member(&id), Some(encode(&booked)?));
                Outcome::write(next, AccountReply::Transfer(transfer)).with_members(vec![member])
            }
            AccountCommand::Reverse(request) => {
                if let Some(done) = self
                    .context
                    .members(Self::KIND, key)?
                    .decoded::<ProcessorReversal>(&reversal_member(&request.idempotency_key))?
                {
                    return Ok(Outcome::read(AccountReply::Reversal(done)));
                }
                let booked = self
                    .booked(key, &transfer_member(&request.transfer_id))?
                    .ok_or_else(|| Error::conflict("resource_missing", "no such transfer"))?;
                let (next, after, reversal) = current.reverse(&booked, &request).map_err(to_error)?;
                let members = vec![
                    (transfer_member(&request.transfer_id), Some(encode(&after)?)),
                    (reversal_member(&request.idempotency_key), Some(encode(&reversal)?)),
                ];
                Outcome::write(next, AccountReply::Reversal(reversal)).with_members(members)
            }
            AccountCommand::GetTransfer(id) => {
                let booked = self
                    .booked(key, &transfer_member(&id))?
                    .ok_or_else(|| Error::conflict("resource_missing", "no such transfer"))?;
                Outcome::read(AccountReply::Transfer(booked.transfer))
            }
            AccountCommand::Withdraw { currency, amount_minor } => {
                let next = current.withdraw(&currency, amount_minor).map_err(to_error)?;
                Outcome::write(next.clone(), reply(&next))
            }
            AccountCommand::Transfers { after, limit } => {
                let from = after.map(|a| transfer_member(&a));
                let page = self
                    .context
                    .members(Self::KIND, key)?
                    .page(from.as_deref().or(Some("transfer:")), limit)?;
                let transfers = page
                    .into_iter()
                    .take_while(|(member, _)| member.starts_with("transfer:"))
                    .map(|(_, bytes)| decode(&bytes))
                    .collect::<Result<_>>()?;
                Outcome::read(AccountReply::Transfers(transfers))
            }
        })
    }
}

impl Sandbox {
    async fn account_ask(&self, id: &str, command: AccountCommand) -> Result<AccountReply, ProcessorError> {
        let router = self.context().router().map_err(from_error)?;
        router.ask::<SandboxAccounts>(id, command).await.map_err(from_error)
    }

    fn account_answer(&self, id: String, command: AccountCommand) -> Answer<ProcessorAccount> {
        let this = self.clone();
        Box::pin(async move {
            match this.account_ask(&id, command).await? {
                AccountReply::Account(a) => Ok(a.account),
                other => Err(ProcessorError::Unknown(format!("unexpected reply {other:?}"))),
            }
        })
    }

    /// The sandbox's store finishes onboarding.
    pub async fn complete_account(&self, account_id: &str) -> Result<SandboxAccount> {
        self.account(account_id, AccountCommand::Complete).await
    }

    /// The store pays `amount_minor` of its balance out to its bank.
    pub async fn withdraw(&self, account_id: &str, currency: &str, amount_minor: i64) -> Result<SandboxAccount> {
        let command = AccountCommand::Withdraw {
            currency: currency.to_string(),
            amount_minor,
        };
        self.account(account_id, command).await
    }

    async fn account(&self, account_id: &str, command: AccountCommand) -> Result<SandboxAccount> {
        let router = self.context().router()?;
        match router.ask::<SandboxAccounts>(account_id, command).await {
            Ok(AccountReply::Account(a)) => Ok(*a),
            Ok(other) => Err(Error::unexpected_reply(&other)),
            Err(Error::Conflict { code, .. }) if code == "resource_missing" => Err(Error::not_found("sandbox account")),
            Err(e) => Err(e),
        }
    }

    /// The account with a page of its transfers.
    pub async fn account_transfers(
        &self,
        account_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(SandboxAccount, Vec<BookedTransfer>)> {
        let account = self.account(account_id, AccountCommand::Get).await?;
        let router = self.context().router()?;
        let transfers = match router
            .ask::<SandboxAccounts>(account_id, AccountCommand::Transfers { after, limit })
            .await?
        {
            AccountReply::Transfers(t) => t,
            other => return Err(Error::unexpected_reply(&other)),
        };
        Ok((account, transfers))
    }

    pub(crate) fn open_account(&self, request: CreateAccount) -> Answer<ProcessorAccount> {
        let id = account_id(&request.idempotency_key);
        self.account_answer(id, AccountCommand::Open(request))
    }

    pub(crate) fn read_account(&self, account_id: &str) -> Answer<ProcessorAccount> {
        self.account_answer(account_id.to_string(), AccountCommand::Get)
    }

    /// A link to the sandbox's onboarding (completing it is a POST there).
    pub(crate) fn link(&self, account_id: &str) -> Answer<AccountLink> {
        let this = self.clone();
        let id = account_id.to_string();
        let url = format!("{}/{id}/complete", self.accounts_url());
        let expires_at = self.now_secs() + LINK_LIFE_SECS;
        Box::pin(async move {
            // The account must exist.
            this.account_ask(&id, AccountCommand::Get).await?;
            Ok(AccountLink { url, expires_at })
        })
    }

    pub(crate) fn make_transfer(&self, transfer: CreateTransfer) -> Answer<ProcessorTransfer> {
        let this = self.clone();
        Box::pin(async move {
            let id = transfer.account_id.clone();
            match this.account_ask(&id, AccountCommand::Transfer(transfer)).await? {
                AccountReply::Transfer(t) => Ok(t),
                other => Err(ProcessorError::Unknown(format!("unexpected reply {other:?}"))),
            }
        })
    }

    pub(crate) fn read_transfer(&self, transfer_id: &str) -> Answer<ProcessorTransfer> {
        let this = self.clone();
        let id = transfer_id.to_string();
        Box::pin(async move {
            let account = account_of_transfer(&id).ok_or_else(|| refused("resource_missing", "no such transfer"))?;
            match this.account_ask(&account, AccountCommand::GetTransfer(id)).await? {
                AccountReply::Transfer(t) => Ok(t),
                other => Err(ProcessorError::Unknown(format!("unexpected reply {other:?}"))),
            }
        })
    }

    pub(crate) fn reverse_transfer(&self, reversal: CreateReversal) -> Answer<ProcessorReversal> {
        let this = self.clone();
        Box::pin(async move {
            let id = account_of_transfer(&reversal.transfer_id)
                .ok_or_else(|| refused("resource_missing", "no such transfer"))?;
            match this.account_ask(&id, AccountCommand::Reverse(reversal)).await? {
                AccountReply::Reversal(r) => Ok(r),
                other => Err(ProcessorError::Unknown(format!("unexpected reply {other:?}"))),
            }
        })
    }
}

/// How long a sandbox onboarding link lives (Stripe's: minutes).
pub const LINK_LIFE_SECS: i64 = 300;

#[cfg(test)]
#[path = "sandbox_accounts_tests.rs"]
mod tests;
