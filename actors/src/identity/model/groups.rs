//! Groups (issue 18): a tree of groups — a company, its departments, their
//! teams — to which roles and quotas are granted, each grant possibly
//! expiring; a user's effective access is their own grants plus those of
//! every group they belong to and of every ancestor of those; and the
//! delegation rule: who may manage which groups and grant what. Pure.

use super::Millis;
use crate::error::{Error, FieldErrors, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A role granted, until `expires_at` if given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: String,
    pub expires_at: Option<Millis>,
}

/// A quota granted, until `expires_at` if given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaGrant {
    pub name: String,
    pub limit: u64,
    pub expires_at: Option<Millis>,
}

fn live(expires_at: Option<Millis>, now: Millis) -> bool {
    expires_at.is_none_or(|at| at > now)
}

/// Where an effective role or quota comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Source {
    /// The user's own grant.
    Own,
    /// A group's (the user belongs to it, or to one of its descendants).
    Group(String),
}

/// One group as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub parent: Option<String>,
    pub roles: Vec<Grant>,
    pub quotas: Vec<QuotaGrant>,
}

/// The live groups, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: BTreeMap<String, Node>,
}

impl Tree {
    /// `id`'s ancestors, its parent first. Stops at a missing parent, and
    /// at a repeat (which the rules never let happen).
    pub fn ancestors(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut at = self.nodes.get(id).and_then(|n| n.parent.clone());
        while let Some(parent) = at {
            if parent == id || out.contains(&parent) {
                break;
            }
            at = self.nodes.get(&parent).and_then(|n| n.parent.clone());
            out.push(parent);
        }
        out
    }

    /// `id` is `root` or below it.
    pub fn within(&self, id: &str, root: &str) -> bool {
        id == root || self.ancestors(id).iter().any(|a| a == root)
    }

    /// `id` and everything below it.
    pub fn subtree(&self, id: &str) -> BTreeSet<String> {
        self.nodes.keys().filter(|n| self.within(n, id)).cloned().collect()
    }

    fn missing(what: &str) -> Error {
        Error::invalid(what, "no group has this id")
    }

    /// A new group under `parent` (top level for `None`).
    pub fn add(&self, id: &str, parent: Option<&str>) -> Result<Tree> {
        if let Some(p) = parent
            && !self.nodes.contains_key(p)
        {
            return Err(Self::missing("parent_id"));
        }
        let mut next = self.clone();
        next.nodes.insert(
            id.to_string(),
            Node {
                parent: parent.map(str::to_string),
                roles: Vec::new(),
                quotas: Vec::new(),
            },
        );
        Ok(next)
    }

    /// `id` moves, with its subtree, under `parent` (top level for
    /// `None`): 422 under itself or one of its descendants.
    pub fn move_to(&self, id: &str, parent: Option<&str>) -> Result<Tree> {
        if !self.nodes.contains_key(id) {
            return Err(Error::not_found("group"));
        }
        if let Some(p) = parent {
            if !self.nodes.contains_key(p) {
                return Err(Self::missing("parent_id"));
            }
            if self.within(p, id) {
                return Err(Error::invalid(
                    "parent_id",
                    "a group cannot move under itself or one of its descendants",
                ));
            }
        }
        let mut next = self.clone();
        if let Some(node) = next.nodes.get_mut(id) {
            node.parent = parent.map(str::to_string);
        }
        Ok(next)
    }

    /// `id` goes; its children move up to its parent.
    pub fn remove(&self, id: &str) -> Result<Tree> {
        let node = self.nodes.get(id).ok_or_else(|| Error::not_found("group"))?;
        let parent = node.parent.clone();
        let mut next = self.clone();
        next.nodes.remove(id);
        for n in next.nodes.values_mut() {
            if n.parent.as_deref() == Some(id) {
                n.parent = parent.clone();
            }
        }
        Ok(next)
    }

    /// `id` comes back (a restore) under its old parent, or at the top
    /// level if that one is gone.
    pub fn restore(&self, id: &str, node: Node) -> Tree {
        let mut next = self.clone();
        let parent = node.parent.clone().filter(|p| self.nodes.contains_key(p));
        next.nodes.insert(id.to_string(), Node { parent, ..node });
        next
    }
}

