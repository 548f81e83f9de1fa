//! Tests that start the real `node` binary and stop it by its own PID.

use crate::support::{PASSWORD, test_config};
use reqwest::StatusCode;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Node {
    pub child: Child,
    pub base: String,
}

fn node_command(dir: &Path) -> Command {
    let config = dir.join("test.toml");
    if !config.exists() {
        std::fs::write(&config, test_config("")).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_node"));
    cmd.arg("--config").arg(&config).arg("--data-dir").arg(dir.join("data"));
    cmd.env("LOG", "warn");
    cmd
}

/// Starts a node on an ephemeral port and waits for its "listening" line.
pub fn start(dir: &Path) -> Node {
    start_with_env(dir, &[])
}

/// [`start`] with these environment variables.
pub fn start_with_env(dir: &Path, env: &[(&str, &str)]) -> Node {
    let mut child = node_command(dir)
        .envs(env.iter().copied())
        .args(["--http", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Node { child, base }
}

/// Runs `node admin create-user ARGS`, typing the password on stdin.
pub fn admin_create_user(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut create = node_command(dir)
        .args(["admin", "create-user"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    create.wait_with_output().unwrap()
}

pub fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the PID of a child this test started.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

async fn register(client: &reqwest::Client, base: &str, username: &str) -> Result<StatusCode, reqwest::Error> {
    client
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}))
        .send()
        .await
        .map(|r| r.status())
}

async fn can_login(client: &reqwest::Client, base: &str, login: &str, password: &str) -> bool {
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_registrations_loses_no_acknowledged_account() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = start(dir.path());
    let client = reqwest::Client::new();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (client, base, acked) = (client.clone(), node.base.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let username = format!("crash{w}_{i}");
                    match register(&client, &base, &username).await {
                        Ok(StatusCode::CREATED) => acked.lock().unwrap().push(username),
                        Ok(other) => panic!("unexpected {other} before the crash"),
                        Err(_) => return, // the node is gone
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < 60 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&node.child, libc::SIGKILL);
    node.child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 60,
        "only {} registrations before the deadline",
        acked.len()
    );

    let mut node = start(dir.path());
    for username in &acked {
        assert!(
            can_login(&client, &node.base, username, PASSWORD).await,
            "{username} was acknowledged but is lost"
        );
    }
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = start(dir.path());
    let client = reqwest::Client::new();
    let in_flight: Vec<_> = (0..10)
        .map(|i| {
            let (client, base) = (client.clone(), node.base.clone());
            tokio::spawn(async move { register(&client, &base, &format!("term{i}")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(5)).await;
    signal(&node.child, libc::SIGTERM);
    let status = node.child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    let acked: Vec<usize> = futures::future::join_all(in_flight)
        .await
        .into_iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Ok(Ok(StatusCode::CREATED))))
        .map(|(i, _)| i)
        .collect();
    let node = start(dir.path());
    for i in acked {
        assert!(can_login(&client, &node.base, &format!("term{i}"), PASSWORD).await);
    }
    signal(&node.child, libc::SIGTERM);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_administrator_is_created_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = admin_create_user(
        dir.path(),
        &["--username", "boss", "--email", "boss@example.com", "--role", "admin"],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user boss"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(PASSWORD),
        "the password is never echoed"
    );

    let mut node = start(dir.path());
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/api/v1/auth/login", node.base))
        .json(&json!({"login": "boss", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let token = res.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let users = client
        .get(format!("{}/api/v1/users", node.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::OK);
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();

    // A second create with the same name is refused with a clear message.
    let out = admin_create_user(dir.path(), &["--username", "boss", "--email", "b2@example.com"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("username is taken"));
}
