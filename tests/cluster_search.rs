//! Search across a real 3-node cluster answers exactly as one node holding
//! the whole catalog does (the same cluster after two members left).

use crate::cluster_harness::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WORDS: [&str; 10] = [
    "red", "blue", "lamp", "desk", "steel", "oak", "bright", "soft", "running", "trail",
];

async fn send(cluster: &TestCluster, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
    let res = cluster
        .client
        .request(method, format!("{}{path}", cluster.base(1)))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap_or(Value::Null)
}

async fn search(cluster: &TestCluster, node: usize, query: &str) -> Value {
    let res = cluster
        .client
        .get(format!("{}/api/v1/products?{query}", cluster.base(node)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

/// Waits until `node` finds `count` products.
async fn await_indexed(cluster: &TestCluster, node: usize, count: u64) {
    let started = Instant::now();
    loop {
        let found = search(cluster, node, "limit=1").await;
        if found["total"] == count && found["incomplete"] == false {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "n{node} finds {}",
            found["total"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every page of `query`, one after the other.
async fn all_pages(cluster: &TestCluster, node: usize, query: &str) -> Vec<Value> {
    let mut pages = vec![search(cluster, node, query).await];
    while let Some(cursor) = pages.last().and_then(|p| p["next_cursor"].as_str().map(String::from)) {
        pages.push(search(cluster, node, &format!("{query}&cursor={cursor}")).await);
    }
    pages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_answer_searches_exactly_as_one_node() {
    let cluster = TestCluster::start(19, 3);
    cluster.wait_connected().await;
    let admin = cluster.admin_token().await;
    assert_eq!(cluster.register(1, "sella").await, StatusCode::CREATED);
    let (_, _, tokens) = cluster.login(1, "sella").await;
    let user = cluster.get_json(1, "/api/v1/me", tokens["access_token"].as_str()).await;
    let roles = json!({"roles": ["seller"]});
    let path = format!("/api/v1/users/{}/roles", user["id"].as_str().unwrap());
    send(&cluster, reqwest::Method::PUT, &path, &admin, roles).await;
    let (_, _, tokens) = cluster.login(1, "sella").await;
    let seller = tokens["access_token"].as_str().unwrap().to_string();
    let post = |path: &'static str, body: Value| send(&cluster, reqwest::Method::POST, path, &seller, body);

    let home = post("/api/v1/tags", json!({"name": "Home"})).await["id"].clone();
    let office = post("/api/v1/tags", json!({"name": "Office", "parent_id": home})).await["id"].clone();
    let weight = post("/api/v1/attributes", json!({"name": "Weight", "kind": "integer"})).await["id"].clone();
    let store = post(
        "/api/v1/stores",
        json!({"name": "Depot", "currency": "USD", "timezone": "UTC"}),
    )
    .await["id"]
        .clone();
    let products = 40;
    for i in 0..products {
        let name = format!("{} {}", WORDS[i % 10], WORDS[(i * 3 + 1) % 10]);
        let description: Vec<&str> = (0..i % 4 + 1).map(|k| WORDS[(i + k * 7) % 10]).collect();
        let tags = match i % 3 {
            0 => vec![home.clone()],
            1 => vec![office.clone()],
            _ => vec![],
        };
        let product = json!({"name": name, "description": description.join(" "), "visible": true,
            "tag_ids": tags, "attributes": [{"attribute_id": weight, "value": i * 25}]});
        let product = post("/api/v1/products", product).await;
        if i % 2 == 0 {
            let path = format!(
                "/api/v1/stores/{}/offers/{}",
                store.as_str().unwrap(),
                product["id"].as_str().unwrap()
            );
            let offer = json!({"price": format!("{}.{:02}", 5 + i, i % 100)});
            send(&cluster, reqwest::Method::PUT, &path, &seller, offer).await;
        }
    }
    let rates = json!({"base": "USD", "rates": {"EUR": "0.9"}});
    send(&cluster, reqwest::Method::PUT, "/api/v1/fx-rates", &admin, rates).await;
    let queries = [
        "q=red".to_string(),
        "q=lamp+steel".into(),
        "q=running&limit=5".into(),
        "q=oak&sort=price_asc".into(),
        format!("tag={}&sort=newest&limit=6", home.as_str().unwrap()),
        format!("attr.{}=100..500", weight.as_str().unwrap()),
        "min_price=10&max_price=30&currency=EUR&sort=price_desc".into(),
        "q=desk+bright&limit=3".into(),
    ];
    for node in 1..=3 {
        await_indexed(&cluster, node, products as u64).await;
    }
    let mut answers = Vec::new();
    for query in &queries {
        let from_n1 = all_pages(&cluster, 1, query).await;
        assert!(from_n1[0]["total"].as_u64().unwrap() > 0, "{query} finds something");
        for node in [2, 3] {
            assert_eq!(
                all_pages(&cluster, node, query).await,
                from_n1,
                "{query} through n{node}"
            );
        }
        answers.push(from_n1);
    }

    // A crashed member: the others still answer, saying what is missing.
    cluster.kill(3);
    let partial = search(&cluster, 1, "limit=1").await;
    assert_eq!(partial["incomplete"], true, "{partial}");
    let left = partial["total"].as_u64().unwrap();
    assert!(left > 0 && left < products as u64, "{left} of {products} without n3");
    assert_eq!(answers[0][0]["incomplete"], false);
    tokio::task::block_in_place(|| cluster.start_node(3, COOKIE));
    cluster.wait_connected().await;
    await_indexed(&cluster, 1, products as u64).await;

    // Two members leave: n1 now holds, and indexes, the whole catalog.
    for node in [3, 2] {
        let out = tokio::task::block_in_place(|| cluster.cli(&["--name", &format!("n{node}"), "leave"], ""));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(cluster.wait_exit(node, Duration::from_secs(60)).await, Some(true));
    }
    await_indexed(&cluster, 1, products as u64).await;
    for (query, expected) in queries.iter().zip(&answers) {
        assert_eq!(&all_pages(&cluster, 1, query).await, expected, "{query} on one node");
    }
}