/// A user's effective access: each role and quota with where it comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effective {
    /// Role → every source granting it (unexpired).
    pub roles: BTreeMap<String, BTreeSet<Source>>,
    /// Quota → the largest unexpired value, and the first source giving it.
    pub quotas: BTreeMap<String, (u64, Source)>,
}

impl Effective {
    fn add_role(&mut self, role: &str, source: &Source) {
        self.roles.entry(role.to_string()).or_default().insert(source.clone());
    }

    fn add_quota(&mut self, name: &str, limit: u64, source: &Source) {
        match self.quotas.get(name) {
            Some((held, _)) if *held >= limit => {}
            _ => {
                self.quotas.insert(name.to_string(), (limit, source.clone()));
            }
        }
    }

    /// The role names.
    pub fn role_names(&self) -> Vec<String> {
        self.roles.keys().cloned().collect()
    }

    /// The quota overrides (largest values).
    pub fn quota_limits(&self) -> BTreeMap<String, u64> {
        self.quotas.iter().map(|(n, (l, _))| (n.clone(), *l)).collect()
    }
}

/// The effective access at `now` of a user with `own` roles and quotas who
/// belongs to `groups`: their own unexpired grants plus the unexpired ones
/// of each group and of every ancestor of it; each quota the largest.
pub fn effective(
    own_roles: &[Grant],
    own_quotas: &[QuotaGrant],
    groups: &[String],
    tree: &Tree,
    now: Millis,
) -> Effective {
    let mut out = Effective::default();
    for g in own_roles.iter().filter(|g| live(g.expires_at, now)) {
        out.add_role(&g.role, &Source::Own);
    }
    for q in own_quotas.iter().filter(|q| live(q.expires_at, now)) {
        out.add_quota(&q.name, q.limit, &Source::Own);
    }
    let mut reached: Vec<String> = Vec::new();
    for group in groups.iter().filter(|g| tree.nodes.contains_key(*g)) {
        for id in std::iter::once(group.clone()).chain(tree.ancestors(group)) {
            if !reached.contains(&id) {
                reached.push(id);
            }
        }
    }
    for id in &reached {
        let Some(node) = tree.nodes.get(id) else { continue };
        let source = Source::Group(id.clone());
        for g in node.roles.iter().filter(|g| live(g.expires_at, now)) {
            out.add_role(&g.role, &source);
        }
        for q in node.quotas.iter().filter(|q| live(q.expires_at, now)) {
            out.add_quota(&q.name, q.limit, &source);
        }
    }
    out
}

/// Who acts on groups, as the delegation rule sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Holds `identity:admin`: manages everything.
    pub admin: bool,
    /// Holds `identity:groups`: manages inside their groups' subtrees.
    pub delegate: bool,
    /// The groups they belong to.
    pub member_of: Vec<String>,
    /// Their effective permissions and quotas.
    pub permissions: BTreeSet<String>,
    pub quotas: BTreeMap<String, u64>,
}

fn outside() -> Error {
    Error::forbidden(
        "outside_your_groups",
        "you may manage only groups inside the groups you belong to",
    )
}

impl Actor {
    /// `group` is inside the subtree of a group the actor belongs to.
    pub fn reaches(&self, tree: &Tree, group: &str) -> bool {
        self.member_of.iter().any(|root| tree.within(group, root))
    }

    /// May change `group` itself: rename it, its members, roles and quotas.
    pub fn may_manage(&self, tree: &Tree, group: &str) -> Result<()> {
        match self.admin || (self.delegate && self.reaches(tree, group)) {
            true => Ok(()),
            false => Err(outside()),
        }
    }

    /// May create a group under `parent` (top level: administrators only).
    pub fn may_create(&self, tree: &Tree, parent: Option<&str>) -> Result<()> {
        match parent {
            _ if self.admin => Ok(()),
            Some(p) => self.may_manage(tree, p),
            None => Err(outside()),
        }
    }

