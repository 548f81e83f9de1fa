//! The hand-off of one shard from its source S to its receiver R, as the
//! Raft leader drives it (`changes`):
//!
//! 0. S copies the shard's media blobs (files that never change) to R,
//!    which checks each against its size and sha256 and keeps them aside.
//! 1. S freezes the shard (durably marked, so a restart keeps it frozen):
//!    new commands wait, live entities finish what they have queued and
//!    stop; then S flushes. The leader commits `frozen`.
//! 2. S streams the rest of the shard's media files (uploads, holders, blobs
//!    made since step 0) to R in chunks (≤ 1 MiB); R checks each and
//!    replaces its copy of the shard's files. Then S streams the shard's
//!    records in chunks (≤ 1 MiB, far under the 16 MiB frame limit); R
//!    replaces its copy and flushes; S compares R's digest of the shard
//!    (records and a hash over them) with its own. The leader commits
//!    `copied`, then `switched`: every node adopts the table where R owns
//!    it. S then answers what waited `wrong_owner` (it did not run) so its
//!    callers retry at R — nothing acknowledged is lost, nothing runs twice
//!    — and forgets its copy. The leader commits `released`.
//!
//! Also here: adopting tables, the status, and finding the cluster at
//! start-up.

use super::gateway;
use super::table::{Member, ShardTable};
use super::wire::{ClusterStatus, MemberStatus, Request, Response};
use super::{ClusterCtx, membership::PeerStatus};
use actors::media::files::ShardFile;
use actors::runtime::ShardId;
use actors::{Error, Result};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Records per chunk of a hand-off, in bytes.
const CHUNK_BYTES: usize = 1024 * 1024;
const MOVE_DEADLINE: Duration = Duration::from_secs(120);

fn unreachable_peer(node: &str) -> Error {
    Error::unavailable("node_unreachable", format!("node {node} is not reachable"), 5)
}

/// Runs file work off the async threads.
async fn on_disk<T: Send + 'static>(work: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal(format!("a file task failed: {e}")))?
        .map_err(|e| Error::internal(format!("shard files: {e}")))
}

/// Calls `node` and expects `Done`.
async fn expect_done(node: &str, request: &Request, deadline: Duration) -> Result<()> {
    match gateway::call(node, request, deadline).await {
        Some(Ok(Response::Done)) => Ok(()),
        Some(Ok(Response::Failed(e))) | Some(Err(e)) => Err(e),
        Some(Ok(other)) => Err(Error::internal(format!("unexpected answer from {node}: {other:?}"))),
        None => Err(unreachable_peer(node)),
    }
}

impl ClusterCtx {
    /// Adopts a newer table; forgets the records of shards that moved away.
    pub fn adopt(&self, next: ShardTable) -> Result<()> {
        if next.shard_count() != self.storage.shard_count() {
            return Err(Error::internal(format!(
                "a table of {} shards, but this node has {}: not adopted",
                next.shard_count(),
                self.storage.shard_count()
            )));
        }
        let before = self.table.current();
        if !self.table.adopt(next.clone())? {
            return Ok(());
        }
        self.membership.track(&next.members);
        if let Some(before) = before {
            for shard in 0..next.shard_count() {
                if before.owner(shard) == self.me.name && next.owner(shard) != self.me.name {
                    self.storage.clear_shard(shard)?;
                    self.files
                        .clear(shard)
                        .map_err(|e| Error::internal(format!("shard {shard}'s files: {e}")))?;
                }
            }
        }
        tracing::info!(epoch = next.epoch, shards = ?next.counts(), "adopted shard table");
        Ok(())
    }

    /// Sends `file` of `shard` in chunks (`first`: the transfer starts
    /// afresh with its first chunk; cleared once one was sent).
    async fn send_file(&self, shard: ShardId, to: &str, file: &ShardFile, first: &mut bool) -> Result<()> {
        let mut offset = 0;
        while offset < file.size {
            let (files, path) = (self.files.clone(), file.path.clone());
            let bytes = on_disk(move || files.read_shard_file(shard, &path, offset, CHUNK_BYTES as u64)).await?;
            if bytes.is_empty() {
                return Err(Error::internal(format!("{} shrank while it was sent", file.path)));
            }
            let len = bytes.len() as u64;
            let request = Request::ImportFile {
                shard,
                path: file.path.clone(),
                offset,
                first: *first,
                bytes,
            };
            expect_done(to, &request, MOVE_DEADLINE).await?;
            *first = false;
            offset += len;
        }
        Ok(())
    }

