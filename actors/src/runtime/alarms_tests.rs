//! Alarms: persisted with the state, delivered once due, after restarts and
//! on the node a shard moved to.

use super::tick;
use crate::error::Result;
use crate::ports::Millis;
use crate::runtime::{Entity, Outcome, Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

struct Timer;

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Cmd {
    Set(Option<Millis>),
    Wake,
    Get,
    Delete,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Timed {
    due: Option<Millis>,
    fired: Vec<Millis>,
}

impl Entity for Timer {
    const KIND: &'static str = "timer";
    type State = Timed;
    type Command = Cmd;
    type Reply = Timed;

    fn due(&self, state: &Timed) -> Option<Millis> {
        state.due
    }

    fn wake(&self) -> Option<Cmd> {
        Some(Cmd::Wake)
    }

    async fn handle(&self, _key: &str, state: Option<&Timed>, command: Cmd) -> Result<Outcome<Timed, Timed>> {
        let mut next = state.cloned().unwrap_or_default();
        Ok(match command {
            Cmd::Set(due) => {
                next.due = due;
                Outcome::put(next)
            }
            Cmd::Wake => {
                next.fired.extend(next.due.take());
                Outcome::put(next)
            }
            Cmd::Get => Outcome::read(next),
            Cmd::Delete => Outcome::delete(next),
        })
    }
}

async fn start(storage: Storage) -> Runtime {
    RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default())
        .register(Arc::new(Timer))
        .start()
        .await
        .unwrap()
}

async fn fired(runtime: &Runtime, key: &str) -> Vec<Millis> {
    runtime.router().ask::<Timer>(key, Cmd::Get).await.unwrap().fired
}

async fn set(runtime: &Runtime, key: &str, due: Option<Millis>) {
    runtime.router().ask::<Timer>(key, Cmd::Set(due)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_wakes_its_entity_once_when_due_and_not_before() {
    let runtime = start(Storage::temporary(4).unwrap()).await;
    set(&runtime, "a", Some(100)).await;
    set(&runtime, "b", Some(500)).await;
    tick(&runtime.router(), 99).await;
    assert!(fired(&runtime, "a").await.is_empty(), "not before it is due");
    tick(&runtime.router(), 100).await;
    assert_eq!(fired(&runtime, "a").await, vec![100]);
    tick(&runtime.router(), 400).await;
    assert_eq!(fired(&runtime, "a").await, vec![100], "woken once");
    assert!(fired(&runtime, "b").await.is_empty());
    tick(&runtime.router(), 10_000).await;
    assert_eq!(fired(&runtime, "b").await, vec![500]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_or_cleared_alarm_only_rings_at_its_new_time() {
    let runtime = start(Storage::temporary(2).unwrap()).await;
    set(&runtime, "a", Some(100)).await;
    set(&runtime, "a", Some(300)).await;
    set(&runtime, "c", Some(100)).await;
    set(&runtime, "c", None).await;
    set(&runtime, "d", Some(100)).await;
    runtime.router().ask::<Timer>("d", Cmd::Delete).await.unwrap();
    tick(&runtime.router(), 200).await;
    assert!(fired(&runtime, "a").await.is_empty());
    tick(&runtime.router(), 300).await;
    assert_eq!(fired(&runtime, "a").await, vec![300]);
    assert!(fired(&runtime, "c").await.is_empty());
    for shard in 0..2 {
        assert!(runtime.storage().due_alarms(shard, Millis::MAX, 10).unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_survive_a_restart_and_ring_when_overdue() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = start(Storage::open(dir.path(), 4, RuntimeMetrics::default()).unwrap()).await;
    set(&runtime, "a", Some(1_000)).await;
    runtime.shutdown().await.unwrap();
    // The node was down when the alarm fell due.
    let runtime = start(Storage::open(dir.path(), 4, RuntimeMetrics::default()).unwrap()).await;
    tick(&runtime.router(), 5_000).await;
    assert_eq!(fired(&runtime, "a").await, vec![1_000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_move_with_their_shard() {
    let source = start(Storage::temporary(2).unwrap()).await;
    for i in 0..20 {
        set(&source, &format!("t{i}"), Some(100 + i)).await;
    }
    let target = Storage::temporary(2).unwrap();
    for shard in 0..2 {
        for (i, chunk) in source
            .storage()
            .export_shard(shard, 1 << 20)
            .unwrap()
            .into_iter()
            .enumerate()
        {
            target.import_shard_chunk(shard, chunk, i == 0).unwrap();
        }
    }
    let copy = start(target).await;
    tick(&copy.router(), 1_000).await;
    for i in 0..20 {
        assert_eq!(fired(&copy, &format!("t{i}")).await, vec![100 + i]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_and_far_times_keep_their_order() {
    let storage = Storage::temporary(1).unwrap();
    let runtime = start(storage).await;
    set(&runtime, "neg", Some(-5)).await;
    set(&runtime, "far", Some(Millis::MAX - 1)).await;
    let due = runtime.storage().due_alarms(0, 0, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].due, due[0].kind.as_str(), due[0].key.as_str()),
        (-5, "timer", "neg")
    );
    assert_eq!(runtime.storage().due_alarms(0, Millis::MAX, 10).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_left_by_a_crash_between_write_steps_is_removed_without_waking() {
    let storage = Storage::temporary(4).unwrap();
    let runtime = start(storage.clone()).await;
    set(&runtime, "a", Some(100)).await;
    // What a crash after a write's first step leaves: the record wants 100,
    // but an alarm at 50 is stored too.
    let shard = crate::runtime::shard_of(Timer::KIND, "a", 4);
    let record = storage.load(shard, Timer::KIND, "a").unwrap().unwrap();
    let write = crate::runtime::storage::Write {
        record: Some(crate::runtime::seal(record.schema_version, &record.body)),
        alarm: (None, Some(50)),
        members: Vec::new(),
    };
    storage.write(shard, Timer::KIND, "a", write).unwrap();
    assert_eq!(storage.due_alarms(shard, 60, 10).unwrap().len(), 1);
    tick(&runtime.router(), 60).await;
    assert!(
        fired(&runtime, "a").await.is_empty(),
        "the orphan does not wake the entity"
    );
    assert!(storage.due_alarms(shard, 60, 10).unwrap().is_empty(), "and is gone");
    tick(&runtime.router(), 100).await;
    assert_eq!(fired(&runtime, "a").await, [100], "the wanted alarm still fires");
}