    /// May move or delete `group`: never one of the groups their reach
    /// starts from (that would take it out of their reach, or drop it).
    fn may_restructure(&self, tree: &Tree, group: &str) -> Result<()> {
        if self.admin {
            return Ok(());
        }
        self.may_manage(tree, group)?;
        let below_a_root = self
            .member_of
            .iter()
            .any(|root| root != group && tree.within(group, root));
        match below_a_root {
            true => Ok(()),
            false => Err(outside()),
        }
    }

    /// May move `group` under `parent`: both inside their reach.
    pub fn may_move(&self, tree: &Tree, group: &str, parent: Option<&str>) -> Result<()> {
        self.may_restructure(tree, group)?;
        self.may_create(tree, parent)
    }

    /// May delete `group` (its children move up to its parent, which the
    /// actor reaches too).
    pub fn may_delete(&self, tree: &Tree, group: &str) -> Result<()> {
        self.may_restructure(tree, group)
    }

    /// May grant `roles` (each role's permissions from `permissions_of`)
    /// and `quotas`: nothing they do not hold, no quota above their own.
    pub fn may_grant(
        &self,
        roles: &[Grant],
        permissions_of: impl Fn(&str) -> Option<BTreeSet<String>>,
        quotas: &[QuotaGrant],
    ) -> Result<()> {
        if self.admin {
            return Ok(());
        }
        let mut refused = FieldErrors::new();
        for (i, g) in roles.iter().enumerate() {
            match permissions_of(&g.role) {
                None => refused.add(format!("roles[{i}].role"), "no role has this name"),
                Some(wanted) => {
                    let lacking: Vec<String> = wanted.difference(&self.permissions).cloned().collect();
                    if !lacking.is_empty() {
                        return Err(Error::forbidden(
                            "grant_exceeds_own",
                            format!("role {} holds permissions you lack: {}", g.role, lacking.join(", ")),
                        ));
                    }
                }
            }
        }
        refused.into_result()?;
        for q in quotas {
            let own = self.quotas.get(&q.name).copied().unwrap_or(0);
            if q.limit > own {
                return Err(Error::forbidden(
                    "grant_exceeds_own",
                    format!("quota {} of {} is above your own ({own})", q.name, q.limit),
                ));
            }
        }
        Ok(())
    }
}

/// How long a deleted group can be restored.
pub const RETENTION: Millis = 30 * 24 * 3_600_000;

/// A group's name: 1 to 100 characters, trimmed.
pub fn group_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    match (1..=100).contains(&name.chars().count()) {
        true => Ok(name.to_string()),
        false => Err(Error::invalid("name", "must be 1 to 100 characters")),
    }
}

/// What the tree does not hold about a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub name: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A deleted group, restorable until `deleted_at + RETENTION`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub node: Node,
    pub info: GroupInfo,
    pub deleted_at: Millis,
}

/// Every group: the tree, their names, and the deleted ones still
/// restorable. One record, so that structural changes (which must never
/// make a cycle) are decided against the whole tree at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBook {
    pub tree: Tree,
    pub info: BTreeMap<String, GroupInfo>,
    pub deleted: BTreeMap<String, Deleted>,
}

/// A change to the groups, by `actor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupChange {
    Create {
        id: String,
        name: String,
        parent: Option<String>,
    },
    Rename {
        id: String,
        name: String,
    },
    Move {
        id: String,
        parent: Option<String>,
    },
    /// A rename and a move together: both or neither.
    Edit {
        id: String,
        name: Option<String>,
        parent: Option<Option<String>>,
    },
    Delete {
        id: String,
    },
    Restore {
        id: String,
    },
    /// Replaces the group's roles (their permissions checked by the
    /// caller: see [`Actor::may_grant`]).
    Roles {
        id: String,
        roles: Vec<Grant>,
    },
    Quotas {
        id: String,
        quotas: Vec<QuotaGrant>,
    },
}

impl GroupBook {
    /// Forgets deleted groups past their retention.
    pub fn purged(&self, now: Millis) -> GroupBook {
        let mut next = self.clone();
        next.deleted.retain(|_, d| d.deleted_at + RETENTION > now);
        next
    }

