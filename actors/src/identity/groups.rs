//! Groups (issue 18): the entities — the book of every group (one record,
//! so that no two moves can make a cycle), each group's members (member
//! records: a group of 100,000 costs the same to change as one of ten; each
//! user's own record lists the groups they belong to) — and the flows the
//! edge calls. The rules are
//! `model/groups.rs`.

use super::actor::UserCommand;
use super::keys::AccessClaims;
use super::model::User;
use super::model::access;
use super::model::groups::{Actor, Effective, Grant, GroupBook, GroupChange, GroupInfo, QuotaGrant, effective};
use super::service::Identity;
use crate::error::{Error, FieldErrors, Result};
use crate::expect_reply;
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, EntityContext, Outcome, Router, decode, encode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The one key of the group book.
pub const BOOK_KEY: &str = "all";
/// Deepest descendants a group view lists.
pub const DEPTH_MAX: u32 = 5;

// ---------------------------------------------------------------- book

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BookCommand {
    Apply { actor: ActorView, change: GroupChange },
    Get,
}

/// [`Actor`] as sent to the book.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActorView {
    pub admin: bool,
    pub delegate: bool,
    pub member_of: Vec<String>,
}

pub struct GroupBooks {
    pub clock: Arc<dyn Clock>,
}

impl Entity for GroupBooks {
    const KIND: &'static str = "group_book";
    type State = GroupBook;
    type Command = BookCommand;
    type Reply = GroupBook;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&GroupBook>,
        command: BookCommand,
    ) -> Result<Outcome<GroupBook, GroupBook>> {
        let book = state.cloned().unwrap_or_default();
        Ok(match command {
            BookCommand::Get => Outcome::read(book),
            BookCommand::Apply { actor, change } => {
                let actor = Actor {
                    admin: actor.admin,
                    delegate: actor.delegate,
                    member_of: actor.member_of,
                    permissions: BTreeSet::new(),
                    quotas: BTreeMap::new(),
                };
                let next = book.apply(&actor, &change, self.clock.now())?;
                Outcome::write(next.clone(), next)
            }
        })
    }
}

// ---------------------------------------------------------------- members

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MembersCommand {
    Add {
        user_id: String,
    },
    Remove {
        user_id: String,
    },
    Count,
    /// Members after `after`, in id order.
    Page {
        after: Option<String>,
        limit: usize,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MembersReply {
    Count(u64),
    Page(Vec<(String, Millis)>),
}

/// One per group: how many members, and each member a record.
pub struct GroupMembers {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
}

fn member(user_id: &str) -> String {
    format!("m:{user_id}")
}

impl Entity for GroupMembers {
    const KIND: &'static str = "group_members";
    type State = u64;
    type Command = MembersCommand;
    type Reply = MembersReply;

    async fn handle(
        &self,
        key: &str,
        state: Option<&u64>,
        command: MembersCommand,
    ) -> Result<Outcome<u64, MembersReply>> {
        let count = state.copied().unwrap_or(0);
        let members = self.context.members(Self::KIND, key)?;
        Ok(match command {
            MembersCommand::Count => Outcome::read(MembersReply::Count(count)),
            MembersCommand::Add { user_id } => match members.contains(&member(&user_id))? {
                true => Outcome::read(MembersReply::Count(count)),
                false => Outcome::write(count + 1, MembersReply::Count(count + 1))
                    .with_members(vec![(member(&user_id), Some(encode(&self.clock.now())?))]),
            },
            MembersCommand::Remove { user_id } => match members.contains(&member(&user_id))? {
                false => Outcome::read(MembersReply::Count(count)),
                true => {
                    let left = count.saturating_sub(1);
                    Outcome::write(left, MembersReply::Count(left)).with_members(vec![(member(&user_id), None)])
                }
            },
            MembersCommand::Page { after, limit } => {
                let from = member(after.as_deref().unwrap_or(""));
                let page = members
                    .page(Some(&from), limit)?
                    .into_iter()
                    .filter_map(|(m, bytes)| Some((m.strip_prefix("m:")?.to_string(), decode(&bytes).ok()?)))
                    .collect();
                Outcome::read(MembersReply::Page(page))
            }
        })
    }
}

// ---------------------------------------------------------------- access

/// A user's access now: their roles (their own first, in their order,
/// then those their groups give, by name), the permissions of those, the
/// quotas (each the largest unexpired value), and where each comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub roles: Vec<String>,
    pub permissions: BTreeSet<String>,
    pub quotas: BTreeMap<String, u64>,
    /// Where each role and quota comes from; `None` for a user in no group
    /// (all their own: the common case costs nothing more).
    pub sources: Option<Effective>,
    /// When the next grant it counts ends (then it changes).
    pub until: Option<Millis>,
}

/// The earliest of `times` after `now`.
fn next_after(now: Millis, times: impl Iterator<Item = Millis>) -> Option<Millis> {
    times.filter(|t| *t > now).min()
}

// ---------------------------------------------------------------- flows

/// A group as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub id: String,
    pub info: GroupInfo,
    pub parent_id: Option<String>,
    /// Parent first.
    pub ancestors: Vec<(String, String)>,
    pub member_count: u64,
    pub roles: Vec<Grant>,
    pub quotas: Vec<QuotaGrant>,
    pub descendants: Vec<GroupNode>,
}

