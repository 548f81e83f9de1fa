//! Uploads over tus 1.0.0 with raw HTTP: discovery, creation (with and
//! without bytes), HEAD, PATCH in parts with checksums, every refusal the
//! protocol names, the asset a complete upload becomes, and the limits.

use crate::support::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use sha2::Digest;

const TUS: &str = "1.0.0";

fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A small PNG-looking file (the type is sniffed from its first bytes).
fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..len - 8).map(|i| (i * 31 % 251) as u8));
    bytes
}

struct Uploader<'a> {
    app: &'a TestApp,
    token: String,
}

impl Uploader<'_> {
    async fn create(&self, length: usize, metadata: Option<&str>) -> Response {
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
    async fn create_with(&self, length: usize, bytes: Vec<u8>, checksum: Option<String>) -> Response {
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

    async fn patch(&self, location: &str, offset: usize, bytes: Vec<u8>, checksum: Option<String>) -> Response {
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

    async fn head(&self, location: &str) -> Response {
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

fn sha1_of(bytes: &[u8]) -> String {
    format!("sha1 {}", STANDARD.encode(sha1::Sha1::digest(bytes)))
}

#[tokio::test]
async fn a_file_uploads_in_parts_with_checksums_and_becomes_a_private_asset() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader {
        app: &app,
        token: seller.access.clone(),
    };
    // Discovery.
    let res = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "tus-version"), TUS);
    assert_eq!(
        header(&res, "tus-extension"),
        "creation,creation-with-upload,expiration,checksum,termination"
    );
    assert_eq!(header(&res, "tus-checksum-algorithm"), "sha1,sha256");
    assert_eq!(header(&res, "tus-max-size"), (1u64 << 30).to_string());

    let file = png(3 * 1024 * 1024 + 17);
    let digest = format!("{:x}", sha2::Sha256::digest(&file));
    let metadata = format!(
        "filename {},sha256 {}",
        STANDARD.encode("lamp.png"),
        STANDARD.encode(&digest)
    );
    let res = up.create(file.len(), Some(&metadata)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "tus-resumable"), TUS);
    assert_eq!(header(&res, "upload-offset"), "0");
    assert!(!header(&res, "upload-expires").is_empty());
    let location = header(&res, "location").to_string();
    assert!(location.starts_with("/api/v1/uploads/up_"), "{location}");

    let head = up.head(&location).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        (header(&head, "upload-offset"), header(&head, "upload-length")),
        ("0", file.len().to_string().as_str())
    );
    assert_eq!(header(&head, "cache-control"), "no-store");
    assert_eq!(header(&head, "upload-metadata"), metadata);

    // Refusals that change nothing.
    let wrong_type = app
        .client
        .patch(app.url(&location))
        .bearer_auth(&seller.access)
        .header("Tus-Resumable", TUS)
        .header("Content-Type", "application/json")
        .header("Upload-Offset", "0")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        up.patch(&location, 5, file[..10].to_vec(), None).await.status(),
        StatusCode::CONFLICT
    );
    let old = app
        .client
        .patch(app.url(&location))
        .bearer_auth(&seller.access)
        .header("Tus-Resumable", "0.2.2")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(file[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        (old.status(), header(&old, "tus-version")),
        (StatusCode::PRECONDITION_FAILED, TUS)
    );
    let half = file.len() / 2;
    let bad = up
        .patch(&location, 0, file[..half].to_vec(), Some(sha1_of(b"something else")))
        .await;
    assert_eq!(bad.status().as_u16(), 460, "checksum mismatch");
    assert_eq!(
        header(&up.head(&location).await, "upload-offset"),
        "0",
        "the chunk was discarded"
    );

    // Two PATCHes with good checksums.
    let res = up
        .patch(&location, 0, file[..half].to_vec(), Some(sha1_of(&file[..half])))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "upload-offset"), half.to_string());
    assert_eq!(header(&up.head(&location).await, "upload-offset"), half.to_string());
    let res = up
        .patch(&location, half, file[half..].to_vec(), Some(sha1_of(&file[half..])))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "upload-offset"), file.len().to_string());
    let media_id = header(&res, "media-id").to_string();
    assert!(media_id.starts_with("m_"), "{res:?}");

    let (status, json) = {
        let res = app.get(&location, &seller.access).await;
        (res.status(), res.json::<Value>().await.unwrap())
    };
    assert_eq!(
        (status, json["media_id"].as_str()),
        (StatusCode::OK, Some(media_id.as_str()))
    );
    let asset: Value = app
        .get(&format!("/api/v1/media/{media_id}"), &seller.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asset["content_type"], "image/png");
    assert_eq!(asset["size"], file.len());
    assert_eq!(asset["sha256"], digest);
    assert_eq!(
        (asset["public"].as_bool(), asset["owner_id"].as_str()),
        (Some(false), Some(seller.user_id.as_str()))
    );
    // Private: anyone else is told it does not exist.
    let eve = app.user("eve").await;
    assert_eq!(
        app.get(&format!("/api/v1/media/{media_id}"), &eve.access)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = app.fetch_json_status(&format!("/api/v1/media/{media_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stranger = Uploader {
        app: &app,
        token: eve.access.clone(),
    };
    assert_eq!(
        stranger.head(&location).await.status(),
        StatusCode::NOT_FOUND,
        "nor someone else's upload"
    );
    // Served with validators and ranges, byte for byte (3 MiB: several reads).
    let content = format!("/api/v1/media/{media_id}/content");
    let get = |range: Option<&str>, extra: Option<(&str, &str)>| {
        let mut req = app.client.get(app.url(&content)).bearer_auth(&seller.access);
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        if let Some((k, v)) = extra {
            req = req.header(k, v);
        }
        req.send()
    };
    let whole = get(None, None).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    let etag = header(&whole, "etag").to_string();
    assert_eq!(etag, format!("\"{}\"", &digest[..32]));
    assert_eq!(header(&whole, "accept-ranges"), "bytes");
    assert_eq!(header(&whole, "x-content-type-options"), "nosniff");
    assert!(header(&whole, "cache-control").starts_with("private"));
    assert_eq!(header(&whole, "content-type"), "image/png");
    assert!(!header(&whole, "last-modified").is_empty());
    assert_eq!(whole.bytes().await.unwrap(), file);
    let one = get(Some("bytes=1048570-1048600"), None).await.unwrap();
    assert_eq!(one.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&one, "content-range"),
        format!("bytes 1048570-1048600/{}", file.len())
    );
    assert_eq!(
        one.bytes().await.unwrap(),
        file[1_048_570..=1_048_600],
        "across two reads"
    );
    let tail = get(Some("bytes=-100"), None).await.unwrap();
    assert_eq!(tail.bytes().await.unwrap(), file[file.len() - 100..]);
    let several = get(Some("bytes=0-9,20-29"), None).await.unwrap();
    assert_eq!(several.status(), StatusCode::PARTIAL_CONTENT);
    let boundary = header(&several, "content-type")
        .split("boundary=")
        .nth(1)
        .unwrap()
        .to_string();
    let body = several.bytes().await.unwrap();
    let mut expected = Vec::new();
    for (first, last) in [(0usize, 9usize), (20, 29)] {
        expected.extend(
            format!(
                "--{boundary}\r\nContent-Type: image/png\r\nContent-Range: bytes {first}-{last}/{}\r\n\r\n",
                file.len()
            )
            .into_bytes(),
        );
        expected.extend(&file[first..=last]);
        expected.extend(b"\r\n");
    }
    expected.extend(format!("--{boundary}--\r\n").into_bytes());
    assert_eq!(body.to_vec(), expected);
    let none = get(Some("bytes=99999999-"), None).await.unwrap();
    assert_eq!(none.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&none, "content-range"), format!("bytes */{}", file.len()));
    let cached = get(None, Some(("If-None-Match", &etag))).await.unwrap();
    assert_eq!(
        (cached.status(), header(&cached, "etag")),
        (StatusCode::NOT_MODIFIED, etag.as_str())
    );
    let stale = get(Some("bytes=0-9"), Some(("If-Range", "\"an-old-tag\"")))
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK, "a stale If-Range: the whole body");
    let fresh = get(Some("bytes=0-9"), Some(("If-Range", &etag))).await.unwrap();
    assert_eq!(fresh.status(), StatusCode::PARTIAL_CONTENT);
    let head = app
        .client
        .head(app.url(&content))
        .bearer_auth(&seller.access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (head.status(), header(&head, "content-length")),
        (StatusCode::OK, file.len().to_string().as_str())
    );
    assert_eq!(app.get(&content, &eve.access).await.status(), StatusCode::NOT_FOUND);

    // The bytes on disk are the file's.
    let blob = std::fs::read_dir(app.dir.path().join("media"))
        .unwrap()
        .flat_map(|shard| {
            std::fs::read_dir(shard.unwrap().path().join("blobs"))
                .into_iter()
                .flatten()
        })
        .map(|b| b.unwrap().path())
        .find(|p| p.ends_with(&digest))
        .expect("the blob");
    assert_eq!(std::fs::read(blob).unwrap(), file);
}

