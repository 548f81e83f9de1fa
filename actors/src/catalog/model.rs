//! Catalog rules. Tags form trees: every tag has at most one parent, ids never
//! change, a tag can move (with its whole subtree) anywhere except under
//! itself or one of its descendants, and deleting a tag moves its children up
//! to its parent. Pure: callers pass ids and times.

use crate::error::{Error, FieldErrors, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::ports::Millis;

pub const TAG_NAME_MAX: usize = 64;
/// Most tags in the catalog's tree (one entity holds them all).
pub const MAX_TAGS: usize = 20_000;
/// Deepest a tag may sit (a root is at depth 1).
pub const MAX_DEPTH: usize = 16;
/// Deepest `descendants_depth` a view may ask for.
pub const MAX_VIEW_DEPTH: usize = MAX_DEPTH;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    pub created_at: Millis,
}

/// The whole tag forest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagTree {
    pub tags: BTreeMap<String, Tag>,
    /// Counts changes, so copies elsewhere (search) can tell theirs is stale.
    pub revision: u64,
}

/// The tree as schema version 1 stored it (before `revision`).
#[derive(Deserialize)]
pub struct TagTreeV1 {
    pub tags: BTreeMap<String, Tag>,
}

impl From<TagTreeV1> for TagTree {
    fn from(old: TagTreeV1) -> Self {
        Self {
            tags: old.tags,
            revision: 1,
        }
    }
}

/// A tag named with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRef {
    pub id: String,
    pub name: String,
}

/// A tag with its subtree down to some depth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagNode {
    pub id: String,
    pub name: String,
    pub children: Vec<TagNode>,
}

/// One tag as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagView {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// From the root down to the parent.
    pub ancestors: Vec<TagRef>,
    pub children: Vec<TagNode>,
}

