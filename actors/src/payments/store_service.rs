//! The sellers' side of [`Payments`]: merchant accounts, payouts and their
//! schedule, and the sandbox's connected accounts. Each store's money is
//! one `store_funds` entity (`actor/funds.rs`).

use super::*;
use crate::payments::account::{Account, may_onboard};
use crate::payments::dispute::ChargeDisputes;
use crate::payments::funds::{Every, Funds, Payout, PayoutStatus, StoreDispute};
use crate::payments::ports::{ProcessorAccount, ProcessorDispute, ProcessorError};
use crate::payments::sandbox_accounts::{BookedTransfer, SandboxAccount};
use crate::storefront::model::Store;
use std::time::{Duration, Instant};

/// How long a payout request waits for its transfers before answering
/// `in_progress` (the alarm goes on with them).
const PAYOUT_WAIT: Duration = Duration::from_secs(8);

/// The id of the payout asked with `idempotency_key` for `store_id`.
pub fn payout_id(store_id: &str, idempotency_key: &str) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(format!("payout\0{store_id}\0{idempotency_key}").as_bytes());
    format!("po_{hash:032x}")
}

impl Payments {
    pub(super) async fn funds(&self, store_id: &str, command: FundsCommand) -> Result<FundsReply> {
        self.router.ask::<FundsEntity>(store_id, command).await
    }

    async fn funds_state(&self, store_id: &str, command: FundsCommand) -> Result<Funds> {
        expect_reply!(self.funds(store_id, command).await?, FundsReply::Funds(f) => *f)
    }

    /// The store, if `caller` supervises it (or administers payments).
    async fn supervised(&self, caller: &str, admin: bool, store_id: &str) -> Result<Store> {
        let store = self.storefront.get(store_id).await?;
        if !admin {
            store.check_supervisor(caller)?;
        }
        Ok(store)
    }

