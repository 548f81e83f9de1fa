//! Checkouts against the real `node` binary, killed with SIGKILL in the
//! middle of a burst: every acknowledged order survives and the stock
//! agrees with the orders that exist once abandoned placements are
//! released (their lease is configured down to 3 s here).

use crate::order_shop::*;
use crate::process::{admin_create_user, signal, start};
use crate::support::test_config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const UNITS: i64 = 5000;
/// Placements cut short by the crash release their holds after this.
const LEASE_MS: u64 = 3000;

/// An acknowledged order: its buyer's token and the answer.
type Acked = Arc<Mutex<Vec<(String, Value)>>>;

/// Units held per product index by the orders still awaiting payment.
fn held_by(shop: &RemoteShop, orders: &[Value]) -> Vec<u64> {
    let mut held = vec![0; shop.products.len()];
    for order in orders.iter().filter(|o| o["status"] == "awaiting_payment") {
        for line in order["lines"].as_array().unwrap() {
            let i = shop.products.iter().position(|p| line["product_id"] == **p).unwrap();
            held[i] += line["quantity"].as_u64().unwrap();
        }
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_checkouts_loses_no_order_and_leaves_stock_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&format!("[orders]\nplacement_lease_ms = {LEASE_MS}"));
    std::fs::write(dir.path().join("test.toml"), config).unwrap();
    let out = admin_create_user(
        dir.path(),
        &["--username", "boss", "--email", "boss@example.com", "--role", "admin"],
    );
    assert!(out.status.success());
    let mut node = start(dir.path());
    let client = reqwest::Client::new();
    let (_, admin) = sign_up(&client, &node.base, "boss").await;
    let shop = Arc::new(RemoteShop::open(&node.base, &admin, &[UNITS, UNITS]).await);

    let acked: Acked = Arc::default();
    let mut buyers = Vec::new();
    for b in 0..12 {
        buyers.push(sign_up(&client, &node.base, &format!("buyer{b}")).await.1);
    }
    let writers: Vec<_> = buyers
        .iter()
        .map(|token| {
            let (shop, base, acked, token) = (shop.clone(), node.base.clone(), acked.clone(), token.clone());
            tokio::spawn(async move {
                for i in 0u32.. {
                    let lines = match i % 3 {
                        0 => json!([shop.line(0, 1)]),
                        1 => json!([shop.line(1, 2)]),
                        _ => json!([shop.line(0, 3), shop.line(1, 1)]),
                    };
                    match shop.try_checkout(&base, &token, &format!("k{i}"), lines).await {
                        Ok((StatusCode::CREATED, order)) => acked.lock().unwrap().push((token.clone(), order)),
                        Ok((status, answer)) => panic!("unexpected {status} before the crash: {answer}"),
                        Err(_) => return, // the node is gone
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < 100 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal(&node.child, libc::SIGKILL);
    node.child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 100, "only {} checkouts before the deadline", acked.len());

    let mut node = start(dir.path());
    for (token, order) in &acked {
        let url = format!("{}/api/v1/orders/{}", node.base, order["id"].as_str().unwrap());
        let (status, read) = send(&client, &url, Method::GET, Some(token), None, None).await;
        assert_eq!(status, StatusCode::OK, "{} was acknowledged but is lost", order["id"]);
        assert_eq!(
            (&read["status"], &read["lines"], &read["total"]),
            (&json!("awaiting_payment"), &order["lines"], &order["total"])
        );
    }

    // Units held for placements the crash cut short come back when their
    // lease ends; the held units never drop below what the orders hold.
    let deadline = Instant::now() + Duration::from_millis(LEASE_MS) + Duration::from_secs(30);
    loop {
        let orders = shop.store_orders(&node.base).await;
        let listed: BTreeMap<&str, &Value> = orders.iter().map(|o| (o["id"].as_str().unwrap(), o)).collect();
        let held = held_by(&shop, &orders);
        let mut stock = Vec::new();
        for i in 0..shop.products.len() {
            stock.push(shop.stock(&node.base, i).await);
        }
        for (i, &(on_hand, reserved, available)) in stock.iter().enumerate() {
            assert_eq!(on_hand, UNITS as u64, "nothing was paid, nothing sold");
            assert_eq!(reserved + available, on_hand);
            assert!(
                reserved >= held[i],
                "product {i}: {reserved} reserved, orders hold {}",
                held[i]
            );
        }
        let all_listed = acked
            .iter()
            .all(|(_, o)| listed.contains_key(o["id"].as_str().unwrap()));
        if all_listed && stock.iter().zip(&held).all(|(s, h)| s.1 == *h) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stock {stock:?} never agreed with the orders holding {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();
}
