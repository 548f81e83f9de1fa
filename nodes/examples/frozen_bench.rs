//! Requests while a node is frozen (used by `bench/frozen.sh`).
//!
//!   frozen_bench ADMIN_TOKEN SECONDS BASE_URL BASE_URL BASE_URL…
//!
//! With `$BENCH_PIDS` (the nodes' process ids, in the order of the base
//! URLs). Registers 64 users, then 16 clients read their profiles
//! (`GET /api/v1/me`, each user's record on its owner) through every edge
//! but the last node's, for SECONDS with all nodes up, then for SECONDS
//! with the last node stopped (SIGSTOP; SIGCONT after). Prints each
//! phase's requests per second, p50, p99, slowest and 503s.

mod bench_common;

use bench_common::{Fallible, measure, ms, percentile};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const USERS: usize = 64;
const CLIENTS: usize = 16;

fn signal(pid: &str, sig: &str) -> Fallible<()> {
    let status = std::process::Command::new("kill").args([sig, pid]).status()?;
    if !status.success() {
        return Err(format!("kill {sig} {pid} failed").into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let (_admin, seconds, api) = bench_common::timed_args("frozen_bench")?;
    let pids: Vec<String> = std::env::var("BENCH_PIDS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if api.bases.len() < 3 || pids.len() != api.bases.len() {
        println!("(needs three nodes and their PIDs: skipped)");
        return Ok(());
    }
    let mut tokens = Vec::new();
    for u in 0..USERS {
        tokens.push(api.sign_up(&format!("frozen{u}")).await?.1);
    }
    let edges = &api.bases[..api.bases.len() - 1];
    println!("| phase | req/s | p50 | p99 | slowest | 503 |");
    println!("|---|---|---|---|---|---|");
    for phase in ["all nodes up", "last node frozen (SIGSTOP)"] {
        if phase.starts_with("last") {
            signal(pids.last().ok_or("no pid")?, "-STOP")?;
        }
        let measured = measure(CLIENTS, seconds, |c, deadline| {
            let (client, tokens) = (api.client.clone(), tokens.clone());
            let base = edges[c % edges.len()].clone();
            async move {
                let (mut latencies, mut unavailable, mut n) = (Vec::new(), 0u64, c);
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let res = client
                        .get(format!("{base}/api/v1/me"))
                        .bearer_auth(&tokens[n % tokens.len()])
                        .timeout(Duration::from_secs(15))
                        .send()
                        .await?;
                    match res.status() {
                        StatusCode::OK => {}
                        StatusCode::SERVICE_UNAVAILABLE => unavailable += 1,
                        other => return Err(format!("GET /api/v1/me: {other}").into()),
                    }
                    latencies.push(started.elapsed());
                    n += CLIENTS;
                }
                Ok((latencies, unavailable))
            }
        })
        .await;
        if phase.starts_with("last") {
            signal(pids.last().ok_or("no pid")?, "-CONT")?;
        }
        let measured = measured?;
        println!(
            "| {phase} | {:.0} | {} | {} | {} | {} |",
            measured.per_second(seconds),
            ms(percentile(&measured.latencies, 0.5)),
            ms(percentile(&measured.latencies, 0.99)),
            ms(*measured.latencies.last().unwrap_or(&Duration::ZERO)),
            measured.per_client.iter().sum::<u64>()
        );
    }
    Ok(())
}
