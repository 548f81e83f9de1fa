//! The identity rules: accounts, sign-in lockout, sessions (refresh-token
//! families), e-mail verification and password reset. Pure: no I/O, no
//! clocks, no randomness — callers pass `now` and the hashes of fresh secrets.

pub mod access;
pub mod admin;
pub mod fields;
pub mod groups;
pub mod lifecycle;
pub mod roles;
pub mod roster;
pub mod standing;
#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
pub mod throttle;
pub mod unique;
mod user_v1;
pub use user_v1::{UserV1, UserV2, UserV3};

pub use fields::Address;
pub use roles::{Role, RoleRequest};
pub use unique::{KeyAnswer, KeyOwner, KeyRequest, STALE_CLAIM_AFTER};

use crate::error::{Error, FieldErrors, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::ports::Millis;

pub const MINUTE: Millis = 60_000;
pub const RESET_TOKEN_LIFETIME: Millis = 30 * MINUTE;
/// At most one password-reset mail per account this often.
pub const RESET_MIN_INTERVAL: Millis = 2 * MINUTE;
pub const REFRESH_TOKEN_LIFETIME: Millis = 30 * 24 * 60 * MINUTE;
/// Oldest sessions are dropped beyond this many per user.
pub const MAX_SESSIONS: usize = 20;
/// Spent refresh tokens remembered per family, to detect reuse.
pub const MAX_SPENT_PER_FAMILY: usize = 64;

/// SHA-256 of a secret token. Only hashes are stored.
pub type SecretHash = [u8; 32];

/// A registration request, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub display_name: Option<String>,
}

impl Registration {
    pub fn parse(username: &str, email: &str, password: &str, display_name: Option<&str>) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let username = errors.check("username", fields::username(username));
        let email = errors.check("email", fields::email(email));
        errors.check(
            "password",
            fields::password(password, username.as_deref().unwrap_or("")),
        );
        let display_name = display_name.and_then(|d| errors.check("display_name", fields::display_name(d)));
        errors.into_result()?;
        Ok(Self {
            username: username.unwrap_or_default(),
            email: email.unwrap_or_default(),
            display_name,
        })
    }
}

/// One signed-in device: a family of refresh tokens, rotated on every use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub family: String,
    pub current: SecretHash,
    pub spent: Vec<SecretHash>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReset {
    pub token: SecretHash,
    pub expires_at: Millis,
}

/// The persisted state of one user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub quota_overrides: BTreeMap<String, u64>,
    pub phones: Vec<String>,
    pub addresses: Vec<Address>,
    pub created_at: Millis,
    pub disabled: bool,
    /// Bumped by every change of `roles` or `disabled`; administration
    /// applies such a change only at the revision it read (see
    /// `model/roster.rs`).
    pub grants_revision: u64,
    pub sessions: Vec<Session>,
    pub email_token: Option<SecretHash>,
    pub reset: Option<PendingReset>,
    /// The groups the user belongs to (their members lists hold the user
    /// too; see `identity/groups.rs`).
    pub groups: std::collections::BTreeSet<String>,
    /// Roles of `roles` granted until a time.
    pub role_expiry: BTreeMap<String, Millis>,
    /// Quota overrides granted until a time (then the default applies).
    pub quota_expiry: BTreeMap<String, Millis>,
    /// When the account was deleted (see `model/lifecycle.rs`).
    pub deleted_at: Option<Millis>,
    /// Purges of the deleted account that failed in a row (each waits
    /// longer before the next).
    pub purge_failures: u32,
}

/// Leaves out the password hash and token hashes.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("roles", &self.roles)
            .field("disabled", &self.disabled)
            .field("deleted_at", &self.deleted_at)
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

/// What a refresh token presented to its user turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshCheck {
    /// The family's current token: rotate it.
    Current {
        family: String,
    },
    /// A token of the family already spent: someone replayed it.
    Reused {
        family: String,
    },
    Unknown,
}

/// A profile edit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilePatch {
    pub display_name: Option<Option<String>>,
    pub phones: Option<Vec<String>>,
    pub addresses: Option<Vec<Address>>,
}

impl User {
    pub fn new(
        id: String,
        registration: Registration,
        password_hash: String,
        email_token: SecretHash,
        now: Millis,
    ) -> Self {
        Self {
            id,
            username: registration.username,
            email: registration.email,
            email_verified: false,
            display_name: registration.display_name,
            password_hash,
            roles: vec![access::DEFAULT_ROLE.to_string()],
            quota_overrides: BTreeMap::new(),
            phones: Vec::new(),
            addresses: Vec::new(),
            created_at: now,
            disabled: false,
            grants_revision: 0,
            sessions: Vec::new(),
            email_token: Some(email_token),
            reset: None,
            groups: Default::default(),
            role_expiry: BTreeMap::new(),
            quota_expiry: BTreeMap::new(),
            deleted_at: None,
            purge_failures: 0,
        }
    }

