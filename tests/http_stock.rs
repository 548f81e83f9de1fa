//! Stock and product policies over HTTP.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.call(Method::PUT, path, Some(token), Some(body)).await
}

#[tokio::test]
async fn staff_keep_stock_in_batches_and_set_policies() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let sella = app.seller(&admin, "sella").await;
    let clerk = app.user("clerk").await;
    let post = |path: &'static str, body: Value| app.call(Method::POST, path, Some(&sella.access), Some(body));
    let product: Value = post("/api/v1/products", json!({"name": "Milk", "visible": true}))
        .await
        .json()
        .await
        .unwrap();
    let store: Value = post(
        "/api/v1/stores",
        json!({"name": "Dairy", "currency": "USD", "timezone": "UTC"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let base = format!("/api/v1/stores/{}", store["id"].as_str().unwrap());
    let stock = format!("{base}/stock/{}", product["id"].as_str().unwrap());

    let res = put(&app, &stock, &clerk.access, json!({"adjust": 5})).await;
    assert_eq!(error_code(res).await.1, "not_staff");
    let res = put(&app, &format!("{base}/stock/nope"), &sella.access, json!({"adjust": 5})).await;
    assert!(error_code(res).await.2["error"]["fields"]["product_id"].is_string());

    let fresh: Value = app.get(&stock, &sella.access).await.json().await.unwrap();
    assert_eq!(
        (fresh["on_hand"].as_u64(), fresh["available"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(fresh["policy"]["reservation_minutes"], 15, "defaults until set");

    let later = "2099-01-01T00:00:00Z";
    let sooner = "2098-06-01T00:00:00Z";
    for body in [
        json!({"adjust": 5}),
        json!({"adjust": 10, "expires_at": later}),
        json!({"adjust": 3, "expires_at": sooner}),
    ] {
        let res = put(&app, &stock, &sella.access, body).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let view: Value = app.get(&stock, &sella.access).await.json().await.unwrap();
    assert_eq!(
        (
            view["on_hand"].as_u64(),
            view["reserved"].as_u64(),
            view["available"].as_u64()
        ),
        (Some(18), Some(0), Some(18))
    );
    assert_eq!(
        view["batches"],
        json!([{"expires_at": "2098-06-01T00:00:00Z", "quantity": 3}, {"expires_at": "2099-01-01T00:00:00Z", "quantity": 10}, {"expires_at": null, "quantity": 5}]),
        "earliest expiry first"
    );
    let res = put(&app, &stock, &sella.access, json!({"adjust": -4})).await;
    let after: Value = res.json().await.unwrap();
    assert_eq!(
        after["batches"][0]["quantity"], 9,
        "removed from the earliest batch first"
    );
    let res = put(&app, &stock, &sella.access, json!({"adjust": -15})).await;
    assert_eq!(error_code(res).await.0, StatusCode::CONFLICT);
    let res = put(&app, &stock, &sella.access, json!({"adjust": 0})).await;
    assert_eq!(error_code(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let past = json!({"adjust": 1, "expires_at": "2001-01-01T00:00:00Z"});
    let res = put(&app, &stock, &sella.access, past).await;
    assert_eq!(error_code(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let policies = format!("{base}/policies/{}", product["id"].as_str().unwrap());
    let bad = json!({"reservation_minutes": 0, "warranty_days": 9999, "min_per_order": 5, "max_per_order": 2});
    let res = put(&app, &policies, &sella.access, bad).await;
    let fields = error_code(res).await.2["error"]["fields"].clone();
    let mut named: Vec<_> = fields.as_object().unwrap().keys().cloned().collect();
    named.sort();
    assert_eq!(named, ["max_per_order", "reservation_minutes", "warranty_days"]);
    let good = json!({"reservation_minutes": 30, "warranty_days": 14, "min_per_order": 1, "max_per_order": 3});
    let res = put(&app, &policies, &sella.access, good.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);

    let app = app.restart().await;
    let kept: Value = app.get(&stock, &sella.access).await.json().await.unwrap();
    assert_eq!(kept["on_hand"], 14);
    assert_eq!(kept["policy"], good);
}
