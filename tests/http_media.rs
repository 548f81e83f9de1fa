//! Uploads over tus 1.0.0 with raw HTTP: discovery, creation (with and
//! without bytes), HEAD, PATCH in parts with checksums, every refusal the
//! protocol names, the asset a complete upload becomes, expiry and limits.

use crate::media_shop::*;
use crate::support::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::Digest;

#[tokio::test]
async fn a_file_uploads_in_parts_with_checksums_and_becomes_a_private_asset() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader::of(&app, &seller);
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
    let stranger = Uploader::of(&app, &eve);
    assert_eq!(
        stranger.head(&location).await.status(),
        StatusCode::NOT_FOUND,
        "nor someone else's upload"
    );
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
    let up = Uploader::of(&app, &seller);
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

#[tokio::test]
async fn unfinished_uploads_expire_with_their_bytes_and_give_their_quota_back() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader::of(&app, &seller);
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
    let up = Uploader::of(&app, &seller);
    let res = up.patch(&location, 0, file.clone(), Some(sha1_of(&file))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(header(&res, "media-id").starts_with("m_"));
}