    pub fn quotas(&self) -> BTreeMap<String, u64> {
        access::effective_quotas(&self.quota_overrides)
    }

    /// After a correct password: disabled accounts are refused (only now, so
    /// that the state of an account is not revealed to password guessers).
    pub fn check_enabled(&self) -> Result<()> {
        if self.is_deleted() {
            Err(Error::forbidden("account_deleted", lifecycle::DELETED))
        } else if self.disabled {
            Err(Error::forbidden("account_disabled", "this account is disabled"))
        } else {
            Ok(())
        }
    }

    /// Opens a session with a first refresh token.
    pub fn with_session(&self, family: String, token: SecretHash, now: Millis) -> Self {
        let mut next = self.clone();
        next.sessions.retain(|s| s.expires_at > now);
        next.sessions.push(Session {
            family,
            current: token,
            spent: Vec::new(),
            created_at: now,
            expires_at: now + REFRESH_TOKEN_LIFETIME,
        });
        let excess = next.sessions.len().saturating_sub(MAX_SESSIONS);
        next.sessions.drain(..excess);
        next
    }

    pub fn check_refresh(&self, presented: &SecretHash, now: Millis) -> RefreshCheck {
        for session in &self.sessions {
            if session.current == *presented && session.expires_at > now {
                return RefreshCheck::Current {
                    family: session.family.clone(),
                };
            }
            if session.spent.contains(presented) || session.current == *presented {
                return RefreshCheck::Reused {
                    family: session.family.clone(),
                };
            }
        }
        RefreshCheck::Unknown
    }

    /// Replaces the family's current token with `next_token`.
    pub fn with_rotated(&self, family: &str, next_token: SecretHash) -> Self {
        let mut next = self.clone();
        if let Some(session) = next.sessions.iter_mut().find(|s| s.family == family) {
            session.spent.push(session.current);
            let excess = session.spent.len().saturating_sub(MAX_SPENT_PER_FAMILY);
            session.spent.drain(..excess);
            session.current = next_token;
        }
        next
    }

    pub fn without_session(&self, family: &str) -> Self {
        let mut next = self.clone();
        next.sessions.retain(|s| s.family != family);
        next
    }

    /// Revokes every session but `keep`.
    pub fn with_only_session(&self, keep: Option<&str>) -> Self {
        let mut next = self.clone();
        next.sessions.retain(|s| Some(s.family.as_str()) == keep);
        next
    }

    pub fn with_password(&self, password_hash: String, keep_session: Option<&str>) -> Self {
        let mut next = self.with_only_session(keep_session);
        next.password_hash = password_hash;
        next.reset = None;
        next
    }

    pub fn verify_email(&self, presented: &SecretHash) -> Result<Self> {
        if self.email_token.as_ref() != Some(presented) {
            return Err(invalid_token());
        }
        let mut next = self.clone();
        next.email_verified = true;
        next.email_token = None;
        Ok(next)
    }

    /// Starts a password reset, unless one started less than
    /// [`RESET_MIN_INTERVAL`] ago (a flood of reset mails is refused; the
    /// caller answers the same either way).
    pub fn begin_reset(&self, token: SecretHash, now: Millis) -> Result<Self> {
        if let Some(pending) = &self.reset
            && now < pending.expires_at - RESET_TOKEN_LIFETIME + RESET_MIN_INTERVAL
        {
            return Err(Error::RateLimited {
                message: "a reset mail was sent a moment ago".into(),
                retry_after_secs: (RESET_MIN_INTERVAL / 1000) as u64,
            });
        }
        Ok(self.with_reset(token, now))
    }

    pub fn with_reset(&self, token: SecretHash, now: Millis) -> Self {
        let mut next = self.clone();
        next.reset = Some(PendingReset {
            token,
            expires_at: now + RESET_TOKEN_LIFETIME,
        });
        next
    }

    /// A reset token is valid once, until it expires.
    pub fn check_reset(&self, presented: &SecretHash, now: Millis) -> Result<()> {
        match &self.reset {
            Some(reset) if reset.token == *presented && reset.expires_at > now => Ok(()),
            _ => Err(invalid_token()),
        }
    }

