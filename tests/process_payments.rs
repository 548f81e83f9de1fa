//! Charges against the real `node` binary, SIGKILLed at the two moments
//! that matter: after the charge's intent is persisted and before the
//! processor is called, and after the processor took the payment and
//! before the shop recorded it. After a restart each charge is resolved
//! (by its alarm, or by the buyer retrying with the same key) and the
//! sandbox holds exactly one payment for it.

use crate::order_shop::*;
use crate::process::{Node, admin_create_user, signal, start, start_with_env};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// Starts the node paused at `point`, charges an order, waits until the
/// node stops there and SIGKILLs it; answers the data directory's owner,
/// the shop, the buyer's token and the order's id.
async fn killed_at(dir: &Path, point: &str) -> (RemoteShop, String, String, String) {
    let out = admin_create_user(
        dir,
        &["--username", "boss", "--email", "boss@example.com", "--role", "admin"],
    );
    assert!(out.status.success());
    let marker = dir.join("paused");
    let marker_text = marker.to_str().unwrap().to_string();
    let mut node = start_with_env(
        dir,
        &[("SHOP_TEST_PAUSE_AT", point), ("SHOP_TEST_PAUSE_MARKER", &marker_text)],
    );
    let client = reqwest::Client::new();
    let (_, admin) = sign_up(&client, &node.base, "boss").await;
    let shop = RemoteShop::open(&node.base, &admin, &[10]).await;
    shop.accept_payments().await;
    let (_, buyer) = sign_up(&client, &node.base, "ann").await;
    let (status, order) = shop.checkout(&node.base, &buyer, "o1", json!([shop.line(0, 2)])).await;
    assert_eq!(status, StatusCode::CREATED);
    let order_id = id(&order);
    // The charge hangs at the pause point; the process dies there.
    let url = format!("{}/api/v1/orders/{order_id}/charges", node.base);
    let pending = tokio::spawn({
        let (client, buyer) = (client.clone(), buyer.clone());
        async move {
            let body = json!({"payment_method": "pm_card_visa"});
            let _ = try_send(&client, &url, Method::POST, Some(&buyer), Some("c1"), Some(&body)).await;
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the node never reached {point}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&node.child, libc::SIGKILL);
    node.child.wait().unwrap();
    let _ = pending.await;
    (shop, admin, buyer, order_id)
}

async fn get(client: &reqwest::Client, node: &Node, path: &str, token: &str) -> Value {
    let (status, body) = send(
        client,
        &format!("{}{path}", node.base),
        Method::GET,
        Some(token),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// After the restart: the charge succeeded, the order is paid, and the
/// sandbox made one payment for the charge.
async fn resolved_once(node: &Node, admin: &str, buyer: &str, order_id: &str, charge_id: &str) {
    let client = reqwest::Client::new();
    let mut charge = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        charge = get(&client, node, &format!("/api/v1/charges/{charge_id}"), buyer).await;
        let order = get(&client, node, &format!("/api/v1/orders/{order_id}"), buyer).await;
        if charge["status"] == "succeeded" && order["status"] == "paid" {
            let created = get(
                &client,
                node,
                &format!("/api/v1/payments/sandbox/charges/{charge_id}/created"),
                admin,
            )
            .await;
            assert_eq!(created["created"], 1, "exactly one payment for the charge's key");
            let listed = get(&client, node, &format!("/api/v1/orders/{order_id}/charges"), buyer).await;
            assert_eq!(listed["items"].as_array().unwrap().len(), 1);
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the charge was never resolved: {charge}");
}

/// Signs in again after a restart.
async fn token(node: &Node, username: &str) -> String {
    let client = reqwest::Client::new();
    let body = json!({"login": username, "password": crate::support::PASSWORD});
    let (status, tokens) = send(
        &client,
        &format!("{}/api/v1/auth/login", node.base),
        Method::POST,
        None,
        None,
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_the_processor_is_called_the_charge_is_sent_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, _, order_id) = killed_at(dir.path(), "charge.intent_persisted").await;
    let mut node = start(dir.path());
    let (admin, buyer) = (token(&node, "boss").await, token(&node, "ann").await);
    // Nobody retries: the charge's alarm sends the persisted request.
    let charge_id = actors::payments::service::charge_id(&order_id, "c1");
    resolved_once(&node, &admin, &buyer, &order_id, &charge_id).await;
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_processor_took_the_payment_the_retry_finds_that_payment() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, _, order_id) = killed_at(dir.path(), "charge.processor_answered").await;
    let mut node = start(dir.path());
    let (admin, buyer) = (token(&node, "boss").await, token(&node, "ann").await);
    // The buyer retries with the same key: the same charge, one payment.
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/orders/{order_id}/charges", node.base);
    let body = json!({"payment_method": "pm_card_visa"});
    let (status, charge) = send(&client, &url, Method::POST, Some(&buyer), Some("c1"), Some(&body)).await;
    assert_eq!(
        (status, charge["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded")),
        "{charge}"
    );
    resolved_once(&node, &admin, &buyer, &order_id, charge["id"].as_str().unwrap()).await;
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();
}

/// SIGKILLed after the processor made a payout's transfers and before the
/// shop recorded them: after the restart the payout's alarm sends them
/// again under the same keys, and the store holds one transfer per charge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_a_payout_transfer_and_its_record_the_store_is_paid_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("test.toml"),
        crate::support::test_config("[payments]\npayout_hold_days = 0\nfee_rate = \"0.1\"\n"),
    )
    .unwrap();
    let out = admin_create_user(
        dir.path(),
        &["--username", "boss", "--email", "boss@example.com", "--role", "admin"],
    );
    assert!(out.status.success());
    let marker = dir.path().join("paused");
    let marker_text = marker.to_str().unwrap().to_string();
    let mut node = start_with_env(
        dir.path(),
        &[
            ("SHOP_TEST_PAUSE_AT", "payout.transferred"),
            ("SHOP_TEST_PAUSE_MARKER", &marker_text),
        ],
    );
    let client = reqwest::Client::new();
    let (_, admin) = sign_up(&client, &node.base, "boss").await;
    let shop = RemoteShop::open(&node.base, &admin, &[10]).await;
    let account = shop.accept_payments().await;
    let (_, buyer) = sign_up(&client, &node.base, "ann").await;
    for (order_key, units) in [("o1", 2), ("o2", 1)] {
        let (status, order) = shop
            .checkout(&node.base, &buyer, order_key, json!([shop.line(0, units)]))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let url = format!("{}/api/v1/orders/{}/charges", node.base, id(&order));
        let body = json!({"payment_method": "pm_card_visa"});
        let (status, charge) = send(&client, &url, Method::POST, Some(&buyer), Some("c1"), Some(&body)).await;
        assert_eq!(
            (status, charge["status"].as_str()),
            (StatusCode::CREATED, Some("succeeded"))
        );
    }
    let payouts = format!("{}/api/v1/stores/{}/payouts", node.base, shop.store);
    let pending = tokio::spawn({
        let (client, url, seller) = (client.clone(), payouts.clone(), shop.seller.clone());
        async move {
            let _ = try_send(&client, &url, Method::POST, Some(&seller), Some("p1"), None).await;
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the node never made the transfers");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&node.child, libc::SIGKILL);
    node.child.wait().unwrap();
    let _ = pending.await;

    node = start(dir.path());
    let (admin, seller) = (token(&node, "boss").await, token(&node, "sella").await);
    let path = format!("/api/v1/stores/{}/payouts", shop.store);
    let mut listed = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        listed = get(&client, &node, &path, &seller).await;
        if listed["items"][0]["status"] == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(listed["items"][0]["status"], "paid", "{listed}");
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["items"][0]["totals"],
        json!([{"currency": "USD", "amount": "27.00"}])
    );
    // The seller retries with the same key: the same payout.
    let url = format!("{}{path}", node.base);
    let (status, again) = send(&client, &url, Method::POST, Some(&seller), Some("p1"), None).await;
    assert_eq!((status, &again["id"]), (StatusCode::CREATED, &listed["items"][0]["id"]));
    let sandbox = format!(
        "/api/v1/payments/sandbox/accounts/{}",
        account["account_id"].as_str().unwrap()
    );
    let held = get(&client, &node, &sandbox, &admin).await;
    assert_eq!(held["transfer_count"], 2, "one transfer per charge: {held}");
    assert_eq!(held["balances"], json!([{"currency": "USD", "amount": "27.00"}]));
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();
}