/// A descendant, with its own down to the depth asked.
#[derive(Debug, Clone, Serialize)]
pub struct GroupNode {
    pub id: String,
    pub name: String,
    pub children: Vec<GroupNode>,
}

/// What a PATCH of a group asks.
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    /// `Some(None)`: to the top level.
    pub parent: Option<Option<String>>,
}

fn nodes(book: &GroupBook, id: &str, depth: u32) -> Vec<GroupNode> {
    if depth == 0 {
        return Vec::new();
    }
    book.children(id)
        .into_iter()
        .map(|child| GroupNode {
            name: book.info.get(&child).map(|i| i.name.clone()).unwrap_or_default(),
            children: nodes(book, &child, depth - 1),
            id: child,
        })
        .collect()
}

impl Identity {
    async fn book(&self) -> Result<GroupBook> {
        self.router.ask::<GroupBooks>(BOOK_KEY, BookCommand::Get).await
    }

    /// `user`'s access now, with what their groups give.
    pub(super) async fn access_of(&self, user: &User) -> Result<Access> {
        Self::access_via(&self.router, user, self.clock.now()).await
    }

    /// `user`'s access at `now`, through `router` (for other domains too).
    pub(super) async fn access_via(router: &Router, user: &User, now: Millis) -> Result<Access> {
        let own = user.live_roles(now);
        let own_until = next_after(
            now,
            user.role_expiry.values().chain(user.quota_expiry.values()).copied(),
        );
        // Most users belong to no group: their access is their own.
        if user.groups.is_empty() {
            return Ok(Access {
                permissions: Self::permissions_via(router, &own).await?,
                quotas: user.live_quotas(now),
                roles: own,
                sources: None,
                until: own_until,
            });
        }
        let groups: Vec<String> = user.groups.iter().cloned().collect();
        let tree = router.ask::<GroupBooks>(BOOK_KEY, BookCommand::Get).await?.tree;
        let own_roles: Vec<Grant> = own
            .iter()
            .map(|r| Grant {
                role: r.clone(),
                expires_at: None,
            })
            .collect();
        let own_quotas: Vec<QuotaGrant> = user
            .live_quotas(now)
            .into_iter()
            .map(|(name, limit)| QuotaGrant {
                name,
                limit,
                expires_at: None,
            })
            .collect();
        let sources = effective(&own_roles, &own_quotas, &groups, &tree, now);
        let mut roles = own.clone();
        roles.extend(sources.roles.keys().filter(|r| !own.contains(r)).cloned());
        let grants_end = tree.nodes.values().flat_map(|n| {
            n.roles
                .iter()
                .filter_map(|g| g.expires_at)
                .chain(n.quotas.iter().filter_map(|q| q.expires_at))
        });
        let until = next_after(now, grants_end.chain(own_until));
        Ok(Access {
            permissions: Self::permissions_via(router, &roles).await?,
            quotas: sources.quota_limits(),
            roles,
            sources: Some(sources),
            until,
        })
    }

