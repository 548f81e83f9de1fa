//! The port through which products name media. The media domain
//! implements it; the catalog only learns which ids a product's owner may
//! not name (and why), and how to show the ones it names.

use crate::error::Result;
use futures::future::BoxFuture;
use std::collections::BTreeMap;

/// An asset as a product view shows it: where its content and each
/// variant are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownMedia {
    pub id: String,
    pub content_type: String,
    pub content_url: String,
    /// `(name, url, width, height)`.
    pub variants: Vec<(String, String, u32, u32)>,
}

pub trait ProductMedia: Send + Sync {
    /// The ids among `ids` that `owner` may not name on a product, each
    /// with the reason: only public assets the owner may view.
    fn refusals(&self, owner: String, ids: Vec<String>) -> BoxFuture<'static, Result<BTreeMap<String, String>>>;

    /// The assets of `ids` anyone may see, in that order (others are left
    /// out: deleted, or made private since).
    fn shown(&self, ids: Vec<String>) -> BoxFuture<'static, Result<Vec<ShownMedia>>>;
}

/// For a catalog without media (tests of the catalog alone): no asset
/// exists, so none may be named.
pub struct NoMedia;

impl ProductMedia for NoMedia {
    fn refusals(&self, _owner: String, ids: Vec<String>) -> BoxFuture<'static, Result<BTreeMap<String, String>>> {
        Box::pin(async move { Ok(ids.into_iter().map(|id| (id, "no such media".to_string())).collect()) })
    }

    fn shown(&self, _ids: Vec<String>) -> BoxFuture<'static, Result<Vec<ShownMedia>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
