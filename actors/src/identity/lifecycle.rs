//! Deleting and restoring accounts (the rules are in
//! `model/lifecycle.rs`; the purge is the user entity's alarm). Taking
//! full administration away goes through the administrators' roster like
//! any other change of grants, so the last administrator is never deleted.

use super::actor::UserCommand;
use super::keys::AccessClaims;
use super::service::{Identity, Profile};
use crate::error::{Error, Result};
use std::net::IpAddr;

impl Identity {
    /// Deletes the caller's own account once their password is checked
    /// (wrong passwords slow further attempts like a password change).
    pub async fn delete_me(&self, caller: &AccessClaims, current_password: &str, client: Option<IpAddr>) -> Result<()> {
        let key = (format!("user:{}", caller.sub), client);
        let wrong = |e: &Error| matches!(e, Error::Validation { fields } if fields.contains_key("current_password"));
        self.guarded(key, wrong, self.delete_me_unthrottled(caller, current_password))
            .await
    }

    async fn delete_me_unthrottled(&self, caller: &AccessClaims, current_password: &str) -> Result<()> {
        let user = self.user(&caller.sub, UserCommand::Get).await?;
        user.check_enabled()?;
        if !self.hasher.verify(current_password, &user.password_hash).await? {
            return Err(Error::invalid("current_password", "is not your current password"));
        }
        let command = UserCommand::Delete {
            revision: user.grants_revision,
            password_hash: Some(user.password_hash.clone()),
        };
        self.change_grants(&user, false, command).await.map(|_| ())
    }

    /// Deletes another account (administrators; one's own goes through
    /// [`Identity::delete_me`] and its password). Deleting it again
    /// changes nothing.
    pub async fn delete_user(&self, caller: &AccessClaims, id: &str) -> Result<Profile> {
        if id == caller.sub {
            return Err(Error::conflict(
                "cannot_delete_self",
                "delete your own account with DELETE /api/v1/me and your password",
            ));
        }
        let (target, _) = self.managed(caller, id).await?;
        let command = UserCommand::Delete {
            revision: target.grants_revision,
            password_hash: None,
        };
        let user = self.change_grants(&target, false, command).await?;
        self.profile_of(user).await
    }

    /// Brings a deleted account back within its retention window (its
    /// sessions, phones and addresses stay gone); an account not deleted
    /// is answered as it is.
    pub async fn restore_user(&self, caller: &AccessClaims, id: &str) -> Result<Profile> {
        let (target, _) = self.managed(caller, id).await?;
        let command = UserCommand::Restore {
            revision: target.grants_revision,
        };
        let user = self.change_grants(&target, true, command).await?;
        self.profile_of(user).await
    }
}