    /// The groups `user_id` belongs to.
    pub async fn groups_of(&self, user_id: &str) -> Result<BTreeSet<String>> {
        Ok(self.user(user_id, UserCommand::Get).await?.groups)
    }

    /// `user_id` joins (`true`) or leaves `group`, on their own record.
    async fn membership(&self, user_id: &str, group: &str, member: bool) -> Result<()> {
        let command = UserCommand::Membership {
            group: group.to_string(),
            member,
        };
        self.user(user_id, command).await?;
        self.forget_standing(Some(user_id)).await;
        Ok(())
    }

    /// The caller as the delegation rule sees them.
    async fn actor(&self, caller: &AccessClaims) -> Result<Actor> {
        Ok(Actor {
            admin: caller.has("identity:admin"),
            delegate: caller.has("identity:groups"),
            member_of: self.groups_of(&caller.sub).await?.into_iter().collect(),
            permissions: caller.perms.iter().cloned().collect(),
            quotas: caller.quotas.clone(),
        })
    }

    async fn apply(&self, actor: &Actor, change: GroupChange) -> Result<GroupBook> {
        let actor = ActorView {
            admin: actor.admin,
            delegate: actor.delegate,
            member_of: actor.member_of.clone(),
        };
        self.router
            .ask::<GroupBooks>(BOOK_KEY, BookCommand::Apply { actor, change })
            .await
    }

    async fn view(&self, book: &GroupBook, id: &str, depth: u32) -> Result<GroupView> {
        let node = book.tree.nodes.get(id).ok_or_else(|| Error::not_found("group"))?;
        let info = book.info.get(id).cloned().ok_or_else(|| Error::not_found("group"))?;
        let member_count = match self.router.ask::<GroupMembers>(id, MembersCommand::Count).await? {
            MembersReply::Count(n) => n,
            other => return Err(Error::unexpected_reply(&other)),
        };
        Ok(GroupView {
            id: id.to_string(),
            info,
            parent_id: node.parent.clone(),
            ancestors: book
                .tree
                .ancestors(id)
                .into_iter()
                .map(|a| {
                    let name = book.info.get(&a).map(|i| i.name.clone()).unwrap_or_default();
                    (a, name)
                })
                .collect(),
            member_count,
            roles: node.roles.clone(),
            quotas: node.quotas.clone(),
            descendants: nodes(book, id, depth.min(DEPTH_MAX)),
        })
    }

    /// Creates a group (top level: administrators only).
    pub async fn create_group(&self, caller: &AccessClaims, name: &str, parent: Option<String>) -> Result<GroupView> {
        let actor = self.actor(caller).await?;
        let id = ulid::Ulid::new().to_string();
        let change = GroupChange::Create {
            id: id.clone(),
            name: name.to_string(),
            parent,
        };
        let book = self.apply(&actor, change).await?;
        self.view(&book, &id, 0).await
    }

    /// A group, for those who manage it or belong to it.
    pub async fn group(&self, caller: &AccessClaims, id: &str, depth: u32) -> Result<GroupView> {
        let actor = self.actor(caller).await?;
        let book = self.book().await?;
        if !book.tree.nodes.contains_key(id) {
            return Err(Error::not_found("group"));
        }
        if actor.may_manage(&book.tree, id).is_err() && !actor.member_of.iter().any(|g| g == id) {
            return Err(Error::not_found("group"));
        }
        self.view(&book, id, depth).await
    }

    /// Renames and/or moves a group (both or neither).
    pub async fn patch_group(&self, caller: &AccessClaims, id: &str, patch: GroupPatch) -> Result<GroupView> {
        let actor = self.actor(caller).await?;
        let change = GroupChange::Edit {
            id: id.to_string(),
            name: patch.name,
            parent: patch.parent,
        };
        let book = self.apply(&actor, change).await?;
        self.view(&book, id, 0).await
    }

    /// Deletes a group; its children move up to its parent; restorable for
    /// 30 days with its memberships, roles and quotas.
    pub async fn delete_group(&self, caller: &AccessClaims, id: &str) -> Result<()> {
        let actor = self.actor(caller).await?;
        self.apply(&actor, GroupChange::Delete { id: id.to_string() }).await?;
        self.forget_standing(None).await;
        Ok(())
    }

