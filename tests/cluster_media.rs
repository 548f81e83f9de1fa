//! Media on a real 3-node cluster: an upload sent through an edge whose
//! node does not own it (its body forwarded a chunk at a time to the
//! owner), and its content read back through a third edge.

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
    let (seller_id, _) = sign_up(client, &cluster.base(1), "sella").await;
    let roles = format!("{}/api/v1/users/{seller_id}/roles", cluster.base(1));
    let (status, _) = send(
        client,
        &roles,
        Method::PUT,
        Some(&admin),
        None,
        Some(&json!({"roles": ["seller"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seller) = sign_up(client, &cluster.base(1), "sella").await;

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
