//! Cart and checkout benchmark driver (used by `bench/orders.sh`).
//!
//!   order_bench ADMIN_TOKEN SECONDS BASE_URL [BASE_URL…]
//!
//! Sets up, through the first node, 10 sellers with a store each and 20
//! products per store (an offer and 1,000,000 units each), and 32 buyers.
//! Then, with 32 concurrent clients (one buyer each) spread over every
//! node's edge, measures for SECONDS each:
//!   - add-to-cart (`PUT /api/v1/cart/items`; each client fills its cart
//!     with 5 random lines, empties it untimed, and starts again),
//!   - checkouts of 1 line and of 5 lines (random products, often from
//!     several stores; each with a fresh Idempotency-Key).
//!
//! Finally it checks that every product's reserved units equal the units
//! the acknowledged orders hold. Prints Markdown table rows.

mod bench_common;

use bench_common::{Api, FailureLog, Fallible, Rng, field, measure, row};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const STORES: usize = 10;
const PER_STORE: usize = 20;
const CLIENTS: usize = 32;
const UNITS: u64 = 1_000_000;

/// `(store id, product id)` of every offered product.
type Items = Vec<(String, String)>;

/// What one client saw: units per item of its acknowledged orders,
/// failures, and the first failure's text.
#[derive(Default)]
struct Outcome {
    ordered: BTreeMap<usize, u64>,
    failures: FailureLog,
}

/// One timed request: its latency, status and JSON answer.
async fn timed(
    api: &Api,
    node: usize,
    method: Method,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> Fallible<(Duration, StatusCode, Value)> {
    let base = &api.bases[node % api.bases.len()];
    let mut req = api
        .client
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let started = Instant::now();
    let res = req.send().await?;
    let status = res.status();
    let answer = res.json().await.unwrap_or(Value::Null);
    Ok((started.elapsed(), status, answer))
}

/// `count` distinct random items.
fn pick(rng: &mut Rng, items: &Items, count: usize) -> Vec<usize> {
    let mut chosen = Vec::new();
    while chosen.len() < count {
        let i = rng.below(items.len());
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    chosen
}

fn order_body(items: &Items, chosen: &[(usize, u64)]) -> Value {
    let lines: Vec<Value> = chosen
        .iter()
        .map(|&(i, quantity)| json!({"store_id": items[i].0, "product_id": items[i].1, "quantity": quantity}))
        .collect();
    let methods: BTreeMap<&str, &str> = chosen.iter().map(|&(i, _)| (items[i].0.as_str(), "standard")).collect();
    let contact = json!({"name": "Bench Buyer", "email": "buyer@example.com", "phone": "+14155550100"});
    json!({
        "lines": lines,
        "currency": "USD",
        "shipping": {
            "contact": contact,
            "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country": "US"},
            "method": methods
        },
        "billing": {"contact": contact}
    })
}

/// Client `c` fills its cart 5 lines at a time until `deadline`.
async fn add_to_cart(
    api: &Api,
    items: &Items,
    token: &str,
    c: usize,
    deadline: Instant,
) -> Fallible<(Vec<Duration>, Outcome)> {
    let mut rng = Rng(0xC0FF_EE00 ^ (c as u64 + 1));
    let (mut latencies, mut outcome) = (Vec::new(), Outcome::default());
    while Instant::now() < deadline {
        for (j, i) in pick(&mut rng, items, 5).into_iter().enumerate() {
            let line = json!({"store_id": items[i].0, "product_id": items[i].1, "quantity": 1 + j % 3});
            let (took, status, answer) = timed(api, c, Method::PUT, "/api/v1/cart/items", token, None, &line).await?;
            latencies.push(took);
            if !status.is_success() {
                outcome.failures.note(format!("add to cart: {status} {answer}"));
            }
        }
        timed(api, c, Method::DELETE, "/api/v1/cart", token, None, &Value::Null).await?;
    }
    Ok((latencies, outcome))
}

/// Client `c` places orders of `lines` lines until `deadline`.
async fn checkouts(
    api: &Api,
    items: &Items,
    token: &str,
    c: usize,
    lines: usize,
    deadline: Instant,
) -> Fallible<(Vec<Duration>, Outcome)> {
    let mut rng = Rng(0x00DD_BA11 ^ ((c * 10 + lines) as u64 + 1));
    let (mut latencies, mut outcome) = (Vec::new(), Outcome::default());
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        let chosen: Vec<(usize, u64)> = pick(&mut rng, items, lines)
            .into_iter()
            .map(|i| (i, 1 + rng.below(3) as u64))
            .collect();
        let key = format!("bench-{lines}-{n}");
        let body = order_body(items, &chosen);
        let (took, status, answer) = timed(api, c, Method::POST, "/api/v1/orders", token, Some(&key), &body).await?;
        latencies.push(took);
        if status == StatusCode::CREATED {
            for (i, quantity) in chosen {
                *outcome.ordered.entry(i).or_default() += quantity;
            }
        } else {
            outcome.failures.note(format!("checkout: {status} {answer}"));
        }
    }
    Ok((latencies, outcome))
}

