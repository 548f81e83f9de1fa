//! The multi-node test harness: the real `node` binary started several
//! times on loopback addresses (127.0.B.1, 127.0.B.2, … with one block B per
//! test, the same ports on each), stopped by the PIDs the test started.

use crate::support::PASSWORD;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "test cluster cookie";

pub struct TestCluster {
    pub dir: tempfile::TempDir,
    block: u8,
    nodes: Mutex<Vec<Option<Child>>>,
    pub client: Client,
}

impl TestCluster {
    /// Writes the configuration of `size` nodes in address block `block`
    /// and starts them all.
    pub fn start(block: u8, size: usize) -> Self {
        Self::start_with(block, size, false)
    }

    /// With `tls`, a CA and one certificate per node are generated and the
    /// nodes speak mutual TLS.
    pub fn start_with(block: u8, size: usize, tls: bool) -> Self {
        Self::start_configured(block, size, tls, "")
    }

    /// Shard moves paused `pause_ms` each, so that a test can act in the
    /// middle of a membership change.
    pub fn start_slow_moves(block: u8, size: usize, pause_ms: u64) -> Self {
        Self::start_configured(block, size, false, &format!("move_pause_ms = {pause_ms}\n"))
    }

    fn start_configured(block: u8, size: usize, tls: bool, cluster: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut toml = String::from("[cluster]\nshards = 64\nheartbeat_ms = 200\nsuspect_after_ms = 1000\n");
        toml.push_str(cluster);
        if tls {
            let ca = Ca::new();
            std::fs::write(dir.path().join("ca.pem"), ca.cert.pem()).unwrap();
            toml.push_str(&format!("tls_ca = \"{}\"\n", dir.path().join("ca.pem").display()));
            for i in 1..=size {
                ca.issue(&format!("n{i}"), dir.path());
            }
        }
        toml.push_str("[identity]\nargon2_memory_kib = 1024\nargon2_iterations = 1\nhash_queue = 1000\n[http]\nrate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 0\n");
        for i in 1..=size {
            toml.push_str(&format!(
                "[[nodes]]\nname = \"n{i}\"\ncluster_addr = \"127.0.{block}.{i}:47100\"\nhttp_addr = \"127.0.{block}.{i}:18100\"\n"
            ));
            if tls {
                let path = |f: &str| dir.path().join(format!("n{i}.{f}")).display().to_string();
                toml.push_str(&format!(
                    "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
                    path("crt"),
                    path("key")
                ));
            }
        }
        std::fs::write(dir.path().join("cluster.toml"), toml).unwrap();
        let cluster = Self {
            dir,
            block,
            nodes: Mutex::new((0..size).map(|_| None).collect()),
            client: Client::new(),
        };
        // All at once: a node listens only after its peers formed the cluster.
        for i in 1..=size {
            cluster.spawn_node(i, COOKIE, &[]);
        }
        for i in 1..=size {
            cluster.await_listening(i);
        }
        cluster
    }

    pub fn base(&self, i: usize) -> String {
        format!("http://127.0.{}.{i}:18100", self.block)
    }

