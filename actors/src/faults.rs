//! Pause points for crash tests: a test starting the real binary names one
//! point in `SHOP_TEST_PAUSE_AT` and a file in `SHOP_TEST_PAUSE_MARKER`;
//! the first time the process reaches that point it creates the file and
//! stops there for good, so the test can SIGKILL it at exactly that moment.
//! Unset (always, outside such tests), a point costs one load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

fn armed() -> Option<&'static (String, String)> {
    static POINT: OnceLock<Option<(String, String)>> = OnceLock::new();
    POINT
        .get_or_init(|| {
            let at = std::env::var("SHOP_TEST_PAUSE_AT").ok()?;
            let marker = std::env::var("SHOP_TEST_PAUSE_MARKER").ok()?;
            Some((at, marker))
        })
        .as_ref()
}

/// Stops here for good if a crash test asked for `point`.
pub fn pause_point(point: &str) {
    static HIT: AtomicBool = AtomicBool::new(false);
    let Some((at, marker)) = armed() else { return };
    if at != point || HIT.swap(true, Ordering::SeqCst) {
        return;
    }
    tracing::warn!(point, "paused for a crash test");
    let _ = std::fs::write(marker, point);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
