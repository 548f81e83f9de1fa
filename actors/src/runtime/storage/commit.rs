//! Group commit and durability marks: every write is numbered once it is
//! in sled; one flush covers every writer waiting when it starts, and makes
//! durable every write numbered before it began.

use super::Storage;
use crate::error::{Error, Result};
use crate::runtime::metrics::RuntimeMetrics;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// How far writes have gone: every write gets the next sequence number once
/// it is in sled; a flush makes durable every write numbered before it began.
#[derive(Default)]
pub(super) struct Marks {
    pub(super) written: AtomicU64,
    pub(super) durable: AtomicU64,
}

impl Storage {
    /// The sequence number of the latest write (see [`Storage::is_durable`]).
    pub fn written(&self) -> u64 {
        self.inner.marks.written.load(Ordering::SeqCst)
    }

    /// Whether write number `seq` (and every one before it) is durable.
    pub fn is_durable(&self, seq: u64) -> bool {
        self.inner.marks.durable.load(Ordering::SeqCst) >= seq
    }

    /// Resolves once every write made before the call is durable.
    ///
    /// Group commit: callers queue up while a flush runs; the next flush
    /// covers all of them, so durability costs one flush per batch.
    pub async fn flushed(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .commit
            .send(tx)
            .map_err(|_| Error::internal("group commit stopped"))?;
        rx.await.map_err(|_| Error::internal("group commit stopped"))?
    }

    /// Flushes synchronously (shutdown, tools).
    pub fn flush_now(&self) -> Result<()> {
        self.inner
            .db
            .flush()
            .map(|_| ())
            .map_err(|e| Error::internal(format!("flush: {e}")))
    }
}

pub(super) async fn group_commit(
    db: std::sync::Weak<sled::Db>,
    mut waiters: mpsc::UnboundedReceiver<oneshot::Sender<Result<()>>>,
    marks: Arc<Marks>,
    metrics: RuntimeMetrics,
) {
    let mut batch = Vec::new();
    while let Some(first) = waiters.recv().await {
        batch.push(first);
        // Let the writers that are ready to run reach this flush too: one
        // flush for more of them costs less than one each.
        tokio::task::yield_now().await;
        while let Ok(next) = waiters.try_recv() {
            batch.push(next);
        }
        let started = Instant::now();
        let Some(db) = db.upgrade() else { break };
        let target = marks.written.load(Ordering::SeqCst);
        let outcome = match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(Ok(_)) => {
                marks.durable.fetch_max(target, Ordering::SeqCst);
                Ok(())
            }
            Ok(Err(e)) => Err(Error::internal(format!("flush: {e}"))),
            Err(e) => Err(Error::internal(format!("flush task: {e}"))),
        };
        metrics.flushes.inc();
        metrics.flush_batch_size.observe(batch.len() as f64);
        metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "group commit flush failed");
        }
        for waiter in batch.drain(..) {
            let _ = waiter.send(outcome.clone());
        }
    }
}
