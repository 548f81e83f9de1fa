use super::*;
use std::time::Duration;

#[test]
fn a_client_gets_its_burst_then_the_steady_rate() {
    let limiter = RateLimiter::new(10, 3).unwrap();
    let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let t0 = Instant::now();
    for _ in 0..3 {
        assert!(limiter.check(&a, t0).is_ok());
    }
    assert_eq!(limiter.check(&a, t0), Err(1));
    assert!(limiter.check(&b, t0).is_ok(), "clients are limited separately");
    assert!(
        limiter.check(&a, t0 + Duration::from_millis(100)).is_ok(),
        "one token per 100 ms"
    );
    assert!(limiter.check(&a, t0 + Duration::from_millis(110)).is_err());
    for _ in 0..3 {
        assert!(
            limiter.check(&a, t0 + Duration::from_secs(60)).is_ok(),
            "refills up to the burst"
        );
    }
    assert!(limiter.check(&a, t0 + Duration::from_secs(60)).is_err());
}

#[test]
fn zero_turns_limiting_off() {
    assert!(RateLimiter::<IpAddr>::new(0, 10).is_none());
}
