use super::*;

const MIDNIGHT: Millis = 1_800_000_000_000 / DAY * DAY;

#[test]
fn an_id_lands_in_one_of_its_days_buckets_spread_over_all_of_them() {
    let mut used = std::collections::BTreeSet::new();
    for i in 0..400 {
        let id = format!("c:ch_{i}");
        let at = MIDNIGHT + i * 200_000;
        let key = bucket_key(at, &id);
        assert!(buckets_of(MIDNIGHT).any(|b| b == key), "{key}");
        assert_eq!(key, bucket_key(at, &id), "the same id, the same bucket");
        used.insert(key);
    }
    assert_eq!(used.len() as u64, BUCKETS);
    assert!(
        buckets_of(MIDNIGHT - 1).all(|b| !used.contains(&b)),
        "the day before is another day"
    );
    assert!(buckets_of(MIDNIGHT + DAY).all(|b| !used.contains(&b)));
}

#[test]
fn a_day_is_read_through_the_index_only_when_it_began_after_the_index() {
    assert!(covers(Some(0), MIDNIGHT), "a shop indexed from its start");
    assert!(covers(Some(MIDNIGHT), MIDNIGHT));
    assert!(
        !covers(Some(MIDNIGHT + 1), MIDNIGHT),
        "indexed from within the day: scanned"
    );
    assert!(!covers(None, MIDNIGHT), "not known yet: scanned");
}
