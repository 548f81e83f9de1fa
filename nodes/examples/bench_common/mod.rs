//! What the benchmark drivers share: a retrying API client, a small
//! deterministic random source, timed client loops and percentiles.
// Every driver includes this module and uses part of it.
#![allow(dead_code)]

use futures::future::join_all;
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// Every account the benchmarks create has this password.
pub const PASSWORD: &str = "correct horse battery";
use std::future::Future;
use std::time::{Duration, Instant};

/// A bench run stops at its first failure and says why.
pub type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A string field of an answer, or why the answer is unusable.
pub fn field(value: &Value, name: &str) -> Fallible<String> {
    value[name]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no {name} in {value}").into())
}

/// xorshift64: the same sequence on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub struct Api {
    pub client: Client,
    /// Every node's edge; set-up goes through the first.
    pub bases: Vec<String>,
}

impl Api {
    pub fn new(bases: &[String]) -> Fallible<Self> {
        Ok(Self {
            client: Client::builder().pool_max_idle_per_host(64).build()?,
            bases: bases.to_vec(),
        })
    }

    /// A set-up request through the first node, retried on 503 and on
    /// transport errors; the answer of a 2xx, an error otherwise.
    pub async fn send(&self, method: Method, path: &str, token: &str, body: Value) -> Fallible<Value> {
        let mut attempt = 0;
        loop {
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.bases[0]))
                .json(&body);
            if !token.is_empty() {
                req = req.bearer_auth(token);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return Ok(r.json().await.unwrap_or(Value::Null)),
                Ok(r) if r.status().as_u16() == 503 && attempt < 5 => {}
                Ok(r) => return Err(format!("{path}: {} {}", r.status(), r.text().await.unwrap_or_default()).into()),
                Err(e) if attempt < 5 => eprintln!("{path}: {e}; retrying"),
                Err(e) => return Err(format!("{path}: {e}").into()),
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Registers `name` and signs it in: `(user id, access token)`.
    pub async fn sign_up(&self, name: &str) -> Fallible<(String, String)> {
        let account = json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD});
        let id = field(&self.send(Method::POST, "/api/v1/accounts", "", account).await?, "id")?;
        Ok((id, self.sign_in(name).await?))
    }

    pub async fn sign_in(&self, name: &str) -> Fallible<String> {
        let login = json!({"login": name, "password": PASSWORD});
        field(
            &self.send(Method::POST, "/api/v1/auth/login", "", login).await?,
            "access_token",
        )
    }

    /// A new seller (with `quotas` if given, set by the administrator
    /// `admin`) and its store in USD: `(token, store id)`.
    pub async fn seller_with_store(
        &self,
        admin: &str,
        name: &str,
        quotas: Option<Value>,
    ) -> Fallible<(String, String)> {
        let (id, _) = self.sign_up(name).await?;
        let roles = json!({"roles": ["seller"]});
        self.send(Method::PUT, &format!("/api/v1/users/{id}/roles"), admin, roles)
            .await?;
        if let Some(quotas) = quotas {
            self.send(Method::PUT, &format!("/api/v1/users/{id}/quotas"), admin, quotas)
                .await?;
        }
        // Signed in again to carry the role.
        let token = self.sign_in(name).await?;
        let store = json!({"name": format!("Store of {name}"), "currency": "USD", "timezone": "UTC"});
        let store = field(&self.send(Method::POST, "/api/v1/stores", &token, store).await?, "id")?;
        Ok((token, store))
    }
}

/// A one-line order body: one unit of `product` from `store`, in USD.
pub fn one_unit_order(store: &str, product: &str) -> Value {
    let contact = json!({"name": "Bench Buyer", "email": "buyer@example.com", "phone": "+14155550100"});
    json!({
        "lines": [{"store_id": store, "product_id": product, "quantity": 1}],
        "currency": "USD",
        "shipping": {
            "contact": contact,
            "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country": "US"},
            "method": {store: "standard"}
        },
        "billing": {"contact": contact}
    })
}

