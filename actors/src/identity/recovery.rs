//! Proving and recovering an account by e-mail: verifying the address,
//! mailing a forgotten username, resetting a forgotten password. Requests
//! answer the same whether or not the address exists.

use super::actor::{UserCommand, Users};
use super::model;
use super::ports::{Plaintext, parse_user_token, user_token};
use super::service::{ATTEMPTS_MAX, Identity};
use crate::error::{Error, Result};

impl Identity {
    pub async fn verify_email(&self, token: &str) -> Result<()> {
        let (user_id, presented) = parse_user_token(token).ok_or_else(model::invalid_token)?;
        match self
            .router
            .ask::<Users>(&user_id, UserCommand::VerifyEmail { presented })
            .await
        {
            Ok(_) => Ok(()),
            Err(Error::NotFound { .. }) => Err(model::invalid_token()),
            Err(e) => Err(e),
        }
    }

    /// E-mails the username of the account with this address, in the
    /// background; the caller answers the same whether or not the address
    /// exists. At most one such mail per address every
    /// [`model::RESET_MIN_INTERVAL`] from this node.
    pub fn request_username_recovery(&self, email: &str) {
        let Ok(email) = model::fields::email(email) else {
            return;
        };
        let now = self.clock.now();
        if let Ok(mut sent) = self.recoveries.lock() {
            if sent.get(&email).is_some_and(|at| now - at < model::RESET_MIN_INTERVAL) {
                return;
            }
            if sent.len() >= ATTEMPTS_MAX {
                sent.clear();
            }
            sent.insert(email.clone(), now);
        }
        let this = self.clone();
        tokio::spawn(async move {
            let Ok(Some(user_id)) = this.owner_of(&model::claim_key_email(&email)).await else {
                return;
            };
            match this.user(&user_id, UserCommand::Get).await {
                Ok(user) if !user.is_inactive() => {
                    let body = format!(
                        "Someone asked for the username of the account with this address.\n\nIt is: {}\n\nIf it was not you, ignore this message.\n",
                        user.username
                    );
                    this.mail(&user.email, "Your username", body).await;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "username recovery not sent"),
            }
        });
    }

    /// Starts a password reset in the background; the caller answers the same
    /// whether or not the address exists, and in the same time.
    pub fn request_password_reset(&self, email: &str) {
        let Ok(email) = model::fields::email(email) else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let Ok(Some(user_id)) = this.owner_of(&model::claim_key_email(&email)).await else {
                return;
            };
            let (token, hash) = user_token(&user_id);
            match this.user(&user_id, UserCommand::BeginReset { token: hash }).await {
                Ok(user) => {
                    let body = format!(
                        "Someone asked to reset the password of {}.\n\nIf it was you, send this token with your new password to\nPOST /api/v1/auth/password-reset/confirm within 30 minutes:\n\n{token}\n\nIf it was not you, ignore this message.\n",
                        user.username
                    );
                    this.mail(&user.email, "Reset your password", body).await;
                }
                Err(Error::RateLimited { .. }) => tracing::debug!("password reset mail throttled"),
                Err(error) => tracing::warn!(%error, "password reset not started"),
            }
        });
    }

    pub async fn confirm_password_reset(&self, token: &str, new_password: &str) -> Result<()> {
        let (user_id, presented) = parse_user_token(token).ok_or_else(model::invalid_token)?;
        let command = UserCommand::ConfirmReset {
            presented,
            new: Plaintext::new(new_password),
        };
        let reset = self.user(&user_id, command).await;
        self.forget_standing(Some(&user_id)).await;
        match reset {
            Ok(_) => Ok(()),
            Err(Error::NotFound { .. }) => Err(model::invalid_token()),
            Err(e) => Err(e),
        }
    }
}
