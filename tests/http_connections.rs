//! Connections that never send a request, trickle their headers or sit
//! idle are closed within the configured times, and a flood from one
//! address is refused at accept while another client is served.

use crate::support::*;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the server closed `socket` within `within` (EOF or a reset).
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // a response (e.g. 408): keep reading to EOF
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_trickling_and_idle_connections_are_closed_and_others_served() {
    let http = "rate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nheader_read_timeout_ms = 500\nidle_timeout_ms = 1500\nmax_connections_per_client = 100";
    let app = TestApp::spawn_with_config(&test_config_with(http, "")).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    // A client from another address is served throughout.
    let other = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let health = other.get(app.url("/healthz")).send().await.unwrap();
    assert!(health.status().is_success());
    let mut trickler = TcpStream::connect(&addr).await.unwrap();
    let trickle = tokio::spawn(async move {
        let started = Instant::now();
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n" {
            if trickler.write_all(&[*byte]).await.is_err() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Duration::MAX
    });
    let started = Instant::now();
    for socket in silent.iter_mut() {
        assert!(
            closed_within(socket, Duration::from_secs(5)).await,
            "a silent socket stayed open {:?}",
            started.elapsed()
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let trickled = trickle.await.unwrap();
    assert!(
        trickled < Duration::from_secs(4),
        "a trickling client was cut off ({trickled:?})"
    );
    // A keep-alive connection that goes quiet after its request is closed.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "an idle keep-alive stayed open"
    );
    let health = other.get(app.url("/healthz")).send().await.unwrap();
    assert!(health.status().is_success(), "still serving");
}
