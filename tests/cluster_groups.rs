//! Groups on a real 3-node cluster: the group book, each group's members
//! and the users themselves live on different nodes; every member's
//! effective roles are still right, through every edge. A member who
//! deletes their account is locked out through every edge at once.

use crate::cluster_harness::*;
use crate::order_shop::send;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The node owning entity `kind`/`key`, as the cluster says.
async fn owner(cluster: &TestCluster, admin: &str, kind: &str, key: &str) -> String {
    let answer = cluster
        .get_json(1, &format!("/api/v1/cluster/owner?kind={kind}&key={key}"), Some(admin))
        .await;
    answer["owner"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_on_every_node_get_their_groups_roles_through_every_edge() {
    let cluster = TestCluster::start(37, 3);
    cluster.wait_connected().await;
    let admin = cluster.admin_token().await;
    let client = &cluster.client;
    let bases: Vec<String> = (1..=3).map(|i| cluster.base(i)).collect();
    let bases = &bases;
    let call = |node: usize, method: Method, path: String, token: String, body: Option<Value>| async move {
        send(
            client,
            &format!("{}{path}", bases[node - 1]),
            method,
            Some(&token),
            None,
            body.as_ref(),
        )
        .await
    };
    // Groups created through different edges.
    let (status, company) = call(
        2,
        Method::POST,
        "/api/v1/groups".into(),
        admin.clone(),
        Some(json!({"name": "Company"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{company}");
    let company = company["id"].as_str().unwrap().to_string();
    let mut teams = Vec::new();
    for t in 0..3 {
        let body = json!({"name": format!("Team {t}"), "parent_id": company});
        let (status, team) = call(t + 1, Method::POST, "/api/v1/groups".into(), admin.clone(), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{team}");
        teams.push(team["id"].as_str().unwrap().to_string());
    }
    let roles = json!({"roles": [{"role": "seller"}]});
    let (status, _) = call(
        3,
        Method::PUT,
        format!("/api/v1/groups/{company}/roles"),
        admin.clone(),
        Some(roles),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Twelve users, each in one team, added through rotating edges.
    let users = cluster.register_all(1, "member", 12).await;
    let mut ids = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let (status, _, tokens) = cluster.login(i % 3 + 1, user).await;
        assert_eq!(status, StatusCode::OK);
        let me = cluster.get_json(1, "/api/v1/me", tokens["access_token"].as_str()).await;
        let id = me["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/groups/{}/members/{id}", teams[i % 3]);
        let (status, body) = call((i + 1) % 3 + 1, Method::PUT, path, admin.clone(), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(id);
    }
    // The book, the groups' members and the users are spread over the nodes.
    let mut spread = BTreeSet::new();
    spread.insert(owner(&cluster, &admin, "group_book", "all").await);
    for team in &teams {
        spread.insert(owner(&cluster, &admin, "group_members", team).await);
    }
    for id in &ids {
        spread.insert(owner(&cluster, &admin, "user", id).await);
    }
    assert!(spread.len() >= 2, "everything on one node: {spread:?}");
    // Each member signs in through one edge and is a seller, by the company.
    for (i, user) in users.iter().enumerate() {
        let (status, _, tokens) = cluster.login(i % 3 + 1, user).await;
        assert_eq!(status, StatusCode::OK);
        let token = tokens["access_token"].as_str().unwrap();
        for node in 1..=3 {
            let me = cluster.get_json(node, "/api/v1/me", Some(token)).await;
            assert_eq!(
                me["roles"],
                json!(["customer", "seller"]),
                "{user} through n{node}: {me}"
            );
            assert_eq!(me["role_sources"]["seller"], json!([format!("group:{company}")]));
        }
    }
    // The company's grant withdrawn: the next sign-in carries none.
    let (status, _) = call(
        1,
        Method::PUT,
        format!("/api/v1/groups/{company}/roles"),
        admin.clone(),
        Some(json!({"roles": []})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, tokens) = cluster.login(2, &users[0]).await;
    let me = cluster.get_json(3, "/api/v1/me", tokens["access_token"].as_str()).await;
    assert_eq!(me["roles"], json!(["customer"]), "{me}");

    // A member deletes their account through one edge: their token stops
    // through every edge at once, their names stay taken, and an
    // administrator brings the account back through a third.
    let (_, _, tokens) = cluster.login(1, &users[1]).await;
    let token = tokens["access_token"].as_str().unwrap().to_string();
    let password = json!({"current_password": crate::support::PASSWORD});
    let (status, body) = call(2, Method::DELETE, "/api/v1/me".into(), token.clone(), Some(password)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for node in 1..=3 {
        let (status, body) = call(node, Method::GET, "/api/v1/me".into(), token.clone(), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "n{node}: {body}");
    }
    let (status, _, refused) = cluster.login(3, &users[1]).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("account_deleted"))
    );
    let restore = format!("/api/v1/users/{}/restore", ids[1]);
    let (status, body) = call(3, Method::POST, restore, admin.clone(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = cluster.login(1, &users[1]).await;
    assert_eq!(status, StatusCode::OK, "restored");
}
