//! The Stripe adapter against localstripe (a third-party fake Stripe):
//! charges through the shop's API (create and confirm, a decline, 3-D
//! Secure completed with localstripe's `_authenticate` and learnt from the
//! webhook localstripe itself signed), refunds in two rounds; and the
//! adapter alone for what the shop does not ask of it yet (a manual
//! capture of part of an authorization, a cancel).

use crate::localstripe::LocalStripe;
use crate::order_shop::*;
use crate::support::*;
use actors::payments::model::ChargeStatus;
use actors::payments::ports::{CaptureMode, CreatePayment, PaymentProcessor};
use actors::payments::processors::Secret;
use actors::payments::stripe::Stripe;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

async fn stripe_call(ls: &LocalStripe, method: Method, path: &str, form: &[(&str, &str)]) -> Value {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        let sent = client
            .request(method.clone(), format!("{}{path}", ls.base))
            .bearer_auth(STRIPE_KEY)
            .form(form)
            .send()
            .await;
        match sent {
            Ok(res) => {
                let status = res.status();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                assert!(status.is_success(), "{path}: {status} {body}");
                return body;
            }
            // localstripe is still starting.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("localstripe never answered {path}")
}

/// A shop whose default processor is Stripe at `base`.
fn config(base: &str) -> String {
    format!(
        "[payments]\ndefault_processor = \"stripe\"\n[payments.stripe]\nbase_url = \"{base}\"\nsecret_key_env = \"SHOP_TEST_STRIPE_KEY\"\nwebhook_secret_envs = [\"SHOP_TEST_STRIPE_WHSEC\"]\n"
    )
}

/// A shop paying through Stripe at `base`, a buyer, and the charges URL
/// of a one-unit order of theirs.
async fn shop_with_order(base: &str) -> (Shop, Session, String) {
    let shop = Shop::open_with(10, &config(base)).await;
    shop.accept_payments().await;
    let ann = shop.app.user("ann").await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 1)])));
    let (_, order) = place(&shop.app, &ann.access, Some("o1"), &body).await;
    let url = shop.app.url(&format!("/api/v1/orders/{}/charges", id(&order)));
    (shop, ann, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charges_and_refunds_through_stripe_as_localstripe_plays_it() {
    test_secrets();
    let ls = LocalStripe::start();
    let shop = Shop::open_with(10, &config(&ls.base)).await;
    shop.accept_payments().await;
    let app = &shop.app;
    // localstripe signs its webhooks and sends them to the shop.
    let hook = app.url("/api/v1/payments/webhooks/stripe");
    stripe_call(
        &ls,
        Method::POST,
        "/_config/webhooks/shop",
        &[("url", &hook), ("secret", STRIPE_WEBHOOK_SECRET)],
    )
    .await;
    let ann = app.user("ann").await;
    let order = |key: &'static str, quantity: u32| {
        let body = shop.order(Some(json!([shop.line(&shop.product, quantity)])));
        let ann = &ann.access;
        async move {
            let (status, order) = place(app, ann, Some(key), &body).await;
            assert_eq!(status, StatusCode::CREATED);
            id(&order)
        }
    };
    let charge = |order: String, key: &'static str, body: Value| {
        let url = app.url(&format!("/api/v1/orders/{order}/charges"));
        let ann = ann.access.clone();
        async move { send(&app.client, &url, Method::POST, Some(&ann), Some(key), Some(&body)).await }
    };

    // Create and confirm at once.
    let paid = order("o1", 3).await;
    let (status, c) = charge(paid.clone(), "c1", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(
        (status, c["status"].as_str(), c["processor"].as_str()),
        (StatusCode::CREATED, Some("succeeded"), Some("stripe")),
        "{c}"
    );
    let pi = c["processor_payment_id"].as_str().unwrap().to_string();
    assert!(pi.starts_with("pi_"), "{c}");
    let at_stripe = stripe_call(&ls, Method::GET, &format!("/v1/payment_intents/{pi}"), &[]).await;
    assert_eq!(
        (at_stripe["amount"].as_i64(), at_stripe["currency"].as_str()),
        (Some(3000), Some("usd"))
    );
    assert_eq!(at_stripe["metadata"]["charge_id"], c["id"]);
    let (_, o) = call(app, Method::GET, &format!("/api/v1/orders/{paid}"), &ann.access, None).await;
    assert_eq!(o["status"], "paid");

    // Refunds: partial, and again.
    let refund_url = app.url(&format!("/api/v1/stores/{}/refunds", shop.store));
    for (key, quantity) in [("r1", 1), ("r2", 2)] {
        let body = json!({"order_id": paid, "lines": [{"line_id": "l1", "quantity": quantity}], "reason": "returned"});
        let (status, r) = send(
            &app.client,
            &refund_url,
            Method::POST,
            Some(&shop.seller.access),
            Some(key),
            Some(&body),
        )
        .await;
        assert_eq!(
            (status, r["status"].as_str()),
            (StatusCode::CREATED, Some("succeeded")),
            "{r}"
        );
    }
    let refunds = stripe_call(&ls, Method::GET, "/v1/refunds", &[]).await;
    let mut amounts: Vec<i64> = refunds["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .collect();
    amounts.sort();
    assert_eq!(amounts, [1000, 2000]);

    // A decline.
    let declined = order("o2", 1).await;
    let (status, c) = charge(declined, "c1", json!({"payment_method": "pm_card_chargeCustomerFail"})).await;
    assert_eq!(
        (status, c["status"].as_str(), c["failure"]["code"].as_str()),
        (StatusCode::CREATED, Some("failed"), Some("card_declined")),
        "{c}"
    );

    // A raw card number never goes to Stripe.
    let raw = order("o3", 1).await;
    let (status, err) = charge(raw.clone(), "c1", json!({"payment_method": "4242424242424242"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");

    // 3-D Secure: the buyer's card needs authenticating; localstripe's
    // signed webhook tells the shop once it is done.
    let pm = stripe_call(
        &ls,
        Method::POST,
        "/v1/payment_methods",
        &[
            ("type", "card"),
            ("card[number]", "4000000000003220"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ],
    )
    .await;
    let (status, c) = charge(raw.clone(), "c2", json!({"payment_method": pm["id"]})).await;
    assert_eq!(
        (status, c["status"].as_str()),
        (StatusCode::CREATED, Some("requires_action")),
        "{c}"
    );
    let pi = c["processor_payment_id"].as_str().unwrap().to_string();
    let intent = stripe_call(&ls, Method::GET, &format!("/v1/payment_intents/{pi}"), &[]).await;
    let secret = intent["client_secret"].as_str().unwrap();
    stripe_call(
        &ls,
        Method::POST,
        &format!("/v1/payment_intents/{pi}/_authenticate"),
        &[("client_secret", secret), ("success", "true")],
    )
    .await;
    let path = format!("/api/v1/charges/{}", c["id"].as_str().unwrap());
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = call(app, Method::GET, &path, &ann.access, None).await.1;
        if seen["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen["status"], "succeeded",
        "localstripe's webhook never landed: {seen}"
    );
    let (_, o) = call(app, Method::GET, &format!("/api/v1/orders/{raw}"), &ann.access, None).await;
    assert_eq!(o["status"], "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_captures_part_of_an_authorization_and_cancels_another() {
    let ls = LocalStripe::start();
    stripe_call(&ls, Method::GET, "/v1/payment_intents", &[]).await;
    let stripe = Stripe::new(&ls.base, Secret::new(STRIPE_KEY));
    let request = |key: &str| CreatePayment {
        amount_minor: 5_000,
        currency: "EUR".into(),
        idempotency_key: key.into(),
        payment_method: "pm_card_visa".into(),
        capture: CaptureMode::Manual,
        metadata: BTreeMap::from([("charge_id".to_string(), key.to_string())]),
    };
    let held = stripe.create(request("a1")).await.unwrap();
    assert_eq!(
        (held.status, held.amount_minor, held.currency.as_str()),
        (ChargeStatus::Authorized, 5_000, "EUR")
    );
    let captured = stripe.capture(&held.id, Some(3_000), "cap-a1").await.unwrap();
    assert_eq!(captured.status, ChargeStatus::Succeeded);
    // localstripe gives back what was not captured as a refund.
    let refunds = stripe_call(&ls, Method::GET, "/v1/refunds", &[]).await;
    assert_eq!(refunds["data"][0]["amount"], 2_000);
    let other = stripe.create(request("a2")).await.unwrap();
    let voided = stripe.cancel(&other.id, "cancel-a2").await.unwrap();
    assert_eq!(voided.status, ChargeStatus::Canceled);
    assert_eq!(stripe.get(&other.id).await.unwrap().status, ChargeStatus::Canceled);
    // A void is final (localstripe answers a capture with the cancelled
    // intent rather than an error).
    let late = stripe.capture(&other.id, None, "cap-a2").await;
    assert!(late.is_err() || late.is_ok_and(|p| p.status == ChargeStatus::Canceled));
}

/// What our small fake Stripe saw: each POST's idempotency key and body.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A fake Stripe that checks what localstripe does not: the first create
/// of every key fails as `failure` says (a 500, a 429 or an
/// idempotency error); a repeat of the key with the same body succeeds.
async fn fake_stripe(failure: (u16, Value)) -> (String, Seen) {
    slow_fake_stripe(failure, Duration::ZERO).await
}

/// [`fake_stripe`], answering each create after `delay`.
async fn slow_fake_stripe(failure: (u16, Value), delay: Duration) -> (String, Seen) {
    use axum::extract::State;
    use axum::http::HeaderMap;
    let seen: Seen = Default::default();
    let app = axum::Router::new()
        .route(
            "/v1/payment_intents",
            axum::routing::post(
                move |State((seen, failure)): State<(Seen, (u16, Value))>, headers: HeaderMap, body: String| async move {
                    tokio::time::sleep(delay).await;
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let mut seen = seen.lock().unwrap();
                    let first = !seen.iter().any(|(k, _)| *k == key);
                    let same_body = seen.iter().all(|(k, b)| *k != key || *b == body);
                    seen.push((key, body));
                    let (status, answer) = if first || !same_body {
                        failure.clone()
                    } else {
                        let intent = json!({"id": "pi_fake", "status": "succeeded", "amount": 1000, "amount_received": 1000, "currency": "usd", "metadata": {}});
                        (200, intent)
                    };
                    (axum::http::StatusCode::from_u16(status).unwrap(), axum::Json(answer))
                },
            ),
        )
        .with_state((seen.clone(), failure));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_outcome_is_sent_again_with_the_same_key_and_an_idempotency_error_never_with_a_new_one() {
    test_secrets();
    for (failure, settles_as) in [
        (
            (500, json!({"error": {"type": "api_error", "message": "boom"}})),
            "succeeded",
        ),
        (
            (
                429,
                json!({"error": {"type": "rate_limit_error", "message": "slow down"}}),
            ),
            "succeeded",
        ),
        (
            (
                409,
                json!({"error": {"type": "idempotency_error", "message": "in progress"}}),
            ),
            "failed",
        ),
    ] {
        let (base, seen) = fake_stripe(failure.clone()).await;
        let (shop, ann, url) = shop_with_order(&base).await;
        let app = &shop.app;
        let pay = json!({"payment_method": "pm_card_visa"});
        let (status, c) = send(
            &app.client,
            &url,
            Method::POST,
            Some(&ann.access),
            Some("c1"),
            Some(&pay),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        let path = format!("/api/v1/charges/{}", c["id"].as_str().unwrap());
        if settles_as == "failed" {
            // An idempotency error is a bug of ours: final, never retried.
            assert_eq!(
                (c["status"].as_str(), c["failure"]["code"].as_str()),
                (Some("failed"), Some("idempotency_error"))
            );
        } else {
            assert_eq!(c["status"], "processing", "outcome unknown: {c}");
            // The retry falls due (the alarm's first backoff is 5 s).
            app.clock.advance(6_000);
            let mut now = Value::Null;
            for _ in 0..100 {
                now = call(app, Method::GET, &path, &ann.access, None).await.1;
                if now["status"] == settles_as {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(now["status"], settles_as, "{failure:?}: {now}");
        }
        let seen = seen.lock().unwrap().clone();
        let keys: std::collections::BTreeSet<&String> = seen.iter().map(|(k, _)| k).collect();
        assert_eq!(keys.len(), 1, "one key, however often it is sent: {seen:?}");
        assert!(seen.iter().all(|(_, b)| *b == seen[0].1), "the same request each time");
        let expected = if settles_as == "failed" { 1 } else { 2 };
        assert_eq!(seen.len(), expected, "{failure:?}");
        assert!(keys.iter().all(|k| k.starts_with("charge:ch_")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_request_with_the_key_of_one_still_in_flight_is_409() {
    test_secrets();
    let paid = json!({"id": "pi_slow", "status": "succeeded", "amount": 1000, "amount_received": 1000, "currency": "usd", "metadata": {}});
    let (base, seen) = slow_fake_stripe((200, paid), Duration::from_millis(500)).await;
    let (shop, ann, url) = shop_with_order(&base).await;
    let app = &shop.app;
    let pay = json!({"payment_method": "pm_card_visa"});
    let first = send(
        &app.client,
        &url,
        Method::POST,
        Some(&ann.access),
        Some("c1"),
        Some(&pay),
    );
    let second = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        send(
            &app.client,
            &url,
            Method::POST,
            Some(&ann.access),
            Some("c1"),
            Some(&pay),
        )
        .await
    };
    let ((s1, c1), (s2, c2)) = tokio::join!(first, second);
    assert_eq!(
        (s1, c1["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded")),
        "{c1}"
    );
    assert_eq!(
        (s2, c2["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("request_in_flight")),
        "{c2}"
    );
    // Once answered, the same key replays the charge.
    let (s3, c3) = send(
        &app.client,
        &url,
        Method::POST,
        Some(&ann.access),
        Some("c1"),
        Some(&pay),
    )
    .await;
    assert_eq!((s3, &c3["id"]), (StatusCode::CREATED, &c1["id"]));
    assert_eq!(seen.lock().unwrap().len(), 1, "sent once");
}
