//! Media benchmark driver (used by `bench/media.sh`).
//!
//!   media_bench ADMIN_TOKEN SECONDS BASE_URL [BASE_URL…]
//!
//! With `$BENCH_PIDS` (the nodes' process ids, in the order of the base
//! URLs), it also samples a node's resident memory. Through a seller with
//! a large upload quota, it measures:
//!   - upload MB/s of one 64 MiB file in one PATCH, through the edge of
//!     the node that owns the upload and (in a cluster) through another
//!     node's edge, which forwards the body a chunk at a time (median of
//!     3 each; the time includes hashing the file and creating the asset);
//!   - the resident memory of the edge forwarding a 256 MiB upload (the
//!     owner's own edge on one node), sampled every 20 ms;
//!   - downloads of a cached variant (the `view` variant of a public
//!     3000×2000 JPEG) by 64 clients over every edge for SECONDS;
//!   - variant jobs end to end: 16 uploaded 12-megapixel JPEGs, each asked
//!     for four sizes at once, timed until every job succeeded.
//!
//! Prints Markdown rows.

mod bench_common;

use bench_common::{Api, Fallible, field, measure, ms, percentile};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

/// A file of `len` bytes sniffed as MP4 (no variants are made of it).
fn video(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    bytes.extend((0..len - bytes.len()).map(|i| (i as u8).wrapping_mul(31) ^ seed));
    bytes
}

