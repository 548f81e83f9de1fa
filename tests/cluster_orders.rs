//! Orders on a real 3-node cluster: the stock of the contended product on
//! one node, every order entity on another, buyers coming through every
//! edge.

use crate::cluster_harness::*;
use crate::order_shop::*;
use actors::inventory::model::stock_key;
use actors::orders::record::order_id;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The node owning entity `kind`/`key`, as the cluster says.
async fn owner(cluster: &TestCluster, admin: &str, kind: &str, key: &str) -> String {
    let path = format!("/api/v1/cluster/owner?kind={kind}&key={key}");
    let answer = cluster.get_json(1, &path, Some(admin)).await;
    answer["owner"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_buyers_across_three_nodes_get_exactly_ten_units() {
    let cluster = TestCluster::start(20, 3);
    cluster.wait_connected().await;
    let admin = cluster.admin_token().await;
    let shop = RemoteShop::open(&cluster.base(1), &admin, &[10]).await;
    let stock_owner = owner(&cluster, &admin, "stock", &stock_key(&shop.store, &shop.products[0])).await;

    // 200 buyers, each with an idempotency key that puts its order entity
    // on a node other than the stock's.
    let buyers = join_all((0..200).map(|i| {
        let (client, base) = (&cluster.client, cluster.base(i % 3 + 1));
        async move { sign_up(client, &base, &format!("buyer{i}")).await }
    }))
    .await;
    let mut keyed = Vec::new();
    for (user_id, token) in &buyers {
        let mut attempt = 0;
        let key = loop {
            let key = format!("checkout-{attempt}");
            if owner(&cluster, &admin, "order", &order_id(user_id, &key)).await != stock_owner {
                break key;
            }
            attempt += 1;
        };
        keyed.push((token.clone(), key));
    }

    let outcomes = join_all(keyed.iter().enumerate().map(|(i, (token, key))| {
        let base = cluster.base(i % 3 + 1);
        let shop = &shop;
        async move { shop.checkout(&base, token, key, json!([shop.line(0, 1)])).await }
    }))
    .await;
    // (buyer index, order) of every order placed.
    let created: Vec<(usize, &Value)> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, (s, _))| *s == StatusCode::CREATED)
        .map(|(i, (_, b))| (i, b))
        .collect();
    let refused: Vec<&Value> = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        (created.len(), refused.len()),
        (10, 190),
        "{:?}",
        outcomes
            .iter()
            .find(|(s, _)| *s != StatusCode::CREATED && *s != StatusCode::CONFLICT)
    );
    for err in refused {
        assert_eq!(err["error"]["code"], "unavailable", "{err}");
        assert_eq!(err["error"]["lines"][0]["available"], 0, "{err}");
    }
    for node in 1..=3 {
        assert_eq!(
            shop.stock(&cluster.base(node), 0).await,
            (10, 10, 0),
            "n{node}: nothing oversold, nothing negative"
        );
    }

    // Every order reads the same through every edge, and lives away from
    // the stock; the store's listing holds exactly the ten.
    for &(i, order) in &created {
        let order_id = order["id"].as_str().unwrap();
        assert_ne!(owner(&cluster, &admin, "order", order_id).await, stock_owner);
        for node in 1..=3 {
            let url = format!("{}/api/v1/orders/{order_id}", cluster.base(node));
            let (status, read) = send(&cluster.client, &url, Method::GET, Some(&keyed[i].0), None, None).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                (&read["status"], &read["lines"], &read["total"]),
                (&json!("awaiting_payment"), &order["lines"], &order["total"])
            );
        }
    }
    let listing = shop.store_orders(&cluster.base(2)).await;
    let mut listed: Vec<&str> = listing.iter().map(|o| o["id"].as_str().unwrap()).collect();
    let mut ids: Vec<&str> = created.iter().map(|(_, o)| o["id"].as_str().unwrap()).collect();
    listed.sort_unstable();
    ids.sort_unstable();
    assert_eq!(listed, ids);

    // A buyer cancels through a third edge: the unit is back everywhere.
    let (i, order) = created[0];
    let cancelled = order["id"].as_str().unwrap();
    let url = format!("{}/api/v1/orders/{cancelled}/cancel", cluster.base((i + 1) % 3 + 1));
    let (status, order) = send(&cluster.client, &url, Method::POST, Some(&keyed[i].0), None, None).await;
    assert_eq!((status, order["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    for node in 1..=3 {
        assert_eq!(shop.stock(&cluster.base(node), 0).await, (10, 9, 1), "n{node}");
    }
}
