//! The catalog's flows, called by the edge.

use super::actor::{TAG_TREE, TagCommand, TagReply, TagTrees};
use super::model::{TagNode, TagView};
use crate::error::{Error, Result};
use crate::ports::Clock;
use crate::runtime::{Router, RuntimeBuilder};
use std::sync::Arc;

#[derive(Clone)]
pub struct Catalog {
    router: Router,
}

impl Catalog {
    /// Registers the catalog's entity kinds with the runtime being built.
    pub fn register_entities(builder: RuntimeBuilder, clock: Arc<dyn Clock>) -> RuntimeBuilder {
        builder.register(Arc::new(TagTrees { clock }))
    }

    pub fn new(router: Router) -> Self {
        Self { router }
    }

    async fn tags(&self, command: TagCommand) -> Result<TagReply> {
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
}
