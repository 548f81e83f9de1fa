//! Identity flows that span several entities: registration (claims, then the
//! user), sign-in by username or e-mail, token issuing, password reset, roles
//! and administration. The edge calls these; each step is an entity command,
//! and every step can be retried safely.

use super::actor::{AdminRoster, Roles, UniqueKeys, UserCommand, UserReply, Users, new_family};
use super::keys::{AccessClaims, KeyRing};
use super::model::standing::Standing;
use super::model::throttle::Attempts;
use super::model::{self, Millis, ProfilePatch, Registration, User, access};
use super::model::{KeyAnswer, KeyRequest, Role};
use super::ports::{Clock, Mail, Mailer, PasswordHasher, Plaintext, parse_user_token, user_token};
use super::standings::Standings;
use crate::error::{Error, Result};
use crate::expect_reply;
use crate::runtime::{Router, RuntimeBuilder};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

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
    /// When the account was deleted, and when it will be purged.
    pub deleted_at: Option<Millis>,
    pub purge_at: Option<Millis>,
    /// Where each role and quota comes from (the user's own, or a group's).
    pub sources: Option<model::groups::Effective>,
    /// Until when the user's own roles and quota overrides hold, for those
    /// granted until a time.
    pub role_expiry: BTreeMap<String, Millis>,
    pub quota_expiry: BTreeMap<String, Millis>,
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
    pub(super) router: Router,
    keys: Arc<KeyRing>,
    pub(super) hasher: PasswordHasher,
    mailer: Arc<dyn Mailer>,
    pub(super) clock: Arc<dyn Clock>,
    /// Accounts' standings read lately (see `standings.rs`).
    standings: Standings,
    /// Failed password attempts per (account, client address), on this node.
    attempts: Arc<Mutex<HashMap<AttemptKey, Attempts>>>,
    /// When a username was last mailed to each address, from this node.
    pub(super) recoveries: Arc<Mutex<HashMap<String, Millis>>>,
}

/// Whose password attempts: an account (or a login name) and an address.
type AttemptKey = (String, Option<IpAddr>);

/// At most this many (account, address) attempt counts are kept.
pub(super) const ATTEMPTS_MAX: usize = 100_000;

/// Identity's ports.
pub struct Ports {
    pub hasher: PasswordHasher,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

impl Identity {
    /// Registers identity's entity kinds with the runtime being built.
    pub fn register_entities(builder: RuntimeBuilder, ports: &Ports) -> RuntimeBuilder {
        let builder_context = builder.context();
        builder
            .register(Arc::new(Users {
                hasher: ports.hasher.clone(),
                clock: ports.clock.clone(),
                context: builder_context.clone(),
            }))
            .register(Arc::new(UniqueKeys {
                clock: ports.clock.clone(),
            }))
            .register(Arc::new(Roles {
                clock: ports.clock.clone(),
            }))
            .register(Arc::new(AdminRoster))
            .register(Arc::new(super::groups::GroupBooks {
                clock: ports.clock.clone(),
            }))
            .register(Arc::new(super::groups::GroupMembers {
                clock: ports.clock.clone(),
                context: builder_context,
            }))
    }

    pub fn new(router: Router, keys: Arc<KeyRing>, ports: Ports) -> Self {
        Self {
            standings: Standings::offered(&router),
            router,
            keys,
            hasher: ports.hasher,
            mailer: ports.mailer,
            clock: ports.clock,
            attempts: Arc::default(),
            recoveries: Arc::default(),
        }
    }

    /// The time now, by the domain's clock.
    pub fn now(&self) -> Millis {
        self.clock.now()
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
            Ok(other) => return Err(Error::unexpected_reply(&other)),
            Err(e) => {
                self.release(&email_key, &id).await;
                self.release(&username_key, &id).await;
                return Err(e);
            }
        };
        for key in [&username_key, &email_key] {
            self.router
                .ask::<UniqueKeys>(key, KeyRequest::Confirm { owner: id.clone() })
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
        if created.is_full_admin() {
            self.observe_admin(&created).await;
        }
        self.profile_of(created).await
    }

