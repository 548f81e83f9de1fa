//! The catalog's flows, called by the edge.

use super::actor::{AttributeCommand, Attributes, Owners, Products, TAG_TREE, TagCommand, TagReply, TagTrees};
use super::attributes::{AttributeDef, AttributeSpec};
use super::model::{TagNode, TagView};
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::runtime::{Router, RuntimeBuilder};
use std::sync::Arc;

#[derive(Clone)]
pub struct Catalog {
    pub(super) router: Router,
}

impl Catalog {
    /// Registers the catalog's entity kinds with the runtime being built.
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        builder
            .register(Arc::new(TagTrees { clock: clock.clone() }))
            .register(Arc::new(Attributes { clock: clock.clone() }))
            .register(Arc::new(Products { clock }))
            .register(Arc::new(Owners))
    }

    pub fn new(router: Router) -> Self {
        Self { router }
    }

    pub(super) async fn tags(&self, command: TagCommand) -> Result<TagReply> {
        self.router.ask::<TagTrees>(TAG_TREE, command).await
    }

    async fn tag(&self, command: TagCommand) -> Result<TagView> {
        match self.tags(command).await? {
            TagReply::Tag(view) => Ok(view),
            _ => Err(Error::internal("unexpected reply from the tag tree")),
        }
    }

    pub async fn create_tag(&self, name: &str, parent: Option<String>) -> Result<TagView> {
        let id = ulid::Ulid::new().to_string();
        self.tag(TagCommand::Create {
            id,
            name: name.to_string(),
            parent,
        })
        .await
    }

    pub async fn update_tag(&self, id: &str, name: Option<String>, parent: Option<Option<String>>) -> Result<TagView> {
        self.tag(TagCommand::Update {
            id: id.to_string(),
            name,
            parent,
        })
        .await
    }

    pub async fn delete_tag(&self, id: &str) -> Result<()> {
        self.tags(TagCommand::Delete { id: id.to_string() }).await.map(|_| ())
    }

    pub async fn view_tag(&self, id: &str, depth: usize) -> Result<TagView> {
        self.tag(TagCommand::View {
            id: id.to_string(),
            depth,
        })
        .await
    }

    pub async fn root_tags(&self, depth: usize) -> Result<Vec<TagNode>> {
        match self.tags(TagCommand::Roots { depth }).await? {
            TagReply::Roots(roots) => Ok(roots),
            _ => Err(Error::internal("unexpected reply from the tag tree")),
        }
    }

    pub async fn create_attribute(&self, spec: AttributeSpec) -> Result<AttributeDef> {
        let id = ulid::Ulid::new().to_string();
        self.router.ask::<Attributes>(&id, AttributeCommand::Create(spec)).await
    }

    pub async fn attribute(&self, id: &str) -> Result<AttributeDef> {
        self.router.ask::<Attributes>(id, AttributeCommand::Get).await
    }

    pub async fn update_attribute(&self, id: &str, spec: AttributeSpec) -> Result<AttributeDef> {
        self.router.ask::<Attributes>(id, AttributeCommand::Update(spec)).await
    }

    pub async fn delete_attribute(&self, id: &str) -> Result<()> {
        self.router
            .ask::<Attributes>(id, AttributeCommand::Delete)
            .await
            .map(|_| ())
    }

    /// Attributes whose name contains `q` (case-insensitive), by name, at
    /// most `limit`. Definitions are few; the listing reads them all.
    pub async fn find_attributes(&self, q: Option<&str>, limit: usize) -> Result<Vec<AttributeDef>> {
        let q = q.map(str::to_lowercase).unwrap_or_default();
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.router.scan::<Attributes>(cursor.as_ref(), 500).await?;
            found.extend(
                page.items
                    .into_iter()
                    .map(|(_, def)| def)
                    .filter(|d| d.name.to_lowercase().contains(&q)),
            );
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        found.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        found.truncate(limit);
        Ok(found)
    }
}