    /// Applies `change` as `actor` may; answers the book after it.
    pub fn apply(&self, actor: &Actor, change: &GroupChange, now: Millis) -> Result<GroupBook> {
        let mut next = self.purged(now);
        let touch = |next: &mut GroupBook, id: &str| {
            if let Some(info) = next.info.get_mut(id) {
                info.updated_at = now;
            }
        };
        let exists = |id: &str| match self.tree.nodes.contains_key(id) {
            true => Ok(()),
            false => Err(Error::not_found("group")),
        };
        match change {
            GroupChange::Create { id, name, parent } => {
                actor.may_create(&self.tree, parent.as_deref())?;
                let name = group_name(name)?;
                next.tree = next.tree.add(id, parent.as_deref())?;
                next.info.insert(
                    id.clone(),
                    GroupInfo {
                        name,
                        created_at: now,
                        updated_at: now,
                    },
                );
            }
            GroupChange::Rename { id, name } => {
                exists(id)?;
                actor.may_manage(&self.tree, id)?;
                let name = group_name(name)?;
                if let Some(info) = next.info.get_mut(id) {
                    info.name = name;
                }
                touch(&mut next, id);
            }
            GroupChange::Move { id, parent } => {
                exists(id)?;
                actor.may_move(&self.tree, id, parent.as_deref())?;
                next.tree = next.tree.move_to(id, parent.as_deref())?;
                touch(&mut next, id);
            }
            GroupChange::Edit { id, name, parent } => {
                if let Some(name) = name {
                    let rename = GroupChange::Rename {
                        id: id.clone(),
                        name: name.clone(),
                    };
                    next = next.apply(actor, &rename, now)?;
                }
                if let Some(parent) = parent {
                    let to = GroupChange::Move {
                        id: id.clone(),
                        parent: parent.clone(),
                    };
                    next = next.apply(actor, &to, now)?;
                }
                exists(id)?;
            }
            GroupChange::Delete { id } => {
                exists(id)?;
                actor.may_delete(&self.tree, id)?;
                let node = self.tree.nodes[id].clone();
                next.tree = next.tree.remove(id)?;
                if let Some(info) = next.info.remove(id) {
                    next.deleted.insert(
                        id.clone(),
                        Deleted {
                            node,
                            info,
                            deleted_at: now,
                        },
                    );
                }
            }
            GroupChange::Restore { id } => {
                let gone = next
                    .deleted
                    .remove(id)
                    .ok_or_else(|| Error::not_found("deleted group"))?;
                // Restoring is creating it again where it was.
                actor.may_create(
                    &self.tree,
                    gone.node.parent.as_deref().filter(|p| self.tree.nodes.contains_key(*p)),
                )?;
                next.tree = next.tree.restore(id, gone.node);
                next.info.insert(
                    id.clone(),
                    GroupInfo {
                        updated_at: now,
                        ..gone.info
                    },
                );
            }
            GroupChange::Roles { id, roles } => {
                exists(id)?;
                actor.may_manage(&self.tree, id)?;
                if let Some(node) = next.tree.nodes.get_mut(id) {
                    node.roles = roles.clone();
                }
                touch(&mut next, id);
            }
            GroupChange::Quotas { id, quotas } => {
                exists(id)?;
                actor.may_manage(&self.tree, id)?;
                if let Some(node) = next.tree.nodes.get_mut(id) {
                    node.quotas = quotas.clone();
                }
                touch(&mut next, id);
            }
        }
        Ok(next)
    }

    /// `id`'s children, by name.
    pub fn children(&self, id: &str) -> Vec<String> {
        let mut kids: Vec<&String> = self
            .tree
            .nodes
            .iter()
            .filter(|(_, n)| n.parent.as_deref() == Some(id))
            .map(|(k, _)| k)
            .collect();
        kids.sort_by_key(|k| (self.info.get(*k).map(|i| i.name.clone()), (*k).clone()));
        kids.into_iter().cloned().collect()
    }
}

#[cfg(test)]
#[path = "groups_tests.rs"]
mod tests;
