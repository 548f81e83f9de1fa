//! Charge benchmark driver (used by `bench/payments.sh`).
//!
//!   payment_bench ADMIN_TOKEN SECONDS BASE_URL [BASE_URL…]
//!
//! Sets up, through the first node, 10 stores with 20 products each (an
//! offer and 1,000,000 units each, as the checkout benchmark) and 32
//! buyers, each of whom places, untimed, enough one-line orders of random
//! products to pay during the run. Then, with 32 concurrent
//! clients spread over every node's edge, for SECONDS each:
//!   - card charges (`POST /api/v1/orders/{id}/charges` with
//!     `pm_card_visa`, timed until the 201: the sandbox took the payment
//!     and the order is paid; its webhook lands meanwhile),
//!   - charges that need 3-D Secure: the charge, the buyer authenticating
//!     at the sandbox, and the charge polled until the sandbox's webhook
//!     completed it — timed from the first request to `succeeded`.
//!
//! Finally it checks that every charged order reads `paid`. Prints
//! Markdown table rows.

mod bench_common;

use bench_common::{Api, FailureLog, Fallible, Rng, field, measure, row};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
/// Stores (10, as in the checkout benchmark, or `$PAY_BENCH_STORES`), and
/// products in each.
const STORES: usize = 10;
const PRODUCTS: usize = 20;
const UNITS: u64 = 1_000_000;

/// What one client saw: the orders its charges paid, failures, and the
/// first failure's text.
#[derive(Default)]
struct Outcome {
    paid: Vec<String>,
    failures: FailureLog,
}