    pub fn log(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("n{i}.log"))
    }

    /// Starts node `i` and waits until it listens.
    pub fn start_node(&self, i: usize, cookie: &str) {
        self.start_node_with(i, cookie, &[]);
    }

    /// Adds node `i` to the configuration file and starts it: it joins.
    pub fn add_node(&self, i: usize, args: &[&str]) {
        self.configure_node(i);
        self.start_node_with(i, COOKIE, args);
    }

    /// Adds node `i` to the configuration file, without starting it.
    pub fn configure_node(&self, i: usize) {
        let block = self.block;
        let entry = format!(
            "[[nodes]]\nname = \"n{i}\"\ncluster_addr = \"127.0.{block}.{i}:47100\"\nhttp_addr = \"127.0.{block}.{i}:18100\"\n"
        );
        let path = self.dir.path().join("cluster.toml");
        let mut toml = std::fs::read_to_string(&path).unwrap();
        toml.push_str(&entry);
        std::fs::write(path, toml).unwrap();
        let mut nodes = self.lock();
        if nodes.len() < i {
            nodes.resize_with(i, || None);
        }
        drop(nodes);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<Child>>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn size(&self) -> usize {
        self.lock().len()
    }

    pub fn start_node_with(&self, i: usize, cookie: &str, args: &[&str]) {
        self.spawn_node(i, cookie, args);
        self.await_listening(i);
    }

    pub fn spawn_node(&self, i: usize, cookie: &str, args: &[&str]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_node"))
            .arg("--config")
            .arg(self.dir.path().join("cluster.toml"))
            .args(["--name", &format!("n{i}")])
            .arg("--data-dir")
            .arg(self.dir.path().join(format!("n{i}")))
            .args(args)
            .env("SHOP_CLUSTER_COOKIE", cookie)
            .env("LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        self.lock()[i - 1] = Some(child);
    }

    /// Waits for node `i`'s "listening" line.
    pub fn await_listening(&self, i: usize) {
        let stdout = self.lock()[i - 1].as_mut().and_then(|c| c.stdout.take()).unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(line.contains("listening"), "node n{i} did not start: {line:?}");
    }

    pub fn signal(&self, i: usize, sig: i32) {
        if let Some(child) = &self.lock()[i - 1] {
            // SAFETY: kill(2) on the PID of a child this test started.
            unsafe {
                libc::kill(child.id() as i32, sig);
            }
        }
    }

    pub fn kill(&self, i: usize) {
        self.signal(i, libc::SIGKILL);
        let child = self.lock()[i - 1].take();
        if let Some(mut child) = child {
            child.wait().unwrap();
        }
    }

    /// Waits for node `i` to exit by itself: `Some(clean)`, or `None` if it
    /// is still running after `within`.
    pub async fn wait_exit(&self, i: usize, within: Duration) -> Option<bool> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let exited = {
                let mut nodes = self.lock();
                let status = nodes[i - 1].as_mut().and_then(|c| c.try_wait().ok().flatten());
                if status.is_some() {
                    nodes[i - 1] = None;
                }
                status
            };
            if let Some(status) = exited {
                return Some(status.success());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Waits until every node reports every peer up (reads the logs).
    pub async fn wait_connected(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let running: Vec<usize> = (1..=self.size()).filter(|&i| self.lock()[i - 1].is_some()).collect();
        while Instant::now() < deadline {
            let all = running.iter().all(|&i| {
                let log = std::fs::read_to_string(self.log(i)).unwrap_or_default();
                running.iter().filter(|&&j| j != i).all(|&j| {
                    log.lines()
                        .rev()
                        .find(|l| l.contains(&format!("peer=n{j} ")) && l.contains("peer status changed"))
                        .is_some_and(|l| l.contains("to=Up"))
                })
            });
            if all {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the cluster did not connect");
    }

    pub async fn register(&self, node: usize, username: &str) -> StatusCode {
        self.client
            .post(format!("{}/api/v1/accounts", self.base(node)))
            .json(&json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Signs in through `node`: the status, the Retry-After header, the body.
    pub async fn login(&self, node: usize, username: &str) -> (StatusCode, Option<String>, Value) {
        let res = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base(node)))
            .json(&json!({"login": username, "password": PASSWORD}))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap();
        let retry = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        (res.status(), retry, res.json().await.unwrap_or(Value::Null))
    }
}

impl TestCluster {
    /// Runs `node ARGS` against this cluster (cookie set), feeding `stdin`.
    pub fn cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_node"))
            .arg("--config")
            .arg(self.dir.path().join("cluster.toml"))
            .args(args)
            .env("SHOP_CLUSTER_COOKIE", COOKIE)
            .env("LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{stdin}").unwrap();
        child.wait_with_output().unwrap()
    }

    /// `cli` without blocking the runtime, so that several can run at once.
    pub async fn cli_async(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_node"))
            .arg("--config")
            .arg(self.dir.path().join("cluster.toml"))
            .args(args)
            .env("SHOP_CLUSTER_COOKIE", COOKIE)
            .env("LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap()
    }

    /// Waits until node `edge` reports the membership change in progress
    /// with at least `switched` shard moves switched; the change.
    pub async fn wait_switched(&self, edge: usize, token: &str, switched: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.get_json(edge, "/api/v1/cluster", Some(token)).await;
            if switched_moves(&status) >= switched {
                return status["raft"]["change"].as_str().unwrap_or_default().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no change with {switched} switched moves: {status}"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Creates an administrator through the running cluster; signs it in.
    pub async fn admin_token(&self) -> String {
        let out = tokio::task::block_in_place(|| {
            self.cli(
                &[
                    "--name",
                    "n2",
                    "admin",
                    "create-user",
                    "--username",
                    "root",
                    "--email",
                    "root@example.com",
                    "--role",
                    "admin",
                ],
                PASSWORD,
            )
        });
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (status, _, tokens) = self.login(1, "root").await;
        assert_eq!(status, StatusCode::OK);
        tokens["access_token"].as_str().unwrap().to_string()
    }

    /// A GET through `node`, with a bearer token if given; the JSON body.
    pub async fn get_json(&self, node: usize, path: &str, token: Option<&str>) -> Value {
        let mut req = self.client.get(format!("{}{path}", self.base(node)));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap().json().await.unwrap()
    }

    /// A POST of `body` through `node` with a bearer token; the response.
    pub async fn post(&self, node: usize, path: &str, token: &str, body: Value) -> reqwest::Response {
        let url = format!("{}{path}", self.base(node));
        self.client
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/v1/me` through `node`.
    pub async fn me(&self, node: usize, token: &str) -> Value {
        let res = self
            .client
            .get(format!("{}/api/v1/me", self.base(node)))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        res.json().await.unwrap()
    }

    /// Registers `count` users named `PREFIX0..` through `node`.
    pub async fn register_all(&self, node: usize, prefix: &str, count: usize) -> Vec<String> {
        let users: Vec<String> = (0..count).map(|u| format!("{prefix}{u}")).collect();
        for user in &users {
            assert_eq!(self.register(node, user).await, StatusCode::CREATED, "{user}");
        }
        users
    }

    pub async fn status(&self, node: usize, token: &str) -> Value {
        let res = self
            .client
            .get(format!("{}/api/v1/cluster", self.base(node)))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }
}

/// `{name: (status, shards)}` of a cluster status.
pub fn members(status: &Value) -> std::collections::BTreeMap<String, (String, u64)> {
    status["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap().to_string();
            (
                name,
                (m["status"].as_str().unwrap().to_string(), m["shards"].as_u64().unwrap()),
            )
        })
        .collect()
}

/// A throw-away certificate authority.
pub struct Ca {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl Ca {
    pub fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        Self {
            cert: params.self_signed(&key).unwrap(),
            key,
        }
    }

    /// Writes `DIR/NAME.crt` and `DIR/NAME.key` naming the node `name`.
    pub fn issue(&self, name: &str, dir: &Path) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .signed_by(&key, &self.cert, &self.key)
            .unwrap();
        std::fs::write(dir.join(format!("{name}.crt")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for i in 1..=self.size() {
            self.signal(i, libc::SIGCONT);
            self.kill(i);
        }
        // For a failure's post-mortem: CLUSTER_LOGS=dir keeps every node's log.
        if let Some(keep) = std::env::var_os("CLUSTER_LOGS") {
            let keep = std::path::Path::new(&keep).join(format!("block{}", self.block));
            let _ = std::fs::create_dir_all(&keep);
            for i in 1..=self.size() {
                let _ = std::fs::copy(self.log(i), keep.join(format!("n{i}.log")));
            }
        }
    }
}

/// How many moves of the change in progress a cluster status says are
/// switched ("… (change 1, K of N shard moves switched)").
pub fn switched_moves(status: &Value) -> usize {
    let change = status["raft"]["change"].as_str().unwrap_or_default();
    change
        .split(", ")
        .nth(1)
        .and_then(|part| part.split(' ').next())
        .and_then(|k| k.parse().ok())
        .unwrap_or(0)
}

pub fn log_contains(path: &Path, needle: &str) -> bool {
    std::fs::read_to_string(path).unwrap_or_default().contains(needle)
}

/// How many shards the last table a node adopted gives `name`.
pub fn shards_in_log(log: &Path, name: &str) -> usize {
    let needle = format!("\"{name}\": ");
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| l.contains("adopted shard table"))
        .and_then(|l| l.split(&needle).nth(1))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Whether the last table a node adopted still lists `name`.
pub fn member_table_has(log: &Path, name: &str) -> bool {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| l.contains("adopted shard table"))
        .is_some_and(|l| l.contains(&format!("\"{name}\"")))
}
