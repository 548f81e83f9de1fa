//! Roles and the administration of users: the flows behind the
//! `identity:admin` endpoints.

use super::actor::{AdminRoster, ROSTER_KEY, Roles, UserCommand, Users};
use super::keys::AccessClaims;
use super::model::access;
use super::model::roster::{self, RosterAnswer, RosterRequest};
use super::model::{RoleRequest, User, admin};
use super::service::{Identity, Profile, RoleView, profile, require_held};
use crate::error::{Error, Result};
use crate::ports::Millis;
use crate::runtime::{Cursor, Router};
use crate::shared::page::Limit;
use std::collections::{BTreeMap, BTreeSet, HashMap};

impl Identity {
    // ------------------------------------------------------------ roles

    /// The union of the permissions of `roles`; deleted custom roles grant
    /// nothing.
    pub(super) async fn permissions_of(&self, roles: &[String]) -> Result<BTreeSet<String>> {
        Self::permissions_via(&self.router, roles).await
    }

    pub(super) async fn permissions_via(router: &Router, roles: &[String]) -> Result<BTreeSet<String>> {
        let mut perms = BTreeSet::new();
        for role in roles {
            if let Some(granted) = Self::role_permissions_via(router, role).await? {
                perms.extend(granted);
            }
        }
        Ok(perms)
    }

    pub(super) async fn role_permissions(&self, role: &str) -> Result<Option<BTreeSet<String>>> {
        Self::role_permissions_via(&self.router, role).await
    }