    /// Claims a unique key for `owner`; false if someone else holds it.
    async fn claim(&self, key: &str, owner: &str) -> Result<bool> {
        let held = match self
            .router
            .ask::<UniqueKeys>(key, KeyRequest::Claim { owner: owner.into() })
            .await?
        {
            KeyAnswer::Granted => return Ok(true),
            KeyAnswer::Owned(claim) => claim,
            KeyAnswer::Free => return Ok(false),
        };
        if !held.is_stale(self.clock.now()) {
            return Ok(false);
        }
        // An unconfirmed claim left behind by a registration that died
        // between claiming and creating its user.
        match self.router.ask::<Users>(&held.owner, UserCommand::Get).await {
            Err(Error::NotFound { .. }) => {
                let take_over = KeyRequest::TakeOver {
                    expected: held.owner,
                    owner: owner.into(),
                };
                Ok(matches!(
                    self.router.ask::<UniqueKeys>(key, take_over).await?,
                    KeyAnswer::Granted
                ))
            }
            Ok(_) => {
                self.router
                    .ask::<UniqueKeys>(key, KeyRequest::Confirm { owner: held.owner })
                    .await?;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    async fn release(&self, key: &str, owner: &str) {
        if let Err(error) = self
            .router
            .ask::<UniqueKeys>(key, KeyRequest::Release { owner: owner.into() })
            .await
        {
            tracing::warn!(%error, "could not release a claim; it becomes stale and can be taken over");
        }
    }

    /// The owner of a confirmed claim.
    pub(super) async fn owner_of(&self, key: &str) -> Result<Option<String>> {
        Ok(match self.router.ask::<UniqueKeys>(key, KeyRequest::Get).await? {
            KeyAnswer::Owned(claim) if claim.confirmed => Some(claim.owner),
            _ => None,
        })
    }

    pub(super) async fn mail(&self, to: &str, subject: &str, body: String) {
        let mail = Mail {
            to: to.to_string(),
            subject: subject.to_string(),
            body,
        };
        if let Err(error) = self.mailer.send(mail).await {
            tracing::error!(%error, "could not send mail");
        }
    }

    // ------------------------------------------------------------ sessions

    /// Signs in from `client`. Failures slow further attempts at this
    /// account from this address only ([`Attempts`]); an unknown account
    /// is slowed the same way.
    pub async fn login(&self, login: &str, password: &str, client: Option<IpAddr>) -> Result<TokenPair> {
        let key = (format!("login:{}", login.trim().to_lowercase()), client);
        let wrong = |e: &Error| e.code() == "invalid_credentials";
        self.guarded(key, wrong, self.login_unthrottled(login, password)).await
    }

    /// Runs a password check for `key`, refused while its attempts must
    /// wait; a wrong password counts, a right one starts afresh.
    pub(super) async fn guarded<T>(
        &self,
        key: AttemptKey,
        wrong: impl Fn(&Error) -> bool,
        attempt: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let now = self.clock.now();
        let before = self
            .attempts
            .lock()
            .ok()
            .and_then(|a| a.get(&key).copied())
            .unwrap_or_default();
        before.check(now)?;
        let outcome = attempt.await;
        if let Ok(mut attempts) = self.attempts.lock() {
            match &outcome {
                Err(e) if wrong(e) => {
                    if attempts.len() >= ATTEMPTS_MAX {
                        attempts.clear();
                    }
                    let next = attempts.get(&key).copied().unwrap_or_default().failed(now);
                    attempts.insert(key, next);
                }
                Ok(_) => {
                    attempts.remove(&key);
                }
                Err(_) => {}
            }
        }
        outcome
    }

    async fn login_unthrottled(&self, login: &str, password: &str) -> Result<TokenPair> {
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
            Ok(other) => Err(Error::unexpected_reply(&other)),
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
            Ok(other) => Err(Error::unexpected_reply(&other)),
            Err(Error::NotFound { .. }) => Err(model::invalid_refresh_token()),
            Err(e) => Err(e),
        }
    }

    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let Some((user_id, presented)) = parse_user_token(refresh_token) else {
            return Ok(());
        };
        let outcome = self
            .router
            .ask::<Users>(&user_id, UserCommand::Logout { presented })
            .await;
        self.forget_standing(Some(&user_id)).await;
        match outcome {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn issue(&self, user: &User, family: &str, refresh_token: String) -> Result<TokenPair> {
        let iat = self.clock.now() / 1000;
        let ttl = self.keys.token_ttl_secs();
        let access = self.access_of(user).await?;
        let claims = AccessClaims {
            sub: user.id.clone(),
            iat,
            exp: iat + ttl as i64,
            sid: family.to_string(),
            roles: access.roles,
            perms: access.permissions.into_iter().collect(),
            quotas: access.quotas,
        };
        Ok(TokenPair {
            access_token: self.keys.sign(&claims)?,
            expires_in: ttl,
            refresh_token,
        })
    }

    /// Verifies a bearer token presented to the edge (signed by any node),
    /// and that its account still stands as the token says: enabled, the
    /// session signed in, the same roles, permissions and quotas.
    pub async fn authenticate(&self, bearer: &str) -> Result<AccessClaims> {
        let claims = self.keys.verify_fetching(bearer, self.clock.now() / 1000).await?;
        let admits = |s: &Standing| s.admits(&claims.sid, &claims.roles, &claims.perms, &claims.quotas);
        // A cached standing may be older than the token (a session signed
        // in, roles granted a moment ago): it refuses only once read anew.
        if admits(&*self.standing(&claims.sub, false).await?).is_err() {
            admits(&*self.standing(&claims.sub, true).await?)?;
        }
        Ok(claims)
    }

    /// The account's standing, read at most `STANDING_FRESH` ago (or now).
    async fn standing(&self, user_id: &str, now: bool) -> Result<Arc<Standing>> {
        let at = self.clock.now();
        if !now
            && let Some(standing) = self.standings.fresh(user_id)
            && standing.until.is_none_or(|until| until > at)
        {
            return Ok(standing);
        }
        let user = match self.user(user_id, UserCommand::Get).await {
            Ok(user) => user,
            Err(Error::NotFound { .. }) => {
                return Err(Error::unauthenticated("token_revoked", "this account does not exist"));
            }
            Err(e) => return Err(e),
        };
        let access = self.access_of(&user).await?;
        let mut standing = user.standing(access.roles, access.permissions, access.quotas, at);
        standing.until = access.until;
        let standing = Arc::new(standing);
        self.standings.put(user_id, standing.clone());
        Ok(standing)
    }

    /// Forgets a standing that changed (`None`: every one, after a role's
    /// permissions changed), on every node of the cluster.
    pub(super) async fn forget_standing(&self, user_id: Option<&str>) {
        self.standings.forget(&self.router, user_id).await;
    }

    // ------------------------------------------------------------ profile

    pub(super) async fn user(&self, id: &str, command: UserCommand) -> Result<User> {
        expect_reply!(
            self.router.ask::<Users>(id, command).await?,
            UserReply::User(user) | UserReply::Session { user, .. } => *user
        )
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
    pub async fn change_password(
        &self,
        caller: &AccessClaims,
        current: &str,
        new: &str,
        client: Option<IpAddr>,
    ) -> Result<()> {
        let key = (format!("user:{}", caller.sub), client);
        let wrong = |e: &Error| matches!(e, Error::Validation { fields } if fields.contains_key("current_password"));
        self.guarded(key, wrong, self.change_password_unthrottled(caller, current, new))
            .await
    }

    async fn change_password_unthrottled(&self, caller: &AccessClaims, current: &str, new: &str) -> Result<()> {
        self.me(caller).await?;
        let command = UserCommand::ChangePassword {
            current: Plaintext::new(current),
            new: Plaintext::new(new),
            keep_session: Some(caller.sid.clone()),
        };
        let changed = self.user(&caller.sub, command).await.map(|_| ());
        self.forget_standing(Some(&caller.sub)).await;
        changed
    }

    /// The profile with the access the user has now: their own roles and
    /// quotas and their groups', with where each comes from.
    pub(super) async fn profile_of(&self, user: User) -> Result<Profile> {
        let access = self.access_of(&user).await?;
        let mut profile = profile(user, access.permissions);
        profile.roles = access.roles;
        profile.quotas = access.quotas;
        profile.sources = access.sources;
        Ok(profile)
    }
}

pub(crate) fn require_held(caller: &AccessClaims, wanted: &BTreeSet<String>) -> Result<()> {
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
    pub(crate) fn custom(role: Role) -> Self {
        Self {
            name: role.name,
            permissions: role.permissions,
            builtin: false,
        }
    }
}

pub(crate) fn profile(user: User, permissions: BTreeSet<String>) -> Profile {
    Profile {
        quotas: user.quotas(),
        purge_at: user.purge_at(),
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
        deleted_at: user.deleted_at,
        sources: None,
        role_expiry: user.role_expiry,
        quota_expiry: user.quota_expiry,
    }
}

#[cfg(test)]
impl Identity {
    pub(crate) fn router_for_tests(&self) -> Router {
        self.router.clone()
    }
}
