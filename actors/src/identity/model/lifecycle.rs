//! The end of an account: deletion, the retention window, restore and the
//! purge. Deleting disables the account at once (every session and pending
//! token gone) and erases its phones and addresses; its username and e-mail
//! stay claimed by it for [`ACCOUNT_RETENTION`], while administrators may
//! restore it; then the record is purged and both become free.

use super::{Millis, User};
use crate::error::{Error, Result};

/// How long a deleted account can be restored (and keeps its username and
/// e-mail) before it is purged.
pub const ACCOUNT_RETENTION: Millis = 30 * 24 * 3_600_000;

/// The longest wait between two tries of a purge.
pub const PURGE_RETRY_MAX: Millis = 3_600_000;

pub const DELETED: &str = "this account is deleted; an administrator can restore it within 30 days of its deletion";

fn account_deleted() -> Error {
    Error::conflict("account_deleted", DELETED)
}

impl User {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// When the deleted account's personal data goes for good.
    pub fn purge_at(&self) -> Option<Millis> {
        self.deleted_at.map(|at| at + ACCOUNT_RETENTION)
    }

    /// When the purge is tried (next): at the end of the window, then,
    /// after failures, each time twice as late (1 s, 2 s, … at most an
    /// hour).
    pub fn purge_due(&self) -> Option<Millis> {
        let wait = match self.purge_failures {
            0 => 0,
            n => (1000i64 << (n - 1).min(12)).min(PURGE_RETRY_MAX),
        };
        self.purge_at().map(|at| at + wait)
    }

    /// The purge failed once more.
    pub fn purge_failed(&self) -> Self {
        let mut next = self.clone();
        next.purge_failures = next.purge_failures.saturating_add(1);
        next
    }

    /// Whether a deleted account is past its retention window at `now`.
    pub fn is_purgeable(&self, now: Millis) -> bool {
        self.purge_at().is_some_and(|at| at <= now)
    }

    /// The account deleted at `now`: sessions, pending reset and e-mail
    /// tokens revoked, phones and addresses erased. Deleting it again
    /// changes nothing (the window runs from the first deletion).
    pub fn deleted(&self, now: Millis) -> Self {
        if self.is_deleted() {
            return self.clone();
        }
        let mut next = self.with_only_session(None);
        next.deleted_at = Some(now);
        next.phones.clear();
        next.addresses.clear();
        next.reset = None;
        next.email_token = None;
        next.grants_revision += 1;
        next
    }

    /// The deleted account back as it was (less what deletion erased), if
    /// its window has not ended at `now`; an account not deleted is
    /// returned as it is.
    pub fn restored(&self, now: Millis) -> Result<Self> {
        if !self.is_deleted() {
            return Ok(self.clone());
        }
        if self.is_purgeable(now) {
            return Err(Error::not_found("user"));
        }
        let mut next = self.clone();
        next.deleted_at = None;
        next.purge_failures = 0;
        next.grants_revision += 1;
        Ok(next)
    }

    /// Changes of a deleted account are refused (409 `account_deleted`):
    /// only reading it, leaving groups, restore and purge remain.
    pub fn check_not_deleted(&self) -> Result<()> {
        match self.is_deleted() {
            true => Err(account_deleted()),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
