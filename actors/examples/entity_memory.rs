//! Memory per user entity, active versus passivated.
//!
//!   cargo run --release -p actors --example entity_memory [USERS]
//!
//! Counts heap bytes with a counting global allocator (exact, unlike RSS):
//! creates USERS users (default 20,000), measures the heap with all of them
//! live, lets them passivate, and measures again. What remains after
//! passivation is storage (sled's page cache), not actors.

use actors::identity::Identity;
use actors::identity::entity::{UserCommand, Users};
use actors::identity::model::{Registration, User};
use actors::identity::ports::{HashCost, PasswordHasher, SystemClock, system_now};
use actors::identity::service::Ports;
use actors::runtime::{RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

struct Counting;
static ALLOCATED: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn heap() -> isize {
    ALLOCATED.load(Ordering::Relaxed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir()?;
    let storage = Storage::open(dir.path(), 256, RuntimeMetrics::default())?;
    let ports = Ports {
        hasher: PasswordHasher::new(HashCost::default())?,
        mailer: Arc::new(NoMail),
        clock: Arc::new(SystemClock),
    };
    let tunables = Tunables {
        passivate_after: Duration::from_secs(8),
        max_live_entities: users * 100,
        ask_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let builder = RuntimeBuilder::new(storage, tunables, RuntimeMetrics::default());
    let runtime = Identity::register_entities(builder, &ports).start().await?;
    let router = runtime.router();
    // A realistic record: an argon2 hash string, roles, a session.
    let hash = ports.hasher.hash("correct horse battery").await?;

    let before = heap();
    let ids: Vec<usize> = (0..users).collect();
    for chunk in ids.chunks(500) {
        let creates = chunk.iter().map(|i| {
            let (router, hash) = (router.clone(), hash.clone());
            async move {
                let email = format!("user{i}@example.com");
                let registration = Registration::parse(&format!("user{i}"), &email, "correct horse battery", None)?;
                let user = User::new(format!("u{i:08}"), registration, hash, [1; 32], system_now()).with_session(
                    "family".into(),
                    [2; 32],
                    system_now(),
                );
                router
                    .ask::<Users>(&user.id.clone(), UserCommand::Create(Box::new(user)))
                    .await
            }
        });
        for created in futures::future::join_all(creates).await {
            created?;
        }
    }
    let live = runtime.live_entities().await;
    let active = heap();
    println!(
        "{live} users live: heap +{} bytes = {} bytes per active user",
        active - before,
        (active - before) / live as isize
    );

    tokio::time::sleep(Duration::from_secs(12)).await;
    let live = runtime.live_entities().await;
    let passive = heap();
    println!(
        "{live} users live after passivation: heap +{} bytes over the start = {} bytes per passivated user (storage cache, no actor)",
        passive - before,
        (passive - before) / users as isize
    );
    println!(
        "an active user therefore costs {} bytes more than a passivated one",
        (active - passive) / users as isize
    );
    Ok(())
}

struct NoMail;

impl actors::identity::ports::Mailer for NoMail {
    fn send(&self, _: actors::identity::ports::Mail) -> futures::future::BoxFuture<'_, actors::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
