//! Keeps a node's index true to the products it owns: every product write
//! on this node is reindexed within a fraction of a second; shards that
//! arrive are indexed from storage and shards that leave are dropped (this
//! is also the build at start-up); a changed tag tree reindexes the
//! products whose tag names or ancestry changed.

use super::index::NodeIndex;
use crate::catalog::Catalog;
use crate::catalog::model::TagTree;
use crate::error::Result;
use crate::runtime::{Change, Router, ShardId, Storage};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// How often changes become searchable.
pub const COMMIT_EVERY: Duration = Duration::from_millis(200);
const SCAN_CHUNK: usize = 1000;

/// What the indexer knows of the products it indexed.
#[derive(Default)]
struct Indexed {
    shards: BTreeSet<ShardId>,
    /// Product id → its shard and direct tags.
    products: HashMap<String, (ShardId, Vec<String>)>,
}

struct Work {
    index: Arc<NodeIndex>,
    storage: Storage,
    tree: TagTree,
    state: Indexed,
}

/// The running indexer.
pub struct Indexer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Indexer {
    /// Stops after the step in progress; returns once nothing of the indexer
    /// (its storage handle included) is left.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

pub fn spawn(router: Router, index: Arc<NodeIndex>) -> Indexer {
    let changes = router.storage().watch(Catalog::PRODUCT_KIND);
    let work = Work {
        index,
        storage: router.storage().clone(),
        tree: TagTree::default(),
        state: Indexed::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run(router, work, changes, stopped));
    Indexer { stop, task }
}

async fn run(
    router: Router,
    mut work: Work,
    mut changes: UnboundedReceiver<Change>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let mut tick = tokio::time::interval(COMMIT_EVERY);
    let mut pending: HashSet<Change> = HashSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            change = changes.recv() => match change {
                Some(c) => { pending.insert(c); }
                // The storage is gone: the node is stopping.
                None => return,
            },
            _ = tick.tick() => {
                // A cheap ask: the tree answers with nothing while it is at
                // the revision the indexer knows.
                let fresh_tree = Catalog::tag_tree_after(&router, work.tree.revision, Duration::from_secs(2)).await;
                let owned: BTreeSet<ShardId> = (0..router.shard_count()).filter(|s| router.owns(*s)).collect();
                let batch = std::mem::take(&mut pending);
                let step = tokio::task::spawn_blocking(move || {
                    let outcome = work.step(fresh_tree, owned, batch);
                    (work, outcome)
                });
                match step.await {
                    Ok((w, outcome)) => {
                        work = w;
                        if let Err(e) = outcome {
                            tracing::warn!(error = %e, "search index: a step failed; retrying at the next tick");
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "search indexer stopped");
                        return;
                    }
                }
            }
        }
    }
}

impl Work {
    fn step(&mut self, fresh_tree: Option<TagTree>, owned: BTreeSet<ShardId>, batch: HashSet<Change>) -> Result<()> {
        let mut dirty = false;
        if let Some(tree) = fresh_tree {
            dirty |= self.adopt_tree(tree)?;
        }
        let leaving: Vec<ShardId> = self.state.shards.difference(&owned).copied().collect();
        for shard in leaving {
            self.index.remove_shard(shard)?;
            self.state.products.retain(|_, (s, _)| *s != shard);
            self.state.shards.remove(&shard);
            dirty = true;
        }
        let arriving: Vec<ShardId> = owned.difference(&self.state.shards).copied().collect();
        if !arriving.is_empty() {
            let started = Instant::now();
            let mut count = 0;
            for &shard in &arriving {
                count += self.index_shard(shard)?;
                self.state.shards.insert(shard);
            }
            tracing::info!(
                products = count,
                shards = arriving.len(),
                ms = started.elapsed().as_millis() as u64,
                "search: indexed arriving shards"
            );
            dirty = true;
        }
        for (shard, key) in batch {
            if self.state.shards.contains(&shard) {
                self.reindex(shard, &key)?;
                dirty = true;
            }
        }
        if dirty {
            self.index.commit()?;
        }
        Ok(())
    }

    fn index_shard(&mut self, shard: ShardId) -> Result<usize> {
        let mut after: Option<String> = None;
        let mut count = 0;
        loop {
            let rows = self
                .storage
                .scan(shard, Catalog::PRODUCT_KIND, after.as_deref(), SCAN_CHUNK)?;
            let Some((last, _)) = rows.last() else {
                return Ok(count);
            };
            after = Some(last.clone());
            for (key, envelope) in rows {
                let product = Catalog::product_with_listings(&self.storage, shard, envelope)?;
                self.index.upsert(&product, &self.tree, shard)?;
                self.remember(&key, shard, &product);
                count += 1;
            }
        }
    }

    fn remember(&mut self, key: &str, shard: ShardId, product: &crate::catalog::products::Product) {
        if product.readable_by(None) {
            let tags = product.current().tag_ids.clone();
            self.state.products.insert(key.to_string(), (shard, tags));
        } else {
            self.state.products.remove(key);
        }
    }

    fn reindex(&mut self, shard: ShardId, key: &str) -> Result<()> {
        match self.storage.load(shard, Catalog::PRODUCT_KIND, key)? {
            Some(envelope) => {
                let product = Catalog::product_with_listings(&self.storage, shard, envelope)?;
                self.index.upsert(&product, &self.tree, shard)?;
                self.remember(key, shard, &product);
            }
            None => {
                self.index.remove(key)?;
                self.state.products.remove(key);
            }
        }
        Ok(())
    }

    /// Takes a new tag tree; reindexes the products it changes. Returns
    /// whether anything was reindexed.
    fn adopt_tree(&mut self, tree: TagTree) -> Result<bool> {
        let changed = changed_tags(&self.tree, &tree);
        let old = std::mem::replace(&mut self.tree, tree);
        self.index.set_tags(&self.tree);
        let touched: Vec<(String, ShardId)> = self
            .state
            .products
            .iter()
            .filter(|(_, (_, tags))| tags.iter().any(|t| touches(&old, &self.tree, &changed, t)))
            .map(|(id, (shard, _))| (id.clone(), *shard))
            .collect();
        for (id, shard) in &touched {
            self.reindex(*shard, id)?;
        }
        Ok(!touched.is_empty())
    }
}

/// Tags created, deleted, renamed or moved between two trees.
pub fn changed_tags(old: &TagTree, new: &TagTree) -> HashSet<String> {
    let same = |id: &str| match (old.tags.get(id), new.tags.get(id)) {
        (Some(a), Some(b)) => a.name == b.name && a.parent == b.parent,
        _ => false,
    };
    old.tags
        .keys()
        .chain(new.tags.keys())
        .filter(|id| !same(id))
        .cloned()
        .collect()
}

/// Whether a product tagged `tag` is indexed differently under the new tree.
pub fn touches(old: &TagTree, new: &TagTree, changed: &HashSet<String>, tag: &str) -> bool {
    changed.contains(tag)
        || [old, new]
            .iter()
            .any(|tree| tree.tags.contains_key(tag) && tree.ancestors(tag).iter().any(|a| changed.contains(&a.id)))
}
