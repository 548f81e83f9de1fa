//! A join and a leave under a write load (used by `bench/membership.sh`).
//!
//!   membership_bench ADMIN_TOKEN USERS BASE_URL BASE_URL BASE_URL
//!
//! With `$BENCH_JOIN` and `$BENCH_LEAVE` (shell commands that start a
//! fourth node into the cluster and make it leave). Registers USERS users
//! through the three edges, then 32 clients edit 256 users' profiles
//! (`PATCH /api/v1/me`, a durable write each) through the three edges:
//! for 10 s with nothing changing (the baseline), then while the fourth
//! node joins, then while it leaves. A change is timed from its command
//! until the cluster reports it over. Prints each phase's duration,
//! writes, 503s (requests that waited for a moving shard and gave up),
//! other failures, p50, p99 and the slowest write.

mod bench_common;

use bench_common::{Fallible, ms, percentile};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const WRITERS: usize = 256;
const CLIENTS: usize = 32;
const REGISTERING: usize = 64;

#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    unavailable: u64,
    failed: u64,
    /// The error codes of the 503s.
    codes: std::collections::BTreeMap<String, u64>,
}

async fn cluster_status(api: &bench_common::Api, token: &str) -> Option<Value> {
    let res = api
        .client
        .get(format!("{}/api/v1/cluster", api.bases[0]))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    res.json().await.ok()
}

/// Runs `command` (a shell line), then waits until the cluster reports no
/// change in progress and `settled` holds; the time it took.
async fn change(
    api: &bench_common::Api,
    admin: &str,
    command: &str,
    settled: impl Fn(&Value) -> bool,
) -> Fallible<Duration> {
    let started = Instant::now();
    let status = tokio::process::Command::new("sh")
        .args(["-c", command])
        .status()
        .await?;
    if !status.success() {
        return Err(format!("{command}: {status}").into());
    }
    loop {
        if let Some(status) = cluster_status(api, admin).await
            && status["raft"]["change"].is_null()
            && settled(&status)
        {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(1800) {
            return Err(format!("{command}: not over after 30 min").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn shards_of(status: &Value, name: &str) -> u64 {
    status["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == name))
        .and_then(|m| m["shards"].as_u64())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [admin, users, bases @ ..] = args.as_slice() else {
        return Err("usage: membership_bench ADMIN_TOKEN USERS BASE_URL…".into());
    };
    let users: usize = users.parse()?;
    let api = Arc::new(bench_common::Api::new(bases)?);
    let join_cmd = std::env::var("BENCH_JOIN")?;
    let leave_cmd = std::env::var("BENCH_LEAVE")?;

    // The users, registered through every edge at once.
    let loading = Instant::now();
    let registered = join_all((0..REGISTERING).map(|r| {
        let api = api.clone();
        async move {
            for u in (r..users).step_by(REGISTERING) {
                let base = &api.bases[u % api.bases.len()];
                let body = json!({"username": format!("member{u}"), "email": format!("member{u}@example.com"), "password": bench_common::PASSWORD});
                let mut tries = 0;
                loop {
                    let res = api.client.post(format!("{base}/api/v1/accounts")).json(&body).send().await?;
                    match res.status() {
                        StatusCode::CREATED | StatusCode::CONFLICT => break,
                        _ if tries < 5 => tries += 1,
                        other => return Err(format!("register member{u}: {other}").into()),
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Fallible::Ok(())
        }
    }))
    .await;
    registered.into_iter().collect::<Result<Vec<()>, _>>()?;
    println!(
        "{users} users registered in {:.0} s ({:.0}/s)",
        loading.elapsed().as_secs_f64(),
        users as f64 / loading.elapsed().as_secs_f64()
    );
    let mut tokens = Vec::new();
    for w in 0..WRITERS {
        tokens.push(api.sign_in(&format!("member{}", w * (users / WRITERS))).await?);
    }
    let tokens = Arc::new(tokens);

    println!("| phase | took | writes | 503 | other failures | p50 | p99 | slowest |");
    println!("|---|---|---|---|---|---|---|---|");
    for phase in [
        "nothing changes (baseline)",
        "a fourth node joins",
        "the fourth node leaves",
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (api, tokens, stop) = (api.clone(), tokens.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut out = Outcome::default();
                    let mut n = c;
                    while !stop.load(Ordering::Relaxed) {
                        let base = &api.bases[n % api.bases.len()];
                        let started = Instant::now();
                        let res = api
                            .client
                            .patch(format!("{base}/api/v1/me"))
                            .bearer_auth(&tokens[n % tokens.len()])
                            .json(&json!({"display_name": format!("edit {n}")}))
                            .timeout(Duration::from_secs(30))
                            .send()
                            .await;
                        match res {
                            Ok(r) if r.status() == StatusCode::OK => out.latencies.push(started.elapsed()),
                            Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
                                out.unavailable += 1;
                                let body: Value = r.json().await.unwrap_or_default();
                                let code = body["error"]["code"].as_str().unwrap_or("?").to_string();
                                *out.codes.entry(code).or_default() += 1;
                            }
                            _ => out.failed += 1,
                        }
                        n += CLIENTS;
                    }
                    out
                })
            })
            .collect();
        let started = Instant::now();
        let took = match phase {
            p if p.starts_with("nothing") => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                started.elapsed()
            }
            p if p.contains("joins") => change(&api, admin, &join_cmd, |s| shards_of(s, "n4") > 0).await?,
            _ => {
                change(&api, admin, &leave_cmd, |s| {
                    s["members"]
                        .as_array()
                        .is_some_and(|m| m.iter().all(|m| m["name"] != "n4"))
                })
                .await?
            }
        };
        stop.store(true, Ordering::Relaxed);
        let mut all = Outcome::default();
        for client in clients {
            let out = client.await?;
            all.latencies.extend(out.latencies);
            all.unavailable += out.unavailable;
            all.failed += out.failed;
            for (code, n) in out.codes {
                *all.codes.entry(code).or_default() += n;
            }
        }
        all.latencies.sort();
        println!(
            "| {phase} | {:.1} s | {} | {} | {} | {} | {} | {} |",
            took.as_secs_f64(),
            all.latencies.len(),
            all.unavailable,
            all.failed,
            ms(percentile(&all.latencies, 0.5)),
            ms(percentile(&all.latencies, 0.99)),
            ms(*all.latencies.last().unwrap_or(&Duration::ZERO)),
        );
        if !all.codes.is_empty() {
            eprintln!("503s during \"{phase}\": {:?}", all.codes);
        }
    }
    Ok(())
}
