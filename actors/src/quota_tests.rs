use super::*;

#[test]
fn each_thing_counts_once_against_its_quota() {
    let owned = Owned::default().with("a", 2, "max_products").unwrap();
    let owned = owned
        .with("a", 2, "max_products")
        .unwrap()
        .with("b", 2, "max_products")
        .unwrap();
    let err = owned.with("c", 2, "max_products").unwrap_err();
    assert_eq!(err.code(), "quota_exceeded");
    assert!(err.to_string().contains("max_products reached: limit 2, usage 2"));
    assert!(owned.without("a").with("c", 2, "max_products").is_ok());
}

struct Widgets;

impl Quota for Widgets {
    const KIND: &'static str = "widget_owner";
    const NAME: &'static str = "max_widgets";
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_counts_once_and_a_failed_one_is_uncounted() {
    use crate::runtime::{RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
    let runtime = RuntimeBuilder::new(
        Storage::temporary(2).unwrap(),
        Tunables::default(),
        RuntimeMetrics::default(),
    )
    .register(std::sync::Arc::new(Owners::<Widgets>::default()))
    .start()
    .await
    .unwrap();
    let router = runtime.router();
    let made = counted::<Widgets, _>(&router, "u", "w1", 2, async { Ok("w1") }).await;
    assert_eq!(made.unwrap(), "w1");
    let failed = counted::<Widgets, ()>(&router, "u", "w2", 2, async { Err(Error::invalid("name", "bad")) }).await;
    assert_eq!(failed.unwrap_err().code(), "validation_failed");
    let ids = |o: Owned| o.ids.into_iter().collect::<Vec<_>>();
    assert_eq!(
        ids(owned::<Widgets>(&router, "u").await.unwrap()),
        ["w1"],
        "the failed one is uncounted"
    );
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
    assert_eq!(ids(owned::<Widgets>(&router, "u").await.unwrap()), ["w3"]);
    runtime.shutdown().await.unwrap();
}

#[test]
fn a_tally_counts_amounts_once_within_its_limit() {
    let tally = Tally::default().with("o1", 600, 1_000, "max_held_units").unwrap();
    assert_eq!(
        tally.with("o1", 900, 1_000, "max_held_units").unwrap(),
        tally,
        "idempotent per id"
    );
    let err = tally.with("o2", 401, 1_000, "max_held_units").unwrap_err();
    assert_eq!(err.code(), "quota_exceeded");
    assert!(err.to_string().contains("usage 600, asked 401"));
    assert_eq!(tally.with("o2", 400, 1_000, "max_held_units").unwrap().total(), 1_000);
}
