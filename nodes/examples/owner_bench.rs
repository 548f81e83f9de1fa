//! One seller's growing catalogue (used by `bench/owner.sh`).
//!
//!   owner_bench ADMIN_TOKEN PRODUCTS BASE_URL
//!
//! Creates PRODUCTS products for one seller (32 clients) and reports, for
//! the first 1,000 and the last 1,000 creates, the creates per second and
//! their latency, and the latency of the first page of
//! `GET /api/v1/me/products` once 1,000 and once PRODUCTS exist: a
//! seller's set of products is member records, so neither should grow with
//! the catalogue.

// Shared with the other drivers.
#[path = "bench_common/mod.rs"]
mod bench_common;

use bench_common::*;
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const WINDOW: usize = 1_000;

/// Creates products `from..to` with `CLIENTS` clients: the wall time and
/// every create's latency.
async fn create(api: &Api, seller: &str, from: usize, to: usize) -> Fallible<(Duration, Vec<Duration>)> {
    let next = AtomicUsize::new(from);
    let started = Instant::now();
    let runs = join_all((0..CLIENTS).map(|_| async {
        let mut latencies = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            if i >= to {
                return Fallible::Ok(latencies);
            }
            let product = json!({"name": format!("Owned product {i}"), "visible": true});
            let sent = Instant::now();
            api.send(Method::POST, "/api/v1/products", seller, product).await?;
            latencies.push(sent.elapsed());
        }
    }))
    .await;
    let mut latencies = Vec::new();
    for run in runs {
        latencies.extend(run?);
    }
    latencies.sort();
    Ok((started.elapsed(), latencies))
}

/// The first page of the seller's products, 200 times in a row: sorted
/// latencies.
async fn first_page(api: &Api, seller: &str) -> Fallible<Vec<Duration>> {
    let mut latencies = Vec::new();
    for _ in 0..200 {
        let sent = Instant::now();
        let page = api
            .send(Method::GET, "/api/v1/me/products?limit=20", seller, json!(null))
            .await?;
        latencies.push(sent.elapsed());
        if page["items"].as_array().map_or(0, Vec::len) != 20 {
            return Err("a first page without 20 products".into());
        }
    }
    latencies.sort();
    Ok(latencies)
}

fn row(what: &str, wall: Duration, latencies: &[Duration]) {
    println!(
        "| {what} | {:.0} | {} | {} |",
        latencies.len() as f64 / wall.as_secs_f64(),
        ms(percentile(latencies, 0.5)),
        ms(percentile(latencies, 0.99))
    );
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        return Err("usage: owner_bench ADMIN_TOKEN PRODUCTS BASE_URL".into());
    }
    let admin = args[1].clone();
    let products: usize = args[2].parse().map_err(|e| format!("PRODUCTS: {e}"))?;
    if products < 2 * WINDOW {
        return Err(format!("PRODUCTS must be at least {}", 2 * WINDOW).into());
    }
    let api = Api::new(&args[3..])?;
    let quotas = json!({"max_products": products + 1000});
    let (seller, _) = api.seller_with_store(&admin, "bigseller", Some(quotas)).await?;

    println!("| one seller ({CLIENTS} clients) | creates/s | p50 | p99 |");
    println!("|---|---|---|---|");
    let (wall, first) = create(&api, &seller, 0, WINDOW).await?;
    row("create products 1 – 1,000", wall, &first);
    let small = first_page(&api, &seller).await?;
    create(&api, &seller, WINDOW, products - WINDOW).await?;
    let (wall, last) = create(&api, &seller, products - WINDOW, products).await?;
    row(
        &format!("create products {} – {products}", products - WINDOW + 1),
        wall,
        &last,
    );
    let large = first_page(&api, &seller).await?;
    println!();
    println!("| GET /api/v1/me/products?limit=20 (200 in a row) | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| with 1,000 products | {} | {} |",
        ms(percentile(&small, 0.5)),
        ms(percentile(&small, 0.99))
    );
    println!(
        "| with {products} products | {} | {} |",
        ms(percentile(&large, 0.5)),
        ms(percentile(&large, 0.99))
    );
    Ok(())
}
