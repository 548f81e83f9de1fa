//! tuspy (the tus client from PyPI) uploads through the real `node`
//! binary: a whole file in chunks with sha1 checksums, and a file stopped
//! part-way and resumed by a new client from its URL. The asset's bytes
//! equal the file's.

use crate::localstripe::python;
use crate::order_shop::*;
use crate::process::{admin_create_user, signal, start, start_with_env};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use std::process::Command;

/// Runs tuspy: uploads `file` to `base` as the holder of `token`, in
/// chunks of `chunk` bytes with checksums; with `stop_at`, a first client
/// stops there and a second one resumes from the upload's URL. Prints the
/// upload's URL.
const TUSPY: &str = r#"
import sys
from tusclient import client
base, token, path, chunk, stop_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
headers = {"Authorization": "Bearer " + token}
first = client.TusClient(base + "/api/v1/uploads", headers=headers)
uploader = first.uploader(path, chunk_size=chunk, metadata={"filename": "lamp.png"}, upload_checksum=True)
if stop_at:
    uploader.upload(stop_at=stop_at)
    assert uploader.offset == stop_at, uploader.offset
    url = uploader.url
    second = client.TusClient(base + "/api/v1/uploads", headers=headers)
    resumed = second.uploader(path, url=url, chunk_size=chunk, upload_checksum=True)
    assert resumed.offset == stop_at, resumed.offset
    resumed.upload()
else:
    uploader.upload()
    url = uploader.url
print(url)
"#;

fn tuspy(base: &str, token: &str, file: &std::path::Path, chunk: usize, stop_at: usize) -> String {
    let out = Command::new(python())
        .args(["-c", TUSPY, base, token, file.to_str().unwrap()])
        .args([chunk.to_string(), stop_at.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "tuspy: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Creates an administrator in `dir` (before the node starts there) …
fn boss(dir: &std::path::Path) {
    let out = admin_create_user(
        dir,
        &["--username", "boss", "--email", "boss@example.com", "--role", "admin"],
    );
    assert!(out.status.success());
}

/// … who makes a seller on the running node: the seller's token.
async fn seller_on(client: &reqwest::Client, base: &str) -> String {
    let (_, admin) = sign_up(client, base, "boss").await;
    let (seller_id, _) = sign_up(client, base, "sella").await;
    let url = format!("{base}/api/v1/users/{seller_id}/roles");
    let (status, _) = send(
        client,
        &url,
        Method::PUT,
        Some(&admin),
        None,
        Some(&json!({"roles": ["seller"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sign_up(client, base, "sella").await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuspy_uploads_whole_and_resumed_files_through_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    boss(dir.path());
    let mut node = start(dir.path());
    let client = reqwest::Client::new();
    let seller = seller_on(&client, &node.base).await;

    for (name, len, chunk, stop_at) in [
        ("whole", 1_500_000, 256 * 1024, 0),
        ("resumed", 2_000_000, 300_000, 900_000),
    ] {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend((0..len - 8).map(|i| (i * 7 % 253) as u8));
        let file = dir.path().join(format!("{name}.png"));
        std::fs::write(&file, &bytes).unwrap();
        let base = node.base.clone();
        let (token, path) = (seller.clone(), file.clone());
        let upload_url = tokio::task::spawn_blocking(move || tuspy(&base, &token, &path, chunk, stop_at))
            .await
            .unwrap();
        let (status, upload) = send(&client, &upload_url, Method::GET, Some(&seller), None, None).await;
        assert_eq!(
            (status, upload["offset"].as_u64()),
            (StatusCode::OK, Some(len as u64)),
            "{name}: {upload}"
        );
        let media_id = upload["media_id"].as_str().unwrap();
        let (status, asset): (StatusCode, Value) = send(
            &client,
            &format!("{}/api/v1/media/{media_id}", node.base),
            Method::GET,
            Some(&seller),
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let digest = format!("{:x}", sha2::Sha256::digest(&bytes));
        assert_eq!(
            (asset["sha256"].as_str(), asset["size"].as_u64()),
            (Some(digest.as_str()), Some(len as u64)),
            "{name}"
        );
        assert_eq!(asset["content_type"], "image/png");
        let stored = crate::media_shop::files_under(&dir.path().join("data/media"))
            .into_iter()
            .find(|p| p.ends_with(&digest))
            .expect("the blob");
        assert_eq!(
            std::fs::read(stored).unwrap(),
            bytes,
            "{name}: the stored bytes are the file's"
        );
    }
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();
}

/// A variant job cut short by SIGKILL while rendering resumes after the
/// restart (its lease ran out) and completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variant_job_killed_mid_render_resumes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    boss(dir.path());
    let marker = dir.path().join("paused");
    let marker_text = marker.to_str().unwrap().to_string();
    let mut node = start_with_env(
        dir.path(),
        &[
            ("SHOP_TEST_PAUSE_AT", "variant_job_rendering"),
            ("SHOP_TEST_PAUSE_MARKER", &marker_text),
        ],
    );
    let client = reqwest::Client::new();
    let seller = seller_on(&client, &node.base).await;
    let picture = actors::media::samples::encoded(actors::media::samples::gradient(640, 480), image::ImageFormat::Png);
    let created = client
        .post(format!("{}/api/v1/uploads", node.base))
        .bearer_auth(&seller)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", picture.len().to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(picture.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let media_id = created.headers()["media-id"].to_str().unwrap().to_string();
    // The default variants' job stops while rendering; the process dies there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !marker.exists() {
        assert!(std::time::Instant::now() < deadline, "the job never started rendering");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    signal(&node.child, libc::SIGKILL);
    node.child.wait().unwrap();
    let mut node = start(dir.path());
    let url = format!("{}/api/v1/media/{media_id}", node.base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    let asset = loop {
        let (status, asset) = send(&client, &url, Method::GET, Some(&seller), None, None).await;
        assert_eq!(status, StatusCode::OK);
        if asset["variants"].as_array().is_some_and(|v| v.len() == 2) {
            break asset;
        }
        assert!(std::time::Instant::now() < deadline, "the job did not resume: {asset}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(asset["variants"][0]["name"], "thumb");
    assert_eq!(
        (
            asset["variants"][1]["width"].as_u64(),
            asset["variants"][1]["height"].as_u64()
        ),
        (Some(640), Some(480))
    );
    let thumb = client
        .get(format!("{url}/variants/thumb"))
        .bearer_auth(&seller)
        .send()
        .await
        .unwrap();
    assert_eq!(
        actors::media::render::dimensions(&thumb.bytes().await.unwrap()).unwrap(),
        (256, 256)
    );
    signal(&node.child, libc::SIGTERM);
    node.child.wait().unwrap();
}