    async fn role_permissions_via(router: &Router, role: &str) -> Result<Option<BTreeSet<String>>> {
        if let Some(builtin) = access::builtin_permissions(role) {
            return Ok(Some(builtin));
        }
        match router.ask::<Roles>(role, RoleRequest::Get).await {
            Ok(role) => Ok(Some(role.permissions)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A user's permissions and effective quotas at `now` (their own and
    /// their groups'), or `None` when no user has this id: what other
    /// domains may know of a user. Takes the caller's router.
    pub async fn grants_of(router: &Router, user_id: &str, now: Millis) -> Result<Option<Grants>> {
        let user = match router.ask::<Users>(user_id, UserCommand::Get).await {
            Ok(super::actor::UserReply::User(user)) => user,
            Ok(other) => return Err(Error::unexpected_reply(&other)),
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let access = Self::access_via(router, &user, now).await?;
        Ok(Some(Grants {
            permissions: access.permissions,
            quotas: access.quotas,
            disabled: user.is_inactive(),
        }))
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
            let page = self.router.scan::<Roles>(cursor.as_ref(), 500).await?;
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
            .ask::<Roles>(&name, RoleRequest::Create(permissions))
            .await?;
        Ok(RoleView::custom(role))
    }

    /// Changing a role needs its current permissions and the new ones.
    pub async fn replace_role(&self, caller: &AccessClaims, name: &str, permissions: &[String]) -> Result<RoleView> {
        if access::is_builtin_role(name) {
            return Err(Error::conflict("builtin_role", "built-in roles cannot be changed"));
        }
        let (name, permissions) = self.checked_role(caller, name, permissions)?;
        if let Some(current) = self.role_permissions(&name).await? {
            require_held(caller, &current)?;
        }
        let role = self.router.ask::<Roles>(&name, RoleRequest::Replace(permissions)).await;
        self.forget_standing(None).await;
        Ok(RoleView::custom(role?))
    }

    /// Deleting a role needs its permissions.
    pub async fn delete_role(&self, caller: &AccessClaims, name: &str) -> Result<()> {
        if access::is_builtin_role(name) {
            return Err(Error::conflict("builtin_role", "built-in roles cannot be deleted"));
        }
        let current = self
            .role_permissions(name)
            .await?
            .ok_or_else(|| Error::not_found("role"))?;
        require_held(caller, &current)?;
        let deleted = self.router.ask::<Roles>(name, RoleRequest::Delete).await.map(|_| ());
        self.forget_standing(None).await;
        deleted
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

    pub async fn list_users(&self, cursor: Option<&str>, limit: Limit) -> Result<(Vec<Profile>, Option<String>)> {
        let cursor = cursor.map(Cursor::decode).transpose()?;
        let page = self.router.scan::<Users>(cursor.as_ref(), limit.get()).await?;
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

    /// The user `id` as administration sees it, once the caller is known
    /// to hold every permission the user holds ([`admin::may_manage`]):
    /// the user and their permissions now.
    pub(super) async fn managed(&self, caller: &AccessClaims, id: &str) -> Result<(User, BTreeSet<String>)> {
        let user = self.user(id, UserCommand::Get).await?;
        let permissions = self.permissions_of(&user.roles).await?;
        let held: BTreeSet<String> = caller.perms.iter().cloned().collect();
        admin::may_manage(&held, &permissions)?;
        Ok((user, permissions))
    }

    /// Asks the roster of full administrators, seeding it first if this
    /// is its first use.
    async fn roster(&self, request: RosterRequest) -> Result<()> {
        for _ in 0..2 {
            match self.router.ask::<AdminRoster>(ROSTER_KEY, request.clone()).await? {
                RosterAnswer::Members(_) => return Ok(()),
                RosterAnswer::Unseeded => self.seed_roster().await?,
            }
        }
        Err(Error::unavailable(
            "roster_unseeded",
            "the administrators' roster is not ready; retry",
            1,
        ))
    }

    /// Seeds the roster with the full administrators a scan of every user
    /// finds (once, on its first use; no administration flow can take
    /// administration from anyone before it exists).
    async fn seed_roster(&self) -> Result<()> {
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.router.scan::<Users>(cursor.as_ref(), 500).await?;
            found.extend(
                page.items
                    .into_iter()
                    .filter(|(_, user)| user.is_full_admin())
                    .map(|(id, user)| (id, user.grants_revision)),
            );
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.router
            .ask::<AdminRoster>(ROSTER_KEY, RosterRequest::Seed(found))
            .await
            .map(|_| ())
    }

    /// Applies a change of `target`'s roles or disabled flag at the grants
    /// revision read, first releasing full administration from the roster
    /// when the change takes it away (409 `last_admin` if nobody else has
    /// it), then telling the roster what the user has become.
    pub(super) async fn change_grants(&self, target: &User, stays_full: bool, command: UserCommand) -> Result<User> {
        if target.is_full_admin() && !stays_full {
            self.roster(RosterRequest::Release {
                user: target.id.clone(),
                revision: target.grants_revision,
            })
            .await?;
        }
        let changed = self.user(&target.id, command).await;
        let seen = match &changed {
            Ok(user) => Ok(user.clone()),
            Err(_) => self.user(&target.id, UserCommand::Get).await,
        };
        if let Ok(seen) = seen {
            self.observe_admin(&seen).await;
        }
        self.forget_standing(Some(&target.id)).await;
        changed
    }

    /// Tells the roster what `user` is at the grants revision read. A
    /// failure leaves the roster one short, which only refuses too much.
    pub(super) async fn observe_admin(&self, user: &User) {
        let observed = RosterRequest::Observe {
            user: user.id.clone(),
            revision: user.grants_revision,
            full: user.is_full_admin(),
        };
        if let Err(e) = self.roster(observed).await {
            tracing::warn!(user = %user.id, error = %e, "the administrators' roster missed a change; it counts one fewer");
        }
    }

    /// Replaces a user's roles; the caller must hold every permission the
    /// new roles grant.
    /// Replaces a user's roles, each until `expires_at` if given (never
    /// the built-in `admin` role: the last administrator must not lapse).
    pub async fn set_roles(
        &self,
        caller: &AccessClaims,
        id: &str,
        roles: &[(String, Option<Millis>)],
    ) -> Result<Profile> {
        if roles.len() > access::ROLES_MAX {
            return Err(Error::invalid("roles", format!("at most {} roles", access::ROLES_MAX)));
        }
        let mut granted = BTreeSet::new();
        let mut unknown = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut expiry = BTreeMap::new();
        for (role, until) in roles {
            let role = role.trim().to_lowercase();
            if let Some(at) = until {
                if role == roster::ADMIN_ROLE {
                    return Err(Error::invalid("roles", "the admin role is granted without an end"));
                }
                expiry.insert(role.clone(), *at);
            }
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
        let (target, _) = self.managed(caller, id).await?;
        let stays_full = roster::is_full_admin(&names, target.disabled);
        let command = UserCommand::SetRoles {
            roles: names,
            expiry,
            revision: target.grants_revision,
        };
        let user = self.change_grants(&target, stays_full, command).await?;
        self.profile_of(user).await
    }

    /// Sets a user's quota overrides, some until a time (`expiry`);
    /// nobody raises their own.
    pub async fn set_quotas(
        &self,
        caller: &AccessClaims,
        id: &str,
        overrides: &BTreeMap<String, u64>,
        expiry: BTreeMap<String, Millis>,
    ) -> Result<Profile> {
        let overrides = access::quota_overrides(overrides).map_err(|reasons| Error::Validation {
            fields: reasons.into_iter().collect(),
        })?;
        let (target, _) = self.managed(caller, id).await?;
        admin::may_set_quotas(id == caller.sub, &target.quota_overrides, &overrides)?;
        let expiry = expiry.into_iter().filter(|(q, _)| overrides.contains_key(q)).collect();
        let user = self.user(id, UserCommand::SetQuotas { overrides, expiry }).await;
        self.forget_standing(Some(id)).await;
        self.profile_of(user?).await
    }

    /// Disables or enables an account; nobody disables their own (it would
    /// lock the last administrator out).
    pub async fn set_disabled(&self, caller: &AccessClaims, id: &str, disabled: bool) -> Result<Profile> {
        if disabled && id == caller.sub {
            return Err(Error::conflict(
                "cannot_disable_self",
                "administrators cannot disable themselves",
            ));
        }
        let (target, _) = self.managed(caller, id).await?;
        let stays_full = roster::is_full_admin(&target.roles, disabled);
        let command = UserCommand::SetDisabled {
            disabled,
            revision: target.grants_revision,
        };
        let user = self.change_grants(&target, stays_full, command).await?;
        self.profile_of(user).await
    }
}

/// What other domains may know of a user's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    pub permissions: BTreeSet<String>,
    pub quotas: BTreeMap<String, u64>,
    pub disabled: bool,
}
