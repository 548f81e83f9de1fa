//! Lists longer than their limits are refused before any of their items is
//! looked at, so a hostile body costs no more than a small one, and the
//! node keeps serving meanwhile.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Sends `body` while a client keeps asking `/healthz`; answers the error
/// field the request was refused on, how long it took, and the slowest
/// health answer seen meanwhile.
async fn refused(app: &TestApp, token: &str, method: Method, path: &str, body: Value) -> (String, Duration, Duration) {
    let started = Instant::now();
    let health = async {
        let mut slowest = Duration::ZERO;
        for _ in 0..5 {
            let asked = Instant::now();
            let res = app.client.get(app.url("/healthz")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            slowest = slowest.max(asked.elapsed());
        }
        slowest
    };
    let (res, slowest) = tokio::join!(app.call(method, path, Some(token), Some(body)), health);
    let (status, _, err) = error_code(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    let fields = err["error"]["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 1, "one reason, not one per item: {path}");
    (fields.keys().next().unwrap().clone(), started.elapsed(), slowest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_lists_are_refused_at_once() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "lister").await;
    let phones: Vec<String> = (0..60_000).map(|i| format!("+1415{i:07}")).collect();
    let values: Vec<String> = (0..100_000).map(|i| format!("v{i}")).collect();
    let tags: Vec<String> = (0..60_000).map(|i| format!("t{i}")).collect();
    let cases = [
        (Method::PATCH, "/api/v1/me", json!({"phones": phones}), "phones"),
        (
            Method::POST,
            "/api/v1/attributes",
            json!({"name": "Size", "kind": "enum", "values": values}),
            "values",
        ),
        (
            Method::POST,
            "/api/v1/products",
            json!({"name": "Lamp", "tag_ids": tags}),
            "tag_ids",
        ),
    ];
    for (method, path, body, field) in cases {
        let (refused_on, took, slowest_health) = refused(&app, &seller.access, method, path, body).await;
        assert_eq!(refused_on, field);
        // Generous bounds: the work is linear in the body now; it was
        // quadratic (seconds in a release build, far more in this one).
        assert!(took < Duration::from_secs(3), "{path} took {took:?}");
        assert!(
            slowest_health < Duration::from_secs(2),
            "/healthz took {slowest_health:?}"
        );
    }
}
