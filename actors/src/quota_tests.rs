use super::*;
use crate::runtime::{Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables, seal};

#[test]
fn each_thing_counts_once_against_its_quota() {
    let add = |c: Counts, existing| c.adding(existing, 1, Bound::Count(2), "max_products");
    let one = add(Counts::default(), None).unwrap().unwrap();
    assert_eq!(one, Counts { count: 1, total: 1 });
    assert_eq!(add(one, Some(1)).unwrap(), None, "counted already: nothing changes");
    let two = add(one, None).unwrap().unwrap();
    let err = add(two, None).unwrap_err();
    assert_eq!(err.code(), "quota_exceeded");
    assert!(err.to_string().contains("max_products reached: limit 2, usage 2"));
    let back = two.removing(Some(1)).unwrap();
    assert_eq!(back, one);
    assert_eq!(two.removing(None), None, "not counted: nothing to remove");
    assert!(add(back, None).is_ok());
}

#[test]
fn a_tally_counts_amounts_once_within_its_limit() {
    let add = |c: Counts, existing, amount| c.adding(existing, amount, Bound::Total(1_000), "max_held_units");
    let tally = add(Counts::default(), None, 600).unwrap().unwrap();
    assert_eq!(add(tally, Some(600), 900).unwrap(), None, "idempotent per id");
    let err = add(tally, None, 401).unwrap_err();
    assert_eq!(err.code(), "quota_exceeded");
    assert!(err.to_string().contains("usage 600, asked 401"));
    assert_eq!(add(tally, None, 400).unwrap().unwrap().total, 1_000);
    assert_eq!(tally.removing(Some(600)).unwrap(), Counts::default());
}

struct Widgets;

impl Quota for Widgets {
    const KIND: &'static str = "widget_owner";
    const NAME: &'static str = "max_widgets";
}

struct Units;

impl Quota for Units {
    const KIND: &'static str = "unit_tally";
    const NAME: &'static str = "max_units";
    const V1_TALLY: bool = true;
}

