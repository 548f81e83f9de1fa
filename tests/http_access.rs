//! Every route enforces the permission it declares: a custom role without
//! the shopping permissions cannot shop.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A user holding only the custom role `name` with `permissions`.
async fn holding(app: &TestApp, admin: &Session, user: &str, name: &str, permissions: Value) -> Session {
    let res = app
        .call(
            Method::POST,
            "/api/v1/roles",
            Some(&admin.access),
            Some(json!({"name": name, "permissions": permissions})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session = app.user(user).await;
    let path = format!("/api/v1/users/{}/roles", session.user_id);
    let res = app
        .call(Method::PUT, &path, Some(&admin.access), Some(json!({"roles": [name]})))
        .await;
    assert!(res.status().is_success());
    app.login(user, PASSWORD).await
}

#[tokio::test]
async fn shopping_needs_cart_order_and_return_permissions() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let browser = holding(&app, &admin, "bea", "browser", json!(["media:upload"])).await;
    let carter = holding(&app, &admin, "cal", "carter", json!(["cart:use"])).await;
    let customer = app.user("cus").await;
    let line = json!({"store_id": "st_x", "product_id": "pr_x", "quantity": 1});
    let order = json!({"currency": "USD", "lines": [line.clone()]});
    let ret = json!({"lines": [{"line_id": "l1", "quantity": 1, "reason": "broken"}]});
    let calls = [
        (Method::GET, "/api/v1/cart", None, "cart:use"),
        (Method::DELETE, "/api/v1/cart", None, "cart:use"),
        (Method::PUT, "/api/v1/cart/items", Some(line), "cart:use"),
        (Method::DELETE, "/api/v1/cart/items/ln_1", None, "cart:use"),
        (Method::POST, "/api/v1/orders", Some(order), "order:create"),
        (Method::POST, "/api/v1/orders/ord_1/returns", Some(ret), "return:create"),
    ];
    for (method, path, body, permission) in calls {
        let res = app
            .call(method.clone(), path, Some(&browser.access), body.clone())
            .await;
        let (status, code, err) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "missing_permission"),
            "{method} {path}"
        );
        assert!(err["error"]["message"].as_str().unwrap().contains(permission), "{err}");
        let anonymous = app.call(method.clone(), path, None, body).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(anonymous.headers().contains_key("www-authenticate"));
    }
    // A role with cart:use alone may keep a cart but not order.
    let cart = app.get("/api/v1/cart", &carter.access).await;
    assert_eq!(cart.status(), StatusCode::OK);
    let res = app
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(&carter.access),
            Some(json!({"currency": "USD"})),
        )
        .await;
    assert_eq!(error_code(res).await.1, "missing_permission");
    // The built-in customer role holds all three.
    assert_eq!(app.get("/api/v1/cart", &customer.access).await.status(), StatusCode::OK);
    let res = app
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(&customer.access),
            Some(json!({"currency": "USD"})),
        )
        .await;
    assert_ne!(
        res.status(),
        StatusCode::FORBIDDEN,
        "customers pass the permission check"
    );
}
