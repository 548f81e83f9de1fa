//! Ports shared by every domain.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Whether `now` lies in the window `[from, until)`; an open end is unbounded.
pub fn within(from: Option<Millis>, until: Option<Millis>, now: Millis) -> bool {
    from.is_none_or(|f| f <= now) && until.is_none_or(|u| now < u)
}

/// The time, as the rules see it.
pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        system_now()
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn system_now() -> Millis {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as Millis
}

/// A clock that only moves when told to (tests, simulations).
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn at(now: Millis) -> Self {
        Self(std::sync::atomic::AtomicI64::new(now))
    }

    pub fn advance(&self, by: Millis) {
        self.0.fetch_add(by, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The system's time moved ahead by however much it was advanced: time
/// flows as usual, and tests skip ahead instead of sleeping.
#[derive(Default)]
pub struct AdvancedClock(std::sync::atomic::AtomicI64);

impl AdvancedClock {
    pub fn advance(&self, by: Millis) {
        self.0.fetch_add(by, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for AdvancedClock {
    fn now(&self) -> Millis {
        system_now() + self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
