//! A store's merchant account at a payment processor (issue 17): who may
//! onboard, the account's status from what the processor reports, and when
//! an onboarding link must be renewed. Pure.

use crate::error::{FieldErrors, Result};
use crate::ports::Millis;
use crate::storefront::model::{Store, StoreStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountStatus {
    /// Onboarding not finished: no charges, no payouts.
    Pending,
    /// Charges and payouts enabled.
    Active,
    /// The processor disabled something (requirements past due, review…).
    Restricted,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Active => "active",
            AccountStatus::Restricted => "restricted",
        }
    }
}

/// What a processor says about a connected account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// Requirements currently due.
    pub currently_due: Vec<String>,
    /// Why the processor disabled it, if it did.
    pub disabled_reason: Option<String>,
    /// The account's onboarding was submitted.
    pub details_submitted: bool,
}

/// The status a report means.
pub fn status_of(reported: &Reported) -> AccountStatus {
    match reported {
        r if r.charges_enabled && r.payouts_enabled && r.disabled_reason.is_none() => AccountStatus::Active,
        r if r.disabled_reason.is_some() && r.details_submitted => AccountStatus::Restricted,
        r if r.details_submitted && (!r.charges_enabled || !r.payouts_enabled) => AccountStatus::Restricted,
        _ => AccountStatus::Pending,
    }
}

/// A store's account, as the platform keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub processor: String,
    pub account_id: String,
    pub status: AccountStatus,
    pub requirements: Vec<String>,
    pub onboarding_url: Option<String>,
    pub onboarding_expires_at: Option<Millis>,
    pub updated_at: Millis,
}

impl Account {
    /// The account after the processor's report.
    pub fn reported(&self, reported: &Reported, now: Millis) -> Account {
        let status = status_of(reported);
        Account {
            status,
            requirements: reported.currently_due.clone(),
            // A finished onboarding needs no link.
            onboarding_url: self.onboarding_url.clone().filter(|_| status == AccountStatus::Pending),
            onboarding_expires_at: self.onboarding_expires_at.filter(|_| status == AccountStatus::Pending),
            updated_at: now,
            ..self.clone()
        }
    }

    /// A repeated onboarding request needs a new link: the account is not
    /// active and its link is missing or expired.
    pub fn needs_link(&self, now: Millis) -> bool {
        self.status != AccountStatus::Active && self.onboarding_expires_at.is_none_or(|at| at <= now)
    }

    /// Charges may name this store.
    pub fn accepts_payments(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

/// Only an active store with contact details may onboard: 422 naming what
/// is missing.
pub fn may_onboard(store: &Store) -> Result<()> {
    let mut missing = FieldErrors::new();
    if store.status != StoreStatus::Active {
        missing.add("status", "the store must be active to receive payments");
    }
    if store.emails.is_empty() {
        missing.add("emails", "a contact e-mail address is required to receive payments");
    }
    if store.address.is_none() {
        missing.add("address", "an address is required to receive payments");
    }
    missing.into_result()
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