async fn start(storage: Storage) -> Runtime {
    let builder = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default());
    let context = builder.context();
    builder
        .register(std::sync::Arc::new(Owners::<Widgets>::new(context.clone())))
        .register(std::sync::Arc::new(Tallies::<Units>::new(context)))
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_counts_once_and_a_failed_one_is_uncounted() {
    let runtime = start(Storage::temporary(2).unwrap()).await;
    let router = runtime.router();
    let made = counted::<Widgets, _>(&router, "u", "w1", 2, async { Ok("w1") }).await;
    assert_eq!(made.unwrap(), "w1");
    let failed = counted::<Widgets, ()>(&router, "u", "w2", 2, async { Err(Error::invalid("name", "bad")) }).await;
    assert_eq!(failed.unwrap_err().code(), "validation_failed");
    let ids = |router: Router| async move { owned_page::<Widgets>(&router, "u", None, 10).await.unwrap() };
    assert_eq!(ids(router.clone()).await, ["w1"], "the failed one is uncounted");
    counted::<Widgets, _>(&router, "u", "w3", 2, async { Ok(()) })
        .await
        .unwrap();
    let ran = std::sync::atomic::AtomicBool::new(false);
    let over = counted::<Widgets, _>(&router, "u", "w4", 2, async {
        ran.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    })
    .await;
    assert_eq!(over.unwrap_err().code(), "quota_exceeded");
    assert!(
        !ran.load(std::sync::atomic::Ordering::SeqCst),
        "nothing is created over the quota"
    );
    uncount::<Widgets>(&router, "u", "w1").await.unwrap();
    assert_eq!(ids(router.clone()).await, ["w3"]);
    assert_eq!(counts::<Widgets>(&router, "u").await.unwrap().count, 1);
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn things_page_in_id_order_and_a_count_costs_the_same_at_any_size() {
    let runtime = start(Storage::temporary(2).unwrap()).await;
    let router = runtime.router();
    for i in 0..1_000 {
        count::<Widgets>(&router, "big", &format!("w{i:04}"), 10_000)
            .await
            .unwrap();
    }
    let first = owned_page::<Widgets>(&router, "big", None, 3).await.unwrap();
    assert_eq!(first, ["w0000", "w0001", "w0002"]);
    let next = owned_page::<Widgets>(&router, "big", Some("w0998"), 3).await.unwrap();
    assert_eq!(next, ["w0999"]);
    // The owner's record is only its counts: it does not grow with them.
    let shard = crate::runtime::shard_of(Widgets::KIND, "big", 2);
    let record = runtime.storage().load(shard, Widgets::KIND, "big").unwrap().unwrap();
    assert!(record.body.len() < 32, "{} bytes", record.body.len());
    tally::<Units>(&router, "b", "o1", 600, 1_000).await.unwrap();
    assert_eq!(
        tally::<Units>(&router, "b", "o2", 401, 1_000).await.unwrap_err().code(),
        "quota_exceeded"
    );
    untally::<Units>(&router, "b", "o1").await.unwrap();
    tally::<Units>(&router, "b", "o2", 1_000, 1_000).await.unwrap();
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_stored_by_the_old_layout_move_into_member_records_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    {
        // What schema version 1 wrote: every id inside the owner's record.
        let storage = Storage::open(dir.path(), 2, RuntimeMetrics::default()).unwrap();
        let owned = OwnedV1 {
            ids: ["a".to_string(), "b".to_string(), "c".to_string()].into(),
        };
        let shard = crate::runtime::shard_of(Widgets::KIND, "old", 2);
        storage
            .put(shard, Widgets::KIND, "old", seal(1, &encode(&owned).unwrap()))
            .unwrap();
        let tally = TallyV1 {
            items: [("o1".to_string(), 300), ("o2".to_string(), 200)].into(),
        };
        let shard = crate::runtime::shard_of(Units::KIND, "old", 2);
        storage
            .put(shard, Units::KIND, "old", seal(1, &encode(&tally).unwrap()))
            .unwrap();
        storage.flushed().await.unwrap();
    }
    let runtime = start(Storage::open(dir.path(), 2, RuntimeMetrics::default()).unwrap()).await;
    assert_eq!(runtime.migrate_members().await.unwrap(), 2);
    assert_eq!(runtime.migrate_members().await.unwrap(), 0, "once");
    let router = runtime.router();
    assert_eq!(
        owned_page::<Widgets>(&router, "old", None, 10).await.unwrap(),
        ["a", "b", "c"]
    );
    assert_eq!(counts::<Widgets>(&router, "old").await.unwrap().count, 3);
    assert_eq!(
        counts::<Units>(&router, "old").await.unwrap(),
        Counts { count: 2, total: 500 }
    );
    untally::<Units>(&router, "old", "o1").await.unwrap();
    assert_eq!(counts::<Units>(&router, "old").await.unwrap().total, 200);
    runtime.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_interrupted_between_its_keys_is_finished_on_activation() {
    let dir = tempfile::tempdir().unwrap();
    let shard = crate::runtime::shard_of(Widgets::KIND, "u", 2);
    {
        let storage = Storage::open(dir.path(), 2, RuntimeMetrics::default()).unwrap();
        // A crash after the journal of "count w1" was written, before the
        // member and the record were: only the journal is on disk.
        let write = crate::runtime::Write {
            record: Some(seal(2, &encode(&Counts { count: 1, total: 1 }).unwrap())),
            alarm: (None, None),
            members: vec![("w1".to_string(), Some(encode(&1u64).unwrap()))],
        };
        storage.write_journal_only(shard, Widgets::KIND, "u", &write).unwrap();
        storage.flushed().await.unwrap();
    }
    let runtime = start(Storage::open(dir.path(), 2, RuntimeMetrics::default()).unwrap()).await;
    let router = runtime.router();
    assert_eq!(counts::<Widgets>(&router, "u").await.unwrap().count, 1);
    assert_eq!(owned_page::<Widgets>(&router, "u", None, 10).await.unwrap(), ["w1"]);
    runtime.shutdown().await.unwrap();
}