    /// Applies a profile edit within the user's quotas.
    pub fn with_profile(&self, patch: &ProfilePatch) -> Result<Self> {
        let quotas = self.quotas();
        let mut errors = FieldErrors::new();
        let mut next = self.clone();
        if let Some(name) = &patch.display_name {
            next.display_name = match name {
                Some(n) => errors.check("display_name", fields::display_name(n)),
                None => None,
            };
        }
        // Lengths first: a list over its quota is refused before any of
        // its items is looked at.
        if let Some(phones) = &patch.phones {
            let max = access::quota(&quotas, "max_phones");
            if phones.len() as u64 > max {
                return Err(Error::invalid(
                    "phones",
                    format!("at most {max} phone numbers (quota max_phones)"),
                ));
            }
        }
        if let Some(addresses) = &patch.addresses {
            let max = access::quota(&quotas, "max_addresses");
            if addresses.len() as u64 > max {
                return Err(Error::invalid(
                    "addresses",
                    format!("at most {max} addresses (quota max_addresses)"),
                ));
            }
        }
        if let Some(phones) = &patch.phones {
            next.phones = Vec::new();
            for (i, phone) in phones.iter().enumerate() {
                if let Some(p) = errors.check(&format!("phones[{i}]"), fields::phone(phone))
                    && !next.phones.contains(&p)
                {
                    next.phones.push(p);
                }
            }
        }
        if let Some(addresses) = &patch.addresses {
            next.addresses = Vec::new();
            for (i, address) in addresses.iter().enumerate() {
                match fields::address(address) {
                    Ok(a) => next.addresses.push(a),
                    Err(reasons) => {
                        for (field, reason) in reasons {
                            errors.add(format!("addresses[{i}].{field}"), reason);
                        }
                    }
                }
            }
        }
        errors.into_result()?;
        Ok(next)
    }

    pub fn with_roles(&self, roles: Vec<String>) -> Self {
        let mut next = self.clone();
        next.roles = roles;
        next.grants_revision += 1;
        next
    }

    pub fn with_quota_overrides(&self, overrides: BTreeMap<String, u64>) -> Self {
        let mut next = self.clone();
        next.quota_overrides = overrides;
        next
    }

    /// The roles that have not expired at `now`.
    pub fn live_roles(&self, now: Millis) -> Vec<String> {
        self.roles
            .iter()
            .filter(|r| self.role_expiry.get(*r).is_none_or(|at| *at > now))
            .cloned()
            .collect()
    }

    /// The quotas at `now`: the defaults with the unexpired overrides.
    pub fn live_quotas(&self, now: Millis) -> BTreeMap<String, u64> {
        let live: BTreeMap<String, u64> = self
            .quota_overrides
            .iter()
            .filter(|(q, _)| self.quota_expiry.get(*q).is_none_or(|at| *at > now))
            .map(|(q, l)| (q.clone(), *l))
            .collect();
        access::effective_quotas(&live)
    }

    /// Whether this account is a full administrator now (see
    /// `model/roster.rs`).
    pub fn is_full_admin(&self) -> bool {
        roster::is_full_admin(&self.roles, self.is_inactive())
    }

    /// Disabled or deleted: the account cannot be used.
    pub fn is_inactive(&self) -> bool {
        self.disabled || self.is_deleted()
    }

    /// Administration changes roles or the disabled flag only at the
    /// grants revision it read (409 `changed_concurrently` otherwise).
    pub fn check_grants_revision(&self, read: u64) -> Result<()> {
        if self.grants_revision == read {
            Ok(())
        } else {
            Err(Error::conflict(
                "changed_concurrently",
                "this user's roles or status changed meanwhile; read it again and retry",
            ))
        }
    }

    /// Disabling revokes every session.
    pub fn with_disabled(&self, disabled: bool) -> Self {
        let mut next = if disabled {
            self.with_only_session(None)
        } else {
            self.clone()
        };
        next.disabled = disabled;
        next.grants_revision += 1;
        next
    }
}

pub fn invalid_token() -> Error {
    Error::bad_request("invalid_token", "the token is invalid, used or expired")
}

pub fn invalid_credentials() -> Error {
    Error::unauthenticated("invalid_credentials", "the login or password is wrong")
}

pub fn invalid_refresh_token() -> Error {
    Error::unauthenticated(
        "invalid_refresh_token",
        "the refresh token is invalid, spent or expired",
    )
}

/// Which claim namespace a sign-in login names.
pub fn login_claim_key(login: &str) -> Option<String> {
    let login = login.trim();
    if login.contains('@') {
        fields::email(login).ok().map(|e| claim_key_email(&e))
    } else {
        fields::username(login).ok().map(|u| claim_key_username(&u))
    }
}

pub fn claim_key_username(username: &str) -> String {
    format!("username:{username}")
}

pub fn claim_key_email(email: &str) -> String {
    format!("email:{}", fields::email_key(email))
}