    /// Before the freeze: copies the shard's blobs to `to`, which checks
    /// and keeps them; the paths it keeps.
    pub(super) async fn precopy(&self, shard: ShardId, to: &str) -> Result<BTreeSet<String>> {
        let files = self.files.clone();
        let blobs = on_disk(move || files.export_blobs(shard)).await?;
        if blobs.is_empty() {
            return Ok(BTreeSet::new());
        }
        let mut first = true;
        for file in &blobs {
            self.send_file(shard, to, file, &mut first).await?;
        }
        let staged = blobs.iter().map(|f| f.path.clone()).collect();
        expect_done(to, &Request::StageFiles { shard, manifest: blobs }, MOVE_DEADLINE).await?;
        Ok(staged)
    }

    /// Sends the shard's files not `staged` before (all of them before any
    /// record, so the receiver has them when it starts serving the
    /// shard); how many were sent, and their size in bytes.
    async fn stream_files(&self, shard: ShardId, to: &str, staged: &BTreeSet<String>) -> Result<(usize, u64)> {
        let files = self.files.clone();
        let manifest = on_disk(move || files.export(shard)).await?;
        let mut first = true;
        let (mut count, mut bytes) = (0, 0);
        for file in manifest.iter().filter(|f| !staged.contains(&f.path)) {
            self.send_file(shard, to, file, &mut first).await?;
            count += 1;
            bytes += file.size;
        }
        expect_done(to, &Request::InstallFiles { shard, manifest }, MOVE_DEADLINE).await?;
        Ok((count, bytes))
    }

    /// New owner: bytes of one file of a shard handed to this node.
    pub async fn import_file(
        &self,
        shard: ShardId,
        path: String,
        offset: u64,
        first: bool,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let files = self.files.clone();
        on_disk(move || files.receive(shard, &path, offset, &bytes, first)).await
    }

    /// Future owner, before the freeze: the blobs sent so far are checked
    /// and kept aside.
    pub async fn stage_files(&self, shard: ShardId, manifest: Vec<ShardFile>) -> Result<()> {
        let files = self.files.clone();
        on_disk(move || files.stage(shard, &manifest)).await
    }

    /// New owner: the shard's files arrived; checked, they replace ours.
    pub async fn install_files(&self, shard: ShardId, manifest: Vec<ShardFile>) -> Result<()> {
        let files = self.files.clone();
        on_disk(move || files.install(shard, &manifest)).await
    }

    /// Sends the shard's records; how many, and their size in bytes.
    pub(super) async fn stream(
        &self,
        shard: ShardId,
        to: &str,
        epoch: u64,
        staged: &BTreeSet<String>,
    ) -> Result<(usize, usize)> {
        self.storage.flushed().await?;
        let (files, file_bytes) = self.stream_files(shard, to, staged).await?;
        if files > 0 {
            tracing::info!(shard, to, files, bytes = file_bytes, "handed off the shard's files");
        }
        let chunks = self.storage.export_shard(shard, CHUNK_BYTES)?;
        let count = chunks.len();
        let (mut records_sent, mut bytes_sent) = (0, 0);
        for (i, records) in chunks.into_iter().enumerate() {
            records_sent += records.len();
            bytes_sent += records.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
            let request = Request::Import {
                shard,
                epoch,
                first: i == 0,
                last: i + 1 == count,
                records,
            };
            expect_done(to, &request, MOVE_DEADLINE).await?;
        }
        Ok((records_sent, bytes_sent))
    }

    /// New owner: takes one chunk of a shard handed to this node.
    pub async fn import(
        &self,
        shard: ShardId,
        first: bool,
        last: bool,
        records: actors::runtime::Records,
    ) -> Result<()> {
        if first {
            // Nothing may serve a stale copy while the shard arrives.
            self.router.freeze(shard).await?;
        }
        self.storage.import_shard_chunk(shard, records, first)?;
        if last {
            self.storage.flushed().await?;
            self.router.release(shard, false)?;
        }
        Ok(())
    }

