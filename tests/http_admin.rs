//! Administration of users and roles, over HTTP.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn only_administrators_administer() {
    let (app, _admin) = TestApp::spawn_with_admin().await;
    let customer = app.user("mona").await;
    for (method, path, body) in [
        (Method::GET, "/api/v1/users".to_string(), None),
        (Method::GET, format!("/api/v1/users/{}", customer.user_id), None),
        (
            Method::PUT,
            format!("/api/v1/users/{}/roles", customer.user_id),
            Some(json!({"roles": ["admin"]})),
        ),
        (
            Method::POST,
            format!("/api/v1/users/{}/disable", customer.user_id),
            None,
        ),
        (Method::GET, "/api/v1/roles".to_string(), None),
        (
            Method::POST,
            "/api/v1/roles".to_string(),
            Some(json!({"name": "x1", "permissions": ["cart:use"]})),
        ),
    ] {
        let res = app.call(method.clone(), &path, Some(&customer.access), body).await;
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "missing_permission"),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn users_are_listed_a_page_at_a_time() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    for i in 0..6 {
        app.register(&format!("user{i}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=3".to_string();
    loop {
        let page: Value = app.get(&path, &admin.access).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|u| u["username"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/users?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["root", "user0", "user1", "user2", "user3", "user4", "user5"]);
    for bad in [
        "/api/v1/users?limit=0",
        "/api/v1/users?limit=101",
        "/api/v1/users?limit=x",
    ] {
        assert_eq!(
            app.get(bad, &admin.access).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
    let bad_cursor = app.get("/api/v1/users?cursor=%%%", &admin.access).await;
    assert_eq!(error_code(bad_cursor).await.1, "invalid_cursor");
}

#[tokio::test]
async fn roles_quotas_and_disabling_take_effect() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let nina = app.user("nina").await;
    let path = |p: &str| format!("/api/v1/users/{}{p}", nina.user_id);

    let user: Value = app.get(&path(""), &admin.access).await.json().await.unwrap();
    assert_eq!(
        (user["username"].as_str(), user["disabled"].as_bool()),
        (Some("nina"), Some(false))
    );
    let missing = app.get("/api/v1/users/NOSUCHUSER", &admin.access).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let res = app
        .call(
            Method::PUT,
            &path("/roles"),
            Some(&admin.access),
            Some(json!({"roles": ["seller"]})),
        )
        .await;
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["roles"], json!(["seller"]));
    assert!(
        user["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("catalog:write"))
    );
    let unknown = app
        .call(
            Method::PUT,
            &path("/roles"),
            Some(&admin.access),
            Some(json!({"roles": ["wizard"]})),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The new roles travel in tokens issued from now on.
    let relogged = app.login("nina", PASSWORD).await;
    let me: Value = app.get("/api/v1/me", &relogged.access).await.json().await.unwrap();
    assert!(me["permissions"].as_array().unwrap().contains(&json!("store:create")));

    let res = app
        .call(
            Method::PUT,
            &path("/quotas"),
            Some(&admin.access),
            Some(json!({"max_stores": 7, "max_addresses": 1})),
        )
        .await;
    let user: Value = res.json().await.unwrap();
    assert_eq!(
        (
            user["quotas"]["max_stores"].as_u64(),
            user["quotas"]["max_products"].as_u64()
        ),
        (Some(7), Some(1000))
    );
    let bad = app
        .call(
            Method::PUT,
            &path("/quotas"),
            Some(&admin.access),
            Some(json!({"max_cats": 1})),
        )
        .await;
    assert!(error_code(bad).await.2["error"]["fields"]["max_cats"].is_string());
    let two = json!([{"line1": "a", "city": "b", "postal_code": "1", "country": "US"}, {"line1": "c", "city": "d", "postal_code": "2", "country": "US"}]);
    let stale = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&relogged.access),
            Some(json!({"addresses": two.clone()})),
        )
        .await;
    assert_eq!(
        error_code(stale).await.1,
        "token_revoked",
        "a token carrying the old quotas stops at once"
    );
    let relogged = app.login("nina", PASSWORD).await;
    let over = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&relogged.access),
            Some(json!({"addresses": two})),
        )
        .await;
    assert_eq!(
        over.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the lowered quota applies"
    );

    let res = app
        .call(Method::POST, &path("/disable"), Some(&admin.access), None)
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["disabled"], true);
    let login = app
        .post("/api/v1/auth/login", json!({"login": "nina", "password": PASSWORD}))
        .await;
    assert_eq!(error_code(login).await.1, "account_disabled");
    let (status, code, _) = error_code(app.get("/api/v1/me", &relogged.access).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "account_disabled"));
    let refresh = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": relogged.refresh}))
        .await;
    assert_eq!(
        refresh.status(),
        StatusCode::UNAUTHORIZED,
        "disabling revoked the sessions"
    );
    let wrong = app
        .post(
            "/api/v1/auth/login",
            json!({"login": "nina", "password": "wrong wrong wrong"}),
        )
        .await;
    assert_eq!(
        wrong.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled account is not revealed to guessers"
    );

    app.call(Method::POST, &path("/enable"), Some(&admin.access), None)
        .await;
    app.login("nina", PASSWORD).await;
    let own = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/disable", admin.user_id),
            Some(&admin.access),
            None,
        )
        .await;
    assert_eq!(own.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn custom_roles_are_managed_and_nobody_grants_what_they_lack() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let create = |name: &str, perms: Value| {
        app.call(
            Method::POST,
            "/api/v1/roles",
            Some(&admin.access),
            Some(json!({"name": name, "permissions": perms})),
        )
    };
    let res = create("support", json!(["identity:admin"])).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["builtin"], false);
    assert_eq!(
        create("support", json!(["cart:use"])).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        create("seller", json!(["cart:use"])).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        create("odd", json!(["cart:fly"])).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let list: Value = app.get("/api/v1/roles", &admin.access).await.json().await.unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["customer", "seller", "admin", "support"]);
    let seller: Value = app
        .get("/api/v1/roles/seller", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seller["builtin"], true);

    // A support agent administers users but holds nothing else.
    let sue = app.user("sue").await;
    app.call(
        Method::PUT,
        &format!("/api/v1/users/{}/roles", sue.user_id),
        Some(&admin.access),
        Some(json!({"roles": ["support"]})),
    )
    .await;
    let sue = app.login("sue", PASSWORD).await;
    let grant = app
        .call(
            Method::PUT,
            &format!("/api/v1/users/{}/roles", sue.user_id),
            Some(&sue.access),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(error_code(grant).await.1, "permission_not_held");
    let escalate = app
        .call(
            Method::POST,
            "/api/v1/roles",
            Some(&sue.access),
            Some(json!({"name": "ops", "permissions": ["cluster:admin"]})),
        )
        .await;
    assert_eq!(error_code(escalate).await.1, "permission_not_held");

    let res = app
        .call(
            Method::PUT,
            "/api/v1/roles/support",
            Some(&admin.access),
            Some(json!({"permissions": ["identity:admin", "fx:admin"]})),
        )
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["permissions"],
        json!(["fx:admin", "identity:admin"])
    );
    let builtin = app
        .call(
            Method::PUT,
            "/api/v1/roles/admin",
            Some(&admin.access),
            Some(json!({"permissions": ["cart:use"]})),
        )
        .await;
    assert_eq!(builtin.status(), StatusCode::CONFLICT);
    let gone = app
        .call(Method::DELETE, "/api/v1/roles/support", Some(&admin.access), None)
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/roles/support", &admin.access).await.status(),
        StatusCode::NOT_FOUND
    );
    let after = app.login("sue", PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/users", &after.access).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_single_node_reports_itself_as_the_whole_cluster() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let status: Value = app.get("/api/v1/cluster", &admin.access).await.json().await.unwrap();
    assert_eq!(status["members"].as_array().unwrap().len(), 1);
    assert_eq!(status["members"][0]["shards"], 256);
    assert_eq!(status["members"][0]["status"], "up");
    let customer = app.user("quinn").await;
    assert_eq!(
        app.get("/api/v1/cluster", &customer.access).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn administrators_cannot_overpower_each_other() {
    let (app, root) = TestApp::spawn_with_admin().await;
    let call = |session: &Session, method: Method, path: String, body: Option<Value>| {
        let token = session.access.clone();
        let app = &app;
        async move { error_code(app.call(method, &path, Some(&token), body).await).await }
    };
    let ok = |(status, code, body): (StatusCode, String, Value)| {
        assert!(status.is_success(), "{status} {code} {body}");
    };
    ok(call(
        &root,
        Method::POST,
        "/api/v1/roles".into(),
        Some(json!({"name": "support", "permissions": ["identity:admin"]})),
    )
    .await);
    ok(call(
        &root,
        Method::POST,
        "/api/v1/roles".into(),
        Some(json!({"name": "ops", "permissions": ["cluster:admin", "fx:admin"]})),
    )
    .await);
    let sue = app.user("sue").await;
    let second = app.user("second").await;
    ok(call(
        &root,
        Method::PUT,
        format!("/api/v1/users/{}/roles", sue.user_id),
        Some(json!({"roles": ["support"]})),
    )
    .await);
    ok(call(
        &root,
        Method::PUT,
        format!("/api/v1/users/{}/roles", second.user_id),
        Some(json!({"roles": ["admin"]})),
    )
    .await);
    let sue = app.login("sue", PASSWORD).await;

    // A support administrator holds identity:admin only.
    let attempts = [
        (
            Method::POST,
            format!("/api/v1/users/{}/disable", root.user_id),
            None,
            "outranked",
        ),
        (
            Method::PUT,
            format!("/api/v1/users/{}/roles", second.user_id),
            Some(json!({"roles": ["support"]})),
            "outranked",
        ),
        (
            Method::PUT,
            "/api/v1/roles/ops".into(),
            Some(json!({"permissions": ["identity:admin"]})),
            "permission_not_held",
        ),
        (Method::DELETE, "/api/v1/roles/ops".into(), None, "permission_not_held"),
        (
            Method::PUT,
            format!("/api/v1/users/{}/quotas", sue.user_id),
            Some(json!({"max_stores": 18446744073709551615u64})),
            "own_quota",
        ),
    ];
    for (method, path, body, code) in attempts {
        let (status, got, err) = call(&sue, method.clone(), path.clone(), body).await;
        assert_eq!(
            (status, got.as_str()),
            (StatusCode::FORBIDDEN, code),
            "{method} {path}: {err}"
        );
    }
    let root_now: Value = app
        .get(&format!("/api/v1/users/{}", root.user_id), &root.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (root_now["disabled"].as_bool(), &root_now["roles"]),
        (Some(false), &json!(["admin"]))
    );
    let (status, _, _) = call(&root, Method::GET, "/api/v1/roles/ops".into(), None).await;
    assert_eq!(status, StatusCode::OK, "the role is still there");

    // Full administrators may demote each other, but never the last one.
    ok(call(
        &root,
        Method::PUT,
        format!("/api/v1/users/{}/roles", second.user_id),
        Some(json!({"roles": ["customer"]})),
    )
    .await);
    let (status, code, _) = call(
        &root,
        Method::PUT,
        format!("/api/v1/users/{}/roles", root.user_id),
        Some(json!({"roles": ["support"]})),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "last_admin"));
    let (status, code, _) = call(
        &root,
        Method::PUT,
        format!("/api/v1/users/{}/quotas", root.user_id),
        Some(json!({"max_stores": 1})),
    )
    .await;
    assert!(status.is_success(), "lowering one's own quota is fine: {code}");
}

#[tokio::test]
async fn revocation_takes_effect_on_tokens_already_issued() {
    let (app, root) = TestApp::spawn_with_admin().await;
    let deputy = app.user("deputy").await;
    let path = |p: &str| format!("/api/v1/users/{}{p}", deputy.user_id);
    let set = app
        .call(
            Method::PUT,
            &path("/roles"),
            Some(&root.access),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert!(set.status().is_success());
    let deputy = app.login("deputy", PASSWORD).await;
    // Demoted: the token that still says "admin" stops at once.
    let demote = app
        .call(
            Method::PUT,
            &path("/roles"),
            Some(&root.access),
            Some(json!({"roles": ["customer"]})),
        )
        .await;
    assert!(demote.status().is_success());
    let restore = app
        .call(
            Method::PUT,
            &path("/roles"),
            Some(&deputy.access),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(error_code(restore).await.1, "token_revoked");
    // Disabled: every request with its tokens is refused.
    let seller = app.seller(&root, "sel").await;
    let disable = format!("/api/v1/users/{}/disable", seller.user_id);
    assert!(
        app.call(Method::POST, &disable, Some(&root.access), None)
            .await
            .status()
            .is_success()
    );
    for (method, p, body) in [
        (
            Method::POST,
            "/api/v1/stores",
            json!({"name": "S", "currency": "USD", "timezone": "UTC"}),
        ),
        (Method::POST, "/api/v1/products", json!({"name": "P", "visible": true})),
        (Method::PATCH, "/api/v1/me", json!({"display_name": "x"})),
    ] {
        let res = app.call(method.clone(), p, Some(&seller.access), Some(body)).await;
        assert_eq!(error_code(res).await.1, "account_disabled", "{method} {p}");
    }
    let enable = format!("/api/v1/users/{}/enable", seller.user_id);
    assert!(
        app.call(Method::POST, &enable, Some(&root.access), None)
            .await
            .status()
            .is_success()
    );
    let (status, code, _) = error_code(app.get("/api/v1/me", &seller.access).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "token_revoked"),
        "disabling ended its sessions"
    );

    // Signed out: the access token of that session stops too.
    let ann = app.user("ann").await;
    let other = app.login("ann", PASSWORD).await;
    let out = app
        .post("/api/v1/auth/logout", json!({"refresh_token": ann.refresh}))
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        error_code(app.get("/api/v1/me", &ann.access).await).await.1,
        "token_revoked"
    );
    assert_eq!(
        app.get("/api/v1/me", &other.access).await.status(),
        StatusCode::OK,
        "another session goes on"
    );
    // A password change keeps this session and ends the others at once.
    let third = app.login("ann", PASSWORD).await;
    let change = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&other.access),
            Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(change.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", &other.access).await.status(), StatusCode::OK);
    assert_eq!(
        error_code(app.get("/api/v1/me", &third.access).await).await.1,
        "token_revoked"
    );
}
