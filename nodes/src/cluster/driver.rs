//! The leader's part of a membership change (see `changes.rs`): it makes
//! the Raft membership follow the members and takes every shard move
//! through its steps, committing each, then commits the end of the change.

use super::ClusterCtx;
use super::changes::STEP_DEADLINE;
use super::gateway;
use super::meta::{Command, Meta, Move, Step};
use super::raft::node::MetaNode;
use super::wire::{Request, Response};
use actors::runtime::ShardId;
use actors::{Error, Result};
use futures::StreamExt;
use openraft::{BasicNode, ChangeMembers};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Weak;
use std::time::Duration;

/// Shard moves driven at once.
const PARALLEL_MOVES: usize = 4;

impl ClusterCtx {
    /// Leader: makes the Raft membership follow the members: new members
    /// learn the log, the voters are the members marked so, those who left
    /// are removed.
    async fn reconcile_raft(&self, node: &MetaNode, meta: &Meta) -> Result<()> {
        let raft_error = |e: String| Error::unavailable("raft_membership", e, 1);
        let membership = node.raft.metrics().borrow().membership_config.membership().clone();
        let known: BTreeSet<u64> = membership.nodes().map(|(id, _)| *id).collect();
        for m in meta.members.values().filter(|m| !known.contains(&m.id)) {
            tracing::info!(member = %m.name, "adding a member to the metadata raft");
            let added = node.raft.add_learner(m.id, BasicNode::new(&m.name), true);
            match tokio::time::timeout(Duration::from_secs(10), added).await {
                Ok(outcome) => {
                    outcome.map_err(|e| raft_error(e.to_string()))?;
                }
                Err(_) => return Err(raft_error(format!("{} does not catch up with the log", m.name))),
            }
        }
        let voters: BTreeSet<u64> = meta.voters().map(|m| m.id).collect();
        let raft_voters: BTreeSet<u64> = membership.voter_ids().collect();
        if !voters.is_empty() && voters != raft_voters {
            tracing::info!(?voters, "changing the metadata raft's voters");
            node.raft
                .change_membership(ChangeMembers::ReplaceAllVoters(voters), false)
                .await
                .map_err(|e| raft_error(e.to_string()))?;
        }
        let members: BTreeSet<u64> = meta.members.values().map(|m| m.id).collect();
        let membership = node.raft.metrics().borrow().membership_config.membership().clone();
        let gone: BTreeSet<u64> = membership.learner_ids().filter(|id| !members.contains(id)).collect();
        if !gone.is_empty() {
            tracing::info!(?gone, "removing nodes that left from the metadata raft");
            node.raft
                .change_membership(ChangeMembers::RemoveNodes(gone), false)
                .await
                .map_err(|e| raft_error(e.to_string()))?;
        }
        Ok(())
    }

    /// Leader: one pass over the change in progress.
    async fn drive_once(&self) -> Result<()> {
        let node = self.meta_node()?.clone();
        let meta = node.shared.get();
        if !meta.founded() {
            return Ok(());
        }
        self.reconcile_raft(&node, &meta).await?;
        let Some(change) = meta.change else {
            return Ok(());
        };
        let pending: BTreeMap<ShardId, Move> = change
            .moves
            .iter()
            .filter(|(_, m)| m.step < Step::Released)
            .map(|(s, m)| (*s, m.clone()))
            .collect();
        if pending.is_empty() {
            self.submit(Command::Finish { change: change.id }).await?;
            tracing::info!(change = %change.describe(), "membership change complete");
            return Ok(());
        }
        let outcomes: Vec<Result<()>> = futures::stream::iter(pending)
            .map(|(shard, moving)| self.drive_move(change.id, shard, moving))
            .buffer_unordered(PARALLEL_MOVES)
            .collect()
            .await;
        outcomes.into_iter().collect()
    }

    /// Leader: takes one move through its remaining steps.
    async fn drive_move(&self, change: u64, shard: ShardId, mut moving: Move) -> Result<()> {
        if moving.step == Step::Planned {
            tokio::time::sleep(self.move_pause).await;
        }
        while let Some(step) = moving.step.next() {
            match step {
                Step::Frozen => {
                    // Freeze only what can be copied now.
                    for node in [&moving.from, &moving.to] {
                        if *node != self.me.name && !self.membership.is_up(node) {
                            return Err(Error::unavailable(
                                "node_unreachable",
                                format!("{node} is not up: shard {shard} waits"),
                                2,
                            ));
                        }
                    }
                    self.ask_source(change, shard, &moving, step).await?
                }
                Step::Copied | Step::Released => self.ask_source(change, shard, &moving, step).await?,
                Step::Planned | Step::Switched => {}
            }
            self.submit(Command::Advance { change, shard, step }).await?;
            moving.step = step;
        }
        Ok(())
    }

    async fn ask_source(&self, change: u64, shard: ShardId, moving: &Move, step: Step) -> Result<()> {
        if moving.from == self.me.name {
            return self.move_step(change, shard, &moving.to, step).await;
        }
        let request = Request::MoveStep {
            change,
            shard,
            to: moving.to.clone(),
            step,
        };
        match gateway::call(&moving.from, &request, STEP_DEADLINE).await {
            Some(Ok(Response::Done)) => Ok(()),
            Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
            Some(Ok(other)) => Err(Error::internal(format!(
                "unexpected answer from {}: {other:?}",
                moving.from
            ))),
            None => Err(Error::unavailable(
                "node_unreachable",
                format!("{} is not reachable", moving.from),
                2,
            )),
        }
    }
}

/// Every node: while it leads the metadata Raft, drives the change in
/// progress (see the module documentation).
pub async fn drive(ctx: Weak<ClusterCtx>) {
    let Some(mut applied) = ctx.upgrade().and_then(|c| c.meta.get().map(|m| m.shared.subscribe())) else {
        return;
    };
    loop {
        let _ = tokio::time::timeout(Duration::from_millis(500), applied.changed()).await;
        let Some(ctx) = ctx.upgrade() else { return };
        if !ctx.meta.get().is_some_and(|m| m.leads()) {
            continue;
        }
        if let Err(error) = ctx.drive_once().await {
            tracing::warn!(%error, "membership change: a step failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
