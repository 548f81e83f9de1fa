//! Membership changes under load, checked by the acknowledged-writes
//! checker (`under_load`, `settle`, `verify`): real processes on loopback,
//! shard moves slowed down (`move_pause_ms`) so that each scenario acts in
//! the middle of a change.

use crate::cluster_checker::*;
use crate::cluster_harness::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The names of the members a settled status lists.
fn names(status: &serde_json::Value) -> Vec<String> {
    members(status).into_keys().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_during_a_leave_waits_for_it_and_nothing_is_lost() {
    let (cluster, token) = slow_cluster(28, 3, 100).await;
    cluster.configure_node(4);
    let (acked, ()) = under_load(&cluster, vec![1, 2], async {
        let leave = cluster.cli_async(&["--name", "n3", "leave"]);
        let join = async {
            cluster.wait_switched(1, &token, 1).await;
            // n4 asks to join while n3's leave is moving shards.
            cluster.spawn_node(4, COOKIE, &[]);
        };
        let (out, ()) = tokio::join!(leave, join);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(cluster.wait_exit(3, Duration::from_secs(30)).await, Some(true));
        tokio::task::block_in_place(|| cluster.await_listening(4));
    })
    .await;
    let status = settle(&cluster, &[1, 2, 4], &token).await;
    assert_eq!(names(&status), ["n1", "n2", "n4"], "{status}");
    assert!(log_contains(&cluster.log(4), "is in progress"), "n4 was told to wait");
    let users = verify(&cluster, &[1, 2, 4], &acked).await;
    assert!(users > 10, "only {users} acknowledged accounts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_leaves_at_once_one_waits_and_nothing_is_lost() {
    let (cluster, token) = slow_cluster(29, 4, 100).await;
    let (acked, ()) = under_load(&cluster, vec![1, 2], async {
        let (three, four) = tokio::join!(
            cluster.cli_async(&["--name", "n3", "leave"]),
            cluster.cli_async(&["--name", "n4", "leave"])
        );
        // Exactly one is refused, saying which change is in progress.
        let (refused, second) = match (three.status.success(), four.status.success()) {
            (true, false) => (four, "n4"),
            (false, true) => (three, "n3"),
            other => panic!("both leaves {other:?}: {} / {}", stderr(&three), stderr(&four)),
        };
        assert!(stderr(&refused).contains("is in progress"), "{}", stderr(&refused));
        let first = if second == "n3" { 4 } else { 3 };
        assert_eq!(cluster.wait_exit(first, Duration::from_secs(30)).await, Some(true));
        let out = cluster.cli_async(&["--name", second, "leave"]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        let second = if second == "n3" { 3 } else { 4 };
        assert_eq!(cluster.wait_exit(second, Duration::from_secs(30)).await, Some(true));
    })
    .await;
    let status = settle(&cluster, &[1, 2], &token).await;
    assert_eq!(names(&status), ["n1", "n2"], "{status}");
    assert_eq!(status["raft"]["voters"], serde_json::json!(["n1", "n2"]), "{status}");
    verify(&cluster, &[1, 2], &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiner_killed_mid_move_resumes_and_a_wiped_one_is_refused() {
    let (cluster, token) = slow_cluster(30, 3, 150).await;
    cluster.configure_node(4);
    let (acked, ()) = under_load(&cluster, vec![1, 2, 3], async {
        cluster.spawn_node(4, COOKIE, &[]);
        cluster.wait_switched(1, &token, 2).await;
        cluster.kill(4);
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Restarted with its data: the join goes on where it stopped.
        tokio::task::block_in_place(|| cluster.start_node(4, COOKIE));
    })
    .await;
    let status = settle(&cluster, &[1, 2, 3, 4], &token).await;
    assert!(members(&status).values().all(|(_, shards)| *shards > 0), "{status}");
    verify(&cluster, &[1, 2, 3, 4], &acked).await;

    // Its data directory wiped (moved aside): refused, saying what to do.
    cluster.kill(4);
    let data = cluster.dir.path().join("n4");
    let aside = cluster.dir.path().join("n4.aside");
    std::fs::rename(&data, &aside).unwrap();
    cluster.spawn_node(4, COOKIE, &[]);
    assert_eq!(cluster.wait_exit(4, Duration::from_secs(30)).await, Some(false));
    assert!(log_contains(&cluster.log(4), "restore its data directory"));
    // Restored, it serves again and nothing was lost.
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::rename(&aside, &data).unwrap();
    tokio::task::block_in_place(|| cluster.start_node(4, COOKIE));
    settle(&cluster, &[1, 2, 3, 4], &token).await;
    verify(&cluster, &[1, 2, 3, 4], &acked).await;
}

/// `size` nodes whose shard moves pause `pause_ms` each, connected, and an
/// administrator's token.
async fn slow_cluster(block: u8, size: usize, pause_ms: u64) -> (TestCluster, String) {
    let cluster = TestCluster::start_slow_moves(block, size, pause_ms);
    cluster.wait_connected().await;
    let token = cluster.admin_token().await;
    (cluster, token)
}

/// Three nodes with slow moves, settled: the cluster, an administrator's
/// token, and the number of the node that leads the Raft.
async fn three_with_a_leader(block: u8) -> (TestCluster, String, usize) {
    let (cluster, token) = slow_cluster(block, 3, 150).await;
    let status = settle(&cluster, &[1, 2, 3], &token).await;
    let leader = status["raft"]["leader"]
        .as_str()
        .unwrap()
        .trim_start_matches('n')
        .parse()
        .unwrap();
    (cluster, token, leader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_killed_mid_move_comes_back_and_the_join_completes() {
    let (cluster, token, leader) = three_with_a_leader(31).await;
    // A source that does not lead (the leader's own crash is the next test).
    let source = (1..=3).find(|&i| i != leader).unwrap();
    let edges: Vec<usize> = (1..=3).filter(|&i| i != source).collect();
    cluster.configure_node(4);
    let (acked, ()) = under_load(&cluster, edges.clone(), async {
        cluster.spawn_node(4, COOKIE, &[]);
        cluster.wait_switched(edges[0], &token, 2).await;
        cluster.kill(source);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tokio::task::block_in_place(|| cluster.start_node(source, COOKIE));
        tokio::task::block_in_place(|| cluster.await_listening(4));
    })
    .await;
    let status = settle(&cluster, &[1, 2, 3, 4], &token).await;
    assert_eq!(names(&status), ["n1", "n2", "n3", "n4"], "{status}");
    verify(&cluster, &[1, 2, 3, 4], &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raft_leader_killed_mid_move_another_resumes_the_change() {
    let (cluster, token, leader) = three_with_a_leader(32).await;
    let edges: Vec<usize> = (1..=3).filter(|&i| i != leader).collect();
    cluster.configure_node(4);
    let (acked, ()) = under_load(&cluster, edges.clone(), async {
        cluster.spawn_node(4, COOKIE, &[]);
        cluster.wait_switched(edges[0], &token, 2).await;
        cluster.kill(leader);
        // Another node leads and takes the change on while it is down (the
        // joiner's log says so: the administrator may live on the leader).
        let before = shards_in_log(&cluster.log(4), "n4");
        let deadline = Instant::now() + Duration::from_secs(30);
        while shards_in_log(&cluster.log(4), "n4") <= before {
            assert!(Instant::now() < deadline, "the change stopped with its leader");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::task::block_in_place(|| cluster.start_node(leader, COOKIE));
        tokio::task::block_in_place(|| cluster.await_listening(4));
    })
    .await;
    settle(&cluster, &[1, 2, 3, 4], &token).await;
    verify(&cluster, &[1, 2, 3, 4], &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_join_is_aborted_and_another_node_joins() {
    let (cluster, token) = slow_cluster(33, 3, 200).await;
    cluster.configure_node(4);
    let (acked, ()) = under_load(&cluster, vec![1, 2, 3], async {
        cluster.spawn_node(4, COOKIE, &[]);
        cluster.wait_switched(1, &token, 1).await;
        cluster.kill(4);
        let out = cluster.cli_async(&["--name", "n1", "cluster", "abort"]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("the join of n4"));
    })
    .await;
    // Everything not switched to n4 is served by its source again; n4
    // stays a member only for the shards that became its own.
    let status = settle(&cluster, &[1, 2, 3], &token).await;
    let spread = members(&status);
    assert!(spread.get("n4").is_none_or(|(_, shards)| *shards > 0), "{status}");
    let a_second = cluster.cli_async(&["--name", "n1", "cluster", "abort"]).await;
    assert!(
        stderr(&a_second).contains("no membership change"),
        "{}",
        stderr(&a_second)
    );

    // Another node joins meanwhile; then n4 comes back with its data.
    tokio::task::block_in_place(|| cluster.add_node(5, &[]));
    tokio::task::block_in_place(|| cluster.start_node(4, COOKIE));
    let status = settle(&cluster, &[1, 2, 3, 4, 5], &token).await;
    assert!(members(&status).contains_key("n5"), "{status}");
    verify(&cluster, &[1, 2, 3, 4, 5], &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_joiner_costs_its_callers_at_most_the_unresponsive_time() {
    let (cluster, token) = slow_cluster(34, 3, 150).await;
    cluster.configure_node(4);
    let (acked, ()) = under_load(&cluster, vec![1, 2, 3], async {
        cluster.spawn_node(4, COOKIE, &[]);
        cluster.wait_switched(1, &token, 3).await;
    })
    .await;
    cluster.signal(4, libc::SIGSTOP);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Every sign-in answers soon: 200, or 503 for n4's shards.
    let mut unavailable = 0;
    for acked in &acked {
        for user in acked.usernames().take(15) {
            let started = Instant::now();
            let (status, retry, _) = cluster.login(1, user).await;
            assert!(
                started.elapsed() < Duration::from_secs(4),
                "{user}: {:?}",
                started.elapsed()
            );
            if status == StatusCode::SERVICE_UNAVAILABLE {
                unavailable += 1;
                assert!(retry.is_some(), "{user}: 503 without Retry-After");
            } else {
                assert_eq!(status, StatusCode::OK, "{user}");
            }
        }
    }
    assert!(unavailable > 0, "some users live on the stopped joiner's shards");
    cluster.signal(4, libc::SIGCONT);
    tokio::task::block_in_place(|| cluster.await_listening(4));
    settle(&cluster, &[1, 2, 3, 4], &token).await;
    verify(&cluster, &[1, 2, 3, 4], &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_cluster_restart_without_the_token_issuer_keeps_tokens_valid() {
    let cluster = TestCluster::start(35, 3);
    cluster.wait_connected().await;
    let token = cluster.admin_token().await;
    let (acked, ()) = under_load(&cluster, vec![1, 2, 3], async {}).await;
    for i in 1..=3 {
        cluster.kill(i);
    }
    // Back without n1, which issued some of the tokens: n2 and n3 are a
    // majority of the voters, and verify every token (none refused); the
    // users in n1's shards wait for it (503), the others are served.
    for i in [2, 3] {
        cluster.spawn_node(i, COOKIE, &[]);
    }
    for i in [2, 3] {
        tokio::task::block_in_place(|| cluster.await_listening(i));
    }
    let (mut served, mut waiting) = (0, 0);
    for acked in &acked {
        for (user, old) in acked.tokens() {
            let res = cluster
                .client
                .get(format!("{}/api/v1/me", cluster.base(2)))
                .bearer_auth(old)
                .send()
                .await
                .unwrap();
            match res.status() {
                StatusCode::OK => served += 1,
                StatusCode::SERVICE_UNAVAILABLE => waiting += 1,
                other => panic!("{user}'s token: {other} {}", res.text().await.unwrap()),
            }
        }
    }
    assert!(served > 0 && waiting > 0, "served {served}, waiting {waiting}");
    tokio::task::block_in_place(|| cluster.start_node(1, COOKIE));
    settle(&cluster, &[1, 2, 3], &token).await;
    verify(&cluster, &[1, 2, 3], &acked).await;
}

/// A cluster written by the build before the metadata Raft (its data
/// directories without the Raft's log, state and node identity): on the
/// first start of this version its table is imported, nothing is lost, its
/// tokens stay valid, and the next join goes through the Raft.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_from_before_the_metadata_raft_is_imported_on_upgrade() {
    let cluster = TestCluster::start(36, 3);
    cluster.wait_connected().await;
    let token = cluster.admin_token().await;
    let (acked, ()) = under_load(&cluster, vec![1, 2, 3], async {}).await;
    for i in 1..=3 {
        cluster.kill(i);
        let db = sled::open(cluster.dir.path().join(format!("n{i}/db"))).unwrap();
        for tree in ["node/raft-log", "node/raft-state", "node/identity"] {
            assert!(db.drop_tree(tree).unwrap(), "n{i} had no {tree}");
        }
        db.drop_tree("node/peer-keys").unwrap();
        db.flush().unwrap();
    }
    for i in 1..=3 {
        cluster.spawn_node(i, COOKIE, &[]);
    }
    for i in 1..=3 {
        tokio::task::block_in_place(|| cluster.await_listening(i));
    }
    let status = settle(&cluster, &[1, 2, 3], &token).await;
    assert_eq!(
        status["raft"]["voters"],
        serde_json::json!(["n1", "n2", "n3"]),
        "{status}"
    );
    assert_eq!(status["epoch"], 1, "the imported table keeps its epoch: {status}");
    assert!(log_contains(&cluster.log(1), "metadata raft formed"));
    verify(&cluster, &[1, 2, 3], &acked).await;
    tokio::task::block_in_place(|| cluster.add_node(4, &[]));
    let status = settle(&cluster, &[1, 2, 3, 4], &token).await;
    assert!(members(&status).values().all(|(_, shards)| *shards > 0), "{status}");
    verify(&cluster, &[1, 2, 3, 4], &acked).await;
}
