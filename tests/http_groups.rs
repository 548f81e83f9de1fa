//! Groups over HTTP: the tree (create, move never under itself, delete
//! moving children up, restore within 30 days), members, roles and quotas,
//! and delegated administration (identity:groups inside one's own groups'
//! subtrees, never granting more than one holds).

use crate::order_shop::call;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(app: &TestApp, token: &str, name: &str, parent: Option<&str>) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        "/api/v1/groups",
        token,
        Some(json!({"name": name, "parent_id": parent})),
    )
    .await
}

async fn created(app: &TestApp, token: &str, name: &str, parent: Option<&str>) -> String {
    let (status, group) = create(app, token, name, parent).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    group["id"].as_str().unwrap().to_string()
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn groups_form_a_tree_with_members_roles_quotas_and_delegated_administrators() {
    let (app, root) = TestApp::spawn_with_admin_and("").await;
    let admin = root.access.clone();
    let company = created(&app, &admin, "Company", None).await;
    let sales = created(&app, &admin, "Sales", Some(&company)).await;
    let north = created(&app, &admin, "North", Some(&sales)).await;
    let tech = created(&app, &admin, "Tech", Some(&company)).await;
    let (status, err) = create(&app, &admin, "Orphan", Some("nope")).await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY && err["error"]["fields"]["parent_id"].is_string(),
        "{err}"
    );
    let (status, _) = create(&app, &admin, " ", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Ann administers the sales branch: a role with identity:groups, and
    // membership of Sales.
    let ann = app.user("ann").await;
    let (status, _) = create(&app, &ann.access, "Mine", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a top-level group needs identity:admin");
    let role =
        json!({"name": "group_admin", "permissions": ["identity:groups", "cart:use", "order:create", "return:create"]});
    let (status, body) = call(&app, Method::POST, "/api/v1/roles", &admin, Some(role)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/users/{}/roles", ann.user_id),
        &admin,
        Some(json!({"roles": ["customer", "group_admin"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let member = |group: &str, user: &str| format!("/api/v1/groups/{group}/members/{user}");
    let (status, count) = call(&app, Method::PUT, &member(&sales, &ann.user_id), &admin, None).await;
    assert_eq!((status, count["member_count"].as_u64()), (StatusCode::OK, Some(1)));
    let ann = app.login("ann", PASSWORD).await;
    let a = ann.access.clone();

    let team = created(&app, &a, "Team", Some(&sales)).await;
    let (status, err) = create(&app, &a, "Elsewhere", Some(&tech)).await;
    assert_eq!((status, code(&err)), (StatusCode::FORBIDDEN, "outside_your_groups"));
    let patch = |id: &str| format!("/api/v1/groups/{id}");
    let (status, moved) = call(
        &app,
        Method::PATCH,
        &patch(&team),
        &a,
        Some(json!({"parent_id": north})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let names: Vec<&str> = moved["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["North", "Sales", "Company"]);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &patch(&north),
        &a,
        Some(json!({"parent_id": tech})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "never out of her subtree");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &patch(&sales),
        &a,
        Some(json!({"name": "Sales EU", "parent_id": null})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not the group her reach starts from");
    let (status, err) = call(
        &app,
        Method::PATCH,
        &patch(&sales),
        &admin,
        Some(json!({"parent_id": team})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "under its own descendant: {err}"
    );
    let (status, renamed) = call(
        &app,
        Method::PATCH,
        &patch(&north),
        &a,
        Some(json!({"name": "North EU"})),
    )
    .await;
    assert_eq!((status, renamed["name"].as_str()), (StatusCode::OK, Some("North EU")));

    // The tree as the company's administrator sees it.
    let (status, tree) = call(
        &app,
        Method::GET,
        &format!("/api/v1/groups/{company}?descendants_depth=2"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tree}");
    let top: Vec<&str> = tree["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(top, ["Sales", "Tech"]);
    assert_eq!(tree["descendants"][0]["children"][0]["name"], "North EU");
    assert_eq!(
        tree["descendants"][0]["children"][0]["children"],
        json!([]),
        "depth 2 stops there"
    );
    // Ann sees her branch, not the company.
    let (status, _) = call(&app, Method::GET, &patch(&company), &a, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Members: she adds Bob to her team, twice; a stranger may not.
    let bob = app.user("bob").await;
    for _ in 0..2 {
        let (status, count) = call(&app, Method::PUT, &member(&team, &bob.user_id), &a, None).await;
        assert_eq!((status, count["member_count"].as_u64()), (StatusCode::OK, Some(1)));
    }
    let (status, _) = call(&app, Method::PUT, &member(&team, "nobody"), &a, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let eve = app.user("eve").await;
    let (status, _) = call(&app, Method::PUT, &member(&team, &eve.user_id), &eve.access, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, Method::PUT, &member(&tech, &bob.user_id), &a, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page) = call(&app, Method::GET, &format!("/api/v1/groups/{team}/members"), &a, None).await;
    assert_eq!(page["items"][0]["user_id"], bob.user_id.as_str());
    // Bob, a member, may read his group.
    let (status, seen) = call(&app, Method::GET, &patch(&team), &bob.access, None).await;
    assert_eq!((status, seen["member_count"].as_u64()), (StatusCode::OK, Some(1)));

    // Roles and quotas: nothing she does not hold herself.
    let roles = |r: Value| Some(json!({"roles": r}));
    let path = format!("/api/v1/groups/{team}/roles");
    let (status, err) = call(&app, Method::PUT, &path, &a, roles(json!([{"role": "seller"}]))).await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::FORBIDDEN, "grant_exceeds_own"),
        "{err}"
    );
    let (status, err) = call(&app, Method::PUT, &path, &a, roles(json!([{"role": "wizard"}]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, err) = call(
        &app,
        Method::PUT,
        &path,
        &a,
        roles(json!([{"role": "customer", "expires_at": "soon"}])),
    )
    .await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && err["error"]["fields"]["roles[0].expires_at"].is_string());
    let (status, granted) = call(
        &app,
        Method::PUT,
        &path,
        &a,
        roles(json!([{"role": "customer", "expires_at": "2030-01-01T00:00:00Z"}])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(
        granted["roles"],
        json!([{"role": "customer", "expires_at": "2030-01-01T00:00:00Z"}])
    );
    let quotas = |q: Value| Some(json!({"quotas": q}));
    let path = format!("/api/v1/groups/{team}/quotas");
    let (status, err) = call(
        &app,
        Method::PUT,
        &path,
        &a,
        quotas(json!([{"name": "max_stores", "limit": 4}])),
    )
    .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::FORBIDDEN, "grant_exceeds_own"),
        "above her own 3"
    );
    let (status, err) = call(
        &app,
        Method::PUT,
        &path,
        &a,
        quotas(json!([{"name": "max_wands", "limit": 1}])),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, granted) = call(
        &app,
        Method::PUT,
        &path,
        &a,
        quotas(json!([{"name": "max_stores", "limit": 2}])),
    )
    .await;
    assert_eq!(
        (status, granted["quotas"][0]["limit"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let (status, granted) = call(
        &app,
        Method::PUT,
        &path,
        &admin,
        quotas(json!([{"name": "max_stores", "limit": 50}])),
    )
    .await;
    assert_eq!(
        (status, granted["quotas"][0]["limit"].as_u64()),
        (StatusCode::OK, Some(50)),
        "an administrator may"
    );

    // Deleted, then restored with its members, roles and quotas.
    let (status, _) = call(&app, Method::DELETE, &patch(&team), &a, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, Method::GET, &patch(&team), &a, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, back) = call(&app, Method::POST, &format!("/api/v1/groups/{team}/restore"), &a, None).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(
        (back["member_count"].as_u64(), back["parent_id"].as_str()),
        (Some(1), Some(north.as_str()))
    );
    assert_eq!(back["roles"][0]["role"], "customer");
    assert_eq!(back["quotas"][0]["limit"], 50);
    let (status, _) = call(&app, Method::POST, &format!("/api/v1/groups/{team}/restore"), &a, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not deleted");
    // A deleted group's children move up to its parent.
    let (status, _) = call(&app, Method::DELETE, &patch(&north), &admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, team_now) = call(&app, Method::GET, &patch(&team), &a, None).await;
    assert_eq!(team_now["parent_id"], sales.as_str());
    // Bob leaves.
    let (status, count) = call(&app, Method::DELETE, &member(&team, &bob.user_id), &a, None).await;
    assert_eq!((status, count["member_count"].as_u64()), (StatusCode::OK, Some(0)));
    let (status, _) = call(&app, Method::GET, &patch(&team), &bob.access, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no longer his group");
}

/// The claims of an access token (its payload, not verified here).
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn refreshed(app: &TestApp, refresh: &str) -> (String, String) {
    let res = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_string(),
        body["refresh_token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_members_access_is_their_own_plus_their_groups_and_ancestors_unexpired_grants() {
    let (app, root) = TestApp::spawn_with_admin_and("").await;
    let admin = root.access.clone();
    let company = created(&app, &admin, "Company", None).await;
    let sales = created(&app, &admin, "Sales", Some(&company)).await;
    let cleo = app.user("cleo").await;
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/groups/{sales}/members/{}", cleo.user_id),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The company grants sellers' rights and ten stores; Sales a role that
    // has already expired.
    let roles = json!({"roles": [{"role": "seller"}]});
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/groups/{company}/roles"),
        &admin,
        Some(roles),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let quotas = json!({"quotas": [{"name": "max_stores", "limit": 10}, {"name": "max_phones", "limit": 1}]});
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/groups/{company}/quotas"),
        &admin,
        Some(quotas),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let expired = json!({"roles": [{"role": "admin", "expires_at": "2001-01-01T00:00:00Z"}]});
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/groups/{sales}/roles"),
        &admin,
        Some(expired),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // /me shows it at once, with where each comes from.
    let (status, me) = call(&app, Method::GET, "/api/v1/me", &cleo.access, None).await;
    // Her token from before the grants no longer holds: she refreshes.
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{me}");
    let (access, _) = refreshed(&app, &cleo.refresh).await;
    let (status, me) = call(&app, Method::GET, "/api/v1/me", &access, None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["roles"], json!(["customer", "seller"]));
    assert_eq!(me["role_sources"]["seller"], json!([format!("group:{company}")]));
    assert_eq!(me["role_sources"]["customer"], json!(["own"]));
    assert_eq!(me["quotas"]["max_stores"], 10);
    assert_eq!(me["quota_sources"]["max_stores"], format!("group:{company}"));
    assert_eq!(
        (
            me["quotas"]["max_phones"].as_u64(),
            me["quota_sources"]["max_phones"].as_str()
        ),
        (Some(5), Some("own")),
        "her default 5 beats the group's 1"
    );
    assert!(me["permissions"].as_array().unwrap().contains(&json!("store:create")));
    // The token carries the same.
    let c = claims(&access);
    assert_eq!(c["roles"], json!(["customer", "seller"]));
    assert!(c["perms"].as_array().unwrap().contains(&json!("store:create")));
    assert!(
        !c["perms"].as_array().unwrap().contains(&json!("identity:admin")),
        "the expired grant gives nothing"
    );
    assert_eq!(c["quotas"]["max_stores"], 10);
    // She may now open a store, as sellers do.
    let store = json!({"name": "Cleo's", "currency": "USD", "timezone": "UTC"});
    let (status, body) = call(&app, Method::POST, "/api/v1/stores", &access, Some(store)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Out of the group, the rights go with the next refresh.
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/groups/{sales}/members/{}", cleo.user_id),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, Method::GET, "/api/v1/me", &access, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her token no longer holds");
    let login = app.login("cleo", PASSWORD).await;
    assert_eq!(claims(&login.access)["roles"], json!(["customer"]));
}

#[tokio::test]
async fn the_export_holds_the_profile_access_groups_and_order_ids() {
    use crate::order_shop::{Shop, id, place};
    let shop = Shop::open(5).await;
    let app = &shop.app;
    let dora = app.user("dora").await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 1)])));
    let (status, order) = place(app, &dora.access, Some("o1"), &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let root = app.login("root", PASSWORD).await;
    let team = created(app, &root.access, "Team", None).await;
    let (status, _) = call(
        app,
        Method::PUT,
        &format!("/api/v1/groups/{team}/members/{}", dora.user_id),
        &root.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let dora = app.login("dora", PASSWORD).await;
    let (status, export) = call(app, Method::GET, "/api/v1/me/export", &dora.access, None).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["profile"]["username"], "dora");
    assert_eq!(export["profile"]["role_sources"]["customer"], json!(["own"]));
    assert_eq!(export["groups"], json!([team]));
    assert_eq!(export["order_ids"], json!([id(&order)]));
    assert!(export["exported_at"].is_string());
    // Only one's own.
    let (_, other) = call(app, Method::GET, "/api/v1/me/export", &shop.seller.access, None).await;
    assert_eq!(other["order_ids"], json!([]));
}

/// `millis` as RFC 3339.
fn at(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn a_users_own_roles_and_quotas_may_end_at_a_time() {
    use actors::ports::Clock;
    let (app, root) = TestApp::spawn_with_admin_and("").await;
    let admin = root.access.clone();
    let ann = app.user("ann").await;
    let soon = at(app.clock.now() + 5 * 60_000);
    let roles_path = format!("/api/v1/users/{}/roles", ann.user_id);
    let roles = json!({"roles": ["customer", {"role": "seller", "expires_at": soon}]});
    let (status, user) = call(&app, Method::PUT, &roles_path, &admin, Some(roles)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["role_expires_at"]["seller"], soon.as_str());
    let quotas = json!({"max_stores": {"limit": 7, "expires_at": soon}, "max_products": 50});
    let (status, user) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/users/{}/quotas", ann.user_id),
        &admin,
        Some(quotas),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["quota_expires_at"]["max_stores"], soon.as_str());
    // The admin role never lapses; a bad time is refused.
    let (status, _) = call(
        &app,
        Method::PUT,
        &roles_path,
        &admin,
        Some(json!({"roles": [{"role": "admin", "expires_at": soon}]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, err) = call(
        &app,
        Method::PUT,
        &roles_path,
        &admin,
        Some(json!({"roles": [{"role": "seller", "expires_at": "later"}]})),
    )
    .await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY && err["error"]["fields"]["roles[0].expires_at"].is_string(),
        "{err}"
    );

    let ann = app.login("ann", PASSWORD).await;
    let c = claims(&ann.access);
    assert_eq!(c["roles"], json!(["customer", "seller"]));
    assert_eq!(
        (c["quotas"]["max_stores"].as_u64(), c["quotas"]["max_products"].as_u64()),
        (Some(7), Some(50))
    );
    // Six minutes on, the seller role and the raised store quota are over:
    // her token (still within its 15 minutes) no longer holds.
    app.clock.advance(6 * 60_000);
    let (status, err) = call(&app, Method::GET, "/api/v1/me", &ann.access, None).await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNAUTHORIZED, "token_revoked"),
        "{err}"
    );
    let ann = app.login("ann", PASSWORD).await;
    let c = claims(&ann.access);
    assert_eq!(c["roles"], json!(["customer"]));
    assert_eq!(
        (c["quotas"]["max_stores"].as_u64(), c["quotas"]["max_products"].as_u64()),
        (Some(3), Some(50)),
        "back to the default; the lasting override stays"
    );
    let (_, me) = call(&app, Method::GET, "/api/v1/me", &ann.access, None).await;
    assert_eq!(me["roles"], json!(["customer"]));
}
