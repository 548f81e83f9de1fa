//! Media on a real cluster: an upload sent through an edge whose node
//! does not own it (its body forwarded a chunk at a time to the owner),
//! its content read back through a third edge; and a node joining takes
//! over shards holding files and open uploads.

use crate::cluster_harness::*;
use crate::order_shop::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_streams_through_an_edge_that_does_not_own_it() {
    let cluster = TestCluster::start(21, 3);
    cluster.wait_connected().await;
    let admin = cluster.admin_token().await;
    let client = &cluster.client;
    let seller = seller(&cluster, &admin, "sella").await;

    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..3 * 1024 * 1024).map(|i: usize| (i * 13 % 251) as u8));
    // An upload owned by another node than n2.
    let location = loop {
        let res = client
            .post(format!("{}/api/v1/uploads", cluster.base(1)))
            .bearer_auth(&seller)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", bytes.len().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let id = location.rsplit('/').next().unwrap();
        let owner = cluster
            .get_json(1, &format!("/api/v1/cluster/owner?kind=upload&key={id}"), Some(&admin))
            .await;
        if owner["owner"] != "n2" {
            break location;
        }
        let gone = client
            .delete(format!("{}{location}", cluster.base(1)))
            .bearer_auth(&seller)
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    };
    let res = client
        .patch(format!("{}{location}", cluster.base(2)))
        .bearer_auth(&seller)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{:?}", res.text().await);
    let media_id = res.headers()["media-id"].to_str().unwrap().to_string();
    // Read back whole and in part through the third edge.
    let content = format!("{}/api/v1/media/{media_id}/content", cluster.base(3));
    let whole = client.get(&content).bearer_auth(&seller).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.bytes().await.unwrap(), bytes);
    let part = client
        .get(&content)
        .bearer_auth(&seller)
        .header("Range", "bytes=2000000-2000099")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), bytes[2_000_000..2_000_100]);
    let asset: Value = cluster
        .get_json(2, &format!("/api/v1/media/{media_id}"), Some(&seller))
        .await;
    assert_eq!(asset["sha256"], format!("{:x}", sha2::Sha256::digest(&bytes)));
}

/// A seller made through node 1: its token.
async fn seller(cluster: &TestCluster, admin: &str, name: &str) -> String {
    let client = &cluster.client;
    let (seller_id, _) = sign_up(client, &cluster.base(1), name).await;
    let roles = format!("{}/api/v1/users/{seller_id}/roles", cluster.base(1));
    let body = json!({"roles": ["seller"]});
    let (status, _) = send(client, &roles, Method::PUT, Some(admin), None, Some(&body)).await;
    assert_eq!(status, StatusCode::OK);
    sign_up(client, &cluster.base(1), name).await.1
}

async fn owner(cluster: &TestCluster, admin: &str, kind: &str, key: &str) -> (String, u64) {
    let owner = cluster
        .get_json(1, &format!("/api/v1/cluster/owner?kind={kind}&key={key}"), Some(admin))
        .await;
    (
        owner["owner"].as_str().unwrap().to_string(),
        owner["shard"].as_u64().unwrap(),
    )
}

fn tus(req: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    req.bearer_auth(token).header("Tus-Resumable", "1.0.0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_node_takes_over_shards_with_their_files_and_open_uploads() {
    let cluster = TestCluster::start(22, 2);
    cluster.wait_connected().await;
    let admin = cluster.admin_token().await;
    let client = &cluster.client;
    let picture = actors::media::samples::encoded(actors::media::samples::gradient(200, 100), image::ImageFormat::Png);
    // Assets (with their default variants) and half-written uploads, four
    // sellers' worth, spread over both nodes' shards.
    let (mut assets, mut open) = (Vec::new(), Vec::new());
    for n in 0..4 {
        let token = seller(&cluster, &admin, &format!("sella{n}")).await;
        for i in 0..5 {
            let mut file = picture.clone();
            file.extend(format!("{n}-{i}").as_bytes());
            let res = tus(client.post(format!("{}/api/v1/uploads", cluster.base(1))), &token)
                .header("Upload-Length", file.len().to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(file.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            assets.push((
                token.clone(),
                res.headers()["media-id"].to_str().unwrap().to_string(),
                file,
            ));
        }
        for i in 0..5 {
            let mut file = vec![0u8; 300_000];
            file[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
            file[8..]
                .iter_mut()
                .enumerate()
                .for_each(|(j, b)| *b = ((j * 7 + i + n) % 251) as u8);
            let res = tus(client.post(format!("{}/api/v1/uploads", cluster.base(2))), &token)
                .header("Upload-Length", file.len().to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(file[..123_456].to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            let location = res.headers()["location"].to_str().unwrap().to_string();
            open.push((token.clone(), location, file));
        }
    }
    for (token, id, _) in &assets {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while cluster.get_json(1, &format!("/api/v1/media/{id}"), Some(token)).await["variants"]
            .as_array()
            .is_none_or(|v| v.len() < 2)
        {
            assert!(std::time::Instant::now() < deadline, "{id} has no variants");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tokio::task::block_in_place(|| cluster.add_node(3, &[]));
    // Some of each moved to n3, whose disk now holds their bytes; the old
    // owners let go of the shards' files.
    let mut moved_assets = 0;
    for (token, id, file) in &assets {
        let (node, shard) = owner(&cluster, &admin, "media", id).await;
        if node == "n3" {
            moved_assets += 1;
            for old in ["n1", "n2"] {
                let dir = cluster.dir.path().join(old).join(format!("media/shard-{shard}"));
                assert!(!dir.exists(), "{old} still holds {}", dir.display());
            }
        }
        for edge in 1..=3 {
            let content = format!("{}/api/v1/media/{id}/content", cluster.base(edge));
            let res = client.get(&content).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{id} through n{edge}");
            assert_eq!(res.bytes().await.unwrap(), *file, "{id} through n{edge}");
        }
        let thumb = format!("{}/api/v1/media/{id}/variants/thumb", cluster.base(3));
        let res = client.get(&thumb).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.unwrap();
        assert_eq!(actors::media::render::dimensions(&bytes).unwrap(), (256, 256));
    }
    let mut moved_uploads = 0;
    for (token, location, file) in &open {
        let id = location.rsplit('/').next().unwrap();
        if owner(&cluster, &admin, "upload", id).await.0 == "n3" {
            moved_uploads += 1;
        }
        // The new owner (through any edge) reports the same offset; the
        // rest completes it with the whole file's digest.
        let head = tus(client.head(format!("{}{location}", cluster.base(3))), token)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()["upload-offset"], "123456");
        let res = tus(client.patch(format!("{}{location}", cluster.base(1))), token)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", "123456")
            .body(file[123_456..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{:?}", res.text().await);
        let media_id = res.headers()["media-id"].to_str().unwrap().to_string();
        let asset = cluster
            .get_json(3, &format!("/api/v1/media/{media_id}"), Some(token))
            .await;
        assert_eq!(asset["sha256"], format!("{:x}", sha2::Sha256::digest(file)));
    }
    assert!(
        moved_assets > 0 && moved_uploads > 0,
        "{moved_assets} assets and {moved_uploads} uploads moved"
    );
}
