//! Password guessing is slowed per (account, client address), never by
//! locking an account for everyone: a guesser's own attempts get slower
//! while the owner, from another address, signs in as usual. An unknown
//! account is throttled exactly like a real one, so a 429 reveals nothing.
//!
//! The first [`FREE_FAILURES`] failures cost nothing; each one after makes
//! the next attempt wait twice as long, from 1 s up to [`MAX_WAIT`]. A
//! success, or [`FORGET_AFTER`] without failures, starts afresh.

use super::{MINUTE, Millis};
use crate::error::{Error, Result};

pub const FREE_FAILURES: u32 = 3;
pub const MAX_WAIT: Millis = 15 * MINUTE;
pub const FORGET_AFTER: Millis = 30 * MINUTE;

/// Failed password attempts of one (account, address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    pub failures: u32,
    pub last: Millis,
}

impl Attempts {
    fn current(self, now: Millis) -> Self {
        if now - self.last >= FORGET_AFTER {
            Self::default()
        } else {
            self
        }
    }

    /// How long the next attempt must wait after the last failure.
    pub fn wait(self, now: Millis) -> Millis {
        let current = self.current(now);
        match current.failures.checked_sub(FREE_FAILURES + 1) {
            None => 0,
            Some(extra) => (1_000i64 << extra.min(20)).min(MAX_WAIT),
        }
    }

    /// 429 with Retry-After while the next attempt must still wait.
    pub fn check(self, now: Millis) -> Result<()> {
        let wait = self.wait(now);
        let ready = self.last + wait;
        if wait > 0 && now < ready {
            return Err(Error::RateLimited {
                message: "too many failed attempts from here; try again later".into(),
                retry_after_secs: ((ready - now + 999) / 1_000) as u64,
            });
        }
        Ok(())
    }

    pub fn failed(self, now: Millis) -> Self {
        let current = self.current(now);
        Self {
            failures: current.failures.saturating_add(1),
            last: now,
        }
    }
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
