//! Membership changes on the metadata Raft.
//!
//! A join or a leave is one command written through the Raft leader
//! (whichever node received it passes it on); the replicated state
//! (`meta`) decides it the same way everywhere, so only one change can be
//! in progress. Then:
//!
//! - the **leader drives** the change (`driver.rs`): it makes the Raft
//!   membership follow the members (joiners learn the log; the first five
//!   vote), and takes every shard move through its steps, committing each
//!   one (frozen → copied → switched → released, see `handoff`) and, once
//!   all are released, the end of the change. A new leader resumes from the
//!   committed steps; a step whose node does not answer is retried;
//! - **every node follows** the applied state ([`follow`]): it adopts the
//!   table of each new epoch (routing follows at once), keeps shards frozen
//!   for a move until it is switched or aborted, and a node that left
//!   stops.
//!
//! An operator gives up a change with `node cluster abort`: every move not
//! yet switched is dropped and its shard served again by its source, data
//! intact.

use super::ClusterCtx;
use super::gateway;
use super::meta::{Applied, ChangeKind, Command, MemberInfo, Meta, PublicKey, Step};
use super::raft::node::MetaNode;
use super::table::ShardTable;
use super::wire::{Request, Response};
use actors::runtime::ShardId;
use actors::{Error, Result};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How long one step of a move may take on its node.
pub(super) const STEP_DEADLINE: Duration = Duration::from_secs(120);

fn not_formed() -> Error {
    Error::unavailable("raft_starting", "this node's metadata raft is starting", 1)
}

impl ClusterCtx {
    pub(super) fn meta_node(&self) -> Result<&Arc<MetaNode>> {
        self.meta.get().ok_or_else(not_formed)
    }

    pub(super) fn applied(&self) -> Result<Meta> {
        Ok(self.meta_node()?.shared.get())
    }

