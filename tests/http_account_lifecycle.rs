//! Accounts coming to an end over HTTP: `DELETE /api/v1/me` and
//! `DELETE /api/v1/users/{id}` lock the account out at once and erase its
//! phones and addresses; its username and e-mail stay reserved for 30 days,
//! during which administrators restore it; then the alarm purges it and both
//! names are free. Orders keep their own copy of the contacts; the last
//! administrator is never deleted.

use crate::order_shop::{Shop, call, id, place};
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const DAY: i64 = 24 * 3_600_000;

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

async fn delete_me(app: &TestApp, token: &str, password: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::DELETE,
        "/api/v1/me",
        token,
        Some(json!({"current_password": password})),
    )
    .await
}

/// Waits (real time, the alarm clock ticking) until `path` answers 404.
async fn until_gone(app: &TestApp, path: &str, token: &str) {
    for _ in 0..100 {
        if app.get(path, token).await.status() == StatusCode::NOT_FOUND {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} was not purged");
}

#[tokio::test]
async fn a_deleted_account_is_locked_out_reserved_restorable_and_then_purged() {
    let shop = Shop::open(5).await;
    let app = &shop.app;
    let admin = app.login("root", PASSWORD).await;
    let ann = app.user("ann").await;
    let (status, _) = call(
        app,
        Method::PATCH,
        "/api/v1/me",
        &ann.access,
        Some(json!({"phones": ["+14155550100"], "addresses": [
            {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country": "US"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, order) = place(
        app,
        &ann.access,
        Some("k1"),
        &shop.order(Some(json!([shop.line(&shop.product, 1)]))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order_path = format!("/api/v1/orders/{}", id(&order));
    assert_eq!(order["billing"]["contact"]["email"], "ann@example.com", "{order}");
    let (status, group) = call(
        app,
        Method::POST,
        "/api/v1/groups",
        &admin.access,
        Some(json!({"name": "Staff"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let group_path = format!("/api/v1/groups/{}", id(&group));
    let member = format!("{group_path}/members/{}", ann.user_id);
    assert_eq!(
        call(app, Method::PUT, &member, &admin.access, None).await.0,
        StatusCode::OK
    );

    // Refusals change nothing.
    let (status, err) = delete_me(app, &ann.access, "not my password").await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY && err["error"]["fields"]["current_password"].is_string(),
        "{err}"
    );
    let (status, _) = call(app, Method::DELETE, "/api/v1/me", &ann.access, Some(json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the password is required");
    assert_eq!(app.get("/api/v1/me", &ann.access).await.status(), StatusCode::OK);

    // Deleted: locked out at once, every way in closed.
    let (status, body) = delete_me(app, &ann.access, PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let status = app.get("/api/v1/me", &ann.access).await.status();
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "{status}"
    );
    let res = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": ann.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .post("/api/v1/auth/login", json!({"login": "ann", "password": PASSWORD}))
        .await;
    let (status, login_code, _) = error_code(res).await;
    assert_eq!(
        (status, login_code.as_str()),
        (StatusCode::FORBIDDEN, "account_deleted")
    );
    let res = app
        .post("/api/v1/auth/password-reset", json!({"email": "ann@example.com"}))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = app
        .post("/api/v1/auth/username-recovery", json!({"email": "ann@example.com"}))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for subject in ["Reset your password", "Your username"] {
        assert_eq!(mails_to(&app.outbox(), "ann@example.com", subject), 0, "{subject}");
    }

    // Its names stay reserved.
    let taken = |username: &str, email: &str| json!({"username": username, "email": email, "password": PASSWORD});
    let (status, _, err) = error_code(app.post("/api/v1/accounts", taken("ann", "new@example.com")).await).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "username_taken"));
    let (status, _, err) = error_code(app.post("/api/v1/accounts", taken("ann2", "ann@example.com")).await).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "email_taken"));

    // Administrators see it deleted, its phones and addresses erased.
    let user_path = format!("/api/v1/users/{}", ann.user_id);
    let (status, seen) = call(app, Method::GET, &user_path, &admin.access, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seen["deleted_at"].is_string() && seen["purge_at"].is_string(), "{seen}");
    assert_eq!(
        (
            seen["phones"].as_array().unwrap().len(),
            seen["addresses"].as_array().unwrap().len()
        ),
        (0, 0)
    );
    let roles_path = format!("{user_path}/roles");
    let (status, err) = call(
        app,
        Method::PUT,
        &roles_path,
        &admin.access,
        Some(json!({"roles": ["seller"]})),
    )
    .await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "account_deleted"));

    // Restored: she signs in again; what was erased stays erased.
    let restore = format!("{user_path}/restore");
    let (status, back) = call(app, Method::POST, &restore, &admin.access, None).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert!(back["deleted_at"].is_null() && back["purge_at"].is_null(), "{back}");
    let ann = app.login("ann", PASSWORD).await;
    let me: Value = app.get("/api/v1/me", &ann.access).await.json().await.unwrap();
    assert_eq!(me["phones"], json!([]));
    let (status, again) = call(app, Method::POST, &restore, &admin.access, None).await;
    assert_eq!(
        (status, again["deleted_at"].is_null()),
        (StatusCode::OK, true),
        "restoring twice is harmless"
    );

    // Deleted by an administrator, twice: the window runs from the first.
    let (status, first) = call(app, Method::DELETE, &user_path, &admin.access, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, second) = call(app, Method::DELETE, &user_path, &admin.access, None).await;
    assert_eq!((status, &second["purge_at"]), (StatusCode::OK, &first["purge_at"]));
    assert_eq!(app.get("/api/v1/me", &ann.access).await.status(), StatusCode::FORBIDDEN);

    // A day before the end it is still there; at the end it is purged.
    // (Tokens do not last days: sign in again after each leap.)
    app.clock.advance(29 * DAY);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let admin = app.login("root", PASSWORD).await;
    assert_eq!(app.get(&user_path, &admin.access).await.status(), StatusCode::OK);
    app.clock.advance(DAY);
    let admin = app.login("root", PASSWORD).await;
    until_gone(app, &user_path, &admin.access).await;
    let (status, _) = call(app, Method::POST, &restore, &admin.access, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "too late to restore");
    let (_, group) = call(app, Method::GET, &group_path, &admin.access, None).await;
    assert_eq!(group["member_count"], 0, "{group}");
    let res = app.post("/api/v1/accounts", taken("ann", "ann@example.com")).await;
    assert_eq!(res.status(), StatusCode::CREATED, "both names are free again");

    // The order kept its own copy of the contacts.
    let seller = app.login("sella", PASSWORD).await;
    let (status, kept) = call(app, Method::GET, &order_path, &seller.access, None).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["shipping"]["contact"]["name"], "Ann Buyer", "{kept}");
    assert_eq!(kept["shipping"]["address"]["city"], "Springfield");
    assert!(kept["billing"].is_null(), "billing is the buyer's to see");
}

#[tokio::test]
async fn the_last_administrator_is_never_deleted_even_by_two_at_once() {
    let (app, root) = TestApp::spawn_with_admin().await;
    let (status, err) = delete_me(&app, &root.access, PASSWORD).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "last_admin"));
    let own = format!("/api/v1/users/{}", root.user_id);
    let (status, err) = call(&app, Method::DELETE, &own, &root.access, None).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "cannot_delete_self"));

    // A second administrator; they delete each other at the same instant.
    let bob = app.user("bob").await;
    let roles = format!("/api/v1/users/{}/roles", bob.user_id);
    let (status, _) = call(
        &app,
        Method::PUT,
        &roles,
        &root.access,
        Some(json!({"roles": ["admin"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let bob = app.login("bob", PASSWORD).await;
    let customer = app.user("cid").await;
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{}", bob.user_id),
        &customer.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers delete nobody");
    let bobs = format!("/api/v1/users/{}", bob.user_id);
    let ((by_root, _), (by_bob, bob_err)) = tokio::join!(
        call(&app, Method::DELETE, &bobs, &root.access, None),
        call(&app, Method::DELETE, &own, &bob.access, None),
    );
    let outcomes = [by_root, by_bob];
    assert_eq!(
        outcomes.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "exactly one deletion lands: {outcomes:?} {bob_err}"
    );
    let alive = if by_root == StatusCode::OK { &root } else { &bob };
    let (_, root_now) = call(&app, Method::GET, &own, &alive.access, None).await;
    let (_, bob_now) = call(&app, Method::GET, &bobs, &alive.access, None).await;
    assert!(
        root_now["deleted_at"].is_null() != bob_now["deleted_at"].is_null(),
        "one administrator remains: {root_now} {bob_now}"
    );
    // The one left is the last: deleting themselves is refused.
    let (status, err) = delete_me(&app, &alive.access, PASSWORD).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "last_admin"));
}