fn rss_mib(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

struct Bench {
    api: Api,
    admin: String,
    seller: String,
    pids: Vec<String>,
}

impl Bench {
    /// Opens an upload of `len` bytes: its path and the index of the edge
    /// of the node that owns it.
    async fn open(&self, len: usize) -> Fallible<(String, usize)> {
        let res = self
            .api
            .client
            .post(format!("{}/api/v1/uploads", self.api.bases[0]))
            .bearer_auth(&self.seller)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", len.to_string())
            .send()
            .await?;
        if res.status() != StatusCode::CREATED {
            return Err(format!("open: {} {}", res.status(), res.text().await?).into());
        }
        let location = res.headers()["location"].to_str()?.to_string();
        let id = location.rsplit('/').next().unwrap_or_default().to_string();
        let owner = self
            .api
            .send(
                Method::GET,
                &format!("/api/v1/cluster/owner?kind=upload&key={id}"),
                &self.admin,
                Value::Null,
            )
            .await?;
        let node = field(&owner, "owner")?;
        let index = node
            .trim_start_matches('n')
            .parse::<usize>()
            .unwrap_or(1)
            .saturating_sub(1);
        Ok((location, index.min(self.api.bases.len() - 1)))
    }

    /// PATCHes the whole `file` through edge `edge`: the asset's id and
    /// the seconds it took.
    async fn patch(&self, location: &str, edge: usize, file: Vec<u8>) -> Fallible<(String, f64)> {
        let started = Instant::now();
        let res = self
            .api
            .client
            .patch(format!("{}{location}", self.api.bases[edge]))
            .bearer_auth(&self.seller)
            .header("Tus-Resumable", "1.0.0")
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", "0")
            .body(file)
            .send()
            .await?;
        let took = started.elapsed().as_secs_f64();
        if res.status() != StatusCode::NO_CONTENT {
            return Err(format!("patch: {} {}", res.status(), res.text().await?).into());
        }
        Ok((res.headers()["media-id"].to_str()?.to_string(), took))
    }

    async fn delete(&self, media_id: &str) -> Fallible<()> {
        self.api
            .send(
                Method::DELETE,
                &format!("/api/v1/media/{media_id}"),
                &self.seller,
                Value::Null,
            )
            .await
            .map(|_| ())
    }

    /// Median MB/s of 3 uploads of `len` bytes, through the owner's edge or
    /// another's.
    async fn upload_rate(&self, len: usize, through_owner: bool) -> Fallible<f64> {
        let mut rates = Vec::new();
        for round in 0..3u8 {
            let (location, owner) = self.open(len).await?;
            let edge = match through_owner {
                true => owner,
                false => (owner + 1) % self.api.bases.len(),
            };
            let (media_id, took) = self.patch(&location, edge, video(len, round)).await?;
            rates.push(len as f64 / MIB as f64 / took);
            self.delete(&media_id).await?;
        }
        rates.sort_by(f64::total_cmp);
        Ok(rates[1])
    }

    /// The forwarding edge's resident memory before and at its peak while
    /// a `len`-byte upload passes through it.
    async fn forwarding_memory(&self, len: usize) -> Fallible<Option<(f64, f64, usize)>> {
        let (location, owner) = self.open(len).await?;
        let edge = (owner + 1) % self.api.bases.len();
        let Some(pid) = self.pids.get(edge).cloned() else {
            return Ok(None);
        };
        let before = rss_mib(&pid).unwrap_or(0.0);
        let peak_kib = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let sampling = tokio::spawn({
            let (pid, peak_kib) = (pid.clone(), peak_kib.clone());
            async move {
                loop {
                    let now = (rss_mib(&pid).unwrap_or(0.0) * 1024.0) as u64;
                    peak_kib.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
        let result = self.patch(&location, edge, video(len, 7)).await;
        sampling.abort();
        let sampled = peak_kib.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
        let peak = sampled.max(rss_mib(&pid).unwrap_or(0.0));
        let (media_id, _) = result?;
        self.delete(&media_id).await?;
        Ok(Some((before, peak, edge)))
    }

    /// Uploads `file` and waits until its default variants are made: its id.
    async fn image(&self, file: Vec<u8>) -> Fallible<String> {
        let (location, owner) = self.open(file.len()).await?;
        let (media_id, _) = self.patch(&location, owner, file).await?;
        self.wait_variants(&media_id, 2).await?;
        Ok(media_id)
    }

    async fn wait_variants(&self, media_id: &str, count: usize) -> Fallible<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let asset = self
                .api
                .send(
                    Method::GET,
                    &format!("/api/v1/media/{media_id}"),
                    &self.seller,
                    Value::Null,
                )
                .await?;
            if asset["variants"].as_array().is_some_and(|v| v.len() >= count) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{media_id} never got {count} variants").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let (admin, seconds, api) = bench_common::timed_args("media_bench")?;
    let nodes = api.bases.len();
    let quotas = json!({"max_upload_bytes": 1u64 << 40});
    let (seller, _) = api.seller_with_store(&admin, "mediaseller", Some(quotas)).await?;
    let pids = std::env::var("BENCH_PIDS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let bench = Bench {
        api,
        admin,
        seller,
        pids,
    };

    println!("| workload | nodes | result |");
    println!("|---|---|---|");
    let owner = bench.upload_rate(64 * MIB, true).await?;
    println!("| upload 64 MiB, owner's edge (median of 3) | {nodes} | {owner:.0} MB/s |");
    if nodes > 1 {
        let other = bench.upload_rate(64 * MIB, false).await?;
        println!("| upload 64 MiB, another node's edge (median of 3) | {nodes} | {other:.0} MB/s |");
    }
    if let Some((before, peak, edge)) = bench.forwarding_memory(256 * MIB).await? {
        let role = if nodes > 1 { "forwarding" } else { "owning" };
        println!(
            "| RSS of the {role} edge (n{}) during a 256 MiB upload | {nodes} | {before:.0} → {peak:.0} MiB (+{:.0}) |",
            edge + 1,
            peak - before
        );
    }

    // A cached variant, downloaded by 64 clients over every edge.
    let public = bench.image(actors::media::samples::photo(3000, 2000, 1)).await?;
    bench
        .api
        .send(
            Method::PUT,
            &format!("/api/v1/media/{public}/acl"),
            &bench.seller,
            json!({"public": true}),
        )
        .await?;
    let path = format!("/api/v1/media/{public}/variants/view");
    let measured = measure(64, seconds, |c, deadline| {
        let (client, url) = (
            bench.api.client.clone(),
            format!("{}{path}", bench.api.bases[c % nodes]),
        );
        async move {
            let (mut latencies, mut bytes) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let started = Instant::now();
                let res = client.get(&url).send().await?;
                if res.status() != StatusCode::OK {
                    return Err(format!("variant: {}", res.status()).into());
                }
                bytes += res.bytes().await?.len();
                latencies.push(started.elapsed());
            }
            Ok((latencies, bytes))
        }
    })
    .await?;
    let total: usize = measured.per_client.iter().sum();
    let size = total / measured.latencies.len();
    println!(
        "| download a cached variant ({} KiB), 64 clients | {nodes} | {:.0} req/s, {:.0} MB/s, p50 {}, p99 {} |",
        size / 1024,
        measured.per_second(seconds),
        total as f64 / MIB as f64 / seconds as f64,
        ms(percentile(&measured.latencies, 0.5)),
        ms(percentile(&measured.latencies, 0.99)),
    );

    // Variant jobs end to end.
    let mut sources = Vec::new();
    for seed in 0..16 {
        sources.push(
            bench
                .image(actors::media::samples::photo(4000, 3000, 100 + seed))
                .await?,
        );
    }
    let specs = json!({"variants": [
        {"name": "b_thumb", "width": 200, "height": 200, "fit": "cover", "format": "jpeg"},
        {"name": "b_small", "width": 400, "height": 400, "fit": "contain", "format": "jpeg"},
        {"name": "b_view", "width": 1200, "height": 1200, "fit": "contain", "format": "jpeg"},
        {"name": "b_zoom", "width": 2000, "height": 2000, "fit": "contain", "format": "jpeg"}
    ]});
    let started = Instant::now();
    for media_id in &sources {
        let path = format!("/api/v1/media/{media_id}/variants");
        bench
            .api
            .send(Method::POST, &path, &bench.seller, specs.clone())
            .await?;
    }
    for media_id in &sources {
        bench.wait_variants(media_id, 6).await?;
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "| variant jobs: 16 × 4 variants of a 4000×3000 JPEG | {nodes} | {:.1} variants/s ({:.1} s) |",
        64.0 / took,
        took
    );
    Ok(())
}
