//! Ports shared by every domain.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Whether `now` lies in the window `[from, until)`; an open end is unbounded.
pub fn within(from: Option<Millis>, until: Option<Millis>, now: Millis) -> bool {
    from.is_none_or(|f| f <= now) && until.is_none_or(|u| now < u)
}

/// Creates `dir` (and its parents) readable by this user alone (0700),
/// and tightens it if it exists: it holds signing keys, mail with reset
/// tokens, and every record.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Writes `bytes` to `path` as a new file readable by this user alone (0600).
pub async fn write_private(path: &std::path::Path, bytes: Vec<u8>) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .await?;
    file.write_all(&bytes).await?;
    file.sync_all().await
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
