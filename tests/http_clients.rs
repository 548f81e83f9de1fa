//! The edge as browsers and proxies meet it: CORS, client addresses behind
//! trusted proxies, and rate limits per address and per user.

use crate::support::*;
use reqwest::{Method, RequestBuilder, StatusCode};

const SHOP: &str = "https://shop.example";

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/api/v1/me"))
        .header("origin", origin)
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_allowed_origin_gets_cors_answers_and_others_do_not() {
    let app = TestApp::spawn_with_config(&test_config_with(
        "rate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\ncors_origins = [\"https://shop.example\"]",
        "",
    ))
    .await;
    let res = preflight(&app, SHOP).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(header(&res, "access-control-allow-origin").as_deref(), Some(SHOP));
    let methods = header(&res, "access-control-allow-methods").unwrap();
    assert!(methods.contains("PATCH") && methods.contains("DELETE"), "{methods}");
    let headers = header(&res, "access-control-allow-headers").unwrap().to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("idempotency-key"),
        "{headers}"
    );
    assert_eq!(header(&res, "access-control-max-age").as_deref(), Some("600"));

    // A simple request, even one answered with an error, is readable by
    // the frontend, with the headers it needs exposed.
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&res, "access-control-allow-origin").as_deref(), Some(SHOP));
    let exposed = header(&res, "access-control-expose-headers").unwrap().to_lowercase();
    for name in ["location", "etag", "retry-after", "x-request-id", "idempotency-key"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }

    // Another origin learns nothing from CORS headers.
    let res = preflight(&app, "https://evil.example").await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn cors_is_off_by_default_and_any_origin_only_on_request() {
    let app = TestApp::spawn().await;
    let res = preflight(&app, SHOP).await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    let any = TestApp::spawn_with_config(&test_config_with("cors_origins = [\"*\"]", "")).await;
    let res = preflight(&any, SHOP).await;
    assert_eq!(header(&res, "access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(
        header(&res, "access-control-allow-credentials"),
        None,
        "never with credentials"
    );
    for bad in ["https://shop.example/app", "shop.example", "ftp://shop.example"] {
        let toml = test_config_with(&format!("cors_origins = [\"{bad}\"]"), "");
        assert!(nodes::config::Config::parse(&toml).is_err(), "{bad} is refused");
    }
}

/// Ten anonymous requests with `X-Forwarded-For: forwarded`; how many
/// were refused with 429.
async fn refused_of_ten(app: &TestApp, forwarded: &str) -> usize {
    let mut refused = 0;
    for _ in 0..10 {
        let res = app
            .client
            .get(app.url("/api/v1/me"))
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    refused
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    // The test client (127.0.0.1) plays the load balancer.
    let http = "rate_limit_per_sec = 1\nrate_limit_burst = 3\ntrusted_proxies = [\"127.0.0.0/8\"]";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    assert_eq!(refused_of_ten(&app, "198.51.100.1").await, 7);
    assert_eq!(
        refused_of_ten(&app, "198.51.100.2").await,
        7,
        "another customer is not limited by the first"
    );
    // A client forging hops in front of its real address changes nothing.
    assert_eq!(refused_of_ten(&app, "203.0.113.50, 198.51.100.1").await, 10);
    // A hop list of trusted proxies only: the outermost is the client.
    assert_eq!(refused_of_ten(&app, "127.0.0.9, 127.0.0.8").await, 7);
}

#[tokio::test]
async fn processors_webhooks_are_not_limited_per_address() {
    let http = "rate_limit_per_sec = 1\nrate_limit_burst = 3";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    assert_eq!(refused_of_ten(&app, "198.51.100.1").await, 7);
    // A burst of webhooks from that same address: each is judged by its
    // signature (none here: 401), none turned away for the rate.
    for _ in 0..10 {
        let res = app
            .client
            .post(app.url("/api/v1/payments/webhooks/sandbox"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn from_an_untrusted_peer_forwarding_headers_change_nothing() {
    let http = "rate_limit_per_sec = 1\nrate_limit_burst = 3";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    assert_eq!(refused_of_ten(&app, "198.51.100.1").await, 7);
    assert_eq!(refused_of_ten(&app, "198.51.100.2").await, 10, "still the same peer");
}

fn with_token(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.bearer_auth(token)
}

#[tokio::test]
async fn signed_in_users_are_limited_each_on_their_own() {
    let http = "rate_limit_per_sec = 1000\nuser_rate_limit_per_sec = 1\nuser_rate_limit_burst = 3\nauth_rate_limit_per_sec = 0";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    let ann = app.user("ann").await; // one /me in login
    let bob = app.user("bob").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = with_token(app.client.get(app.url("/api/v1/orders")), &ann.access)
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "ann's burst of 3 (one spent signing in), then refused"
    );
    let res = with_token(app.client.get(app.url("/api/v1/orders")), &bob.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "bob, from the same address, has his own");
    let (status, _) = app.fetch_json_status("/api/v1/tags").await;
    assert_eq!(status, StatusCode::OK, "anonymous requests from that address too");
}

#[tokio::test]
async fn requests_with_failing_tokens_count_against_their_address() {
    let http = "rate_limit_per_sec = 1\nrate_limit_burst = 3\nuser_rate_limit_per_sec = 0";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = with_token(app.client.get(app.url("/api/v1/orders")), "not.a.token")
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(),
        2,
        "{statuses:?}"
    );
}