    /// Writes `command` through the Raft leader, wherever it is; retried
    /// for up to 30 s while there is no leader or it cannot be reached.
    pub async fn submit(&self, command: Command) -> Result<Applied> {
        let give_up = Instant::now() + Duration::from_secs(30);
        loop {
            let node = self.meta_node()?;
            let outcome = match node.leader_name() {
                Some(leader) if leader != self.me.name => {
                    match gateway::call(&leader, &Request::Meta(command.clone()), Duration::from_secs(10)).await {
                        Some(Ok(Response::Applied(applied))) => Ok(applied),
                        Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
                        Some(Ok(other)) => Err(Error::internal(format!("unexpected answer from {leader}: {other:?}"))),
                        None => Err(Error::unavailable(
                            "not_the_leader",
                            format!("{leader} is not reachable"),
                            1,
                        )),
                    }
                }
                _ => node.write(command.clone()).await,
            };
            match outcome {
                Err(Error::Unavailable { .. }) if Instant::now() < give_up => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// This node as the replicated state records members.
    fn me_as_member(&self) -> Result<MemberInfo> {
        Ok(MemberInfo {
            id: self.meta_node()?.id,
            name: self.me.name.clone(),
            cluster_addr: self.me.cluster_addr,
            http_addr: self.me.http_addr,
            voter: false,
        })
    }

    /// Asks the members of `table` to admit this node, then waits until
    /// every shard it wins has moved to it.
    pub async fn join(&self, table: &ShardTable) -> Result<()> {
        // The members do not know this node yet, so it dials them.
        self.membership.set_dial_all(true);
        let command = Command::Join {
            member: self.me_as_member()?,
            cluster: self.cluster_name.clone(),
            shards: self.storage.shard_count(),
        };
        let mut last = Error::unavailable("node_unreachable", "no member answered", 2);
        for member in &table.members {
            let request = Request::Meta(command.clone());
            match gateway::call(&member.name, &request, Duration::from_secs(40)).await {
                Some(Ok(Response::Applied(applied))) => {
                    let change = applied.change();
                    tracing::info!(change, "joining the cluster");
                    let joined = self.await_join(change).await;
                    self.membership.set_dial_all(false);
                    return joined;
                }
                Some(Ok(Response::Failed(e))) | Some(Err(e)) if matches!(e, Error::Conflict { .. }) => return Err(e),
                Some(Ok(Response::Failed(e))) | Some(Err(e)) => last = e,
                _ => {}
            }
        }
        Err(last)
    }

    /// A joiner that restarted during its join waits for it again.
    pub async fn join_resumed(&self, change: u64) -> Result<()> {
        tracing::info!(change, "resuming this node's join");
        self.await_join(change).await
    }

    /// Waits until this node's join (`change`) is over: the table where it
    /// owns its shards is adopted, or the join was aborted.
    async fn await_join(&self, change: u64) -> Result<()> {
        let id = self.meta_node()?.id;
        let mut reported = Instant::now();
        let over = self
            .wait_applied(
                None,
                |meta| {
                    let joining = meta
                        .change
                        .as_ref()
                        .is_some_and(|c| c.kind == ChangeKind::Join(self.me.name.clone()));
                    let member = meta.members.get(&self.me.name).is_some_and(|m| m.id == id);
                    if member && !joining {
                        return Some(Ok(meta.clone()));
                    }
                    if !member && !joining && meta.last_change >= change && meta.founded() {
                        return Some(Err(Error::internal(format!(
                            "the join of {} was aborted (node cluster abort): start it again to join anew",
                            self.me.name
                        ))));
                    }
                    if reported.elapsed() > Duration::from_secs(5) {
                        reported = Instant::now();
                        let progress = meta.change.as_ref().map(|c| c.describe());
                        tracing::info!(
                            progress = progress.as_deref().unwrap_or("waiting for the cluster's log"),
                            "joining"
                        );
                    }
                    None
                },
                "the join",
            )
            .await??;
        self.catch_up(&over).await
    }

    /// Hands every shard of this node to the others, then leaves the
    /// cluster (and the metadata Raft).
    pub async fn leave(&self) -> Result<()> {
        let node = self.meta_node()?.clone();
        if !node.shared.read().members.contains_key(&self.me.name) {
            return Ok(());
        }
        let change = self
            .submit(Command::Leave {
                name: self.me.name.clone(),
            })
            .await?
            .change();
        tracing::info!(change, "leaving the cluster");
        self.wait_applied(
            None,
            |meta| {
                if !meta.members.contains_key(&self.me.name) {
                    return Some(Ok(()));
                }
                let leaving = meta
                    .change
                    .as_ref()
                    .is_some_and(|c| c.kind == ChangeKind::Leave(self.me.name.clone()) && !c.aborted);
                (meta.last_change >= change && !leaving).then(|| {
                    Err(Error::conflict(
                        "leave_aborted",
                        format!("the leave of {} was aborted", self.me.name),
                    ))
                })
            },
            "the leave",
        )
        .await??;
        // The others must not need this node's vote once it is gone: the
        // leader takes it out of the Raft membership, and then stops
        // talking to it (it never hears of the last step).
        let give_up = Instant::now() + Duration::from_secs(15);
        while Instant::now() < give_up {
            let metrics = node.raft.metrics().borrow().clone();
            let membership = metrics.membership_config.membership();
            let voter = membership.voter_ids().any(|id| id == node.id);
            if membership.get_node(&node.id).is_none() || metrics.current_leader.is_none() || !voter {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    /// Aborts the change in progress; what it was.
    pub async fn abort_change(&self) -> Result<String> {
        let meta = self.applied()?;
        let change = meta
            .change
            .ok_or_else(|| Error::conflict("no_change", "no membership change is in progress"))?;
        self.submit(Command::Abort { change: change.id }).await?;
        Ok(change.describe())
    }

    /// Source of a move: takes `shard` to `step` (see `handoff`).
    pub async fn move_step(&self, change: u64, shard: ShardId, to: &str, step: Step) -> Result<()> {
        let moving = |meta: &Meta| {
            meta.change
                .as_ref()
                .filter(|c| c.id == change)
                .and_then(|c| c.moves.get(&shard).cloned())
        };
        // This node may not have applied the change yet.
        let node = self.meta_node()?.clone();
        let planned = self.applied_within(|meta| moving(meta), "the change").await?;
        if planned.from != self.me.name || planned.to != to {
            return Err(Error::internal(format!(
                "shard {shard} moves from {} to {}, not from {} to {to}",
                planned.from, planned.to, self.me.name
            )));
        }
        match step {
            Step::Frozen => {
                let staged = self.precopy(shard, to).await?;
                self.staged
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(shard, staged);
                self.freeze_for_move(shard).await
            }
            Step::Copied => {
                let started = Instant::now();
                self.freeze_for_move(shard).await?;
                let staged = self
                    .staged
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&shard)
                    .unwrap_or_default();
                let epoch = node.shared.read().epoch;
                let (records, bytes) = self.stream(shard, to, epoch, &staged).await?;
                let ours = self.storage.shard_digest(shard)?;
                match gateway::call(to, &Request::ShardDigest(shard), STEP_DEADLINE).await {
                    Some(Ok(Response::Digest { records, hash })) if (records, hash) == ours => {}
                    Some(Ok(Response::Digest { records: theirs, .. })) => {
                        return Err(Error::internal(format!(
                            "{to}'s copy of shard {shard} differs from ours ({theirs} of {} records)",
                            ours.0
                        )));
                    }
                    Some(Ok(Response::Failed(e))) | Some(Err(e)) => return Err(e),
                    _ => {
                        return Err(Error::unavailable(
                            "node_unreachable",
                            format!("{to} is not reachable"),
                            2,
                        ));
                    }
                }
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(shard, to, records, bytes, ms, "copied shard");
                Ok(())
            }
            Step::Released => {
                // Done once this node routes the shard to its new owner (and
                // so forgot its copy, see `adopt`).
                let epoch = self
                    .applied_within(|meta| (meta.owner(shard) == to).then_some(meta.epoch), "the switch")
                    .await?;
                if !self.table.wait_for_epoch(epoch, Duration::from_secs(5)).await {
                    return Err(Error::unavailable(
                        "not_applied",
                        "the switch is not adopted here yet",
                        1,
                    ));
                }
                Ok(())
            }
            Step::Planned | Step::Switched => Err(Error::internal(format!("{step:?} is not a step of the source"))),
        }
    }

    /// Waits up to 5 s until the state this node applied gives `found`.
    async fn applied_within<T>(&self, found: impl FnMut(&Meta) -> Option<T>, what: &str) -> Result<T> {
        self.wait_applied(Some(Duration::from_secs(5)), found, what).await
    }

    /// Waits (up to `limit`, if any) until the state this node applied
    /// gives `found`; `found` sees each new state (and one at least every
    /// 500 ms).
    async fn wait_applied<T>(
        &self,
        limit: Option<Duration>,
        mut found: impl FnMut(&Meta) -> Option<T>,
        what: &str,
    ) -> Result<T> {
        let node = self.meta_node()?;
        let mut applied = node.shared.subscribe();
        let started = Instant::now();
        loop {
            if let Some(found) = found(&node.shared.read()) {
                return Ok(found);
            }
            if limit.is_some_and(|limit| started.elapsed() > limit) {
                return Err(Error::unavailable(
                    "not_applied",
                    format!("{} has not applied {what} yet", self.me.name),
                    1,
                ));
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), applied.changed()).await;
        }
    }

    async fn freeze_for_move(&self, shard: ShardId) -> Result<()> {
        self.table.set_moving(shard, true)?;
        self.router.freeze(shard).await?;
        self.storage.flushed().await
    }

    /// Makes this node follow `meta`: adopts its table when newer, and
    /// serves again the shards frozen here whose move was switched (their
    /// waiting commands retry at the new owner) or dropped.
    pub(super) async fn catch_up(&self, meta: &Meta) -> Result<()> {
        if !meta.founded() {
            return Ok(());
        }
        if meta.epoch > self.table.epoch()
            && (meta.members.contains_key(&self.me.name) || self.table.current().is_some())
        {
            self.adopt(ShardTable::from_meta(meta))?;
        }
        for shard in self.table.moving() {
            let moving = meta
                .change
                .as_ref()
                .and_then(|c| c.moves.get(&shard))
                .is_some_and(|m| m.from == self.me.name && m.step < Step::Switched);
            if !moving {
                let moved = meta.owner(shard) != self.me.name;
                self.router.release(shard, moved)?;
                self.table.set_moving(shard, false)?;
                tracing::info!(shard, moved, "shard serves again after its move");
            }
        }
        Ok(())
    }

    /// The metadata Raft as this node sees it.
    pub fn raft_status(&self) -> Option<http_edge::dto::RaftStatusDto> {
        let node = self.meta.get()?;
        let metrics = node.raft.metrics().borrow().clone();
        let meta = node.shared.get();
        let name_of = |id: u64| meta.members.values().find(|m| m.id == id).map(|m| m.name.clone());
        Some(http_edge::dto::RaftStatusDto {
            leader: metrics.current_leader.and_then(name_of),
            term: metrics.current_term,
            applied_index: metrics.last_applied.map(|l| l.index),
            last_log_index: metrics.last_log_index,
            voters: meta.voters().map(|m| m.name.clone()).collect(),
            learners: meta
                .members
                .values()
                .filter(|m| !m.voter)
                .map(|m| m.name.clone())
                .collect(),
            epoch: meta.epoch,
            change: meta.change.as_ref().map(|c| c.describe()),
            key_holders: meta.keys.keys().cloned().collect(),
        })
    }

    /// The moves of the change in progress not released yet.
    pub(super) fn moves_under_way(&self) -> Vec<(ShardId, String)> {
        let Ok(meta) = self.applied() else {
            return Vec::new();
        };
        meta.change
            .iter()
            .flat_map(|c| c.moves.iter())
            .filter(|(_, m)| m.step < Step::Released)
            .map(|(s, m)| (*s, format!("{} → {}: {:?}", m.from, m.to, m.step).to_lowercase()))
            .collect()
    }
}

/// Every node: follows each applied state (see the module documentation);
/// a node that left is told to stop.
pub async fn follow(ctx: Weak<ClusterCtx>) {
    let Some(mut applied) = ctx.upgrade().and_then(|c| c.meta.get().map(|m| m.shared.subscribe())) else {
        return;
    };
    let mut was_member = false;
    loop {
        {
            let Some(ctx) = ctx.upgrade() else { return };
            let Ok(meta) = ctx.applied() else { return };
            if let Err(error) = ctx.catch_up(&meta).await {
                tracing::error!(%error, "cannot follow the cluster's metadata");
            }
            let member = meta.members.contains_key(&ctx.me.name);
            if was_member && !member && meta.founded() {
                tracing::info!("this node is no member of the cluster any more");
            }
            was_member = member;
        }
        if applied.changed().await.is_err() {
            return;
        }
    }
}

/// Every node: keeps its public signing keys in the replicated metadata
/// (checked every 30 s: keys rotate), so that every node verifies its
/// tokens even while it is down, and after it left.
pub async fn publish_keys(ctx: Weak<ClusterCtx>) {
    let mut published;
    loop {
        {
            let Some(ctx) = ctx.upgrade() else { return };
            let Ok(meta) = ctx.applied() else { return };
            let own: Vec<PublicKey> = ctx
                .keys
                .own_public_keys()
                .into_iter()
                .map(|(kid, key)| PublicKey { kid, key: key.to_vec() })
                .collect();
            let led = ctx.meta.get().is_some_and(|m| m.leader_name().is_some());
            published = meta.keys.get(&ctx.me.name) == Some(&own);
            if led && !published && meta.members.contains_key(&ctx.me.name) {
                let command = Command::PublishKeys {
                    node: ctx.me.name.clone(),
                    keys: own,
                };
                match ctx.submit(command).await {
                    Ok(_) => tracing::info!("published this node's public keys"),
                    Err(error) => tracing::warn!(%error, "could not publish this node's public keys"),
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(if published { 30 } else { 1 })).await;
    }
}
