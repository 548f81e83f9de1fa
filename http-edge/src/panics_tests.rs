use super::*;
use axum::body::Body;
use axum::routing::get;
use tower::ServiceExt;
use tower_http::request_id::{MakeRequestUuid, SetRequestIdLayer};

#[tokio::test]
async fn a_panicking_handler_answers_the_standard_500_with_the_request_id() {
    async fn boom() -> &'static str {
        panic!("the handler broke")
    }
    let app = axum::Router::new()
        .route("/boom", get(boom))
        .route("/fine", get(|| async { "fine" }))
        .layer(axum::middleware::from_fn(catch_panic))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    let response = app
        .clone()
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["message"], "internal error", "no detail leaks: {body}");
    assert_eq!(body["error"]["request_id"].as_str().unwrap().len(), 36, "{body}");
    let fine = app
        .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(fine.status(), 200, "the app keeps serving");
}
