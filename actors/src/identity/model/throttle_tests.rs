use super::*;

const T0: Millis = 1_000_000_000;

#[test]
fn failures_beyond_the_free_ones_wait_longer_and_longer() {
    let mut a = Attempts::default();
    for i in 0..FREE_FAILURES {
        assert!(a.check(T0 + i64::from(i)).is_ok());
        a = a.failed(T0 + i64::from(i));
    }
    assert_eq!(a.wait(T0), 0, "three failures are free");
    assert!(a.check(T0 + 3).is_ok());
    a = a.failed(T0 + 10);
    assert_eq!(a.wait(T0 + 10), 1_000);
    match a.check(T0 + 10).unwrap_err() {
        Error::RateLimited { retry_after_secs, .. } => assert_eq!(retry_after_secs, 1),
        other => panic!("{other:?}"),
    }
    assert!(a.check(T0 + 1_010).is_ok(), "after the wait");
    a = a.failed(T0 + 1_010);
    assert_eq!(a.wait(T0 + 1_010), 2_000, "doubling");
    for _ in 0..40 {
        a = a.failed(a.last + a.wait(a.last));
    }
    assert_eq!(a.wait(a.last), MAX_WAIT, "capped");
    let later = a.last + FORGET_AFTER;
    assert_eq!(a.wait(later), 0, "forgotten after a quiet half hour");
    assert_eq!(a.failed(later).failures, 1);
}
