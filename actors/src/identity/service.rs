//! Identity flows that span several entities: registration (claims, then the
//! user), sign-in by username or e-mail, token issuing, password reset, roles
//! and administration. The edge calls these; each step is an entity command,
//! and every step can be retried safely.

use super::actor::{
    ClaimCommand, ClaimReply, Claims, Role, RoleCommand, Roles, UserCommand, UserReply, Users, new_family,
};
use super::keys::{AccessClaims, KeyRing};
use super::model::{self, Millis, ProfilePatch, Registration, User, access};
use super::ports::{Clock, Mail, Mailer, PasswordHasher, Plaintext, parse_user_token, user_token};
use crate::error::{Error, Result};
use crate::runtime::{Cursor, Router, RuntimeBuilder};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A user as the API shows it: no secrets, permissions resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
    pub permissions: BTreeSet<String>,
    pub quotas: BTreeMap<String, u64>,
    pub phones: Vec<String>,
    pub addresses: Vec<model::Address>,
    pub created_at: Millis,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: Option<&'a str>,
}

#[derive(Clone)]
pub struct Identity {
    router: Router,
    keys: Arc<KeyRing>,
    hasher: PasswordHasher,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
}

/// Identity's ports.
pub struct Ports {
    pub hasher: PasswordHasher,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

impl Identity {
    /// Registers identity's entity kinds with the runtime being built.
    pub fn register_entities(builder: RuntimeBuilder, ports: &Ports) -> RuntimeBuilder {
        builder
            .register(Arc::new(Users {
                hasher: ports.hasher.clone(),
                clock: ports.clock.clone(),
            }))
            .register(Arc::new(Claims {
                clock: ports.clock.clone(),
            }))
            .register(Arc::new(Roles {
                clock: ports.clock.clone(),
            }))
    }

