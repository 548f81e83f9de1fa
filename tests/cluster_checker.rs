//! The acknowledged-writes checker for cluster tests: writers record what
//! the cluster acknowledged while something happens to it (`under_load`);
//! once it settled (`settle`), every acknowledged write must read back
//! through every live edge (`verify`): nothing lost, no stale read, no 503,
//! no valid token refused.

use crate::cluster_harness::{TestCluster, members};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// What a writer saw acknowledged.
#[derive(Default)]
pub struct Acked {
    /// username → the last display name whose edit was acknowledged.
    users: std::collections::BTreeMap<String, Option<String>>,
    /// username → an access token a node issued it during the load.
    tokens: std::collections::BTreeMap<String, String>,
    /// username → edits after the last acknowledged one whose outcome is
    /// unknown (no answer, or an error that does not say it did not run):
    /// each may or may not have been applied.
    unknown: std::collections::BTreeMap<String, Vec<String>>,
    /// Requests answered 503 (they waited for a move or a node and gave up).
    pub unavailable: usize,
}

impl Acked {
    pub fn usernames(&self) -> impl Iterator<Item = &String> {
        self.users.keys()
    }

    /// `(username, a token issued to it under load)`.
    pub fn tokens(&self) -> impl Iterator<Item = (&String, &String)> {
        self.tokens.iter()
    }
}

/// Registers users and edits their profiles through every edge in turn
/// until `stop`, recording only what was acknowledged.
pub async fn write_until(
    cluster: &TestCluster,
    writer: usize,
    nodes: Vec<usize>,
    stop: &std::sync::atomic::AtomicBool,
) -> Acked {
    let mut acked = Acked::default();
    let mut i = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        i += 1;
        let node = nodes[i % nodes.len()];
        let username = format!("w{writer}user{i}");
        match cluster.register(node, &username).await {
            StatusCode::CREATED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                acked.unavailable += 1;
                continue;
            }
            _ => continue,
        }
        acked.users.insert(username.clone(), None);
        let (status, _, tokens) = cluster.login(nodes[(i + 1) % nodes.len()], &username).await;
        if status != StatusCode::OK {
            acked.unavailable += usize::from(status == StatusCode::SERVICE_UNAVAILABLE);
            continue;
        }
        let token = tokens["access_token"].as_str().unwrap().to_string();
        acked.tokens.insert(username.clone(), token.clone());
        for edit in 0..3 {
            let name = format!("{username} v{edit}");
            let res = cluster
                .client
                .patch(format!("{}/api/v1/me", cluster.base(nodes[(i + edit) % nodes.len()])))
                .bearer_auth(&token)
                .json(&json!({"display_name": name}))
                .send()
                .await;
            let (status, code) = match res {
                Ok(r) => {
                    let status = r.status();
                    let body: Value = r.json().await.unwrap_or_default();
                    (Some(status), body["error"]["code"].as_str().map(str::to_string))
                }
                Err(_) => (None, None),
            };
            if status == Some(StatusCode::OK) {
                acked.users.insert(username.clone(), Some(name));
                acked.unknown.remove(&username);
                continue;
            }
            acked.unavailable += usize::from(status == Some(StatusCode::SERVICE_UNAVAILABLE));
            // These say the edit did not run; anything else may have.
            let not_run = matches!(code.as_deref(), Some("shard_moving" | "wrong_owner"))
                || status.is_some_and(|s| s.is_client_error());
            if !not_run {
                acked.unknown.entry(username.clone()).or_default().push(name);
            }
        }
    }
    acked
}

/// Every acknowledged account signs in through `node` and shows its last
/// acknowledged edit — or a later edit whose outcome its writer could not
/// know (a lost or re-applied older edit would show otherwise) — and the
/// token it was issued under load is still accepted.
pub async fn check_acked(cluster: &TestCluster, node: usize, acked: &Acked) {
    for (username, last) in &acked.users {
        let (status, _, tokens) = cluster.login(node, username).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{username} was acknowledged but cannot sign in through n{node}: {tokens}"
        );
        let me = cluster.me(node, tokens["access_token"].as_str().unwrap()).await;
        let shown = me["display_name"].as_str();
        let maybe = acked.unknown.get(username).into_iter().flatten();
        assert!(
            shown == last.as_deref() || maybe.clone().any(|m| Some(m.as_str()) == shown),
            "{username} through n{node}: shows {shown:?}, last acknowledged {last:?}, unknown outcomes {:?}: {me}",
            maybe.collect::<Vec<_>>()
        );
        if let Some(old) = acked.tokens.get(username) {
            let me = cluster.me(node, old).await;
            assert_eq!(
                me["username"].as_str(),
                Some(username.as_str()),
                "{username}'s token refused by n{node}: {me}"
            );
        }
    }
}

