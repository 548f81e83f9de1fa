//! Helpers for media tests: a tus uploader speaking raw HTTP, and files
//! whose type is sniffed as PNG.

use crate::support::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Response, StatusCode};
use sha2::Digest;

pub const TUS: &str = "1.0.0";

pub fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A small PNG-looking file (the type is sniffed from its first bytes).
pub fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..len - 8).map(|i| (i * 31 % 251) as u8));
    bytes
}

pub struct Uploader<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl Uploader<'_> {
    pub async fn create(&self, length: usize, metadata: Option<&str>) -> Response {
        let mut req = self
            .app
            .client
            .post(self.app.url("/api/v1/uploads"))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", TUS)
            .header("Upload-Length", length.to_string());
        if let Some(m) = metadata {
            req = req.header("Upload-Metadata", m);
        }
        req.send().await.unwrap()
    }

    /// A creation carrying its first `bytes` (creation-with-upload).
    pub async fn create_with(&self, length: usize, bytes: Vec<u8>, checksum: Option<String>) -> Response {
        let mut req = self
            .app
            .client
            .post(self.app.url("/api/v1/uploads"))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", TUS)
            .header("Upload-Length", length.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(bytes);
        if let Some(c) = checksum {
            req = req.header("Upload-Checksum", c);
        }
        req.send().await.unwrap()
    }

    pub async fn patch(&self, location: &str, offset: usize, bytes: Vec<u8>, checksum: Option<String>) -> Response {
        let mut req = self
            .app
            .client
            .patch(self.app.url(location))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", TUS)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string())
            .body(bytes);
        if let Some(c) = checksum {
            req = req.header("Upload-Checksum", c);
        }
        req.send().await.unwrap()
    }

    pub async fn head(&self, location: &str) -> Response {
        self.app
            .client
            .head(self.app.url(location))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", TUS)
            .send()
            .await
            .unwrap()
    }
}

pub fn sha1_of(bytes: &[u8]) -> String {
    format!("sha1 {}", STANDARD.encode(sha1::Sha1::digest(bytes)))
}

/// Uploads a small PNG in one PATCH; its asset's id.
pub async fn uploaded(up: &Uploader<'_>, len: usize) -> (String, Vec<u8>) {
    let file = png(len);
    let location = header(&up.create(len, None).await, "location").to_string();
    let res = up.patch(&location, 0, file.clone(), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    (header(&res, "media-id").to_string(), file)
}