async fn request(
    api: &Api,
    node: usize,
    method: Method,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> Fallible<(StatusCode, Value)> {
    let base = &api.bases[node % api.bases.len()];
    let mut req = api.client.request(method, format!("{base}{path}")).bearer_auth(token);
    if !body.is_null() {
        req = req.json(body);
    }
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let res = req.send().await?;
    let status = res.status();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// Client `c` places `count` one-line orders of random `items` (store,
/// product); their ids.
async fn place(api: &Api, items: &[(String, String)], token: &str, c: usize, count: usize) -> Fallible<Vec<String>> {
    let mut ids = Vec::new();
    let mut rng = Rng(0x0BAD_CAFE ^ (c as u64 + 1));
    for n in 0..count {
        let (store, product) = &items[rng.below(items.len())];
        let body = bench_common::one_unit_order(store, product);
        let key = format!("pay-bench-{c}-{n}");
        let (status, order) = request(api, c, Method::POST, "/api/v1/orders", token, Some(&key), &body).await?;
        if status != StatusCode::CREATED {
            return Err(format!("placing an order: {status} {order}").into());
        }
        ids.push(field(&order, "id")?);
    }
    Ok(ids)
}

/// Client `c` pays its `orders` by card until `deadline` (or they run out).
async fn card_charges(
    api: &Api,
    token: &str,
    c: usize,
    orders: &[String],
    deadline: Instant,
) -> Fallible<(Vec<Duration>, Outcome)> {
    let (mut latencies, mut outcome) = (Vec::new(), Outcome::default());
    for order in orders {
        if Instant::now() >= deadline {
            break;
        }
        let body = json!({"payment_method": "pm_card_visa"});
        let path = format!("/api/v1/orders/{order}/charges");
        let started = Instant::now();
        let (status, charge) = request(api, c, Method::POST, &path, token, Some("pay"), &body).await?;
        latencies.push(started.elapsed());
        if status == StatusCode::CREATED && charge["status"] == "succeeded" {
            outcome.paid.push(order.clone());
        } else {
            outcome.failures.note(format!("card charge: {status} {charge}"));
        }
    }
    Ok((latencies, outcome))
}

/// Client `c` pays its `orders` with 3-D Secure until `deadline`.
async fn authenticated_charges(
    api: &Api,
    token: &str,
    c: usize,
    orders: &[String],
    deadline: Instant,
) -> Fallible<(Vec<Duration>, Outcome)> {
    let (mut latencies, mut outcome) = (Vec::new(), Outcome::default());
    for order in orders {
        if Instant::now() >= deadline {
            break;
        }
        let body = json!({"payment_method": "pm_card_authenticationRequired"});
        let path = format!("/api/v1/orders/{order}/charges");
        let started = Instant::now();
        let (status, charge) = request(api, c, Method::POST, &path, token, Some("pay"), &body).await?;
        if status != StatusCode::CREATED || charge["status"] != "requires_action" {
            outcome.failures.note(format!("3-D Secure charge: {status} {charge}"));
            continue;
        }
        let url = field(&charge["client_action"], "url")?;
        let (status, done) = request(api, c, Method::POST, &url, token, None, &json!({"succeed": true})).await?;
        if status != StatusCode::OK {
            outcome.failures.note(format!("authenticate: {status} {done}"));
            continue;
        }
        let charge_path = format!("/api/v1/charges/{}", field(&charge, "id")?);
        let settled = loop {
            let (_, now) = request(api, c, Method::GET, &charge_path, token, None, &Value::Null).await?;
            if now["status"] == "succeeded" {
                break true;
            }
            if started.elapsed() > Duration::from_secs(30) {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        latencies.push(started.elapsed());
        if settled {
            outcome.paid.push(order.clone());
        } else {
            outcome.failures.note(format!("{charge_path} never completed"));
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
    let (admin, seconds, api) = bench_common::timed_args("payment_bench")?;
    let nodes = api.bases.len();

    let stores: usize = std::env::var("PAY_BENCH_STORES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(STORES);
    let mut items = Vec::new();
    for st in 0..stores {
        let (seller, store) = api.seller_with_store(&admin, &format!("payseller{st}"), None).await?;
        api.accept_payments(&seller, &store).await?;
        for p in 0..PRODUCTS {
            let product = json!({"name": format!("Item {p} of store {st}"), "visible": true});
            let product = field(
                &api.send(Method::POST, "/api/v1/products", &seller, product).await?,
                "id",
            )?;
            let path = format!("/api/v1/stores/{store}/offers/{product}");
            api.send(Method::PUT, &path, &seller, json!({"price": format!("{}.99", 5 + p)}))
                .await?;
            let path = format!("/api/v1/stores/{store}/stock/{product}");
            api.send(Method::PUT, &path, &seller, json!({"adjust": UNITS})).await?;
            items.push((store.clone(), product));
        }
    }
    let mut buyers = Vec::new();
    for b in 0..CLIENTS {
        let name = format!("paybuyer{b}");
        let (id, _) = api.sign_up(&name).await?;
        let quotas = json!({"max_open_orders": 10_000_000, "max_held_units": 1_000_000_000u64});
        api.send(Method::PUT, &format!("/api/v1/users/{id}/quotas"), &admin, quotas)
            .await?;
        buyers.push(api.sign_in(&name).await?);
    }
    // Enough orders for either workload to run its whole time.
    let (cards, secure) = (100 * seconds as usize, 50 * seconds as usize);
    let (api, items, buyers) = (&api, &items, &buyers);
    let placed = futures::future::join_all(
        (0..CLIENTS).map(|c| async move { place(api, items, &buyers[c], c, cards + secure).await }),
    )
    .await
    .into_iter()
    .collect::<Fallible<Vec<_>>>()?;

    println!("| workload ({CLIENTS} clients, {seconds} s) | nodes | charges/s | p50 | p99 | failed |");
    println!("|---|---|---|---|---|---|");
    let placed = &placed;
    let card = measure(CLIENTS, seconds, |c, deadline| {
        card_charges(api, &buyers[c], c, &placed[c][..cards], deadline)
    })
    .await?;
    let mut failed = row("card charge (order paid at the 201)", nodes, seconds, &card);
    let authenticated = measure(CLIENTS, seconds, |c, deadline| {
        authenticated_charges(api, &buyers[c], c, &placed[c][cards..], deadline)
    })
    .await?;
    failed += row(
        "3-D Secure charge, completed by webhook",
        nodes,
        seconds,
        &authenticated,
    );
    let exhausted = card
        .per_client
        .iter()
        .any(|o| o.paid.len() + o.failures.count as usize >= cards)
        || authenticated
            .per_client
            .iter()
            .any(|o| o.paid.len() + o.failures.count as usize >= secure);
    if exhausted {
        eprintln!("a client ran out of orders before the time was up: the rate above is low");
    }

    // Every charged order reads paid.
    let mut unpaid = Vec::new();
    for (c, outcome) in card
        .per_client
        .iter()
        .chain(authenticated.per_client.iter())
        .enumerate()
    {
        for order in &outcome.paid {
            let (_, o) = request(
                api,
                c,
                Method::GET,
                &format!("/api/v1/orders/{order}"),
                &buyers[c % CLIENTS],
                None,
                &Value::Null,
            )
            .await?;
            if o["status"] != "paid" {
                unpaid.push(format!("{order}: {}", o["status"]));
            }
        }
    }
    if !unpaid.is_empty() {
        return Err(format!("charged orders not paid: {:?}", &unpaid[..unpaid.len().min(5)]).into());
    }
    let paid: usize = card
        .per_client
        .iter()
        .chain(authenticated.per_client.iter())
        .map(|o| o.paid.len())
        .sum();
    println!("every charged order reads paid ({paid} orders); {failed} failed requests");
    Ok(())
}