    pub async fn restore_group(&self, caller: &AccessClaims, id: &str) -> Result<GroupView> {
        let actor = self.actor(caller).await?;
        let book = self.apply(&actor, GroupChange::Restore { id: id.to_string() }).await?;
        self.forget_standing(None).await;
        self.view(&book, id, 0).await
    }

    /// Adds `user_id` to the group (idempotent).
    pub async fn add_member(&self, caller: &AccessClaims, group: &str, user_id: &str) -> Result<u64> {
        let actor = self.actor(caller).await?;
        let book = self.book().await?;
        if !book.tree.nodes.contains_key(group) {
            return Err(Error::not_found("group"));
        }
        actor.may_manage(&book.tree, group)?;
        // The user's side first: their access counts the group from then;
        // a repeat of the request completes a half-done one.
        self.membership(user_id, group, true).await?;
        let add = MembersCommand::Add {
            user_id: user_id.to_string(),
        };
        expect_reply!(self.router.ask::<GroupMembers>(group, add).await?, MembersReply::Count(n) => n)
    }

    /// Removes `user_id` from the group (idempotent).
    pub async fn remove_member(&self, caller: &AccessClaims, group: &str, user_id: &str) -> Result<u64> {
        let actor = self.actor(caller).await?;
        let book = self.book().await?;
        if !book.tree.nodes.contains_key(group) {
            return Err(Error::not_found("group"));
        }
        actor.may_manage(&book.tree, group)?;
        let remove = MembersCommand::Remove {
            user_id: user_id.to_string(),
        };
        let count = expect_reply!(self.router.ask::<GroupMembers>(group, remove).await?, MembersReply::Count(n) => n)?;
        match self.membership(user_id, group, false).await {
            Ok(()) | Err(Error::NotFound { .. }) => Ok(count),
            Err(e) => Err(e),
        }
    }

    /// A page of the group's members (user id, since when).
    pub async fn group_members(
        &self,
        caller: &AccessClaims,
        group: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<(String, Millis)>> {
        self.group(caller, group, 0).await?;
        let page = MembersCommand::Page {
            after,
            limit: limit.clamp(1, 100),
        };
        expect_reply!(self.router.ask::<GroupMembers>(group, page).await?, MembersReply::Page(p) => p)
    }

    /// Replaces the group's roles: each must exist and hold nothing the
    /// caller lacks.
    pub async fn set_group_roles(&self, caller: &AccessClaims, group: &str, roles: Vec<Grant>) -> Result<GroupView> {
        let actor = self.actor(caller).await?;
        let mut known = BTreeMap::new();
        for g in &roles {
            if let Some(perms) = self.role_permissions(&g.role).await? {
                known.insert(g.role.clone(), perms);
            }
        }
        actor.may_grant(&roles, |r| known.get(r).cloned(), &[])?;
        let book = self
            .apply(
                &actor,
                GroupChange::Roles {
                    id: group.to_string(),
                    roles,
                },
            )
            .await?;
        self.forget_standing(None).await;
        self.view(&book, group, 0).await
    }

    /// Replaces the group's quotas: known names, none above the caller's.
    pub async fn set_group_quotas(
        &self,
        caller: &AccessClaims,
        group: &str,
        quotas: Vec<QuotaGrant>,
    ) -> Result<GroupView> {
        let mut unknown = FieldErrors::new();
        for (i, q) in quotas.iter().enumerate() {
            if !access::QUOTAS.iter().any(|(name, _)| *name == q.name) {
                unknown.add(format!("quotas[{i}].name"), "is not a known quota");
            }
        }
        unknown.into_result()?;
        let actor = self.actor(caller).await?;
        actor.may_grant(&[], |_| None, &quotas)?;
        let book = self
            .apply(
                &actor,
                GroupChange::Quotas {
                    id: group.to_string(),
                    quotas,
                },
            )
            .await?;
        self.forget_standing(None).await;
        self.view(&book, group, 0).await
    }
}