#[tokio::test]
async fn creation_with_upload_limits_termination_and_refused_types() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader {
        app: &app,
        token: seller.access.clone(),
    };
    // The first bytes with the creation.
    let file = png(5000);
    let res = up.create_with(5000, file[..1000].to_vec(), None).await;
    assert_eq!(
        (res.status(), header(&res, "upload-offset")),
        (StatusCode::CREATED, "1000")
    );
    let first = header(&res, "location").to_string();
    // Five open at most.
    let mut open = vec![first.clone()];
    for _ in 0..4 {
        open.push(header(&up.create(10, None).await, "location").to_string());
    }
    let sixth = up.create(10, None).await;
    assert_eq!(sixth.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        sixth.json::<Value>().await.unwrap()["error"]["code"],
        "too_many_uploads"
    );
    // Termination frees a place and the bytes.
    let res = app.call(Method::DELETE, &open[4], Some(&seller.access), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(up.head(&open[4]).await.status(), StatusCode::NOT_FOUND);
    // The quota counts declared lengths: 10 MiB by default.
    let res = up.create(10 * 1024 * 1024, None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let error: Value = res.json().await.unwrap();
    assert_eq!(error["error"]["code"], "quota_exceeded");
    assert!(
        error["error"]["message"].as_str().unwrap().contains("limit 10485760"),
        "{error}"
    );
    // A customer may not upload at all.
    let ann = app.user("ann").await;
    let res = Uploader {
        app: &app,
        token: ann.access,
    }
    .create(10, None)
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A complete file of a type the shop does not serve: 422, and gone.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let location = header(&up.create(svg.len(), None).await, "location").to_string();
    assert_eq!(
        up.create(1, None).await.status(),
        StatusCode::FORBIDDEN,
        "five open again"
    );
    let res = up.patch(&location, 0, svg, None).await;
    let status = res.status();
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(up.head(&location).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        up.create(1, None).await.status(),
        StatusCode::CREATED,
        "its place is free again"
    );
    // The rest of the first file.
    let res = up.patch(&first, 1000, file[1000..].to_vec(), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(header(&res, "media-id").starts_with("m_"));
}

/// Uploads a small PNG in one PATCH; its asset's id.
async fn uploaded(up: &Uploader<'_>, len: usize) -> (String, Vec<u8>) {
    let file = png(len);
    let location = header(&up.create(len, None).await, "location").to_string();
    let res = up.patch(&location, 0, file.clone(), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    (header(&res, "media-id").to_string(), file)
}

#[tokio::test]
async fn access_is_the_owners_to_give_and_signed_links_work_until_expiry_or_an_acl_change() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let (viewer, stranger) = (app.user("vic").await, app.user("eve").await);
    let up = Uploader {
        app: &app,
        token: seller.access.clone(),
    };
    let (id, file) = uploaded(&up, 2000).await;
    let asset = format!("/api/v1/media/{id}");
    let acl = format!("{asset}/acl");
    assert_eq!(app.get(&asset, &viewer.access).await.status(), StatusCode::NOT_FOUND);
    let grant = serde_json::json!({"public": false, "grants": [{"user_id": viewer.user_id, "view": true}]});
    let res = app
        .call(Method::PUT, &acl, Some(&stranger.access), Some(grant.clone()))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "a stranger learns nothing");
    let res = app
        .call(Method::PUT, &acl, Some(&seller.access), Some(grant.clone()))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get(&asset, &viewer.access).await.status(), StatusCode::OK);
    assert_eq!(
        app.get(&format!("{asset}/content"), &viewer.access)
            .await
            .bytes()
            .await
            .unwrap(),
        file
    );
    let res = app
        .call(Method::PUT, &acl, Some(&viewer.access), Some(grant.clone()))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "viewing is not managing");
    assert_eq!(app.get(&acl, &viewer.access).await.status(), StatusCode::FORBIDDEN);
    let shown: Value = app.get(&acl, &seller.access).await.json().await.unwrap();
    assert_eq!(shown["grants"][0]["user_id"], viewer.user_id);
    let (status, _) = app.fetch_json_status(&asset).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "anonymous");

    // A signed link: no token needed, until it expires.
    let links = format!("{asset}/links");
    let res = app
        .call(
            Method::POST,
            &links,
            Some(&viewer.access),
            Some(serde_json::json!({"expires_in_secs": 60})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let link: Value = res.json().await.unwrap();
    let url = link["url"].as_str().unwrap().to_string();
    let res = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap(), file);
    let tampered = url.replace("sig=", "sig=0");
    assert_eq!(
        app.client.get(app.url(&tampered)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let longer = url.replace("expires=", "expires=9");
    assert_eq!(
        app.client.get(app.url(&longer)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let res = app
        .call(
            Method::POST,
            &links,
            Some(&stranger.access),
            Some(serde_json::json!({"expires_in_secs": 60})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call(
            Method::POST,
            &links,
            Some(&seller.access),
            Some(serde_json::json!({"expires_in_secs": 8 * 86400})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Any ACL change revokes every link issued before; public content is
    // then anyone's, cached for good.
    let public = serde_json::json!({"public": true, "grants": []});
    assert_eq!(
        app.call(Method::PUT, &acl, Some(&seller.access), Some(public))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.client.get(app.url(&url)).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let res = app
        .client
        .get(app.url(&format!("{asset}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "public, max-age=31536000, immutable");
    // Expired.
    let res = app
        .call(
            Method::POST,
            &links,
            Some(&seller.access),
            Some(serde_json::json!({"expires_in_secs": 5})),
        )
        .await;
    let short: Value = res.json().await.unwrap();
    app.clock.advance(6_000);
    let res = app
        .client
        .get(app.url(short["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unfinished_uploads_expire_with_their_bytes_and_give_their_quota_back() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader {
        app: &app,
        token: seller.access.clone(),
    };
    let mut open = Vec::new();
    for _ in 0..5 {
        let location = header(&up.create(4000, None).await, "location").to_string();
        assert_eq!(
            up.patch(&location, 0, png(4000)[..1000].to_vec(), None).await.status(),
            StatusCode::NO_CONTENT
        );
        open.push(location);
    }
    assert_eq!(up.create(10, None).await.status(), StatusCode::FORBIDDEN);
    let files = || {
        std::fs::read_dir(app.dir.path().join("media"))
            .unwrap()
            .flat_map(|shard| {
                std::fs::read_dir(shard.unwrap().path().join("uploads"))
                    .into_iter()
                    .flatten()
            })
            .count()
    };
    assert_eq!(files(), 5);
    app.clock.advance(24 * 3_600_000 + 1_000);
    let up = Uploader {
        app: &app,
        token: app.login("sella", PASSWORD).await.access,
    };
    // The alarm removes them (HEAD says 410 until it has, 404 after).
    for _ in 0..100 {
        if files() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(files(), 0, "the bytes of expired uploads are gone");
    let head = up.head(&open[0]).await.status();
    assert!(head == StatusCode::NOT_FOUND || head == StatusCode::GONE, "{head}");
    for _ in 0..5 {
        assert_eq!(
            up.create(10, None).await.status(),
            StatusCode::CREATED,
            "their places are free"
        );
    }
}

#[tokio::test]
async fn creation_with_bytes_that_fail_their_checksum_still_gives_the_upload_to_resume() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let file = png(3000);
    let res = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&seller.access)
        .header("Tus-Resumable", TUS)
        .header("Upload-Length", "3000")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Checksum", sha1_of(b"not these bytes"))
        .body(file[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status(), header(&res, "upload-offset")),
        (StatusCode::CREATED, "0"),
        "the bytes were discarded"
    );
    let location = header(&res, "location").to_string();
    let up = Uploader {
        app: &app,
        token: seller.access.clone(),
    };
    let res = up.patch(&location, 0, file.clone(), Some(sha1_of(&file))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(header(&res, "media-id").starts_with("m_"));
}
