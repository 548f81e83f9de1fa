//! Payout and reconciliation benchmark driver (used by `bench/payouts.sh`).
//!
//!   payout_bench ADMIN_TOKEN PAYOUT_CHARGES RECONCILE_CHARGES BASE_URL
//!
//! Sets up one store (onboarded at the sandbox, payouts held 0 days) with
//! one product, and 32 buyers. Then:
//!   1. 32 clients place and pay (card) PAYOUT_CHARGES one-unit orders —
//!      the baseline: charges per second, in the same run;
//!   2. the store asks for one payout of everything (one transfer per
//!      charge at the sandbox), timed from the request until the payout
//!      reads `paid`: payout lines per second, and the ratio to the
//!      charges' rate; checked: one line and one sandbox transfer per
//!      charge, the totals equal to the charges less the fee;
//!   3. more orders are paid until RECONCILE_CHARGES charges exist, then
//!      the day's reconciliation report is built (timed, GET); checked:
//!      it counts every charge and finds no mismatch.
//!
//! Prints Markdown rows.

mod bench_common;

use bench_common::{Api, Fallible, field};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;

async fn request(
    api: &Api,
    method: Method,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> Fallible<(StatusCode, Value)> {
    let mut req = api
        .client
        .request(method, format!("{}{path}", api.bases[0]))
        .bearer_auth(token)
        .timeout(Duration::from_secs(600));
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

/// Places and pays `count` one-unit orders with 32 clients (orders
/// numbered from `first`); answers the time it took.
async fn pay_orders(
    api: &Api,
    store: &str,
    product: &str,
    buyers: &[String],
    first: usize,
    count: usize,
) -> Fallible<Duration> {
    let started = Instant::now();
    let results: Vec<Fallible<()>> = futures::stream::iter(first..first + count)
        .map(|n| {
            let token = &buyers[n % CLIENTS];
            async move {
                let body = bench_common::one_unit_order(store, product);
                let key = format!("payout-bench-{n}");
                let (status, order) = request(api, Method::POST, "/api/v1/orders", token, Some(&key), &body).await?;
                if status != StatusCode::CREATED {
                    return Err(format!("placing an order: {status} {order}").into());
                }
                let path = format!("/api/v1/orders/{}/charges", field(&order, "id")?);
                let pay = json!({"payment_method": "pm_card_visa"});
                let (status, charge) = request(api, Method::POST, &path, token, Some("pay"), &pay).await?;
                if status != StatusCode::CREATED || charge["status"] != "succeeded" {
                    return Err(format!("a charge: {status} {charge}").into());
                }
                Ok(())
            }
        })
        .buffer_unordered(CLIENTS)
        .collect()
        .await;
    results.into_iter().collect::<Fallible<Vec<()>>>()?;
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "payout_bench ADMIN_TOKEN PAYOUT_CHARGES RECONCILE_CHARGES BASE_URL";
    let [_, admin, payout_charges, reconcile_charges, base, ..] = args.as_slice() else {
        return Err(usage.into());
    };
    let (payout_charges, reconcile_charges): (usize, usize) = (payout_charges.parse()?, reconcile_charges.parse()?);
    let api = Api::new(std::slice::from_ref(base))?;
    let (seller, store) = api.seller_with_store(admin, "payoutseller", None).await?;
    api.accept_payments(&seller, &store).await?;
    let product = json!({"name": "Lamp", "visible": true});
    let product = field(
        &api.send(Method::POST, "/api/v1/products", &seller, product).await?,
        "id",
    )?;
    api.send(
        Method::PUT,
        &format!("/api/v1/stores/{store}/offers/{product}"),
        &seller,
        json!({"price": "10.00"}),
    )
    .await?;
    let units = payout_charges.max(reconcile_charges) as u64;
    api.send(
        Method::PUT,
        &format!("/api/v1/stores/{store}/stock/{product}"),
        &seller,
        json!({"adjust": units}),
    )
    .await?;
    let mut buyers = Vec::new();
    for b in 0..CLIENTS {
        let name = format!("payoutbuyer{b}");
        let (id, _) = api.sign_up(&name).await?;
        let quotas = json!({"max_open_orders": 10_000_000, "max_held_units": 1_000_000_000u64});
        api.send(Method::PUT, &format!("/api/v1/users/{id}/quotas"), admin, quotas)
            .await?;
        buyers.push(api.sign_in(&name).await?);
    }

    println!("| step | count | time | per second | checked |");
    println!("|---|---|---|---|---|");
    let took = pay_orders(&api, &store, &product, &buyers, 0, payout_charges).await?;
    let charge_rate = payout_charges as f64 / took.as_secs_f64();
    println!(
        "| orders placed and paid (32 clients; baseline) | {payout_charges} | {:.1} s | {charge_rate:.0} | every charge succeeded |",
        took.as_secs_f64()
    );

    let started = Instant::now();
    let payouts = format!("/api/v1/stores/{store}/payouts");
    let (status, mut payout) = request(&api, Method::POST, &payouts, &seller, Some("bench"), &Value::Null).await?;
    if status != StatusCode::CREATED {
        return Err(format!("the payout: {status} {payout}").into());
    }
    while payout["status"] != "paid" {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, listed) = request(&api, Method::GET, &payouts, &seller, None, &Value::Null).await?;
        payout = listed["items"][0].clone();
        if started.elapsed() > Duration::from_secs(600) {
            return Err("the payout never finished".into());
        }
    }
    let took = started.elapsed();
    let lines = payout["lines"].as_array().map_or(0, Vec::len);
    let total = payout["totals"][0]["amount"].as_str().unwrap_or_default().to_string();
    let expected = format!("{}.00", payout_charges * 9);
    let (_, account) = request(
        &api,
        Method::GET,
        &format!("/api/v1/stores/{store}/payment-account"),
        &seller,
        None,
        &Value::Null,
    )
    .await?;
    let sandbox = format!(
        "/api/v1/payments/sandbox/accounts/{}?limit=1",
        field(&account, "account_id")?
    );
    let (_, held) = request(&api, Method::GET, &sandbox, admin, None, &Value::Null).await?;
    let transfers = held["transfer_count"].as_u64().unwrap_or(0) as usize;
    if lines != payout_charges || transfers != payout_charges || total != expected {
        return Err(format!(
            "payout: {lines} lines, {transfers} transfers, {total} (expected {payout_charges}, {expected})"
        )
        .into());
    }
    let line_rate = lines as f64 / took.as_secs_f64();
    println!(
        "| one payout of every charge (transfers at the sandbox) | {lines} | {:.2} s | {line_rate:.0} ({:.1} × the charges' rate) | {lines} lines, {transfers} transfers, {total} USD |",
        took.as_secs_f64(),
        line_rate / charge_rate
    );

    if reconcile_charges > payout_charges {
        let took = pay_orders(
            &api,
            &store,
            &product,
            &buyers,
            payout_charges,
            reconcile_charges - payout_charges,
        )
        .await?;
        println!(
            "| more orders placed and paid | {} | {:.1} s | {:.0} | every charge succeeded |",
            reconcile_charges - payout_charges,
            took.as_secs_f64(),
            (reconcile_charges - payout_charges) as f64 / took.as_secs_f64()
        );
    }
    let date = field(&payout, "created_at")?[..10].to_string();
    let started = Instant::now();
    let (status, report) = request(
        &api,
        Method::GET,
        &format!("/api/v1/payments/reconciliation?date={date}"),
        admin,
        None,
        &Value::Null,
    )
    .await?;
    let took = started.elapsed();
    if status != StatusCode::OK {
        return Err(format!("the reconciliation: {status} {report}").into());
    }
    let counted = report["charges"]["count"].as_u64().unwrap_or(0) as usize;
    let mismatches = report["mismatches"].as_array().map_or(0, Vec::len);
    if counted != reconcile_charges.max(payout_charges) || mismatches != 0 {
        return Err(format!(
            "reconciliation: {counted} charges, {mismatches} mismatches: {}",
            report["mismatches"][0]
        )
        .into());
    }
    println!(
        "| the day's reconciliation report (GET) | {counted} charges, {} transfers | {:.2} s | {:.0} charges/s | no mismatch, {} stuck |",
        report["transfers"]["count"],
        took.as_secs_f64(),
        counted as f64 / took.as_secs_f64(),
        report["stuck"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}
