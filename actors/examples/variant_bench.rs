//! Variants per second from a 12-megapixel JPEG into four sizes, on every
//! core (one render per core at a time), and each render's peak heap:
//!
//!   cargo run --release -p actors --example variant_bench [SECONDS]
//!
//! The JPEG is generated (4000 × 3000, a smooth gradient with noise, as a
//! photo compresses). Prints a Markdown row.

use actors::media::render::render;
use actors::media::variants::{DEFAULT_MAX_PIXELS, Fit, Format, Spec};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes and their peak.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the same layout, passed on to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn spec(name: &str, side: u32, fit: Fit) -> Spec {
    Spec {
        name: name.into(),
        width: side,
        height: side,
        fit,
        format: Format::Jpeg,
        quality: None,
    }
}

type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> Fallible<()> {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let jpeg = actors::media::samples::photo(4000, 3000, 0);
    let specs = [
        spec("thumb", 200, Fit::Cover),
        spec("small", 400, Fit::Contain),
        spec("view", 1200, Fit::Contain),
        spec("zoom", 2000, Fit::Contain),
    ];
    // One render alone: its peak heap above what was live before it.
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let single = Instant::now();
    render(&jpeg, &specs, DEFAULT_MAX_PIXELS)?;
    let one = single.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    // Every core busy for `seconds`.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let renders: usize = std::thread::scope(|s| -> Fallible<usize> {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                s.spawn(|| -> Fallible<usize> {
                    let mut n = 0;
                    while Instant::now() < deadline {
                        render(&jpeg, &specs, DEFAULT_MAX_PIXELS)?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        let mut total = 0;
        for worker in workers {
            total += worker.join().map_err(|_| "a worker panicked")??;
        }
        Ok(total)
    })?;
    let wall = started.elapsed().as_secs_f64();
    println!(
        "| source | variants per render | cores | renders/s | variants/s | one render | peak heap of one render |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| 4000×3000 JPEG ({} KiB) | 4 | {cores} | {:.2} | {:.1} | {:.0} ms | {} MiB |",
        jpeg.len() / 1024,
        renders as f64 / wall,
        (renders * specs.len()) as f64 / wall,
        one.as_secs_f64() * 1000.0,
        peak / (1024 * 1024)
    );
    Ok(())
}
