//! Unique keys (`username:…`, `email:…`), each owned by at most one user.
//!
//! Registration claims a key first and confirms it once the user exists. A
//! key left unconfirmed by a crashed registration can be taken over once
//! it is stale and its would-be owner provably does not exist.

use super::{MINUTE, Millis};
use serde::{Deserialize, Serialize};

/// Who owns one unique key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyOwner {
    pub owner: String,
    pub confirmed: bool,
    pub since: Millis,
}

pub const STALE_CLAIM_AFTER: Millis = 2 * MINUTE;

impl KeyOwner {
    pub fn is_stale(&self, now: Millis) -> bool {
        !self.confirmed && now - self.since >= STALE_CLAIM_AFTER
    }
}

/// What is asked of a unique key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KeyRequest {
    /// Claim for `owner`; idempotent for the same owner.
    Claim {
        owner: String,
    },
    /// Replace a stale claim by `expected` with one by `owner`.
    TakeOver {
        expected: String,
        owner: String,
    },
    Confirm {
        owner: String,
    },
    Release {
        owner: String,
    },
    Get,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAnswer {
    Granted,
    Owned(KeyOwner),
    Free,
}

/// What a request does to the key's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    Keep,
    Put(KeyOwner),
    Delete,
}

/// Decides a request on a key owned by `state` (`None`: free).
pub fn decide(state: Option<&KeyOwner>, request: KeyRequest, now: Millis) -> (KeyChange, KeyAnswer) {
    let fresh = |owner: String| KeyOwner {
        owner,
        confirmed: false,
        since: now,
    };
    let current = || state.map_or(KeyAnswer::Free, |c| KeyAnswer::Owned(c.clone()));
    match (request, state) {
        (KeyRequest::Claim { owner }, None) => (KeyChange::Put(fresh(owner)), KeyAnswer::Granted),
        (KeyRequest::Claim { owner }, Some(c)) if c.owner == owner => (KeyChange::Keep, KeyAnswer::Granted),
        (KeyRequest::TakeOver { expected, owner }, Some(c)) if c.owner == expected && c.is_stale(now) => {
            (KeyChange::Put(fresh(owner)), KeyAnswer::Granted)
        }
        (KeyRequest::TakeOver { owner, .. }, None) => (KeyChange::Put(fresh(owner)), KeyAnswer::Granted),
        (KeyRequest::Confirm { owner }, Some(c)) if c.owner == owner => {
            let confirmed = KeyOwner {
                confirmed: true,
                ..c.clone()
            };
            (KeyChange::Put(confirmed), KeyAnswer::Granted)
        }
        (KeyRequest::Release { owner }, Some(c)) if c.owner == owner => (KeyChange::Delete, KeyAnswer::Free),
        // Someone else's key, a fresh claim not to be taken over, or a read.
        _ => (KeyChange::Keep, current()),
    }
}

#[cfg(test)]
#[path = "unique_tests.rs"]
mod tests;
