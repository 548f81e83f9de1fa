//! Operations endpoints and cross-cutting HTTP behaviour.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn health_readiness_and_request_ids() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let again = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(
        health.headers()["x-request-id"],
        again.headers()["x-request-id"],
        "ids are unique"
    );
    let ready: Value = app.fetch_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["shards_hosted"], ready["shards_total"]);
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let (status, code, _) = error_code(app.client.get(app.url("/nope")).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let res = app.call(Method::PUT, "/api/v1/me", None, None).await;
    assert_eq!(error_code(res).await.0, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_client_over_its_rate_is_told_when_to_come_back() {
    let app = TestApp::spawn_with_config(&test_config_with("rate_limit_per_sec = 1\nrate_limit_burst = 5", "")).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        // Cheap requests (401 at once), so all eight fit well within a second.
        let res = app.call(Method::GET, "/api/v1/me", None, None).await;
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
            assert_eq!(error_code(res).await.1, "rate_limited");
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(),
        3
    );
    let probe = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(probe.status(), StatusCode::OK, "probes are never limited");
}

#[tokio::test]
async fn sign_ins_and_sign_ups_have_their_own_lower_limit() {
    let http =
        "rate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 1\nauth_rate_limit_burst = 2";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    let session = app.user("lena").await; // a sign-up and a sign-in: the burst
    let again = app
        .post(
            "/api/v1/auth/login",
            json!({"login": "lena", "password": "wrong wrong wrong"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(again.headers().contains_key("retry-after"));
    let signup = app
        .post(
            "/api/v1/accounts",
            json!({"username": "max1", "email": "max1@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        signup.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "account creation counts too"
    );
    for _ in 0..5 {
        let me = app.get("/api/v1/me", &session.access).await;
        assert_eq!(me.status(), StatusCode::OK, "other requests are not held back");
    }
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    // A variable of this test's own: the other tests' nodes never read it.
    // SAFETY: set before the node starts; nothing else reads this name.
    unsafe { std::env::set_var("SHOP_TEST_METRICS_TOKEN_OPS", "s3cret-metrics") };
    let http =
        "rate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nmetrics_token_env = \"SHOP_TEST_METRICS_TOKEN_OPS\"";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    let open = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(error_code(open).await.1, "metrics_token");
    let wrong = app.get("/metrics", "s3cret-metricz").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app.get("/metrics", "s3cret-metrics").await;
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().contains("shop_"));
}

#[tokio::test]
async fn path_errors_are_json_and_name_no_rust_types() {
    let app = TestApp::spawn().await;
    let (status, code, body) = error_code(app.client.get(app.url("/api/v1/fx-rates/abc")).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_path"));
    assert!(!body.to_string().contains("u64"), "{body}");
    let (status, _, body) = error_code(
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"login": 5, "password": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!body.to_string().contains("LoginRequest"), "{body}");
}

#[tokio::test]
async fn metrics_report_requests_entities_and_flushes() {
    let app = TestApp::spawn().await;
    app.user("otto").await;
    let text = app.fetch("/metrics").await;
    for needle in [
        "shop_http_requests_total{method=\"POST\",route=\"/api/v1/accounts\",status=\"201\"} 1",
        "shop_http_request_duration_seconds_bucket{",
        "shop_live_entities ",
        "shop_storage_flush_batch_size_bucket{",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let doc: Value = app.fetch_json("/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/accounts",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/users/{id}/roles",
        "/api/v1/roles/{name}",
        "/.well-known/jwks.json",
        "/api/v1/tags/{id}",
        "/api/v1/cluster",
        "/api/v1/cluster/owner",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["RegisterRequest"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_jwks_publishes_the_key_that_signed_our_tokens_and_no_secret() {
    let app = TestApp::spawn().await;
    let s = app.user("pia").await;
    let jwks: Value = app.fetch_json("/.well-known/jwks.json").await;
    let header = s.access.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&base64_url_decode(header)).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("signing key published");
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert!(key.get("d").is_none(), "the private part is never published");
    let payload: Value = serde_json::from_slice(&base64_url_decode(s.access.split('.').nth(1).unwrap())).unwrap();
    for claim in ["sub", "iat", "exp", "roles", "perms", "quotas"] {
        assert!(payload.get(claim).is_some(), "{claim}");
    }
    assert_eq!(payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(), 900);
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}
