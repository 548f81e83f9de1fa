//! Identity's entities: one actor per user, per unique key claim and per
//! custom role. Thin: each command asks the model and returns its effect.

use super::groups::{GroupMembers, MembersCommand};
use super::model::roles::{self, Role, RoleChange, RoleRequest};
use super::model::roster::{self, Roster, RosterAnswer, RosterRequest};
use super::model::unique::{self, KeyAnswer, KeyChange, KeyOwner, KeyRequest};
use super::model::{self, ProfilePatch, RefreshCheck, SecretHash, User, UserV1, UserV2, UserV3};
use super::ports::{Clock, PasswordHasher, Plaintext, secret_token};
use crate::error::{Error, Result};
use crate::runtime::{Entity, EntityContext, Outcome, decode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use std::sync::Arc;

// ---------------------------------------------------------------- users

pub struct Users {
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    /// For the purge, which releases the account's unique keys and
    /// memberships.
    pub context: EntityContext,
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
    /// Replace the roles (some until a time), if the grants are still at
    /// `revision`.
    SetRoles {
        roles: Vec<String>,
        expiry: BTreeMap<String, model::Millis>,
        revision: u64,
    },
    SetQuotas {
        overrides: BTreeMap<String, u64>,
        expiry: BTreeMap<String, model::Millis>,
    },
    /// The user joined (`true`) or left a group.
    Membership {
        group: String,
        member: bool,
    },
    /// Disable or enable, if the grants are still at `revision`.
    SetDisabled {
        disabled: bool,
        revision: u64,
    },
    /// Delete the account (see `model/lifecycle.rs`), if the grants are
    /// still at `revision` and, when given, the password still the one
    /// whose hash this is (the owner deleting it checked it).
    Delete {
        revision: u64,
        password_hash: Option<String>,
    },
    /// Bring a deleted account back, if the grants are still at `revision`.
    Restore {
        revision: u64,
    },
    /// The alarm of a deleted account: once its retention window is over,
    /// free its unique keys, leave its groups, and drop the record.
    Purge,
}

impl UserCommand {
    /// Whether this would change an account (refused once it is deleted).
    fn changes_account(&self) -> bool {
        match self {
            Self::Create(_)
            | Self::Get
            | Self::Login { .. }
            | Self::Refresh { .. }
            | Self::Logout { .. }
            | Self::Delete { .. }
            | Self::Restore { .. }
            | Self::Purge
            | Self::Membership { member: false, .. } => false,
            Self::UpdateProfile(_)
            | Self::ChangePassword { .. }
            | Self::VerifyEmail { .. }
            | Self::BeginReset { .. }
            | Self::ConfirmReset { .. }
            | Self::SetRoles { .. }
            | Self::SetQuotas { .. }
            | Self::Membership { member: true, .. }
            | Self::SetDisabled { .. } => true,
        }
    }
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
    /// 2: the grants revision replaces the unused failed sign-ins; 3: the
    /// groups and the expiry of grants; 4: the deletion time.
    const SCHEMA_VERSION: u32 = 4;
    type State = User;
    type Command = UserCommand;
    type Reply = UserReply;

    fn due(&self, user: &User) -> Option<model::Millis> {
        user.purge_due()
    }

    fn wake(&self) -> Option<UserCommand> {
        Some(UserCommand::Purge)
    }

    fn upgrade(schema_version: u32, body: &[u8]) -> Result<User> {
        match schema_version {
            1 => Ok(UserV3::from(UserV2::from(decode::<UserV1>(body)?)).into()),
            2 => Ok(UserV3::from(decode::<UserV2>(body)?).into()),
            3 => Ok(decode::<UserV3>(body)?.into()),
            v => Err(Error::internal(format!("user: no upgrade from schema version {v}"))),
        }
    }

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
        if command.changes_account() {
            user.check_not_deleted()?;
        }
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
                // Guessing is slowed per (account, address) by the service,
                // never by locking the account for everyone.
                if !self.hasher.verify(password.expose(), &user.password_hash).await? {
                    return Err(model::invalid_credentials());
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
            UserCommand::BeginReset { token } => reply_with(user.begin_reset(token, now)?),
            UserCommand::ConfirmReset { presented, new } => {
                user.check_reset(&presented, now)?;
                model::fields::password(new.expose(), &user.username).map_err(|r| Error::invalid("new_password", r))?;
                let hash = self.hasher.hash(new.expose()).await?;
                reply_with(user.with_password(hash, None))
            }
            UserCommand::SetRoles {
                roles,
                expiry,
                revision,
            } => {
                user.check_grants_revision(revision)?;
                let mut next = user.with_roles(roles);
                next.role_expiry = expiry;
                reply_with(next)
            }
            UserCommand::SetQuotas { overrides, expiry } => {
                let mut next = user.with_quota_overrides(overrides);
                next.quota_expiry = expiry;
                reply_with(next)
            }
            UserCommand::Membership { group, member } => {
                let mut next = user.clone();
                let changed = match member {
                    true => next.groups.insert(group),
                    false => next.groups.remove(&group),
                };
                match changed {
                    true => reply_with(next),
                    false => Outcome::read(UserReply::User(Box::new(user.clone()))),
                }
            }
            UserCommand::SetDisabled { disabled, revision } => {
                user.check_grants_revision(revision)?;
                reply_with(user.with_disabled(disabled))
            }
            UserCommand::Delete { .. } if user.is_deleted() => Outcome::read(UserReply::User(Box::new(user.clone()))),
            UserCommand::Delete {
                revision,
                password_hash,
            } => {
                user.check_grants_revision(revision)?;
                if password_hash.is_some_and(|hash| hash != user.password_hash) {
                    return Err(Error::conflict(
                        "changed_concurrently",
                        "the password changed meanwhile; try again",
                    ));
                }
                reply_with(user.deleted(now))
            }
            UserCommand::Restore { .. } if !user.is_deleted() => Outcome::read(UserReply::User(Box::new(user.clone()))),
            UserCommand::Restore { revision } => {
                user.check_grants_revision(revision)?;
                reply_with(user.restored(now)?)
            }
            UserCommand::Purge if user.is_purgeable(now) => match self.release_everything(user).await {
                Ok(()) => {
                    tracing::info!(user = %user.id, "a deleted account was purged");
                    Outcome::delete(UserReply::Done)
                }
                Err(error) => {
                    let next = user.purge_failed();
                    tracing::warn!(user = %user.id, %error, failures = next.purge_failures, "a purge failed; it is tried again later");
                    Outcome::write(next, UserReply::Done)
                }
            },
            UserCommand::Purge => Outcome::read(UserReply::Done),
        })
    }
}