    pub fn status(&self) -> ClusterStatus {
        let table = self.table.current();
        let peers = self.membership.snapshot();
        let counts = table.as_ref().map(|t| t.counts()).unwrap_or_default();
        let members = table
            .as_ref()
            .map(|t| t.members.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let status = if m.name == self.me.name {
                    PeerStatus::Up
                } else {
                    peers.get(&m.name).map_or(PeerStatus::Down, |p| p.status)
                };
                MemberStatus {
                    shards: counts.get(&m.name).copied().unwrap_or(0),
                    status: format!("{status:?}").to_lowercase(),
                    cluster_addr: m.cluster_addr.to_string(),
                    http_addr: m.http_addr.to_string(),
                    name: m.name,
                }
            })
            .collect();
        ClusterStatus {
            node: self.me.name.clone(),
            epoch: self.table.epoch(),
            members,
            handoffs: self.moves_under_way(),
        }
    }

    /// A founder starting without a table (epoch 1: its peers may have
    /// formed the cluster before it caught up) is refused if the
    /// replicated metadata records another identity for it: its data
    /// directory was wiped, and it must not serve its shards empty.
    async fn same_identity_as_recorded(&self, peers: &[&Member]) -> Result<()> {
        let (Some(mine), Some(recorded)) = (self.my_id(), self.recorded_identity(peers).await) else {
            return Ok(());
        };
        if recorded != mine {
            return Err(Error::internal(format!(
                "{} is a member of this cluster with another identity: its data directory was wiped or \
                 replaced; restore its data directory instead of starting it empty",
                self.me.name
            )));
        }
        Ok(())
    }

    fn my_id(&self) -> Option<u64> {
        self.meta.get().map(|m| m.id)
    }

    /// The identity the replicated metadata records for this node's name,
    /// as the first of `peers` that knows it says.
    async fn recorded_identity(&self, peers: &[&Member]) -> Option<u64> {
        for peer in peers {
            let ask = Request::MemberIdentity(self.me.name.clone());
            if let Some(Ok(Response::MemberIdentity(Some(recorded)))) =
                gateway::call(&peer.name, &ask, Duration::from_secs(2)).await
            {
                return Some(recorded);
            }
        }
        None
    }

    /// At start-up without a table: adopt the cluster's table, join it, or —
    /// when every configured node is as new as this one — found it.
    pub async fn discover(&self, configured: &[Member], seeds: &[String]) -> Result<()> {
        // The seeds if named, otherwise every configured node.
        let peers: Vec<&Member> = configured
            .iter()
            .filter(|m| m.name != self.me.name && (seeds.is_empty() || seeds.contains(&m.name)))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut fresh = 0;
            let mut found: Option<ShardTable> = None;
            for peer in &peers {
                match gateway::call(&peer.name, &Request::GetTable, Duration::from_secs(2)).await {
                    Some(Ok(Response::Table(None))) => fresh += 1,
                    Some(Ok(Response::Table(Some(table)))) if found.as_ref().is_none_or(|f| f.epoch < table.epoch) => {
                        found = Some(table)
                    }
                    _ => {}
                }
            }
            if let Some(table) = found.as_ref().filter(|t| t.shard_count() != self.storage.shard_count()) {
                return Err(Error::internal(format!(
                    "this cluster has {} shards, but this node is configured with {}: set [cluster] shards = {} \
                     in its cluster.toml (the shard count never changes) and start it again",
                    table.shard_count(),
                    self.storage.shard_count(),
                    table.shard_count()
                )));
            }
            match found {
                // A member without a table of its own lost its data (only
                // the founders of epoch 1 may still be catching up with it),
                // unless it is a joiner that restarted before it heard of
                // its own join.
                Some(table) if table.has(&self.me.name) && table.epoch > 1 => {
                    if self
                        .recorded_identity(&peers)
                        .await
                        .is_some_and(|id| Some(id) == self.my_id())
                    {
                        return self.join(&table).await;
                    }
                    return Err(Error::internal(format!(
                        "{} is a member of this cluster (epoch {}) but its data directory holds no cluster state: \
                         restore its data directory instead of starting it empty",
                        self.me.name, table.epoch
                    )));
                }
                Some(table) if table.has(&self.me.name) => {
                    self.same_identity_as_recorded(&peers).await?;
                    return self.adopt(table);
                }
                Some(table) => match self.join(&table).await {
                    Err(e) if e.code() == "cluster_change_busy" => {
                        tracing::warn!(error = %e, "cannot join now; retrying");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                    outcome => return outcome,
                },
                None if fresh == peers.len() => {
                    let table = ShardTable::compute(1, configured, self.storage.shard_count());
                    tracing::info!(members = table.members.len(), "founding the cluster");
                    return self.adopt(table);
                }
                None => {}
            }
            if Instant::now() > deadline {
                return Err(Error::internal(
                    "could not join the cluster: no configured node answered in 120 s",
                ));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}