/// The acknowledged-writes checker: four writers register users and edit
/// them through `edges` while `change` runs (and a little before and
/// after); returns what they saw acknowledged and what `change` returned.
pub async fn under_load<F: std::future::Future>(
    cluster: &TestCluster,
    edges: Vec<usize>,
    change: F,
) -> (Vec<Acked>, F::Output) {
    let stop = std::sync::atomic::AtomicBool::new(false);
    let writers = futures::future::join_all((0..4).map(|w| write_until(cluster, w, edges.clone(), &stop)));
    let driver = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let out = change.await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    };
    tokio::join!(writers, driver)
}

/// How `edge` sees the cluster: through its HTTP API, or — when that does
/// not answer, e.g. because the administrator's own account lives on a
/// node that is down on purpose — through `node cluster status`.
async fn cluster_view(cluster: &TestCluster, edge: usize, token: &str) -> Option<Value> {
    let res = cluster
        .client
        .get(format!("{}/api/v1/cluster", cluster.base(edge)))
        .bearer_auth(token)
        .timeout(Duration::from_secs(3))
        .send()
        .await;
    if let Ok(res) = res
        && res.status() == StatusCode::OK
    {
        return res.json::<Value>().await.ok();
    }
    let out = cluster
        .cli_async(&["--name", &format!("n{edge}"), "cluster", "status"])
        .await;
    serde_json::from_slice(&out.stdout).ok()
}

/// Waits (up to 90 s) until the cluster settled as every one of `edges`
/// sees it: no membership change in progress, one Raft leader, one epoch,
/// the edges up to each other.
pub async fn settle(cluster: &TestCluster, edges: &[usize], token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut views = Vec::new();
        for &edge in edges {
            if let Some(view) = cluster_view(cluster, edge, token).await {
                views.push(view);
            }
        }
        let key = |v: &Value| {
            (
                v["epoch"].clone(),
                v["raft"]["leader"].clone(),
                v["raft"]["change"].clone(),
            )
        };
        // Every edge sees the others up (a member that is not an edge may
        // be down on purpose).
        let named: Vec<String> = edges.iter().map(|e| format!("n{e}")).collect();
        let all_up = |v: &Value| {
            members(v)
                .iter()
                .all(|(name, (status, _))| status == "up" || !named.contains(name))
        };
        if views.len() == edges.len()
            && views.iter().all(|v| {
                key(v) == key(&views[0]) && v["raft"]["change"].is_null() && !v["raft"]["leader"].is_null() && all_up(v)
            })
        {
            return views.swap_remove(0);
        }
        assert!(Instant::now() < deadline, "the cluster did not settle: {views:#?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// After `settle`: every acknowledged write reads back through every one
/// of `edges` (nothing lost, no stale read, no 503, no valid token
/// refused). The number of acknowledged accounts.
pub async fn verify(cluster: &TestCluster, edges: &[usize], acked: &[Acked]) -> usize {
    for acked in acked {
        for &edge in edges {
            check_acked(cluster, edge, acked).await;
        }
    }
    acked.iter().map(|a| a.users.len()).sum()
}

/// Runs writers on `nodes` while `change` happens, then checks everything
/// through each of `check_on`. Returns the number of acknowledged accounts.
pub async fn writes_survive<F: std::future::Future<Output = ()>>(
    cluster: &TestCluster,
    nodes: Vec<usize>,
    change: F,
    check_on: &[usize],
) -> usize {
    let (acked, ()) = under_load(cluster, nodes, change).await;
    verify(cluster, check_on, &acked).await
}
