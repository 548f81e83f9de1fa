//! A bare axum server answering `GET /api/v1/me` with the same JSON the shop
//! returns, from memory: the baseline the benchmark compares the real edge
//! against (no auth, no actor hop, no storage).
//!
//! `bare-edge [ADDR]` (default 127.0.0.1:8090).

use axum::Json;
use axum::routing::get;
use serde_json::{Value, json};
use std::net::SocketAddr;

fn profile() -> Value {
    json!({
        "id": "01M87ZQRM2YNDK2NZ7D3109F3J",
        "username": "bench",
        "email": "bench@example.com",
        "email_verified": false,
        "display_name": null,
        "roles": ["customer"],
        "permissions": ["cart:use", "order:create", "return:create"],
        "quotas": {"max_addresses": 10, "max_phones": 5, "max_products": 1000, "max_stores": 3, "max_upload_bytes": 10485760},
        "phones": [],
        "addresses": [],
        "created_at": "2026-11-24T23:54:55.513Z"
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8090)));
    let app = axum::Router::new().route("/api/v1/me", get(|| async { Json(profile()) }));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("bare edge listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