    pub fn new(router: Router, keys: Arc<KeyRing>, ports: Ports) -> Self {
        Self {
            router,
            keys,
            hasher: ports.hasher,
            mailer: ports.mailer,
            clock: ports.clock,
        }
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    // ------------------------------------------------------------ accounts

    /// Registers a customer account and mails its e-mail verification token.
    pub async fn register(&self, account: NewAccount<'_>) -> Result<Profile> {
        self.register_with_roles(account, vec![access::DEFAULT_ROLE.to_string()])
            .await
    }

    /// Registers an account with the given roles (used to bootstrap the first
    /// administrator; the HTTP API only registers customers).
    pub async fn register_with_roles(&self, account: NewAccount<'_>, roles: Vec<String>) -> Result<Profile> {
        let registration =
            Registration::parse(account.username, account.email, account.password, account.display_name)?;
        let id = ulid::Ulid::new().to_string();
        let username_key = model::claim_key_username(&registration.username);
        let email_key = model::claim_key_email(&registration.email);
        if !self.claim(&username_key, &id).await? {
            return Err(Error::conflict("username_taken", "that username is taken"));
        }
        if !self.claim(&email_key, &id).await? {
            self.release(&username_key, &id).await;
            return Err(Error::conflict("email_taken", "an account with that e-mail exists"));
        }
        let hash = self.hasher.hash(account.password).await?;
        let (email_token, email_token_hash) = user_token(&id);
        let user = User::new(id.clone(), registration, hash, email_token_hash, self.clock.now()).with_roles(roles);
        let created = match self.router.ask::<Users>(&id, UserCommand::Create(Box::new(user))).await {
            Ok(UserReply::User(user)) => *user,
            Ok(_) => return Err(Error::internal("unexpected reply to create")),
            Err(e) => {
                self.release(&email_key, &id).await;
                self.release(&username_key, &id).await;
                return Err(e);
            }
        };
        for key in [&username_key, &email_key] {
            self.router
                .ask::<Claims>(key, ClaimCommand::Confirm { owner: id.clone() })
                .await?;
        }
        self.mail(
            &created.email,
            "Confirm your e-mail address",
            format!(
                "Welcome, {}!\n\nConfirm your e-mail address by sending this token to\nPOST /api/v1/accounts/verify-email:\n\n{email_token}\n",
                created.username
            ),
        )
        .await;
        self.profile_of(created).await
    }

    /// Claims a unique key for `owner`; false if someone else holds it.
    async fn claim(&self, key: &str, owner: &str) -> Result<bool> {
        let held = match self
            .router
            .ask::<Claims>(key, ClaimCommand::Claim { owner: owner.into() })
            .await?
        {
            ClaimReply::Granted => return Ok(true),
            ClaimReply::Held(claim) => claim,
            ClaimReply::Free => return Ok(false),
        };
        if !held.is_stale(self.clock.now()) {
            return Ok(false);
        }
        // An unconfirmed claim left behind by a registration that died
        // between claiming and creating its user.
        match self.router.ask::<Users>(&held.owner, UserCommand::Get).await {
            Err(Error::NotFound { .. }) => {
                let take_over = ClaimCommand::TakeOver {
                    expected: held.owner,
                    owner: owner.into(),
                };
                Ok(matches!(
                    self.router.ask::<Claims>(key, take_over).await?,
                    ClaimReply::Granted
                ))
            }
            Ok(_) => {
                self.router
                    .ask::<Claims>(key, ClaimCommand::Confirm { owner: held.owner })
                    .await?;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    async fn release(&self, key: &str, owner: &str) {
        if let Err(error) = self
            .router
            .ask::<Claims>(key, ClaimCommand::Release { owner: owner.into() })
            .await
        {
            tracing::warn!(%error, "could not release a claim; it becomes stale and can be taken over");
        }
    }

    /// The owner of a confirmed claim.
    async fn owner_of(&self, key: &str) -> Result<Option<String>> {
        Ok(match self.router.ask::<Claims>(key, ClaimCommand::Get).await? {
            ClaimReply::Held(claim) if claim.confirmed => Some(claim.owner),
            _ => None,
        })
    }

    async fn mail(&self, to: &str, subject: &str, body: String) {
        let mail = Mail {
            to: to.to_string(),
            subject: subject.to_string(),
            body,
        };
        if let Err(error) = self.mailer.send(mail).await {
            tracing::error!(%error, "could not send mail");
        }
    }

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

    // ------------------------------------------------------------ sessions

    pub async fn login(&self, login: &str, password: &str) -> Result<TokenPair> {
        let owner = match model::login_claim_key(login) {
            Some(key) => self.owner_of(&key).await?,
            None => None,
        };
        let Some(user_id) = owner else {
            self.hasher.verify_decoy(password).await?;
            return Err(model::invalid_credentials());
        };
        let (refresh_token, token) = user_token(&user_id);
        let command = UserCommand::Login {
            password: Plaintext::new(password),
            family: new_family(),
            token,
        };
        match self.router.ask::<Users>(&user_id, command).await {
            Ok(UserReply::Session { user, family }) => self.issue(&user, &family, refresh_token).await,
            Ok(_) => Err(Error::internal("unexpected reply to login")),
            Err(Error::NotFound { .. }) => Err(model::invalid_credentials()),
            Err(e) => Err(e),
        }
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        let (user_id, presented) = parse_user_token(refresh_token).ok_or_else(model::invalid_refresh_token)?;
        let (next_token, next) = user_token(&user_id);
        match self
            .router
            .ask::<Users>(&user_id, UserCommand::Refresh { presented, next })
            .await
        {
            Ok(UserReply::Session { user, family }) => self.issue(&user, &family, next_token).await,
            Ok(_) => Err(Error::internal("unexpected reply to refresh")),
            Err(Error::NotFound { .. }) => Err(model::invalid_refresh_token()),
            Err(e) => Err(e),
        }
    }

    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let Some((user_id, presented)) = parse_user_token(refresh_token) else {
            return Ok(());
        };
        match self
            .router
            .ask::<Users>(&user_id, UserCommand::Logout { presented })
            .await
        {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn issue(&self, user: &User, family: &str, refresh_token: String) -> Result<TokenPair> {
        let iat = self.clock.now() / 1000;
        let ttl = self.keys.token_ttl_secs();
        let claims = AccessClaims {
            sub: user.id.clone(),
            iat,
            exp: iat + ttl as i64,
            sid: family.to_string(),
            roles: user.roles.clone(),
            perms: self.permissions_of(&user.roles).await?.into_iter().collect(),
            quotas: user.quotas(),
        };
        Ok(TokenPair {
            access_token: self.keys.sign(&claims)?,
            expires_in: ttl,
            refresh_token,
        })
    }

    /// Verifies a bearer token presented to the edge (signed by any node).
    pub async fn authenticate(&self, bearer: &str) -> Result<AccessClaims> {
        self.keys.verify_fetching(bearer, self.clock.now() / 1000).await
    }

    // ------------------------------------------------------------ profile

    async fn user(&self, id: &str, command: UserCommand) -> Result<User> {
        match self.router.ask::<Users>(id, command).await? {
            UserReply::User(user) | UserReply::Session { user, .. } => Ok(*user),
            UserReply::Done => Err(Error::internal("unexpected reply")),
        }
    }

    /// The caller's own profile; a disabled account is refused at once,
    /// even while its last access token has not yet expired.
    pub async fn me(&self, caller: &AccessClaims) -> Result<Profile> {
        let user = self.user(&caller.sub, UserCommand::Get).await?;
        user.check_enabled()?;
        self.profile_of(user).await
    }

    pub async fn update_me(&self, caller: &AccessClaims, patch: ProfilePatch) -> Result<Profile> {
        self.me(caller).await?;
        let user = self.user(&caller.sub, UserCommand::UpdateProfile(patch)).await?;
        self.profile_of(user).await
    }

    /// Changes the password and signs out every other session.
    pub async fn change_password(&self, caller: &AccessClaims, current: &str, new: &str) -> Result<()> {
        self.me(caller).await?;
        let command = UserCommand::ChangePassword {
            current: Plaintext::new(current),
            new: Plaintext::new(new),
            keep_session: Some(caller.sid.clone()),
        };
        self.user(&caller.sub, command).await.map(|_| ())
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
        match self.user(&user_id, command).await {
            Ok(_) => Ok(()),
            Err(Error::NotFound { .. }) => Err(model::invalid_token()),
            Err(e) => Err(e),
        }
    }

    async fn profile_of(&self, user: User) -> Result<Profile> {
        let permissions = self.permissions_of(&user.roles).await?;
        Ok(profile(user, permissions))
    }

    // ------------------------------------------------------------ roles

    /// The union of the permissions of `roles`; deleted custom roles grant
    /// nothing.
    async fn permissions_of(&self, roles: &[String]) -> Result<BTreeSet<String>> {
        let mut perms = BTreeSet::new();
        for role in roles {
            if let Some(granted) = self.role_permissions(role).await? {
                perms.extend(granted);
            }
        }
        Ok(perms)
    }

    async fn role_permissions(&self, role: &str) -> Result<Option<BTreeSet<String>>> {
        if let Some(builtin) = access::builtin_permissions(role) {
            return Ok(Some(builtin));
        }
        match self.router.ask::<Roles>(role, RoleCommand::Get).await {
            Ok(role) => Ok(Some(role.permissions)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Built-in roles first, then custom roles by name.
    pub async fn list_roles(&self) -> Result<Vec<RoleView>> {
        let mut roles: Vec<RoleView> = access::BUILTIN_ROLES
            .iter()
            .map(|name| RoleView {
                name: name.to_string(),
                permissions: access::builtin_permissions(name).unwrap_or_default(),
                builtin: true,
            })
            .collect();
        let mut cursor = None;
        loop {
            let page = self.router.scan::<Roles>(cursor.as_ref(), 500)?;
            roles.extend(page.items.into_iter().map(|(_, role)| RoleView::custom(role)));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        roles[access::BUILTIN_ROLES.len()..].sort_by(|a, b| a.name.cmp(&b.name));
        Ok(roles)
    }

    pub async fn get_role(&self, name: &str) -> Result<RoleView> {
        let permissions = self
            .role_permissions(name)
            .await?
            .ok_or_else(|| Error::not_found("role"))?;
        Ok(RoleView {
            name: name.to_string(),
            builtin: access::is_builtin_role(name),
            permissions,
        })
    }

    pub async fn create_role(&self, caller: &AccessClaims, name: &str, permissions: &[String]) -> Result<RoleView> {
        let (name, permissions) = self.checked_role(caller, name, permissions)?;
        let role = self
            .router
            .ask::<Roles>(&name, RoleCommand::Create(permissions))
            .await?;
        Ok(RoleView::custom(role))
    }

    pub async fn replace_role(&self, caller: &AccessClaims, name: &str, permissions: &[String]) -> Result<RoleView> {
        if access::is_builtin_role(name) {
            return Err(Error::conflict("builtin_role", "built-in roles cannot be changed"));
        }
        let (name, permissions) = self.checked_role(caller, name, permissions)?;
        let role = self
            .router
            .ask::<Roles>(&name, RoleCommand::Replace(permissions))
            .await?;
        Ok(RoleView::custom(role))
    }

    pub async fn delete_role(&self, name: &str) -> Result<()> {
        if access::is_builtin_role(name) {
            return Err(Error::conflict("builtin_role", "built-in roles cannot be deleted"));
        }
        self.router.ask::<Roles>(name, RoleCommand::Delete).await.map(|_| ())
    }

    fn checked_role(
        &self,
        caller: &AccessClaims,
        name: &str,
        permissions: &[String],
    ) -> Result<(String, BTreeSet<String>)> {
        let mut errors = crate::error::FieldErrors::new();
        let name = errors.check("name", access::role_name(name));
        let permissions = errors.check("permissions", access::role_permissions(permissions));
        errors.into_result()?;
        let permissions = permissions.unwrap_or_default();
        require_held(caller, &permissions)?;
        Ok((name.unwrap_or_default(), permissions))
    }

    // ------------------------------------------------------------ administration

    pub async fn list_users(&self, cursor: Option<&str>, limit: usize) -> Result<(Vec<Profile>, Option<String>)> {
        let cursor = cursor.map(Cursor::decode).transpose()?;
        let page = self.router.scan::<Users>(cursor.as_ref(), limit)?;
        let mut role_cache: HashMap<String, Option<BTreeSet<String>>> = HashMap::new();
        let mut items = Vec::with_capacity(page.items.len());
        for (_, user) in page.items {
            let mut permissions = BTreeSet::new();
            for role in &user.roles {
                if !role_cache.contains_key(role) {
                    role_cache.insert(role.clone(), self.role_permissions(role).await?);
                }
                if let Some(Some(granted)) = role_cache.get(role) {
                    permissions.extend(granted.iter().cloned());
                }
            }
            items.push(profile(user, permissions));
        }
        Ok((items, page.next.map(|c| c.encode())))
    }

    pub async fn get_user(&self, id: &str) -> Result<Profile> {
        let user = self.user(id, UserCommand::Get).await?;
        self.profile_of(user).await
    }

    /// Replaces a user's roles; the caller must hold every permission the
    /// new roles grant.
    pub async fn set_roles(&self, caller: &AccessClaims, id: &str, roles: &[String]) -> Result<Profile> {
        let mut granted = BTreeSet::new();
        let mut unknown = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for role in roles {
            let role = role.trim().to_lowercase();
            match self.role_permissions(&role).await? {
                Some(perms) => granted.extend(perms),
                None => unknown.push(role.clone()),
            }
            if !names.contains(&role) {
                names.push(role);
            }
        }
        if !unknown.is_empty() {
            return Err(Error::invalid(
                "roles",
                format!("unknown roles: {}", unknown.join(", ")),
            ));
        }
        if names.is_empty() {
            return Err(Error::invalid("roles", "at least one role is required"));
        }
        require_held(caller, &granted)?;
        let user = self.user(id, UserCommand::SetRoles(names)).await?;
        self.profile_of(user).await
    }

    pub async fn set_quotas(&self, id: &str, overrides: &BTreeMap<String, u64>) -> Result<Profile> {
        let overrides = access::quota_overrides(overrides).map_err(|reasons| Error::Validation {
            fields: reasons.into_iter().collect(),
        })?;
        let user = self.user(id, UserCommand::SetQuotas(overrides)).await?;
        self.profile_of(user).await
    }

    pub async fn set_disabled(&self, id: &str, disabled: bool) -> Result<Profile> {
        let user = self.user(id, UserCommand::SetDisabled(disabled)).await?;
        self.profile_of(user).await
    }
}

fn require_held(caller: &AccessClaims, wanted: &BTreeSet<String>) -> Result<()> {
    let held: BTreeSet<String> = caller.perms.iter().cloned().collect();
    let missing = access::missing_permissions(&held, wanted);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "permission_not_held",
            format!("you cannot grant permissions you do not hold: {}", missing.join(", ")),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleView {
    pub name: String,
    pub permissions: BTreeSet<String>,
    pub builtin: bool,
}

impl RoleView {
    fn custom(role: Role) -> Self {
        Self {
            name: role.name,
            permissions: role.permissions,
            builtin: false,
        }
    }
}

fn profile(user: User, permissions: BTreeSet<String>) -> Profile {
    Profile {
        quotas: user.quotas(),
        id: user.id,
        username: user.username,
        email: user.email,
        email_verified: user.email_verified,
        display_name: user.display_name,
        roles: user.roles,
        permissions,
        phones: user.phones,
        addresses: user.addresses,
        created_at: user.created_at,
        disabled: user.disabled,
    }
}

#[cfg(test)]
impl Identity {
    pub(crate) fn router_for_tests(&self) -> Router {
        self.router.clone()
    }
}
