use super::*;

const NOW: Millis = 1_800_000_000_000;
const HOUR: Millis = 3_600_000;

#[test]
fn a_watch_never_swept_sweeps_at_once_looking_back_120_days() {
    let watch = DisputeWatch::default();
    assert_eq!(watch.due(HOUR), 0);
    assert_eq!(watch.since(NOW), NOW - 120 * DAY);
}

#[test]
fn each_sweep_lists_from_the_last_one_less_a_day_and_comes_back_every_period() {
    let open: BTreeSet<String> = ["dp_1".to_string()].into();
    let swept = DisputeWatch::default().swept(NOW, open.clone());
    assert_eq!(swept.open, open);
    assert_eq!(swept.due(HOUR), NOW + HOUR);
    assert_eq!(swept.since(NOW + HOUR), NOW - DAY);
}

#[test]
fn a_failed_sweep_changes_nothing_but_its_retry_and_the_next_sweep_clears_it() {
    let swept = DisputeWatch::default().swept(NOW, ["dp_1".to_string()].into());
    let failed = swept.failed(NOW + HOUR);
    assert_eq!(failed.due(HOUR), NOW + HOUR + RETRY);
    assert_eq!(
        (failed.swept_at, &failed.open, failed.since(NOW + HOUR)),
        (swept.swept_at, &swept.open, NOW - DAY)
    );
    let again = failed.swept(NOW + HOUR + RETRY, BTreeSet::new());
    assert_eq!(again.retry_at, None);
    assert_eq!(again.due(HOUR), NOW + 2 * HOUR + RETRY);
}

#[test]
fn webhooks_keep_the_open_disputes_known_between_sweeps() {
    let watch = DisputeWatch::default().seen("dp_1", true).seen("dp_2", true);
    assert_eq!(watch.open.len(), 2);
    let watch = watch.seen("dp_1", false).seen("dp_3", false);
    assert_eq!(watch.open, ["dp_2".to_string()].into());
    assert_eq!(watch.swept_at, None, "a webhook is no sweep");
}