impl Api {
    /// The store (supervised by `token`) becomes able to take payments:
    /// active with contacts, its sandbox account onboarded.
    pub async fn accept_payments(&self, token: &str, store: &str) -> Fallible<()> {
        let complete = json!({
            "emails": ["shop@example.com"], "phones": ["+886223456789"], "status": "active",
            "address": {"line1": "1 Main St", "city": "Taipei", "postal_code": "100", "country": "TW"}
        });
        self.send(Method::PATCH, &format!("/api/v1/stores/{store}"), token, complete)
            .await?;
        let urls = json!({"processor": "sandbox", "return_url": "https://bench.example/done", "refresh_url": "https://bench.example/again"});
        let account = self
            .send(
                Method::PUT,
                &format!("/api/v1/stores/{store}/payment-account"),
                token,
                urls,
            )
            .await?;
        let id = field(&account, "account_id")?;
        self.send(
            Method::POST,
            &format!("/api/v1/payments/sandbox/accounts/{id}/complete"),
            "",
            Value::Null,
        )
        .await?;
        // Read back (the webhook may still be on its way).
        self.send(
            Method::GET,
            &format!("/api/v1/stores/{store}/payment-account"),
            token,
            Value::Null,
        )
        .await?;
        Ok(())
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// What `clients` concurrent loops measured: every latency (sorted) and
/// each client's own result.
pub struct Measured<T> {
    pub latencies: Vec<Duration>,
    pub per_client: Vec<T>,
}

impl<T> Measured<T> {
    pub fn per_second(&self, seconds: u64) -> f64 {
        self.latencies.len() as f64 / seconds as f64
    }
    pub fn p50(&self) -> String {
        ms(percentile(&self.latencies, 0.5))
    }
    pub fn p99(&self) -> String {
        ms(percentile(&self.latencies, 0.99))
    }
}

/// Runs `client(c, deadline)` for `c` in `0..clients` concurrently until
/// `seconds` have passed; each returns its latencies and a result.
pub async fn measure<T, F, Fut>(clients: usize, seconds: u64, client: F) -> Fallible<Measured<T>>
where
    F: Fn(usize, Instant) -> Fut,
    Fut: Future<Output = Fallible<(Vec<Duration>, T)>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let runs = join_all((0..clients).map(|c| client(c, deadline)))
        .await
        .into_iter()
        .collect::<Fallible<Vec<_>>>()?;
    let mut latencies = Vec::new();
    let mut per_client = Vec::new();
    for (l, t) in runs {
        latencies.extend(l);
        per_client.push(t);
    }
    if latencies.is_empty() {
        return Err("nothing was measured".into());
    }
    latencies.sort();
    Ok(Measured { latencies, per_client })
}

/// A client's failed requests: how many, and the first one's text.
#[derive(Default)]
pub struct FailureLog {
    pub count: u64,
    pub first: Option<String>,
}

impl FailureLog {
    pub fn note(&mut self, what: String) {
        self.count += 1;
        self.first.get_or_insert(what);
    }
}

/// A client's result that keeps a [`FailureLog`].
pub trait Failures {
    fn log(&self) -> &FailureLog;
}

/// Prints a Markdown row (requests per second, p50, p99, failures) and
/// the first failure of the workload; answers how many failed.
pub fn row<T: Failures>(label: &str, nodes: usize, seconds: u64, measured: &Measured<T>) -> u64 {
    let failed: u64 = measured.per_client.iter().map(|c| c.log().count).sum();
    println!(
        "| {label} | {nodes} | {:.0} | {} | {} | {failed} |",
        measured.per_second(seconds),
        measured.p50(),
        measured.p99()
    );
    if let Some(first) = measured.per_client.iter().find_map(|c| c.log().first.as_ref()) {
        eprintln!("first failure of {label}: {first}");
    }
    failed
}

/// `DRIVER ADMIN_TOKEN SECONDS BASE_URL [BASE_URL…]`: the token, the
/// seconds per workload and the API over every edge.
pub fn timed_args(driver: &str) -> Fallible<(String, u64, Api)> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err(format!("usage: {driver} ADMIN_TOKEN SECONDS BASE_URL [BASE_URL…]").into());
    }
    let seconds: u64 = args[2].parse().map_err(|e| format!("SECONDS: {e}"))?;
    Ok((args[1].clone(), seconds, Api::new(&args[3..])?))
}
