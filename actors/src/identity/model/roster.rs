//! The roster of full administrators: one entity, the single writer that
//! decides whether full administration may be taken from someone, so two
//! administrators demoting each other at the same instant cannot leave the
//! shop with none.
//!
//! A **full administrator** is an enabled account holding the built-in
//! `admin` role (built-in roles never change, so only a change of that
//! user's roles or disabled flag can make or unmake one). Each such change
//! bumps the user's `grants_revision` and is applied only if the revision
//! is still the one the flow read (compare-and-set in the user entity).
//!
//! The roster keeps `members ⊆ the actual full administrators` at every
//! instant, so a non-empty roster means someone can still administer:
//! - before full administration is taken from a user read at revision
//!   `r`, [`RosterRequest::Release`] removes them (refused with 409
//!   `last_admin` when nobody else is a member) and fences `r`: the change
//!   lands at `r + 1` or never;
//! - after any change, [`RosterRequest::Observe`] reports what the user is
//!   at the revision read; a full administrator is admitted only above
//!   every fence, i.e. once no release granted earlier can still land.
//!
//! A flow that dies between the steps leaves the roster short of someone
//! (a later `last_admin` refusal too many, healed by that user's next
//! observed change), never long.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The built-in role whose enabled holders are full administrators.
pub const ADMIN_ROLE: &str = "admin";

/// Whether an account with these roles and flag is a full administrator.
pub fn is_full_admin(roles: &[String], disabled: bool) -> bool {
    !disabled && roles.iter().any(|r| r == ADMIN_ROLE)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// Full administrators, each known to be one at the revision observed.
    pub members: BTreeSet<String>,
    /// Per user, the highest grants revision a release was granted at.
    pub fences: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RosterRequest {
    /// The first use: the full administrators a scan of every user found,
    /// each with the revision read. Ignored once the roster exists.
    Seed(Vec<(String, u64)>),
    /// Full administration is about to be taken from `user`, read at
    /// grants `revision`.
    Release { user: String, revision: u64 },
    /// `user` was read at grants `revision`: a full administrator or not.
    Observe { user: String, revision: u64, full: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RosterAnswer {
    /// There is no roster yet: seed it from a scan, then ask again.
    Unseeded,
    /// The members now.
    Members(BTreeSet<String>),
}

/// Decides a request: the roster to store (`None`: unchanged) and the answer.
pub fn decide(state: Option<&Roster>, request: RosterRequest) -> Result<(Option<Roster>, RosterAnswer)> {
    let Some(roster) = state else {
        return Ok(match request {
            RosterRequest::Seed(found) => {
                let seeded = Roster {
                    members: found.into_iter().map(|(user, _)| user).collect(),
                    fences: BTreeMap::new(),
                };
                let answer = RosterAnswer::Members(seeded.members.clone());
                (Some(seeded), answer)
            }
            // What a seed will find anyway.
            RosterRequest::Release { .. } | RosterRequest::Observe { .. } => (None, RosterAnswer::Unseeded),
        });
    };
    let mut next = roster.clone();
    match request {
        RosterRequest::Seed(_) => return Ok((None, RosterAnswer::Members(roster.members.clone()))),
        RosterRequest::Release { user, revision } => {
            if next.members.iter().all(|member| *member == user) {
                return Err(Error::conflict(
                    "last_admin",
                    "this is the last full administrator; give the admin role to another account first",
                ));
            }
            next.members.remove(&user);
            let fence = next.fences.entry(user).or_insert(revision);
            *fence = (*fence).max(revision);
        }
        RosterRequest::Observe { user, revision, full } => {
            let fenced = next.fences.get(&user).is_some_and(|fence| revision <= *fence);
            if full && !fenced {
                next.members.insert(user);
            } else if !full {
                next.members.remove(&user);
            }
        }
    }
    let answer = RosterAnswer::Members(next.members.clone());
    Ok(((next != *roster).then_some(next), answer))
}

#[cfg(test)]
#[path = "roster_tests.rs"]
mod tests;
