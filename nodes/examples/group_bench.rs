//! What a group's size costs (used by `bench/groups.sh`).
//!
//!   group_bench ADMIN_TOKEN MEMBERS BASE_URL
//!
//! Registers MEMBERS users plus 512 probe users, puts every one of the
//! MEMBERS into group "big" and 10 into group "small". Then, alternating
//! between the two groups in rounds (so that the machine's phases hit both
//! alike), 16 clients add the probe users to the group and remove them
//! again (`PUT`/`DELETE …/members/{user}`, each a durable write of the
//! member record, the count and the user's record), read the group
//! (`GET /groups/{id}`, with its member count) and list a page of its
//! members (`GET …/members?limit=10`, at the start and, for "big", at a
//! cursor in the middle). Prints per operation and group the p50, p99 and
//! rate, and the big group's rate as a share of the small one's, measured
//! in the same run. Checked: the member counts after the run.

mod bench_common;

use bench_common::{Api, Fallible, field, ms, percentile};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PROBES: usize = 512;
const CLIENTS: usize = 16;
const ROUNDS: usize = 6;

/// Registers users `name{first..first+count}`: their ids, in order.
async fn register(api: &Api, name: &str, first: usize, count: usize) -> Fallible<Vec<String>> {
    let ids: Vec<Fallible<String>> = futures::stream::iter(first..first + count)
        .map(|u| async move {
            let body = json!({"username": format!("{name}{u}"), "email": format!("{name}{u}@example.com"), "password": bench_common::PASSWORD});
            field(&api.send(Method::POST, "/api/v1/accounts", "", body).await?, "id")
        })
        .buffered(64)
        .collect()
        .await;
    ids.into_iter().collect()
}

async fn status(api: &Api, method: Method, path: &str, token: &str) -> Fallible<(StatusCode, Duration)> {
    let started = Instant::now();
    let res = api
        .client
        .request(method, format!("{}{path}", api.bases[0]))
        .bearer_auth(token)
        .send()
        .await?;
    let status = res.status();
    res.bytes().await?;
    Ok((status, started.elapsed()))
}

/// Runs `ops` (method, path) with CLIENTS clients; every answer must be a
/// success. The latencies.
async fn run(api: &Api, token: &str, ops: Vec<(Method, String)>) -> Fallible<Vec<Duration>> {
    let timed: Vec<Fallible<Duration>> = futures::stream::iter(ops)
        .map(|(method, path)| async move {
            let (code, took) = status(api, method, &path, token).await?;
            if !code.is_success() {
                return Err(format!("{path}: {code}").into());
            }
            Ok(took)
        })
        .buffer_unordered(CLIENTS)
        .collect()
        .await;
    timed.into_iter().collect()
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    busy: Duration,
}

impl Tally {
    fn add(&mut self, latencies: Vec<Duration>, busy: Duration) {
        self.latencies.extend(latencies);
        self.busy += busy;
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.busy.as_secs_f64()
    }

    fn row(&mut self, what: &str) -> String {
        self.latencies.sort();
        format!(
            "| {what} | {} | {} | {} | {:.0}/s |",
            self.latencies.len(),
            ms(percentile(&self.latencies, 0.5)),
            ms(percentile(&self.latencies, 0.99)),
            self.rate()
        )
    }
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().collect();
    let (admin, members): (&str, usize) = (&args[1], args[2].parse()?);
    let api = Api::new(&args[3..])?;

    let loading = Instant::now();
    let users = register(&api, "member", 0, members).await?;
    let probes = register(&api, "probe", 0, PROBES).await?;
    println!(
        "{} users registered in {:.0} s",
        members + PROBES,
        loading.elapsed().as_secs_f64()
    );
    let group = |name: &str| json!({"name": name});
    let big = field(
        &api.send(Method::POST, "/api/v1/groups", admin, group("big")).await?,
        "id",
    )?;
    let small = field(
        &api.send(Method::POST, "/api/v1/groups", admin, group("small")).await?,
        "id",
    )?;
    let filling = Instant::now();
    let fill = |g: &str, ids: &[String]| {
        ids.iter()
            .map(|u| (Method::PUT, format!("/api/v1/groups/{g}/members/{u}")))
            .collect::<Vec<_>>()
    };
    run(&api, admin, fill(&big, &users)).await?;
    run(&api, admin, fill(&small, &users[..10])).await?;
    println!("group of {members} filled in {:.0} s", filling.elapsed().as_secs_f64());
    let middle = {
        let mut sorted = users.clone();
        sorted.sort();
        sorted[sorted.len() / 2].clone()
    };

    let mut changes = [Tally::default(), Tally::default()];
    let mut reads = [Tally::default(), Tally::default()];
    let mut pages = [Tally::default(), Tally::default()];
    for round in 0..ROUNDS {
        // Alternate which group goes first.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let g = if which == 0 { &small } else { &big };
            let mut ops: Vec<(Method, String)> = Vec::new();
            for p in &probes {
                ops.push((Method::PUT, format!("/api/v1/groups/{g}/members/{p}")));
            }
            let started = Instant::now();
            let added = run(&api, admin, ops).await?;
            let removes = probes
                .iter()
                .map(|p| (Method::DELETE, format!("/api/v1/groups/{g}/members/{p}")))
                .collect();
            let removed = run(&api, admin, removes).await?;
            changes[which].add([added, removed].concat(), started.elapsed());

            let started = Instant::now();
            let got = run(&api, admin, vec![(Method::GET, format!("/api/v1/groups/{g}")); 512]).await?;
            reads[which].add(got, started.elapsed());

            let cursor = if which == 0 {
                String::new()
            } else {
                format!("&cursor={middle}")
            };
            let listing = (0..256)
                .map(|i| {
                    let at = if i % 2 == 0 { "" } else { cursor.as_str() };
                    (Method::GET, format!("/api/v1/groups/{g}/members?limit=10{at}"))
                })
                .collect();
            let started = Instant::now();
            let listed = run(&api, admin, listing).await?;
            pages[which].add(listed, started.elapsed());
        }
    }
    for (g, expected) in [(&small, 10), (&big, members)] {
        let read: Value = api
            .send(Method::GET, &format!("/api/v1/groups/{g}"), admin, Value::Null)
            .await?;
        if read["member_count"].as_u64() != Some(expected as u64) {
            return Err(format!("group {g} should count {expected}: {read}").into());
        }
    }
    println!("| operation (16 clients) | requests | p50 | p99 | rate |");
    println!("|---|---|---|---|---|");
    for (name, tallies) in [
        ("add + remove a member", &mut changes),
        ("read the group", &mut reads),
        ("a page of 10 members", &mut pages),
    ] {
        println!("{}", tallies[0].row(&format!("{name}, group of 10")));
        println!("{}", tallies[1].row(&format!("{name}, group of {members}")));
        println!(
            "| {name}: the big group's rate as a share of the small one's | | | | {:.0} % |",
            100.0 * tallies[1].rate() / tallies[0].rate()
        );
    }
    Ok(())
}