impl Users {
    /// What goes before a purged account's record: its claims on its
    /// username and e-mail (free again) and its memberships. Each step may
    /// be repeated: a failure leaves the alarm to try again.
    async fn release_everything(&self, user: &User) -> Result<()> {
        let router = self.context.router()?;
        for key in [
            model::claim_key_username(&user.username),
            model::claim_key_email(&user.email),
        ] {
            let release = KeyRequest::Release { owner: user.id.clone() };
            router.ask::<UniqueKeys>(&key, release).await?;
        }
        for group in &user.groups {
            let leave = MembersCommand::Remove {
                user_id: user.id.clone(),
            };
            router.ask::<GroupMembers>(group, leave).await?;
        }
        Ok(())
    }
}

// ----------------------------------------------------------- unique keys

/// Unique keys (`username:…`, `email:…`), each owned by at most one user;
/// the rules are in `model/unique.rs`.
pub struct UniqueKeys {
    pub clock: Arc<dyn Clock>,
}

impl Entity for UniqueKeys {
    const KIND: &'static str = "claim";
    type State = KeyOwner;
    type Command = KeyRequest;
    type Reply = KeyAnswer;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&KeyOwner>,
        request: KeyRequest,
    ) -> Result<Outcome<KeyOwner, KeyAnswer>> {
        let (change, answer) = unique::decide(state, request, self.clock.now());
        Ok(match change {
            KeyChange::Keep => Outcome::read(answer),
            KeyChange::Put(owner) => Outcome::write(owner, answer),
            KeyChange::Delete => Outcome::delete(answer),
        })
    }
}

// ----------------------------------------------------------------- roles

/// Custom roles by name; the rules are in `model/roles.rs`.
pub struct Roles {
    pub clock: Arc<dyn Clock>,
}

impl Entity for Roles {
    const KIND: &'static str = "role";
    type State = Role;
    type Command = RoleRequest;
    type Reply = Role;

    async fn handle(&self, key: &str, state: Option<&Role>, request: RoleRequest) -> Result<Outcome<Role, Role>> {
        let (change, role) = roles::decide(key, state, request, self.clock.now())?;
        Ok(match change {
            RoleChange::Keep => Outcome::read(role),
            RoleChange::Put => Outcome::put(role),
            RoleChange::Delete => Outcome::delete(role),
        })
    }
}

// ------------------------------------------------------------ roster

/// The roster of full administrators, one entity for the whole shop; the
/// rules are in `model/roster.rs`.
pub struct AdminRoster;

/// The roster's one key.
pub const ROSTER_KEY: &str = "admins";

impl Entity for AdminRoster {
    const KIND: &'static str = "admin_roster";
    type State = Roster;
    type Command = RosterRequest;
    type Reply = RosterAnswer;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&Roster>,
        request: RosterRequest,
    ) -> Result<Outcome<Roster, RosterAnswer>> {
        Ok(match roster::decide(state, request)? {
            (Some(next), answer) => Outcome::write(next, answer),
            (None, answer) => Outcome::read(answer),
        })
    }
}

/// A fresh session family id.
pub fn new_family() -> String {
    secret_token()[..16].to_string()
}