impl bench_common::Failures for Outcome {
    fn log(&self) -> &FailureLog {
        &self.failures
    }
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let (admin, seconds, api) = bench_common::timed_args("order_bench")?;
    let nodes = api.bases.len();

    let mut items: Items = Vec::new();
    let mut sellers = Vec::new();
    for s in 0..STORES {
        let (token, store) = api.seller_with_store(&admin, &format!("orderseller{s}"), None).await?;
        for p in 0..PER_STORE {
            let product = json!({"name": format!("Item {p} of store {s}"), "visible": true});
            let product = field(
                &api.send(Method::POST, "/api/v1/products", &token, product).await?,
                "id",
            )?;
            let offer = json!({"price": format!("{}.{:02}", 1 + p * 3, s * 7 % 100)});
            api.send(
                Method::PUT,
                &format!("/api/v1/stores/{store}/offers/{product}"),
                &token,
                offer,
            )
            .await?;
            let stock = json!({"adjust": UNITS});
            api.send(
                Method::PUT,
                &format!("/api/v1/stores/{store}/stock/{product}"),
                &token,
                stock,
            )
            .await?;
            items.push((store.clone(), product));
        }
        sellers.push(token);
    }
    let mut buyers = Vec::new();
    for b in 0..CLIENTS {
        // A benchmark buyer checks out without paying, far beyond the
        // default max_open_orders: the administrator raises it.
        let name = format!("orderbuyer{b}");
        let (id, _) = api.sign_up(&name).await?;
        let quotas = json!({"max_open_orders": 10_000_000, "max_held_units": 1_000_000_000u64});
        api.send(Method::PUT, &format!("/api/v1/users/{id}/quotas"), &admin, quotas)
            .await?;
        buyers.push(api.sign_in(&name).await?);
    }

    println!("| workload ({CLIENTS} clients, {seconds} s) | nodes | req/s | p50 | p99 | failed |");
    println!("|---|---|---|---|---|---|");
    let (api, items, buyers) = (&api, &items, &buyers);
    let carts = measure(CLIENTS, seconds, |c, deadline| {
        add_to_cart(api, items, &buyers[c], c, deadline)
    })
    .await?;
    let mut failed = row("add to cart", nodes, seconds, &carts);
    let mut ordered: BTreeMap<usize, u64> = BTreeMap::new();
    for lines in [1, 5] {
        let measured = measure(CLIENTS, seconds, |c, deadline| {
            checkouts(api, items, &buyers[c], c, lines, deadline)
        })
        .await?;
        let label = format!("checkout, {lines} line{}", if lines == 1 { "" } else { "s" });
        failed += row(&label, nodes, seconds, &measured);
        for outcome in &measured.per_client {
            for (i, units) in &outcome.ordered {
                *ordered.entry(*i).or_default() += units;
            }
        }
    }

    // Every acknowledged order still holds its units, nothing more.
    let mut mismatched = Vec::new();
    for (i, (store, product)) in items.iter().enumerate() {
        let seller = &sellers[i / PER_STORE];
        let path = format!("/api/v1/stores/{store}/stock/{product}");
        let stock = api.send(Method::GET, &path, seller, Value::Null).await?;
        let expected = ordered.get(&i).copied().unwrap_or(0);
        if stock["reserved"].as_u64() != Some(expected) || stock["on_hand"].as_u64() != Some(UNITS) {
            mismatched.push(format!("{product}: {stock} but orders hold {expected}"));
        }
    }
    if !mismatched.is_empty() {
        return Err(format!("stock disagrees with the orders: {mismatched:?}").into());
    }
    println!(
        "stock agrees with the acknowledged orders ({} units held over {} products); {failed} failed requests",
        ordered.values().sum::<u64>(),
        items.len()
    );
    Ok(())
}