    /// The supervisor opens (or reuses) the store's account at a processor.
    pub async fn onboard(
        &self,
        caller: &str,
        admin: bool,
        store_id: &str,
        processor: Option<String>,
        return_url: &str,
        refresh_url: &str,
    ) -> Result<Account> {
        let store = self.supervised(caller, admin, store_id).await?;
        let processor = processor.unwrap_or_else(|| self.settings.default_processor.clone());
        self.processors
            .get(&processor)
            .map_err(|_| Error::invalid("processor", "no processor of this name is configured"))?;
        for (field, url) in [("return_url", return_url), ("refresh_url", refresh_url)] {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
                return Err(Error::invalid(field, "must be an http(s) URL"));
            }
        }
        may_onboard(&store)?;
        let command = FundsCommand::Onboard {
            processor,
            email: store.emails.first().cloned().unwrap_or_default(),
            return_url: return_url.to_string(),
            refresh_url: refresh_url.to_string(),
        };
        let funds = self.funds_state(store_id, command).await?;
        funds
            .account
            .ok_or_else(|| Error::internal("onboarding left no account"))
    }

    /// The store's account, refreshed from its processor.
    pub async fn payment_account(&self, caller: &str, admin: bool, store_id: &str) -> Result<Account> {
        self.supervised(caller, admin, store_id).await?;
        let funds = self.funds_state(store_id, FundsCommand::Refresh).await?;
        funds.account.ok_or_else(|| Error::not_found("payment account"))
    }

    /// A processor's `account.updated`: the store it names learns it.
    pub(super) async fn account_reported(&self, account: ProcessorAccount) -> Result<()> {
        let Some(store_id) = account.metadata.get("store_id").cloned() else {
            return Ok(());
        };
        self.funds(&store_id, FundsCommand::Reported(Box::new(account))).await?;
        Ok(())
    }

    /// Refuses a charge naming a store without an active account (409
    /// `store_cannot_accept_payments`, naming them).
    pub(super) async fn refuse_stores_without_account(&self, stores: &[String]) -> Result<()> {
        let read = join_all(stores.iter().map(|s| self.funds_state(s, FundsCommand::Get))).await;
        let mut missing = Vec::new();
        for (store, funds) in stores.iter().zip(read) {
            if !funds?.account.as_ref().is_some_and(Account::accepts_payments) {
                missing.push(store.clone());
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::conflict(
            "store_cannot_accept_payments",
            format!("these stores have no active payment account: {}", missing.join(", ")),
        ))
    }

    /// The supervisor pays out everything payable now (idempotent per key).
    pub async fn payout(&self, caller: &str, admin: bool, store_id: &str, idempotency_key: &str) -> Result<Payout> {
        let key = idempotency_key_of(idempotency_key)?;
        self.supervised(caller, admin, store_id).await?;
        let id = payout_id(store_id, key);
        let _flying = self.in_flight.enter(&id)?;
        let command = FundsCommand::Payout {
            payout_id: id.clone(),
            requested_by: caller.to_string(),
        };
        let mut payout = expect_reply!(self.funds(store_id, command).await?, FundsReply::Payout(p) => *p)?;
        let deadline = Instant::now() + PAYOUT_WAIT;
        while payout.status == PayoutStatus::InProgress && Instant::now() < deadline {
            let funds = self.funds_state(store_id, FundsCommand::Work).await?;
            payout = expect_reply!(
                self.funds(store_id, FundsCommand::GetPayout(id.clone())).await?,
                FundsReply::Payout(p) => *p
            )?;
            if funds.retries > 0 {
                break;
            }
        }
        Ok(payout)
    }

    /// How often the store is paid out by itself.
    pub async fn set_payout_schedule(&self, caller: &str, admin: bool, store_id: &str, every: &str) -> Result<Funds> {
        let every = Every::parse(every)?;
        self.supervised(caller, admin, store_id).await?;
        self.funds_state(store_id, FundsCommand::Schedule(every)).await
    }

    /// The store's payouts after number `after`, oldest first, and the
    /// store's funds (schedule, debt).
    pub async fn payouts(
        &self,
        caller: &str,
        admin: bool,
        store_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<(Funds, Vec<Payout>)> {
        self.supervised(caller, admin, store_id).await?;
        let funds = self.funds_state(store_id, FundsCommand::Get).await?;
        let command = FundsCommand::Payouts {
            after,
            limit: limit.clamp(1, 100),
        };
        let payouts = expect_reply!(self.funds(store_id, command).await?, FundsReply::Payouts(p) => p)?;
        Ok((funds, payouts))
    }

    /// The sandbox completes a store's onboarding.
    pub async fn sandbox_complete(&self, account_id: &str) -> Result<SandboxAccount> {
        self.sandbox()?.complete_account(account_id).await
    }

    /// The sandbox's connected account and a page of its transfers.
    pub async fn sandbox_account(
        &self,
        account_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(SandboxAccount, Vec<BookedTransfer>)> {
        self.sandbox()?
            .account_transfers(account_id, after, limit.clamp(1, 1000))
            .await
    }

    /// The sandbox's store pays part of its balance out to its bank.
    pub async fn sandbox_withdraw(
        &self,
        account_id: &str,
        currency: &str,
        amount_minor: i64,
    ) -> Result<SandboxAccount> {
        self.sandbox()?.withdraw(account_id, currency, amount_minor).await
    }
}

impl Payments {
    /// A charge's disputes (none for most).
    pub async fn charge_disputes(&self, charge_id: &str) -> Result<ChargeDisputes> {
        self.router.ask::<DisputesEntity>(charge_id, DisputeCommand::Get).await
    }

    /// A processor's `charge.dispute.*`: the dispute is read back and
    /// recorded (`record_dispute`); the processor's sweep reads it again
    /// while it is open.
    pub(super) async fn dispute_event(&self, processor: &str, dispute_id: &str) -> Result<()> {
        let adapter = self.processors.adapter(processor)?;
        let dispute = match adapter.get_dispute(dispute_id).await {
            Ok(d) => d,
            Err(ProcessorError::Refused { .. }) => return Ok(()),
            Err(e) => return Err(processor_unknown(e)),
        };
        let seen = WatchCommand::Seen {
            dispute_id: dispute.id.clone(),
            open: dispute.open(),
        };
        record_dispute(&self.router, adapter.as_ref(), processor, dispute).await?;
        self.router.ask::<DisputeWatchEntity>(processor, seen).await.map(|_| ())
    }

    /// Refuses a refund of `store_id`'s lines while a charge paying them is
    /// disputed (409 `charge_disputed`).
    pub(super) async fn refuse_disputed(&self, order_id: &str, store_id: &str) -> Result<()> {
        let ledger = self.ledger(order_id).await?;
        let charges = ledger
            .claims
            .iter()
            .filter(|c| c.intent.stores.iter().any(|s| s == store_id))
            .map(|c| c.intent.charge_id.clone());
        for charge_id in charges {
            if self.charge_disputes(&charge_id).await?.open() {
                return Err(Error::conflict(
                    "charge_disputed",
                    format!("charge {charge_id} is disputed; refunds wait until the dispute closes"),
                ));
            }
        }
        Ok(())
    }

    /// The store's disputes (staff), after id `after`.
    pub async fn store_disputes(
        &self,
        caller: &str,
        admin: bool,
        store_id: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<StoreDispute>> {
        if !admin {
            self.storefront
                .get(store_id)
                .await?
                .check_staff(caller, self.clock.now())?;
        }
        let command = FundsCommand::Disputes {
            after: after.to_string(),
            limit: limit.clamp(1, 100),
        };
        expect_reply!(self.funds(store_id, command).await?, FundsReply::Disputes(d) => d)
    }

    /// The sandbox's buyer disputes a succeeded payment.
    pub async fn sandbox_dispute(&self, payment_id: &str, amount: &str) -> Result<ProcessorDispute> {
        self.sandbox()?.open_dispute(payment_id, amount).await
    }

    /// The sandbox decides a dispute.
    pub async fn sandbox_close_dispute(&self, dispute_id: &str, won: bool) -> Result<ProcessorDispute> {
        self.sandbox()?.close_dispute(dispute_id, won).await
    }
}
