//! The alarm clock: wakes entities whose persisted alarm fell due.
//!
//! Alarms are stored in each shard's tree next to the records (see
//! [`super::storage::Write`]), so they survive restarts and move with their
//! shard. Every `period` the clock reads, for each shard this node owns, the
//! alarms due by now and delivers each entity its kind's wake command. A
//! node that was down wakes everything overdue on its first tick; an entity
//! also handles whatever fell due whenever another command reaches it.

use super::router::Router;
use crate::ports::Clock;
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Most alarms one shard delivers per tick (the rest wait for the next).
const PER_SHARD: usize = 256;

pub struct AlarmClock {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl AlarmClock {
    pub fn start(router: Router, clock: Arc<dyn Clock>, period: Duration) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = ticks.tick() => tick(&router, clock.now()).await,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops after the tick in progress.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Wakes every entity due by `now` in the shards owned here and waits until
/// each has handled its wake (or failed to), so one entity is never woken
/// twice for the same alarm at once.
pub async fn tick(router: &Router, now: crate::ports::Millis) {
    let mut woken = Vec::new();
    for shard in 0..router.shard_count() {
        if !router.owns(shard) {
            continue;
        }
        let due = match router.storage().due_alarms(shard, now, PER_SHARD) {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(shard, %error, "cannot read alarms");
                continue;
            }
        };
        for alarm in due {
            if let Some(done) = router.wake_local(shard, &alarm) {
                woken.push(async move {
                    if let Err(error) = done.await {
                        tracing::warn!(kind = alarm.kind, %error, "an alarm's wake failed; retrying on the next tick");
                    }
                });
            }
        }
    }
    let deadline = router.deadline();
    let _ = tokio::time::timeout(deadline, join_all(woken)).await;
}

#[cfg(test)]
#[path = "alarms_tests.rs"]
mod tests;
