use super::*;

#[test]
fn envelope_round_trips_its_version() {
    let sealed = seal(7, b"body");
    let opened = open(&sealed).unwrap();
    assert_eq!(opened.schema_version, 7);
    assert_eq!(opened.body, b"body");
    assert!(open(b"abc").is_err());
}

#[tokio::test]
async fn scan_sees_one_kind_in_key_order_and_resumes_after_a_key() {
    let storage = Storage::temporary(4).unwrap();
    for key in ["b", "a", "c"] {
        storage.put(1, "user", key, seal(1, key.as_bytes())).unwrap();
    }
    storage.put(1, "usex", "zzz", seal(1, b"other kind")).unwrap();
    storage.put(1, "use", "r", seal(1, b"prefix kind")).unwrap();
    let keys = |v: Vec<(String, Envelope)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(keys(storage.scan(1, "user", None, 10).unwrap()), ["a", "b", "c"]);
    assert_eq!(keys(storage.scan(1, "user", Some("a"), 10).unwrap()), ["b", "c"]);
    assert_eq!(keys(storage.scan(1, "user", None, 2).unwrap()), ["a", "b"]);
    assert!(storage.scan(2, "user", None, 10).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_flushes() {
    let metrics = RuntimeMetrics::default();
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path(), 4, metrics.clone()).unwrap();
    let writers = (0..200).map(|i| {
        let storage = storage.clone();
        tokio::spawn(async move {
            storage.put(0, "k", &i.to_string(), seal(1, &[i as u8])).unwrap();
            storage.flushed().await.unwrap();
        })
    });
    for w in writers.collect::<Vec<_>>() {
        w.await.unwrap();
    }
    let flushes = metrics.flushes.get();
    assert!((1..200).contains(&flushes), "{flushes} flushes for 200 writers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_durable_once_a_flush_after_it_completes() {
    let storage = Storage::temporary(2).unwrap();
    assert!(storage.is_durable(storage.written()), "nothing written yet");
    storage.put(0, "k", "a", seal(1, b"1")).unwrap();
    let seq = storage.written();
    assert_eq!(seq, 1);
    assert!(!storage.is_durable(seq), "not before a flush");
    storage.flushed().await.unwrap();
    assert!(storage.is_durable(seq));
    storage.put(1, "k", "b", seal(1, b"2")).unwrap();
    assert!(!storage.is_durable(storage.written()));
    assert!(storage.is_durable(seq), "earlier writes stay durable");
}
