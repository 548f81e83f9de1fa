//! Identity's entities: one actor per user, per unique key claim and per
//! custom role. Thin: each command asks the model and returns its effect.

use super::model::{self, Claim, Millis, ProfilePatch, RefreshCheck, SecretHash, User};
use super::ports::{Clock, PasswordHasher, Plaintext, secret_token};
use crate::error::{Error, Result};
use crate::runtime::{Entity, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

// ---------------------------------------------------------------- users

pub struct Users {
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum UserCommand {
    Create(Box<User>),
    Get,
    /// Check a password and open a session whose first refresh token is `token`.
    Login {
        password: Plaintext,
        family: String,
        token: SecretHash,
    },
    Refresh {
        presented: SecretHash,
        next: SecretHash,
    },
    Logout {
        presented: SecretHash,
    },
    UpdateProfile(ProfilePatch),
    ChangePassword {
        current: Plaintext,
        new: Plaintext,
        keep_session: Option<String>,
    },
    VerifyEmail {
        presented: SecretHash,
    },
    BeginReset {
        token: SecretHash,
    },
    ConfirmReset {
        presented: SecretHash,
        new: Plaintext,
    },
    SetRoles(Vec<String>),
    SetQuotas(BTreeMap<String, u64>),
    SetDisabled(bool),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum UserReply {
    User(Box<User>),
    /// Signed in or refreshed: the session's family.
    Session {
        user: Box<User>,
        family: String,
    },
    Done,
}

impl Entity for Users {
    const KIND: &'static str = "user";
    type State = User;
    type Command = UserCommand;
    type Reply = UserReply;

    async fn handle(&self, _key: &str, state: Option<&User>, command: UserCommand) -> Result<Outcome<User, UserReply>> {
        let now = self.clock.now();
        if let UserCommand::Create(user) = command {
            return match state {
                // A retried create of the same registration succeeds again.
                Some(existing) if existing.created_at == user.created_at && existing.username == user.username => {
                    Ok(Outcome::read(UserReply::User(Box::new(existing.clone()))))
                }
                Some(_) => Err(Error::conflict("user_exists", "a user with this id exists")),
                None => Ok(Outcome::write(*user.clone(), UserReply::User(user))),
            };
        }
        let user = state.ok_or_else(|| Error::not_found("user"))?;
        let reply_with = |next: User| {
            let reply = UserReply::User(Box::new(next.clone()));
            Outcome::write(next, reply)
        };
        Ok(match command {
            UserCommand::Create(_) => unreachable!("handled above"),
            UserCommand::Get => Outcome::read(UserReply::User(Box::new(user.clone()))),
            UserCommand::Login {
                password,
                family,
                token,
            } => {
                user.check_lockout(now)?;
                if !self.hasher.verify(password.expose(), &user.password_hash).await? {
                    return Ok(Outcome::write_err(
                        user.with_failed_login(now),
                        model::invalid_credentials(),
                    ));
                }
                user.check_enabled()?;
                let next = user.with_session(family.clone(), token, now);
                let reply = UserReply::Session {
                    user: Box::new(next.clone()),
                    family,
                };
                Outcome::write(next, reply)
            }
            UserCommand::Refresh { presented, next } => match user.check_refresh(&presented, now) {
                RefreshCheck::Current { family } => {
                    user.check_enabled()?;
                    let rotated = user.with_rotated(&family, next);
                    let reply = UserReply::Session {
                        user: Box::new(rotated.clone()),
                        family,
                    };
                    Outcome::write(rotated, reply)
                }
                RefreshCheck::Reused { family } => {
                    tracing::warn!(user = %user.id, "refresh token reused; revoking its session family");
                    Outcome::write_err(user.without_session(&family), model::invalid_refresh_token())
                }
                RefreshCheck::Unknown => return Err(model::invalid_refresh_token()),
            },
            UserCommand::Logout { presented } => match user.check_refresh(&presented, now) {
                RefreshCheck::Current { family } | RefreshCheck::Reused { family } => {
                    Outcome::write(user.without_session(&family), UserReply::Done)
                }
                RefreshCheck::Unknown => Outcome::read(UserReply::Done),
            },
            UserCommand::UpdateProfile(patch) => reply_with(user.with_profile(&patch)?),
            UserCommand::ChangePassword {
                current,
                new,
                keep_session,
            } => {
                if !self.hasher.verify(current.expose(), &user.password_hash).await? {
                    return Err(Error::invalid("current_password", "is not your current password"));
                }
                model::fields::password(new.expose(), &user.username).map_err(|r| Error::invalid("new_password", r))?;
                let hash = self.hasher.hash(new.expose()).await?;
                reply_with(user.with_password(hash, keep_session.as_deref()))
            }
            UserCommand::VerifyEmail { presented } => reply_with(user.verify_email(&presented)?),
            UserCommand::BeginReset { token } => reply_with(user.with_reset(token, now)),
            UserCommand::ConfirmReset { presented, new } => {
                user.check_reset(&presented, now)?;
                model::fields::password(new.expose(), &user.username).map_err(|r| Error::invalid("new_password", r))?;
                let hash = self.hasher.hash(new.expose()).await?;
                reply_with(user.with_password(hash, None))
            }
            UserCommand::SetRoles(roles) => reply_with(user.with_roles(roles)),
            UserCommand::SetQuotas(overrides) => reply_with(user.with_quota_overrides(overrides)),
            UserCommand::SetDisabled(disabled) => reply_with(user.with_disabled(disabled)),
        })
    }
}

// ---------------------------------------------------------------- claims

/// Unique keys (`username:…`, `email:…`), each owned by at most one user.
pub struct Claims {
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ClaimCommand {
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

#[derive(Debug, Serialize, Deserialize)]
pub enum ClaimReply {
    Granted,
    Held(Claim),
    Free,
}

impl Entity for Claims {
    const KIND: &'static str = "claim";
    type State = Claim;
    type Command = ClaimCommand;
    type Reply = ClaimReply;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&Claim>,
        command: ClaimCommand,
    ) -> Result<Outcome<Claim, ClaimReply>> {
        let now = self.clock.now();
        let fresh = |owner: String| Claim {
            owner,
            confirmed: false,
            since: now,
        };
        Ok(match (command, state) {
            (ClaimCommand::Claim { owner }, None) => Outcome::write(fresh(owner), ClaimReply::Granted),
            (ClaimCommand::Claim { owner }, Some(c)) if c.owner == owner => Outcome::read(ClaimReply::Granted),
            (ClaimCommand::TakeOver { expected, owner }, Some(c)) if c.owner == expected && c.is_stale(now) => {
                Outcome::write(fresh(owner), ClaimReply::Granted)
            }
            (ClaimCommand::Claim { .. } | ClaimCommand::TakeOver { .. }, Some(c)) => {
                Outcome::read(ClaimReply::Held(c.clone()))
            }
            (ClaimCommand::TakeOver { owner, .. }, None) => Outcome::write(fresh(owner), ClaimReply::Granted),
            (ClaimCommand::Confirm { owner }, Some(c)) if c.owner == owner => {
                let mut confirmed = c.clone();
                confirmed.confirmed = true;
                Outcome::write(confirmed, ClaimReply::Granted)
            }
            (ClaimCommand::Release { owner }, Some(c)) if c.owner == owner => Outcome {
                reply: Ok(ClaimReply::Free),
                effect: crate::runtime::Effect::Delete,
            },
            (ClaimCommand::Get, Some(c)) => Outcome::read(ClaimReply::Held(c.clone())),
            (ClaimCommand::Confirm { .. } | ClaimCommand::Release { .. } | ClaimCommand::Get, _) => {
                Outcome::read(state.map_or(ClaimReply::Free, |c| ClaimReply::Held(c.clone())))
            }
        })
    }
}

// ---------------------------------------------------------------- roles

pub struct Roles {
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub permissions: BTreeSet<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RoleCommand {
    Create(BTreeSet<String>),
    Replace(BTreeSet<String>),
    Delete,
    Get,
}

impl Entity for Roles {
    const KIND: &'static str = "role";
    type State = Role;
    type Command = RoleCommand;
    type Reply = Role;

    async fn handle(&self, key: &str, state: Option<&Role>, command: RoleCommand) -> Result<Outcome<Role, Role>> {
        let now = self.clock.now();
        match (command, state) {
            (RoleCommand::Create(permissions), None) => {
                let role = Role {
                    name: key.to_string(),
                    permissions,
                    created_at: now,
                    updated_at: now,
                };
                Ok(Outcome::put(role))
            }
            (RoleCommand::Create(_), Some(_)) => Err(Error::conflict("role_exists", "a role with this name exists")),
            (RoleCommand::Replace(permissions), Some(role)) => {
                let mut next = role.clone();
                next.permissions = permissions;
                next.updated_at = now;
                Ok(Outcome::put(next))
            }
            (RoleCommand::Delete, Some(role)) => Ok(Outcome {
                reply: Ok(role.clone()),
                effect: crate::runtime::Effect::Delete,
            }),
            (RoleCommand::Get, Some(role)) => Ok(Outcome::read(role.clone())),
            (_, None) => Err(Error::not_found("role")),
        }
    }
}

/// A fresh session family id.
pub fn new_family() -> String {
    secret_token()[..16].to_string()
}
