//! Serving assets over HTTP: validators, ranges and conditional requests
//! byte for byte, and who may see an asset — its ACL and signed links.

use crate::media_shop::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::Digest;

#[tokio::test]
async fn content_is_served_with_validators_ranges_and_conditional_requests() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let eve = app.user("eve").await;
    let up = Uploader::of(&app, &seller);
    let (media_id, file) = uploaded(&up, 3 * 1024 * 1024 + 17).await;
    let digest = format!("{:x}", sha2::Sha256::digest(&file));
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
}

#[tokio::test]
async fn access_is_the_owners_to_give_and_signed_links_work_until_expiry_or_an_acl_change() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let (viewer, stranger) = (app.user("vic").await, app.user("eve").await);
    let up = Uploader::of(&app, &seller);
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
