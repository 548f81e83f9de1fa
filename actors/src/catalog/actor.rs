//! The catalog's entities. The whole tag tree is one entity, so moves and
//! cycle checks are decided by one single-threaded owner.

use super::attributes::{AttributeDef, AttributeSpec};
use super::model::{TagNode, TagTree, TagView};
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::runtime::{Effect, Entity, Outcome};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The key of the catalog's one tag tree.
pub const TAG_TREE: &str = "catalog";

pub struct TagTrees {
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TagCommand {
    Create {
        id: String,
        name: String,
        parent: Option<String>,
    },
    /// `parent: Some(None)` makes the tag a root.
    Update {
        id: String,
        name: Option<String>,
        parent: Option<Option<String>>,
    },
    Delete {
        id: String,
    },
    View {
        id: String,
        depth: usize,
    },
    Roots {
        depth: usize,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum TagReply {
    Tag(TagView),
    Roots(Vec<TagNode>),
    Deleted,
}

impl Entity for TagTrees {
    const KIND: &'static str = "tag_tree";
    type State = TagTree;
    type Command = TagCommand;
    type Reply = TagReply;

    async fn handle(
        &self,
        _key: &str,
        state: Option<&TagTree>,
        command: TagCommand,
    ) -> Result<Outcome<TagTree, TagReply>> {
        let empty = TagTree::default();
        let tree = state.unwrap_or(&empty);
        let changed = |next: TagTree, id: &str| -> Result<Outcome<TagTree, TagReply>> {
            let view = next.view(id, 1)?;
            Ok(Outcome::write(next, TagReply::Tag(view)))
        };
        match command {
            TagCommand::Create { id, name, parent } => {
                let next = tree.create(id.clone(), &name, parent, self.clock.now())?;
                changed(next, &id)
            }
            TagCommand::Update { id, name, parent } => changed(tree.update(&id, name.as_deref(), parent)?, &id),
            TagCommand::Delete { id } => Ok(Outcome::write(tree.delete(&id)?, TagReply::Deleted)),
            TagCommand::View { id, depth } => Ok(Outcome::read(TagReply::Tag(tree.view(&id, depth)?))),
            TagCommand::Roots { depth } => Ok(Outcome::read(TagReply::Roots(tree.roots(depth)))),
        }
    }
}

/// One entity per attribute definition, keyed by its id.
pub struct Attributes {
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AttributeCommand {
    Create(AttributeSpec),
    Update(AttributeSpec),
    Delete,
    Get,
    /// A product starts (`uses: true`) or stops using this attribute.
    /// Idempotent per product.
    Use {
        product: String,
        uses: bool,
    },
}

impl Entity for Attributes {
    const KIND: &'static str = "attribute";
    type State = AttributeDef;
    type Command = AttributeCommand;
    type Reply = AttributeDef;

    async fn handle(
        &self,
        key: &str,
        state: Option<&AttributeDef>,
        command: AttributeCommand,
    ) -> Result<Outcome<AttributeDef, AttributeDef>> {
        let write = |def: AttributeDef| Ok(Outcome::write(def.clone(), def));
        match (command, state) {
            (AttributeCommand::Create(spec), None) => {
                write(AttributeDef::create(key.to_string(), &spec, self.clock.now())?)
            }
            (AttributeCommand::Create(_), Some(_)) => {
                Err(Error::conflict("attribute_exists", "an attribute with this id exists"))
            }
            (_, None) => Err(Error::not_found("attribute")),
            (AttributeCommand::Update(spec), Some(def)) => write(def.update(&spec)?),
            (AttributeCommand::Delete, Some(def)) => {
                def.check_deletable()?;
                Ok(Outcome {
                    reply: Ok(def.clone()),
                    effect: Effect::Delete,
                })
            }
            (AttributeCommand::Get, Some(def)) => Ok(Outcome::read(def.clone())),
            (AttributeCommand::Use { product, uses }, Some(def)) => write(def.with_user(&product, uses)),
        }
    }
}
