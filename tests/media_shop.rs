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

impl<'a> Uploader<'a> {
    /// An uploader signed in as `who`.
    pub fn of(app: &'a TestApp, who: &Session) -> Self {
        Self {
            app,
            token: who.access.clone(),
        }
    }

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
    (upload_file(up, &file).await, file)
}

/// Uploads `file` in one PATCH; its asset's id.
pub async fn upload_file(up: &Uploader<'_>, file: &[u8]) -> String {
    let location = header(&up.create(file.len(), None).await, "location").to_string();
    let res = up.patch(&location, 0, file.to_vec(), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{:?}", res.text().await);
    header(&res, "media-id").to_string()
}

/// Polls a job until it is final (at most 30 s); its last view.
pub async fn finished_job(app: &TestApp, token: &str, job_id: &str) -> serde_json::Value {
    for _ in 0..300 {
        let job = app.get(&format!("/api/v1/jobs/{job_id}"), token).await;
        assert_eq!(job.status(), StatusCode::OK);
        let job: serde_json::Value = job.json().await.unwrap();
        if job["status"] == "succeeded" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("job {job_id} did not finish in 30 s");
}

/// The asset's view once it lists `count` variants (at most 30 s).
pub async fn with_variants(app: &TestApp, token: &str, media_id: &str, count: usize) -> serde_json::Value {
    for _ in 0..300 {
        let asset: serde_json::Value = app
            .get(&format!("/api/v1/media/{media_id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if asset["variants"].as_array().is_some_and(|v| v.len() >= count) {
            return asset;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{media_id} did not get {count} variants in 30 s");
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match path.is_dir() {
            true => out.extend(files_under(&path)),
            false => out.push(path),
        }
    }
    out
}