pub fn tag_name(raw: &str) -> std::result::Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > TAG_NAME_MAX {
        return Err(format!("must be 1 to {TAG_NAME_MAX} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_string())
}

fn unknown_tag() -> Error {
    Error::not_found("tag")
}

impl TagTree {
    pub fn get(&self, id: &str) -> Result<&Tag> {
        self.tags.get(id).ok_or_else(unknown_tag)
    }

    /// Tags whose parent is `parent` (`None`: the roots), by name.
    pub fn children_of(&self, parent: Option<&str>) -> Vec<&Tag> {
        let mut children: Vec<&Tag> = self.tags.values().filter(|t| t.parent.as_deref() == parent).collect();
        children.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        children
    }

    /// From the root down to the tag's parent.
    pub fn ancestors(&self, id: &str) -> Vec<&Tag> {
        let mut chain = Vec::new();
        let mut next = self.tags.get(id).and_then(|t| t.parent.as_deref());
        while let Some(parent) = next.and_then(|p| self.tags.get(p)) {
            chain.push(parent);
            next = parent.parent.as_deref();
        }
        chain.reverse();
        chain
    }

    /// The tag and every tag below it.
    pub fn subtree(&self, id: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut pending = vec![id.to_string()];
        while let Some(next) = pending.pop() {
            if found.insert(next.clone()) {
                pending.extend(self.children_of(Some(&next)).into_iter().map(|t| t.id.clone()));
            }
        }
        found
    }

    fn depth_below(&self, id: &str) -> usize {
        self.children_of(Some(id))
            .into_iter()
            .map(|c| 1 + self.depth_below(&c.id))
            .max()
            .unwrap_or(0)
    }

    fn check_sibling_name(&self, parent: Option<&str>, name: &str, except: Option<&str>) -> Result<()> {
        let clash = self
            .children_of(parent)
            .into_iter()
            .any(|t| Some(t.id.as_str()) != except && t.name.to_lowercase() == name.to_lowercase());
        if clash {
            Err(Error::conflict(
                "tag_exists",
                "a tag with this name already exists there",
            ))
        } else {
            Ok(())
        }
    }

    fn check_parent(&self, parent: Option<&str>) -> Result<()> {
        match parent {
            Some(p) if !self.tags.contains_key(p) => Err(Error::invalid("parent_id", "no tag has this id")),
            _ => Ok(()),
        }
    }

    pub fn create(&self, id: String, name: &str, parent: Option<String>, now: Millis) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", tag_name(name));
        errors.into_result()?;
        let name = name.unwrap_or_default();
        self.check_parent(parent.as_deref())?;
        if self.tags.len() >= MAX_TAGS {
            return Err(Error::conflict(
                "too_many_tags",
                format!("the catalog holds at most {MAX_TAGS} tags"),
            ));
        }
        if let Some(p) = &parent
            && self.ancestors(p).len() + 2 > MAX_DEPTH
        {
            return Err(Error::invalid(
                "parent_id",
                format!("tags nest at most {MAX_DEPTH} deep"),
            ));
        }
        self.check_sibling_name(parent.as_deref(), &name, None)?;
        let mut next = self.clone();
        next.revision += 1;
        next.tags.insert(
            id.clone(),
            Tag {
                id,
                name,
                parent,
                created_at: now,
            },
        );
        Ok(next)
    }

    /// Renames and/or moves a tag with its subtree. `parent: Some(None)`
    /// makes it a root.
    pub fn update(&self, id: &str, name: Option<&str>, parent: Option<Option<String>>) -> Result<Self> {
        let tag = self.get(id)?.clone();
        let mut errors = FieldErrors::new();
        let name = match name {
            Some(n) => errors.check("name", tag_name(n)),
            None => Some(tag.name.clone()),
        };
        errors.into_result()?;
        let name = name.unwrap_or_default();
        let parent = parent.unwrap_or(tag.parent.clone());
        if let Some(p) = &parent {
            self.check_parent(Some(p))?;
            if self.subtree(id).contains(p) {
                return Err(Error::invalid(
                    "parent_id",
                    "a tag cannot move under itself or its own descendants",
                ));
            }
            if self.ancestors(p).len() + 2 + self.depth_below(id) > MAX_DEPTH {
                return Err(Error::invalid(
                    "parent_id",
                    format!("tags nest at most {MAX_DEPTH} deep"),
                ));
            }
        }
        self.check_sibling_name(parent.as_deref(), &name, Some(id))?;
        let mut next = self.clone();
        next.revision += 1;
        next.tags.insert(id.to_string(), Tag { name, parent, ..tag });
        Ok(next)
    }

    /// Deletes a tag; its children move up to its parent.
    pub fn delete(&self, id: &str) -> Result<Self> {
        let tag = self.get(id)?.clone();
        let mut next = self.clone();
        next.revision += 1;
        next.tags.remove(id);
        for child in next.tags.values_mut().filter(|t| t.parent.as_deref() == Some(id)) {
            child.parent = tag.parent.clone();
        }
        // Children moving up may now share a name with a sibling there: the
        // move wins over tidiness, names stay as they are (ids are stable).
        Ok(next)
    }

    fn node(&self, tag: &Tag, depth: usize) -> TagNode {
        TagNode {
            id: tag.id.clone(),
            name: tag.name.clone(),
            children: if depth == 0 {
                Vec::new()
            } else {
                self.children_of(Some(&tag.id))
                    .into_iter()
                    .map(|c| self.node(c, depth - 1))
                    .collect()
            },
        }
    }

    /// The tag, its ancestors, and its descendants `depth` levels down
    /// (1: its children).
    pub fn view(&self, id: &str, depth: usize) -> Result<TagView> {
        let tag = self.get(id)?;
        let depth = depth.clamp(1, MAX_VIEW_DEPTH);
        Ok(TagView {
            id: tag.id.clone(),
            name: tag.name.clone(),
            parent_id: tag.parent.clone(),
            ancestors: self
                .ancestors(id)
                .into_iter()
                .map(|t| TagRef {
                    id: t.id.clone(),
                    name: t.name.clone(),
                })
                .collect(),
            children: self.node(tag, depth).children,
        })
    }

    /// The roots, each with its subtree `depth` levels down (0: none).
    pub fn roots(&self, depth: usize) -> Vec<TagNode> {
        self.children_of(None)
            .into_iter()
            .map(|t| self.node(t, depth.min(MAX_VIEW_DEPTH)))
            .collect()
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
