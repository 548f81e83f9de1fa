//! The runtime driven through its router, with real sled storage.

use super::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

struct Counter;

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Cmd {
    Add(u64),
    Append(u32),
    Get,
    Sleep(u64),
    Crash,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Count {
    total: u64,
    log: Vec<u32>,
}

impl Entity for Counter {
    const KIND: &'static str = "counter";
    type State = Count;
    type Command = Cmd;
    type Reply = Count;

    async fn handle(&self, _key: &str, state: Option<&Count>, command: Cmd) -> Result<Outcome<Count, Count>> {
        let current = state.cloned().unwrap_or_default();
        Ok(match command {
            Cmd::Add(n) => {
                let next = Count {
                    total: current.total + n,
                    ..current
                };
                Outcome::put(next)
            }
            Cmd::Append(i) => {
                let mut next = current;
                next.log.push(i);
                Outcome::put(next)
            }
            Cmd::Get => Outcome::read(current),
            Cmd::Sleep(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Outcome::read(current)
            }
            Cmd::Crash => panic!("the entity fails while handling a command"),
        })
    }
}

fn tunables(passivate_ms: u64, max_live: usize) -> Tunables {
    Tunables {
        passivate_after: Duration::from_millis(passivate_ms),
        max_live_entities: max_live,
        ask_timeout: Duration::from_secs(10),
        hold_while_moving: Duration::from_secs(1),
    }
}

async fn start(storage: Storage, tunables: Tunables, metrics: RuntimeMetrics) -> Runtime {
    RuntimeBuilder::new(storage, tunables, metrics)
        .register(Arc::new(Counter))
        .start()
        .await
        .unwrap()
}

/// A runtime with default tunables over `shards` temporary shards.
async fn start_plain(shards: u32) -> Runtime {
    start(
        Storage::temporary(shards).unwrap(),
        Tunables::default(),
        RuntimeMetrics::default(),
    )
    .await
}

async fn total(router: &Router, key: &str) -> u64 {
    router.ask::<Counter>(key, Cmd::Get).await.unwrap().total
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_are_on_disk_when_acknowledged() {
    // Copying the files of a running node is what a crash leaves behind:
    // only what was flushed. Every acknowledged write must be in the copy.
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let storage = Storage::open(&live, 8, RuntimeMetrics::default()).unwrap();
    let runtime = start(storage, Tunables::default(), RuntimeMetrics::default()).await;
    let router = runtime.router();
    let keys: Vec<String> = (0..50).map(|i| format!("c{i}")).collect();
    let writes = keys
        .iter()
        .zip(1..)
        .map(|(key, n)| router.ask::<Counter>(key, Cmd::Add(n)));
    for reply in futures::future::join_all(writes).await {
        reply.unwrap();
    }
    let crashed = dir.path().join("crashed");
    copy_dir(&live, &crashed);
    let storage = Storage::open(&crashed, 8, RuntimeMetrics::default()).unwrap();
    let recovered = start(storage, Tunables::default(), RuntimeMetrics::default()).await;
    for i in 0..50 {
        assert_eq!(total(&recovered.router(), &format!("c{i}")).await, i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_busy_entity_shares_flushes_and_acknowledges_only_durable_writes() {
    // An entity does not wait for its write's flush before taking its next
    // command (only the reply waits), so 200 writes to one entity need far
    // fewer than 200 flushes; and still each acknowledged write survives.
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let metrics = RuntimeMetrics::default();
    let storage = Storage::open(&live, 4, metrics.clone()).unwrap();
    let runtime = start(storage, Tunables::default(), RuntimeMetrics::default()).await;
    let router = runtime.router();
    let writes = (0..200).map(|i| router.ask::<Counter>("hot", Cmd::Append(i)));
    let replies = futures::future::join_all(writes).await;
    let flushes = metrics.flushes.get();
    assert!(flushes < 100, "{flushes} flushes for 200 writes to one entity");
    let crashed = dir.path().join("crashed");
    copy_dir(&live, &crashed);
    assert!(replies.iter().all(Result::is_ok));
    let storage = Storage::open(&crashed, 4, RuntimeMetrics::default()).unwrap();
    let recovered = start(storage, Tunables::default(), RuntimeMetrics::default()).await;
    let log = recovered.router().ask::<Counter>("hot", Cmd::Get).await.unwrap().log;
    assert_eq!(log.len(), 200, "every acknowledged write is in what a crash leaves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_entities_passivate_and_come_back_with_their_state() {
    let metrics = RuntimeMetrics::default();
    let runtime = start(Storage::temporary(4).unwrap(), tunables(40, 1000), metrics.clone()).await;
    let router = runtime.router();
    router.ask::<Counter>("x", Cmd::Add(7)).await.unwrap();
    assert_eq!(runtime.live_entities().await, 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(runtime.live_entities().await, 0, "passivated after being idle");
    assert!(metrics.passivations.get() >= 1);
    assert_eq!(total(&router, "x").await, 7, "rehydrated from storage");
    assert_eq!(metrics.activations.get(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passivation_under_load_loses_nothing() {
    // Entities passivate every few milliseconds while writers keep coming:
    // messages arriving during a drain are buffered and replayed.
    let metrics = RuntimeMetrics::default();
    let runtime = start(Storage::temporary(4).unwrap(), tunables(5, 1000), metrics.clone()).await;
    let router = runtime.router();
    // Two writers per key, pausing longer than the sweep period every few
    // writes: entities passivate mid-run while the other writer keeps going.
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let router = router.clone();
            tokio::spawn(async move {
                let mut acked = 0;
                for i in 0..30u64 {
                    let key = format!("k{}", w % 8);
                    router.ask::<Counter>(&key, Cmd::Add(1)).await.unwrap();
                    acked += 1;
                    if (i + w) % 5 == 0 {
                        tokio::time::sleep(Duration::from_millis(45)).await;
                    }
                }
                acked
            })
        })
        .collect();
    let mut acked = 0;
    for w in writers {
        acked += w.await.unwrap();
    }
    let mut stored = 0;
    for k in 0..8 {
        stored += total(&router, &format!("k{k}")).await;
    }
    assert_eq!(stored, acked);
    assert!(metrics.passivations.get() > 0, "the test did exercise passivation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_entity_cap_passivates_the_least_recently_used() {
    let runtime = start(
        Storage::temporary(1).unwrap(),
        tunables(60_000, 3),
        RuntimeMetrics::default(),
    )
    .await;
    let router = runtime.router();
    for i in 0..10 {
        router.ask::<Counter>(&format!("e{i}"), Cmd::Add(i)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(runtime.live_entities().await <= 3);
    for i in 0..10 {
        assert_eq!(total(&router, &format!("e{i}")).await, i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_entity_restarts_from_its_persisted_state() {
    let runtime = start_plain(2).await;
    let router = runtime.router();
    router.ask::<Counter>("f", Cmd::Add(5)).await.unwrap();
    // Commands queued behind the failing one are still served.
    let (crashed, after) = tokio::join!(
        router.ask::<Counter>("f", Cmd::Crash),
        router.ask::<Counter>("f", Cmd::Get)
    );
    assert!(matches!(crashed.unwrap_err(), Error::Internal(_)));
    assert_eq!(after.unwrap().total, 5);
    assert_eq!(total(&router, "f").await, 5);
    router.ask::<Counter>("f", Cmd::Add(1)).await.unwrap();
    assert_eq!(total(&router, "f").await, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_from_one_caller_run_in_order() {
    let runtime = start_plain(2).await;
    let router = runtime.router();
    let asks = (0..100).map(|i| router.ask::<Counter>("o", Cmd::Append(i)));
    futures::future::join_all(asks).await;
    let log = router.ask::<Counter>("o", Cmd::Get).await.unwrap().log;
    assert_eq!(log, (0..100).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_reports_an_unknown_outcome() {
    let runtime = start_plain(1).await;
    let router = runtime.router();
    let slow = router.ask_within::<Counter>("s", Cmd::Sleep(300), Duration::from_millis(20));
    assert_eq!(slow.await.unwrap_err().code(), "timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_page_through_every_shard_once() {
    let runtime = start_plain(8).await;
    let router = runtime.router();
    for i in 0..25 {
        router.ask::<Counter>(&format!("p{i:02}"), Cmd::Add(1)).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = router.scan::<Counter>(cursor.as_ref(), 7).await.unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.into_iter().map(|(k, _)| k));
        match page.next {
            Some(next) => cursor = Some(Cursor::decode(&next.encode()).unwrap()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, (0..25).map(|i| format!("p{i:02}")).collect::<Vec<_>>());
    assert!(Cursor::decode("not a cursor").is_err());
}

/// Version 2 of a record type that once stored only a number.
struct Upgraded;

impl Entity for Upgraded {
    const KIND: &'static str = "counter";
    const SCHEMA_VERSION: u32 = 2;
    type State = Count;
    type Command = Cmd;
    type Reply = Count;

    fn upgrade(version: u32, body: &[u8]) -> Result<Count> {
        match version {
            1 => Ok(Count {
                total: decode::<u64>(body)?,
                log: Vec::new(),
            }),
            v => Err(Error::internal(format!("unknown version {v}"))),
        }
    }

    async fn handle(&self, key: &str, state: Option<&Count>, command: Cmd) -> Result<Outcome<Count, Count>> {
        Counter.handle(key, state, command).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_records_are_upgraded_on_load() {
    let storage = Storage::temporary(1).unwrap();
    storage
        .put(0, "counter", "old", storage::seal(1, &encode(&41u64).unwrap()))
        .unwrap();
    let runtime = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default())
        .register(Arc::new(Upgraded))
        .start()
        .await
        .unwrap();
    let router = runtime.router();
    let count = router.ask::<Upgraded>("old", Cmd::Add(1)).await.unwrap();
    assert_eq!(count.total, 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_commands_from_other_nodes_are_served_and_unknown_ones_refused() {
    let runtime = start_plain(4).await;
    let router = runtime.router();
    let deadline = Duration::from_secs(5);
    let reply = router
        .serve_encoded("counter", "r", &encode(&Cmd::Add(4)).unwrap(), deadline)
        .await
        .unwrap();
    let reply: Result<Count> = decode(&reply).unwrap();
    assert_eq!(reply.unwrap().total, 4);
    assert_eq!(total(&router, "r").await, 4, "the same entity as local asks");

    let unknown_kind = router.serve_encoded("spaceship", "r", &[], deadline).await.unwrap_err();
    assert_eq!(unknown_kind.code(), "incompatible_peer");
    // A command variant this build does not have (index 99).
    let unknown_command = router.serve_encoded("counter", "r", &[99], deadline).await.unwrap_err();
    assert_eq!(unknown_command.code(), "incompatible_peer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_shard_holds_commands_until_released() {
    let runtime = start_plain(1).await;
    let router = runtime.router();
    router.ask::<Counter>("h", Cmd::Add(1)).await.unwrap();
    router.freeze(0).await.unwrap();
    assert_eq!(runtime.live_entities().await, 0, "drained before freeze answers");
    let held = tokio::spawn({
        let router = router.clone();
        async move { router.ask::<Counter>("h", Cmd::Add(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!held.is_finished(), "held while frozen");
    router.release(0, false).unwrap();
    assert_eq!(held.await.unwrap().unwrap().total, 2);
}

/// A kind whose commands do not wait while its shard moves.
struct Impatient;

impl Entity for Impatient {
    const KIND: &'static str = "impatient";
    const WAITS_WHILE_MOVING: bool = false;
    type State = Count;
    type Command = Cmd;
    type Reply = Count;

    async fn handle(&self, key: &str, state: Option<&Count>, command: Cmd) -> Result<Outcome<Count, Count>> {
        Counter.handle(key, state, command).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_that_does_not_wait_is_told_at_once_that_its_shard_moves() {
    let runtime = RuntimeBuilder::new(
        Storage::temporary(1).unwrap(),
        Tunables::default(),
        RuntimeMetrics::default(),
    )
    .register(Arc::new(Counter))
    .register(Arc::new(Impatient))
    .start()
    .await
    .unwrap();
    let router = runtime.router();
    router.ask::<Impatient>("i", Cmd::Add(3)).await.unwrap();
    router.freeze(0).await.unwrap();
    let held = tokio::spawn({
        let router = router.clone();
        async move { router.ask::<Counter>("c", Cmd::Add(1)).await }
    });
    let refused = router.ask::<Impatient>("i", Cmd::Add(1)).await.unwrap_err();
    assert_eq!(refused.code(), "shard_moving");
    assert!(matches!(
        refused,
        Error::Unavailable {
            retry_after_secs: 2,
            ..
        }
    ));
    assert!(!held.is_finished(), "the patient kind waits");
    router.release(0, false).unwrap();
    assert_eq!(held.await.unwrap().unwrap().total, 1);
    assert_eq!(
        router.ask::<Impatient>("i", Cmd::Get).await.unwrap().total,
        3,
        "the refused command never ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_held_too_long_by_a_stalled_move_is_answered_without_running() {
    let tunables = Tunables {
        hold_while_moving: Duration::from_millis(200),
        ..Default::default()
    };
    let runtime = RuntimeBuilder::new(Storage::temporary(1).unwrap(), tunables, RuntimeMetrics::default())
        .register(Arc::new(Counter))
        .start()
        .await
        .unwrap();
    let router = runtime.router();
    router.ask::<Counter>("s", Cmd::Add(5)).await.unwrap();
    router.freeze(0).await.unwrap();
    let asked = std::time::Instant::now();
    let first = tokio::spawn({
        let router = router.clone();
        async move { router.ask::<Counter>("s", Cmd::Add(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(120)).await;
    let second = tokio::spawn({
        let router = router.clone();
        async move { router.ask::<Counter>("s", Cmd::Add(10)).await }
    });
    let refused = first.await.unwrap().unwrap_err();
    assert_eq!(refused.code(), "shard_moving");
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    // The later one gets its own full wait, then the same answer.
    assert_eq!(second.await.unwrap().unwrap_err().code(), "shard_moving");
    router.release(0, false).unwrap();
    assert_eq!(total(&router, "s").await, 5, "neither refused command ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_held_by_a_shard_that_moved_do_not_run_here() {
    let runtime = start_plain(1).await;
    let router = runtime.router();
    router.ask::<Counter>("m", Cmd::Add(5)).await.unwrap();
    router.freeze(0).await.unwrap();
    let held = tokio::spawn({
        let router = router.clone();
        async move { router.ask::<Counter>("m", Cmd::Add(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    router.release(0, true).unwrap();
    assert_eq!(held.await.unwrap().unwrap_err().code(), "wrong_owner");
    assert_eq!(total(&router, "m").await, 5, "the held command did not run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_shard_imports_whole_elsewhere() {
    let source = start_plain(2).await;
    for i in 0..300u64 {
        source
            .router()
            .ask::<Counter>(&format!("x{i}"), Cmd::Add(i))
            .await
            .unwrap();
    }
    let target = Storage::temporary(2).unwrap();
    for shard in 0..2 {
        let chunks = source.storage().export_shard(shard, 1024).unwrap();
        assert!(
            chunks.len() > 1 || source.storage().shard_len(shard).unwrap() < 20,
            "chunked"
        );
        for (i, chunk) in chunks.into_iter().enumerate() {
            target.import_shard_chunk(shard, chunk, i == 0).unwrap();
        }
    }
    target.flushed().await.unwrap();
    let copy = start(target, Tunables::default(), RuntimeMetrics::default()).await;
    for i in 0..300u64 {
        assert_eq!(total(&copy.router(), &format!("x{i}")).await, i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_kind_is_an_internal_error_not_a_timeout() {
    let runtime = RuntimeBuilder::new(
        Storage::temporary(1).unwrap(),
        Tunables::default(),
        RuntimeMetrics::default(),
    )
    .start()
    .await
    .unwrap();
    let err = runtime.router().ask::<Counter>("x", Cmd::Get).await.unwrap_err();
    assert!(
        matches!(err, Error::Internal(ref m) if m.contains("not registered")),
        "{err:?}"
    );
}
