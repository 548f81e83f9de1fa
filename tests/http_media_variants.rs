//! Image variants over HTTP: made by jobs (asked for, and by default for
//! every image), served like originals, refused for bad sources; who may
//! ask for them; links to them; deleting an asset.

use crate::media_shop::*;
use crate::support::*;
use actors::media::render::dimensions;
use actors::media::samples::{encoded, gradient, huge_png, rotated_jpeg};
use image::ImageFormat;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn variants(asset: &Value) -> Vec<(String, u64, u64, String)> {
    asset["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["width"].as_u64().unwrap(),
                v["height"].as_u64().unwrap(),
                v["format"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn ask(app: &TestApp, token: &str, media_id: &str, specs: Value) -> Response {
    app.call(
        Method::POST,
        &format!("/api/v1/media/{media_id}/variants"),
        Some(token),
        Some(json!({ "variants": specs })),
    )
    .await
}

type Response = reqwest::Response;

async fn job_of(res: Response) -> String {
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.unwrap();
    body["job_id"].as_str().unwrap().to_string()
}

/// Asks for `specs` and waits for the job: its final view.
async fn made(app: &TestApp, token: &str, media_id: &str, specs: Value) -> Value {
    let job = job_of(ask(app, token, media_id, specs).await).await;
    finished_job(app, token, &job).await
}

async fn asset_of(app: &TestApp, token: &str, media_id: &str) -> Value {
    app.get(&format!("/api/v1/media/{media_id}"), token)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn variants_are_made_by_jobs_and_served_like_the_original() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader::of(&app, &seller);
    let id = upload_file(&up, &encoded(gradient(400, 300), ImageFormat::Png)).await;
    // The default variants come without being asked.
    let asset = with_variants(&app, &seller.access, &id, 2).await;
    assert_eq!(
        (asset["width"].as_u64(), asset["height"].as_u64()),
        (Some(400), Some(300))
    );
    assert_eq!(
        variants(&asset),
        vec![
            ("thumb".into(), 256, 256, "jpeg".into()),
            ("view".into(), 400, 300, "jpeg".into()),
        ],
        "a view is never enlarged"
    );
    let job = job_of(
        ask(
            &app,
            &seller.access,
            &id,
            json!([
                {"name": "square", "width": 100, "height": 100, "fit": "cover", "format": "jpeg", "quality": 70},
                {"name": "small", "width": 200, "height": 200, "fit": "contain", "format": "png"},
                {"name": "strip", "width": 50, "height": 20, "fit": "fill", "format": "webp"}
            ]),
        )
        .await,
    )
    .await;
    let done = finished_job(&app, &seller.access, &job).await;
    assert_eq!(
        (done["status"].as_str(), done["progress"].as_u64()),
        (Some("succeeded"), Some(100)),
        "{done}"
    );
    assert_eq!(done["media_id"], id.as_str());
    let asset = asset_of(&app, &seller.access, &id).await;
    assert_eq!(
        variants(&asset),
        vec![
            ("small".into(), 200, 150, "png".into()),
            ("square".into(), 100, 100, "jpeg".into()),
            ("strip".into(), 50, 20, "webp".into()),
            ("thumb".into(), 256, 256, "jpeg".into()),
            ("view".into(), 400, 300, "jpeg".into()),
        ]
    );
    // Served with the original's validators, ranges and caching.
    let path = format!("/api/v1/media/{id}/variants/small");
    let small = app.get(&path, &seller.access).await;
    assert_eq!(small.status(), StatusCode::OK);
    assert_eq!(header(&small, "content-type"), "image/png");
    assert!(header(&small, "cache-control").starts_with("private"));
    let etag = header(&small, "etag").to_string();
    let bytes = small.bytes().await.unwrap();
    assert_eq!(dimensions(&bytes).unwrap(), (200, 150));
    let listed = asset["variants"][0]["size"].as_u64().unwrap();
    assert_eq!(bytes.len() as u64, listed);
    let again = app
        .client
        .get(app.url(&path))
        .bearer_auth(&seller.access)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let part = app
        .client
        .get(app.url(&path))
        .bearer_auth(&seller.access)
        .header("Range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), bytes[..8]);
    let head = app
        .client
        .head(app.url(&path))
        .bearer_auth(&seller.access)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&head, "content-length"), bytes.len().to_string());
    assert_eq!(
        app.get(&format!("/api/v1/media/{id}/variants/none"), &seller.access)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // An identical spec is not made again; a changed one replaces its variant.
    assert_eq!(
        made(
            &app,
            &seller.access,
            &id,
            json!([{"name": "small", "width": 200, "height": 200, "fit": "contain", "format": "png"}])
        )
        .await["status"],
        "succeeded"
    );
    let unchanged = asset_of(&app, &seller.access, &id).await;
    assert_eq!(unchanged["variants"], asset["variants"]);
    assert_eq!(
        made(
            &app,
            &seller.access,
            &id,
            json!([{"name": "small", "width": 300, "height": 300, "fit": "contain", "format": "png"}])
        )
        .await["status"],
        "succeeded"
    );
    let replaced = asset_of(&app, &seller.access, &id).await;
    assert_eq!(variants(&replaced)[0], ("small".into(), 300, 225, "png".into()));
    let bytes = app.get(&path, &seller.access).await.bytes().await.unwrap();
    assert_eq!(dimensions(&bytes).unwrap(), (300, 225));
}

#[tokio::test]
async fn gif_webp_and_rotated_jpeg_sources_and_sources_that_fail() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader::of(&app, &seller);
    let box100 = json!([{"name": "box", "width": 100, "height": 100, "fit": "contain", "format": "jpeg"}]);
    for (source, expected) in [
        (encoded(gradient(60, 40), ImageFormat::Gif), (60, 40)),
        (encoded(gradient(300, 150), ImageFormat::WebP), (100, 50)),
        // EXIF says: turn it upright; the stored 40×20 is seen as 20×40.
        (rotated_jpeg(40, 20), (20, 40)),
    ] {
        let id = upload_file(&up, &source).await;
        let asset = asset_of(&app, &seller.access, &id).await;
        let (w, h) = expected;
        let seen = (asset["width"].as_u64().unwrap(), asset["height"].as_u64().unwrap());
        // The source's own size, as seen (turned upright): the variant's shape.
        assert_eq!(seen.0 * u64::from(h), seen.1 * u64::from(w), "{asset}");
        assert_eq!(
            made(&app, &seller.access, &id, box100.clone()).await["status"],
            "succeeded"
        );
        let bytes = app
            .get(&format!("/api/v1/media/{id}/variants/box"), &seller.access)
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(dimensions(&bytes).unwrap(), expected);
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no metadata survives");
    }
    // A corrupt file fails its job with a clear error.
    let mut corrupt = encoded(gradient(50, 50), ImageFormat::Png);
    let len = corrupt.len();
    corrupt[40..len - 12].fill(0x55);
    let id = upload_file(&up, &corrupt).await;
    let failed = made(&app, &seller.access, &id, box100.clone()).await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("corrupt_image"), "{failed}");
    // A header claiming 64250×64250 pixels is refused before decoding.
    let id = upload_file(&up, &huge_png(64250, 64250)).await;
    let failed = made(&app, &seller.access, &id, box100.clone()).await;
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("64250×64250") && error.contains("40000000"), "{failed}");
    let asset = asset_of(&app, &seller.access, &id).await;
    assert_eq!(asset["variants"], json!([]));
    // Videos have no variants; bad specs are named field by field.
    let mut mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    mp4.extend([0u8; 200]);
    let video = upload_file(&up, &mp4).await;
    let asset = asset_of(&app, &seller.access, &video).await;
    assert!(
        asset.get("width").is_none() && asset["content_type"] == "video/mp4",
        "{asset}"
    );
    let (status, code, body) = error_code(ask(&app, &seller.access, &video, box100.clone()).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    assert!(
        body["error"]["fields"]["variants"]
            .as_str()
            .unwrap()
            .contains("not_an_image")
    );
    let image = upload_file(&up, &encoded(gradient(10, 10), ImageFormat::Png)).await;
    let (status, _, body) = error_code(
        ask(
            &app,
            &seller.access,
            &image,
            json!([{"name": "Bad!", "width": 0, "height": 10, "fit": "fill", "format": "png", "quality": 5}]),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = body["error"]["fields"].as_object().unwrap();
    for field in ["variants[0].name", "variants[0].width", "variants[0].quality"] {
        assert!(fields.contains_key(field), "{body}");
    }
    let (status, _, _) = error_code(
        ask(
            &app,
            &seller.access,
            &image,
            json!([{"name": "x", "width": 1, "height": 1, "fit": "stretch", "format": "png"}]),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn who_may_ask_for_variants_see_jobs_and_link_to_variants() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let (viewer, maker, stranger) = (app.user("vic").await, app.user("mia").await, app.user("eve").await);
    let up = Uploader::of(&app, &seller);
    let id = upload_file(&up, &encoded(gradient(120, 80), ImageFormat::Png)).await;
    with_variants(&app, &seller.access, &id, 2).await;
    let acl = json!({"public": false, "grants": [
        {"user_id": viewer.user_id, "view": true},
        {"user_id": maker.user_id, "view": true, "transform": true}
    ]});
    let res = app
        .call(
            Method::PUT,
            &format!("/api/v1/media/{id}/acl"),
            Some(&seller.access),
            Some(acl),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let spec = json!([{"name": "tiny", "width": 12, "height": 8, "fit": "fill", "format": "png"}]);
    assert_eq!(
        ask(&app, &stranger.access, &id, spec.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, code, _) = error_code(ask(&app, &viewer.access, &id, spec.clone()).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "not_transformer"));
    let job = job_of(ask(&app, &maker.access, &id, spec).await).await;
    assert_eq!(finished_job(&app, &maker.access, &job).await["status"], "succeeded");
    let job_path = format!("/api/v1/jobs/{job}");
    assert_eq!(
        app.get(&job_path, &seller.access).await.status(),
        StatusCode::OK,
        "the owner sees it"
    );
    assert_eq!(app.get(&job_path, &viewer.access).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/jobs/j_nothing_0", &seller.access).await.status(),
        StatusCode::NOT_FOUND
    );
    // Private variants are nobody else's; a link opens one without a token.
    let tiny = format!("/api/v1/media/{id}/variants/tiny");
    assert_eq!(
        app.call(Method::GET, &tiny, None, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&tiny, &stranger.access).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&tiny, &viewer.access).await.status(), StatusCode::OK);
    let links = format!("/api/v1/media/{id}/links");
    let res = app
        .call(
            Method::POST,
            &links,
            Some(&viewer.access),
            Some(json!({"variant": "tiny", "expires_in_secs": 600})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let url = res.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{tiny}?")), "{url}");
    let by_link = app.call(Method::GET, &url, None, None).await;
    assert_eq!(by_link.status(), StatusCode::OK);
    assert_eq!(dimensions(&by_link.bytes().await.unwrap()).unwrap(), (12, 8));
    // The link is for that variant only, and only as signed.
    let elsewhere = url.replace("/variants/tiny", "/variants/thumb");
    assert_eq!(
        app.call(Method::GET, &elsewhere, None, None).await.status(),
        StatusCode::FORBIDDEN
    );
    let original = url.replace("/variants/tiny", "/content");
    assert_eq!(
        app.call(Method::GET, &original, None, None).await.status(),
        StatusCode::FORBIDDEN
    );
    let tampered = url.replace("expires=", "expires=1");
    assert_eq!(
        app.call(Method::GET, &tampered, None, None).await.status(),
        StatusCode::FORBIDDEN
    );
    let (status, _, body) = error_code(
        app.call(
            Method::POST,
            &links,
            Some(&viewer.access),
            Some(json!({"variant": "huge", "expires_in_secs": 600})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Public: cached by anyone, for good.
    let res = app
        .call(
            Method::PUT,
            &format!("/api/v1/media/{id}/acl"),
            Some(&seller.access),
            Some(json!({"public": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let public = app.call(Method::GET, &tiny, None, None).await;
    assert_eq!(public.status(), StatusCode::OK);
    assert_eq!(header(&public, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(
        app.call(Method::GET, &url, None, None).await.status(),
        StatusCode::FORBIDDEN,
        "the ACL changed"
    );
}

#[tokio::test]
async fn deleting_an_asset_takes_its_variants_bytes_and_quota() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let (viewer, stranger) = (app.user("vic").await, app.user("eve").await);
    let up = Uploader::of(&app, &seller);
    // The same picture twice: each asset keeps it while it lives.
    let picture = encoded(gradient(90, 60), ImageFormat::Png);
    let first = upload_file(&up, &picture).await;
    let second = upload_file(&up, &picture).await;
    with_variants(&app, &seller.access, &first, 2).await;
    with_variants(&app, &seller.access, &second, 2).await;
    let acl = json!({"public": false, "grants": [{"user_id": viewer.user_id, "view": true}]});
    app.call(
        Method::PUT,
        &format!("/api/v1/media/{first}/acl"),
        Some(&seller.access),
        Some(acl),
    )
    .await;
    let path = format!("/api/v1/media/{first}");
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&stranger.access), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (status, code, _) = error_code(app.call(Method::DELETE, &path, Some(&viewer.access), None).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "not_owner"));
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&seller.access), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path, &seller.access).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("{path}/variants/thumb"), &seller.access)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&seller.access), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let other = app
        .get(&format!("/api/v1/media/{second}/content"), &seller.access)
        .await;
    assert_eq!(other.bytes().await.unwrap(), picture, "the other asset keeps its bytes");
    let thumb = app
        .get(&format!("/api/v1/media/{second}/variants/thumb"), &seller.access)
        .await;
    assert_eq!(thumb.status(), StatusCode::OK);
    // Its bytes leave the disk and the quota (10 MiB by default).
    let big = png(6 * 1024 * 1024);
    let id = upload_file(&up, &big).await;
    let res = up.create(6 * 1024 * 1024, None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "over the quota");
    let media = app.dir.path().join("media");
    let sized = |len: u64| {
        files_under(&media)
            .into_iter()
            .filter(|p| p.metadata().unwrap().len() == len)
            .count()
    };
    assert_eq!(sized(big.len() as u64), 1);
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/media/{id}"),
            Some(&seller.access),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(sized(big.len() as u64), 0, "the blob is gone");
    let res = up.create(6 * 1024 * 1024, None).await;
    assert_eq!(res.status(), StatusCode::CREATED, "the quota is back");
}

#[tokio::test]
async fn products_name_only_public_media_their_owner_may_view_and_show_their_urls() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.seller(&admin, "sella").await;
    let other = app.seller(&admin, "otto").await;
    let up = Uploader::of(&app, &seller);
    let public = upload_file(&up, &encoded(gradient(300, 200), ImageFormat::Png)).await;
    let private = upload_file(&up, &encoded(gradient(30, 20), ImageFormat::Png)).await;
    with_variants(&app, &seller.access, &public, 2).await;
    let res = app
        .call(
            Method::PUT,
            &format!("/api/v1/media/{public}/acl"),
            Some(&seller.access),
            Some(json!({"public": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let theirs = upload_file(
        &Uploader::of(&app, &other),
        &encoded(gradient(20, 20), ImageFormat::Png),
    )
    .await;
    // Another seller's private asset, one of ours that is private, and none.
    let res = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&seller.access),
            Some(json!({"name": "Lamp", "visible": true, "media_ids": [public, private, theirs, "m_nothing"]})),
        )
        .await;
    let (status, _, body) = error_code(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = body["error"]["fields"].as_object().unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        vec!["media_ids[1]", "media_ids[2]", "media_ids[3]"],
        "{body}"
    );
    assert!(fields["media_ids[1]"].as_str().unwrap().contains("not public"));
    assert!(fields["media_ids[2]"].as_str().unwrap().contains("no such media"));
    let res = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&seller.access),
            Some(json!({"name": "Lamp", "visible": true, "media_ids": [public]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let product: Value = res.json().await.unwrap();
    let shown = &product["media"][0];
    assert_eq!(shown["id"], public.as_str());
    assert_eq!(shown["content_url"], format!("/api/v1/media/{public}/content"));
    assert_eq!(shown["variants"][0]["name"], "thumb");
    let thumb_url = shown["variants"][0]["url"].as_str().unwrap().to_string();
    // Anyone reading the product can fetch what it shows.
    let read: Value = app
        .fetch_json(&format!("/api/v1/products/{}", product["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["media"], product["media"]);
    let thumb = app.call(Method::GET, &thumb_url, None, None).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(dimensions(&thumb.bytes().await.unwrap()).unwrap(), (256, 256));
    // Deleted later: the product no longer shows it.
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/media/{public}"),
            Some(&seller.access),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let read: Value = app
        .fetch_json(&format!("/api/v1/products/{}", product["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["media"], json!([]));
    assert_eq!(read["media_ids"], json!([public]));
}

#[tokio::test]
async fn jobs_wait_their_turn_on_a_bounded_pool() {
    let (app, admin) = TestApp::spawn_with_admin_and("[media]\njob_workers = 1\ndefault_variants = []\n").await;
    let seller = app.seller(&admin, "sella").await;
    let up = Uploader::of(&app, &seller);
    let mut ids = Vec::new();
    for seed in 0..3 {
        let id = upload_file(&up, &actors::media::samples::photo(1600, 1200, seed)).await;
        let asset = asset_of(&app, &seller.access, &id).await;
        assert_eq!(asset["variants"], json!([]), "no default variants configured");
        ids.push(id);
    }
    let specs = json!([
        {"name": "a", "width": 800, "height": 800, "fit": "contain", "format": "png"},
        {"name": "b", "width": 300, "height": 300, "fit": "cover", "format": "jpeg"}
    ]);
    let mut jobs = Vec::new();
    for id in &ids {
        jobs.push(job_of(ask(&app, &seller.access, id, specs.clone()).await).await);
    }
    // Asked at once, one worker: they run one after another.
    let mut views = Vec::new();
    for job in &jobs {
        let view = finished_job(&app, &seller.access, job).await;
        assert_eq!(view["status"], "succeeded", "{view}");
        views.push(view);
    }
    let at = |v: &Value, field: &str| {
        time::OffsetDateTime::parse(
            v[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let mut runs: Vec<_> = views
        .iter()
        .map(|v| (at(v, "started_at"), at(v, "updated_at")))
        .collect();
    runs.sort();
    for pair in runs.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two jobs ran at once on one worker: {runs:?}");
    }
}
