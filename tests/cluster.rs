//! Multi-node tests against real processes (see `cluster_harness`).

use crate::cluster_checker::*;
use crate::cluster_harness::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_edge_serves_every_user() {
    let cluster = TestCluster::start(11, 3);
    cluster.wait_connected().await;
    for u in 0..12 {
        assert_eq!(cluster.register(1, &format!("spread{u}")).await, StatusCode::CREATED);
    }
    for u in 0..12 {
        let (status, _, tokens) = cluster.login(1, &format!("spread{u}")).await;
        assert_eq!(status, StatusCode::OK);
        let token = tokens["access_token"].as_str().unwrap();
        for node in [2, 3] {
            // A token from n1, verified by n2 and n3; the user on any node.
            let me = cluster.me(node, token).await;
            assert_eq!(me["username"], format!("spread{u}"));
        }
    }
    // Usernames are unique across the whole cluster, whichever edge is used.
    assert_eq!(cluster.register(3, "spread0").await, StatusCode::CONFLICT);

    // Operators see the cluster through any edge and from the command line.
    let token = cluster.admin_token().await;
    let status = cluster.status(3, &token).await;
    assert_eq!(status["epoch"], 1);
    let members = members(&status);
    assert_eq!(members.len(), 3);
    assert!(
        members.values().all(|(state, shards)| state == "up" && *shards > 0),
        "{members:?}"
    );
    assert_eq!(members.values().map(|(_, s)| s).sum::<u64>(), 64);
    let out = tokio::task::block_in_place(|| cluster.cli(&["--name", "n1", "cluster", "status"], ""));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["members"].as_array().unwrap().len(), 3);
    // With the node's view of the metadata Raft.
    assert!(
        printed["raft"]["term"].is_u64() && printed["raft"].get("voters").is_some(),
        "{printed}"
    );
    // Listings span every node: all accounts, paged through n3.
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=5".to_string();
    loop {
        let page: Value = cluster.get_json(3, &path, Some(&token)).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/users?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    let mut expected: Vec<String> = (0..12).map(|u| format!("spread{u}")).collect();
    expected.push("root".into());
    expected.sort();
    assert_eq!(seen, expected);
    let created = cluster
        .post(
            1,
            "/api/v1/roles",
            &token,
            serde_json::json!({"name": "support", "permissions": ["identity:admin"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let roles: Value = cluster.get_json(2, "/api/v1/roles", Some(&token)).await;
    assert!(
        roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "support"),
        "{roles}"
    );
    // Revocation reaches every edge at once, not when a cached standing
    // ages out: a token n3 has just admitted (and cached) is refused by n3
    // right after n1 disables its account, and after a sign-out through n1.
    let (_, _, disabled) = cluster.login(1, "spread1").await;
    let disabled = disabled["access_token"].as_str().unwrap();
    let id = cluster.me(3, disabled).await["id"].as_str().unwrap().to_string();
    let orders = |node, token| cluster.get_json(node, "/api/v1/orders", Some(token));
    assert!(orders(3, disabled).await["items"].is_array());
    let res = cluster
        .post(1, &format!("/api/v1/users/{id}/disable"), &token, serde_json::json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(orders(3, disabled).await["error"]["code"], "account_disabled");
    let (_, _, signed_out) = cluster.login(1, "spread2").await;
    let access = signed_out["access_token"].as_str().unwrap();
    assert!(orders(2, access).await["items"].is_array());
    let res = cluster
        .post(
            1,
            "/api/v1/auth/logout",
            access,
            serde_json::json!({"refresh_token": signed_out["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(orders(2, access).await["error"]["code"], "token_revoked");
    // Catalog entities live on whichever node owns them, too.
    let tag: Value = cluster
        .post(1, "/api/v1/tags", &token, serde_json::json!({"name": "Shoes"}))
        .await
        .json()
        .await
        .unwrap();
    let attribute: Value = cluster
        .post(
            1,
            "/api/v1/attributes",
            &token,
            serde_json::json!({"name": "Size", "kind": "enum", "values": ["S", "M"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    for node in [2, 3] {
        let roots: Value = cluster.get_json(node, "/api/v1/tags", None).await;
        assert_eq!(roots["items"][0]["id"], tag["id"]);
        let found: Value = cluster.get_json(node, "/api/v1/attributes", None).await;
        assert_eq!(found["items"][0]["id"], attribute["id"]);
    }
    let ready: Value = cluster.get_json(2, "/readyz", None).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["shards_hosted"].as_u64().unwrap(), members["n2"].1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_makes_only_its_users_wait_and_brings_them_back() {
    let cluster = TestCluster::start(12, 3);
    cluster.wait_connected().await;
    let users = cluster.register_all(1, "killed", 30).await;
    cluster.kill(2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut waiting, mut served) = (0, 0);
    for user in &users {
        let started = Instant::now();
        let (status, retry_after, body) = cluster.login(1, user).await;
        match status {
            StatusCode::OK => served += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                waiting += 1;
                assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
                assert_eq!(body["error"]["code"], "shard_unavailable");
                assert!(
                    started.elapsed() < Duration::from_secs(2),
                    "answered at once, not after a timeout"
                );
            }
            other => panic!("{user}: unexpected {other} {body}"),
        }
    }
    assert!(waiting > 0 && served > 0, "waiting {waiting}, served {served}");
    cluster.start_node(2, COOKIE);
    cluster.wait_connected().await;
    for user in &users {
        let (status, _, body) = cluster.login(3, user).await;
        assert_eq!(status, StatusCode::OK, "{user} after the restart: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_node_is_suspected_and_recovers_by_itself() {
    let cluster = TestCluster::start(13, 3);
    cluster.wait_connected().await;
    let users = cluster.register_all(1, "frozen", 30).await;
    cluster.signal(3, libc::SIGSTOP);
    let frozen_at = Instant::now();
    let deadline = frozen_at + Duration::from_secs(10);
    while !log_contains(&cluster.log(1), "peer=n3 from=Up to=Suspect") {
        assert!(Instant::now() < deadline, "n3 never became suspect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        frozen_at.elapsed() < Duration::from_secs(3),
        "suspected within the configured time"
    );
    let mut waiting = 0;
    for user in &users {
        let (status, _, _) = cluster.login(1, user).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            waiting += 1;
        }
    }
    assert!(waiting > 0, "n3's users wait while it is frozen");
    cluster.signal(3, libc::SIGCONT);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !log_contains(&cluster.log(1), "peer=n3 from=Suspect to=Up") {
        assert!(Instant::now() < deadline, "n3 never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for user in &users {
        assert_eq!(cluster.login(1, user).await.0, StatusCode::OK);
    }
}

/// Requests to a frozen owner are answered 503 within
/// `[cluster] unresponsive_after_ms` (1 s by default), also before the
/// owner is suspected, rather than after the 10 s ask timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_a_frozen_owner_fail_fast() {
    let cluster = TestCluster::start(23, 3);
    cluster.wait_connected().await;
    let users = cluster.register_all(1, "fast", 24).await;
    cluster.signal(3, libc::SIGSTOP);
    let mut refused = 0;
    for user in &users {
        let started = Instant::now();
        let (status, _, _) = cluster.login(1, user).await;
        let took = started.elapsed();
        assert!(took < Duration::from_millis(2500), "{user}: {status} after {took:?}");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1;
        }
    }
    assert!(refused > 0, "some users live on n3");
    cluster.signal(3, libc::SIGCONT);
    let deadline = Instant::now() + Duration::from_secs(10);
    for user in &users {
        while cluster.login(1, user).await.0 != StatusCode::OK {
            assert!(Instant::now() < deadline, "{user} cannot sign in after n3 thawed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Tokens a node signed stay valid on the others after it is gone and
/// they restart: its public keys are fetched ahead of need and kept on
/// disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_outlive_their_issuer_and_a_restart_of_the_verifier() {
    let cluster = TestCluster::start(24, 3);
    cluster.wait_connected().await;
    let users = cluster.register_all(1, "keys", 6).await;
    let mut tokens = Vec::new();
    for user in &users {
        let (status, _, body) = cluster.login(1, user).await;
        assert_eq!(status, StatusCode::OK);
        tokens.push(body["access_token"].as_str().unwrap().to_string());
    }
    // The peers learn n1's keys within a few heartbeats of connecting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.kill(1);
    cluster.kill(2);
    cluster.start_node(2, COOKIE);
    for node in [2, 3] {
        for token in &tokens {
            let res = cluster
                .client
                .get(format!("{}/api/v1/me", cluster.base(node)))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            // 200, or 503 for a user whose shard is on n1: never 401.
            assert_ne!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "through n{node}: {:?}",
                res.text().await
            );
        }
    }
}

/// A node configured with another shard count is refused, saying why;
/// fixed, it joins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_another_shard_count_is_refused_until_its_config_is_fixed() {
    let cluster = TestCluster::start(25, 2);
    cluster.wait_connected().await;
    let config = cluster.dir.path().join("cluster.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, good.replace("shards = 64", "shards = 32")).unwrap();
    cluster.configure_node(3);
    let (acked, ()) = under_load(&cluster, vec![1, 2], async {
        cluster.spawn_node(3, COOKIE, &[]);
        assert_eq!(
            cluster.wait_exit(3, Duration::from_secs(30)).await,
            Some(false),
            "it exits with an error"
        );
    })
    .await;
    assert!(log_contains(
        &cluster.log(3),
        "this cluster has 64 shards, but this node is configured with 32"
    ));
    let token = cluster.admin_token().await;
    let status = cluster.status(1, &token).await;
    assert_eq!(members(&status).len(), 2, "{status}");
    // Fixed (its empty data directory, written with 32 shards, removed).
    let fixed = std::fs::read_to_string(&config)
        .unwrap()
        .replace("shards = 32", "shards = 64");
    std::fs::write(&config, fixed).unwrap();
    std::fs::remove_dir_all(cluster.dir.path().join("n3")).unwrap();
    tokio::task::block_in_place(|| cluster.start_node(3, COOKIE));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spread = members(&cluster.status(1, &token).await);
        if spread.len() == 3 && spread.values().all(|(_, shards)| *shards > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "n3 never joined: {spread:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for user in cluster.register_all(2, "after", 12).await {
        assert_eq!(cluster.login(3, &user).await.0, StatusCode::OK);
    }
    settle(&cluster, &[1, 2, 3], &token).await;
    verify(&cluster, &[1, 2, 3], &acked).await;
}

/// The metadata Raft forms from the shard table: every node sees the same
/// leader and the imported owners; killing the leader elects another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_raft_forms_and_survives_its_leader() {
    let cluster = TestCluster::start(26, 3);
    cluster.wait_connected().await;
    let token = cluster.admin_token().await;
    let agreed = |statuses: &[Value]| {
        let leaders: Vec<&Value> = statuses.iter().map(|s| &s["raft"]["leader"]).collect();
        leaders[0].is_string()
            && leaders.iter().all(|l| *l == leaders[0])
            && statuses.iter().all(|s| s["raft"]["epoch"] == s["epoch"])
            // Every node's public keys are in the replicated state.
            && statuses
                .iter()
                .all(|s| s["raft"]["key_holders"] == serde_json::json!(["n1", "n2", "n3"]))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let statuses = loop {
        let mut statuses = Vec::new();
        for node in 1..=3 {
            statuses.push(cluster.status(node, &token).await);
        }
        if agreed(&statuses) {
            break statuses;
        }
        assert!(Instant::now() < deadline, "no agreed raft: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(statuses[0]["raft"]["voters"], serde_json::json!(["n1", "n2", "n3"]));
    let leader = statuses[0]["raft"]["leader"].as_str().unwrap().to_string();
    let number: usize = leader.trim_start_matches('n').parse().unwrap();
    let old_term = statuses[0]["raft"]["term"].as_u64().unwrap();
    cluster.kill(number);
    // The survivors log the new leader (the administrator's account may
    // have lived on the killed node, so its API is not asked).
    let others: Vec<usize> = (1..=3).filter(|n| *n != number).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    'elected: loop {
        for candidate in &others {
            let needle = format!("metadata raft leadership leader=n{candidate} term=");
            let elected_in = |node: &usize| {
                std::fs::read_to_string(cluster.log(*node))
                    .unwrap_or_default()
                    .lines()
                    .any(|line| {
                        line.split(&needle)
                            .nth(1)
                            .and_then(|rest| rest.trim().parse::<u64>().ok())
                            .is_some_and(|term| term > old_term)
                    })
            };
            if others.iter().all(elected_in) {
                break 'elected;
            }
        }
        assert!(Instant::now() < deadline, "no new leader after {leader} was killed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A founder whose data directory was wiped is refused at epoch 1 too:
/// the metadata Raft recorded its identity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_founder_does_not_rejoin_empty() {
    let cluster = TestCluster::start(27, 2);
    cluster.wait_connected().await;
    let token = cluster.admin_token().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cluster.status(1, &token).await["raft"]["leader"].is_string() {
        assert!(Instant::now() < deadline, "the metadata raft never formed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(cluster.status(1, &token).await["epoch"], 1);
    cluster.kill(2);
    std::fs::remove_dir_all(cluster.dir.path().join("n2")).unwrap();
    cluster.spawn_node(2, COOKIE, &[]);
    assert_eq!(
        cluster.wait_exit(2, Duration::from_secs(30)).await,
        Some(false),
        "it exits with an error"
    );
    assert!(log_contains(&cluster.log(2), "another identity"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_the_wrong_cookie_is_refused() {
    let cluster = TestCluster::start(14, 2);
    cluster.wait_connected().await;
    cluster.kill(2);
    cluster.start_node(2, "not the cookie");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !log_contains(&cluster.log(1), "cluster connection refused") {
        assert!(Instant::now() < deadline, "n1 did not log the refusal");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let users: Vec<String> = (0..20).map(|u| format!("cookie{u}")).collect();
    let mut refused = 0;
    for user in &users {
        if cluster.register(1, user).await == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1;
        }
    }
    assert!(refused > 0, "n2 never joined, so its shards are unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_joins_under_writes_and_nothing_acknowledged_is_lost() {
    let cluster = TestCluster::start(15, 3);
    cluster.wait_connected().await;
    // The fourth node starts (and joins) while the writers keep going.
    let join = async {
        tokio::task::block_in_place(|| cluster.add_node(4, &[]));
    };
    let acked = writes_survive(&cluster, vec![1, 2, 3], join, &[4, 1]).await;
    assert!(acked > 10, "only {acked} acknowledged registrations");
    let token = cluster.admin_token().await;
    let status = cluster.status(1, &token).await;
    let spread = members(&status);
    assert_eq!(spread.len(), 4, "{status}");
    assert!(
        spread.values().all(|(_, shards)| *shards > 0),
        "shards on all four nodes: {spread:?}"
    );
    assert!(status["epoch"].as_u64() > Some(1), "{status}");

    // `node leave` hands n4's shards back; n4 exits by itself.
    let out = tokio::task::block_in_place(|| cluster.cli(&["--name", "n4", "leave"], ""));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(cluster.wait_exit(4, Duration::from_secs(30)).await, Some(true));
    let after = members(&cluster.status(1, &token).await);
    assert_eq!(after.keys().collect::<Vec<_>>(), ["n1", "n2", "n3"]);
    for user in ["w0user1", "w1user1", "w2user1"] {
        let (status, _, _) = cluster.login(2, user).await;
        assert_ne!(status, StatusCode::SERVICE_UNAVAILABLE, "{user}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_leave_under_writes_loses_nothing() {
    let cluster = TestCluster::start(16, 3);
    cluster.wait_connected().await;
    cluster.kill(3);
    tokio::task::block_in_place(|| cluster.start_node_with(3, COOKIE, &["--leave-on-shutdown"]));
    cluster.wait_connected().await;
    let leave = async {
        cluster.signal(3, libc::SIGTERM);
        let exit = cluster.wait_exit(3, Duration::from_secs(30)).await;
        assert_eq!(exit, Some(true), "n3 left and exited cleanly");
    };
    let acked = writes_survive(&cluster, vec![1, 2], leave, &[1, 2]).await;
    assert!(acked > 10, "only {acked} acknowledged registrations");
    assert!(log_contains(&cluster.log(3), "leaving the cluster"));
    assert!(log_contains(&cluster.log(1), "\"n1\"") && !member_table_has(&cluster.log(1), "n3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_cluster_script_starts_joins_and_stops_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/local-cluster.sh");
    let run = |args: &[&str]| {
        let out = Command::new("bash")
            .arg(script)
            .args(args)
            .env("NODE_BIN", env!("CARGO_BIN_EXE_node"))
            .env("HTTP_PORT", "18900")
            .env("CLUSTER_PORT", "47900")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let path = dir.path().to_str().unwrap();
    let up = tokio::task::block_in_place(|| run(&["up", "2", path]));
    assert!(
        up.contains("n1 ready on http://127.0.0.2:18900") && up.contains("n2 ready on http://127.0.0.3:18900"),
        "{up}"
    );
    let joined = tokio::task::block_in_place(|| run(&["join", path, "n3"]));
    assert!(joined.contains("n3 ready on http://127.0.0.4:18900"), "{joined}");
    let client = Client::new();
    for ip in 2..=4 {
        let ready: Value = client
            .get(format!("http://127.0.0.{ip}:18900/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready["status"], "ready");
        assert!(ready["shards_hosted"].as_u64().unwrap() > 0, "127.0.0.{ip} owns shards");
    }
    let pids: Vec<i32> = (1..=3)
        .map(|k| {
            std::fs::read_to_string(dir.path().join(format!("n{k}.pid")))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    let down = tokio::task::block_in_place(|| run(&["down", path]));
    assert_eq!(down.lines().filter(|l| l.starts_with("stopped")).count(), 3, "{down}");
    for pid in pids {
        // SAFETY: signal 0 only asks whether the process still exists.
        assert_ne!(unsafe { libc::kill(pid, 0) }, 0, "pid {pid} still running");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_speak_mutual_tls_and_refuse_a_foreign_certificate() {
    let cluster = TestCluster::start_with(17, 2, true);
    cluster.wait_connected().await;
    let users = cluster.register_all(1, "tls", 20).await;
    for user in &users {
        assert_eq!(
            cluster.login(2, user).await.0,
            StatusCode::OK,
            "{user} through the other node"
        );
    }
    // n2 comes back with a certificate from another authority: refused.
    cluster.kill(2);
    Ca::new().issue("n2", cluster.dir.path());
    cluster.spawn_node(2, COOKIE, &[]);
    // Wait until n1 has refused the new n2's handshake, then look.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !log_contains(&cluster.log(1), "invalid peer certificate") {
        assert!(Instant::now() < deadline, "n2 never tried to connect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut unavailable = 0;
    for user in &users {
        if cluster.login(1, user).await.0 == StatusCode::SERVICE_UNAVAILABLE {
            unavailable += 1;
        }
    }
    assert!(
        unavailable > 0,
        "n2's shards are unreachable with a foreign certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_restarted_with_an_empty_data_directory_refuses_to_serve() {
    let cluster = TestCluster::start(18, 2);
    cluster.wait_connected().await;
    tokio::task::block_in_place(|| cluster.add_node(3, &[]));
    for user in ["lost1", "lost2", "lost3"] {
        assert_eq!(cluster.register(1, user).await, StatusCode::CREATED);
    }
    // n3's disk is lost. Started again empty, it must not serve its shards
    // as if they were empty: it refuses to start.
    cluster.kill(3);
    std::fs::remove_dir_all(cluster.dir.path().join("n3")).unwrap();
    cluster.spawn_node(3, COOKIE, &[]);
    let exit = cluster.wait_exit(3, Duration::from_secs(20)).await;
    assert_eq!(exit, Some(false), "it exits with an error");
    assert!(log_contains(&cluster.log(3), "restore its data directory"));
}
