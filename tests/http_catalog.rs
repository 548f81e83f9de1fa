//! The catalog over HTTP: the tag tree.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(app: &TestApp, token: &str, name: &str, parent: Option<&str>) -> Value {
    let res = app
        .call(
            Method::POST,
            "/api/v1/tags",
            Some(token),
            Some(json!({"name": name, "parent_id": parent})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "creating {name}");
    res.json().await.unwrap()
}

fn id(tag: &Value) -> String {
    tag["id"].as_str().unwrap().to_string()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// A seller (catalog:write) and a customer.
async fn seller_and_customer(app: &TestApp, admin: &Session) -> (Session, Session) {
    let seller = app.user("sella").await;
    app.call(
        Method::PUT,
        &format!("/api/v1/users/{}/roles", seller.user_id),
        Some(&admin.access),
        Some(json!({"roles": ["seller"]})),
    )
    .await;
    (app.login("sella", PASSWORD).await, app.user("custo").await)
}

#[tokio::test]
async fn sellers_build_a_tag_tree_that_anyone_can_read() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let (seller, customer) = seller_and_customer(&app, &admin).await;
    let denied = app
        .call(
            Method::POST,
            "/api/v1/tags",
            Some(&customer.access),
            Some(json!({"name": "Clothing"})),
        )
        .await;
    assert_eq!(error_code(denied).await.1, "missing_permission");
    let anonymous = app
        .call(Method::POST, "/api/v1/tags", None, Some(json!({"name": "Clothing"})))
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let clothing = create(&app, &seller.access, "Clothing", None).await;
    let shoes = create(&app, &seller.access, "Shoes", Some(&id(&clothing))).await;
    let running = create(&app, &seller.access, "Running", Some(&id(&shoes))).await;
    create(&app, &seller.access, "Books", None).await;
    assert_eq!(running["parent_id"], id(&shoes).as_str());
    assert_eq!(names(&running["ancestors"]), ["Clothing", "Shoes"]);

    // Reading needs no account.
    let roots = app.fetch_json("/api/v1/tags").await;
    assert_eq!(names(&roots["items"]), ["Books", "Clothing"]);
    let tag = app.fetch_json(&format!("/api/v1/tags/{}", id(&clothing))).await;
    assert_eq!(names(&tag["children"]), ["Shoes"]);
    assert!(tag["children"][0]["children"].as_array().unwrap().is_empty());
    let deep = app
        .fetch_json(&format!("/api/v1/tags/{}?descendants_depth=2", id(&clothing)))
        .await;
    assert_eq!(names(&deep["children"][0]["children"]), ["Running"]);
    let bad = app
        .client
        .get(app.url("/api/v1/tags?descendants_depth=99"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app.client.get(app.url("/api/v1/tags/NOPE")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let clash = app
        .call(
            Method::POST,
            "/api/v1/tags",
            Some(&seller.access),
            Some(json!({"name": "shoes", "parent_id": id(&clothing)})),
        )
        .await;
    assert_eq!(error_code(clash).await.1, "tag_exists");
    let orphan = app
        .call(
            Method::POST,
            "/api/v1/tags",
            Some(&seller.access),
            Some(json!({"name": "Toys", "parent_id": "NOPE"})),
        )
        .await;
    let (status, _, body) = error_code(orphan).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["parent_id"].is_string());
}

#[tokio::test]
async fn tags_move_with_their_subtree_rename_and_delete() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let (seller, customer) = seller_and_customer(&app, &admin).await;
    let clothing = create(&app, &seller.access, "Clothing", None).await;
    let shoes = create(&app, &seller.access, "Shoes", Some(&id(&clothing))).await;
    let running = create(&app, &seller.access, "Running", Some(&id(&shoes))).await;
    let sport = create(&app, &seller.access, "Sport", None).await;
    let patch = |tag: &Value, body: Value, token: String| {
        let path = format!("/api/v1/tags/{}", id(tag));
        let app = &app;
        async move { app.call(Method::PATCH, &path, Some(&token), Some(body)).await }
    };

    let moved = patch(
        &shoes,
        json!({"parent_id": id(&sport), "name": "Footwear"}),
        seller.access.clone(),
    )
    .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(
        (moved["id"].clone(), moved["name"].clone()),
        (shoes["id"].clone(), json!("Footwear")),
        "ids never change"
    );
    let running_now = app.fetch_json(&format!("/api/v1/tags/{}", id(&running))).await;
    assert_eq!(
        names(&running_now["ancestors"]),
        ["Sport", "Footwear"],
        "the subtree moved along"
    );

    let cycle = patch(&sport, json!({"parent_id": id(&running)}), seller.access.clone()).await;
    let (status, _, body) = error_code(cycle).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["fields"]["parent_id"]
            .as_str()
            .unwrap()
            .contains("descendant")
    );
    let to_root = patch(&shoes, json!({"parent_id": null}), seller.access.clone()).await;
    assert_eq!(to_root.json::<Value>().await.unwrap()["parent_id"], Value::Null);
    let forbidden = patch(&shoes, json!({"name": "X"}), customer.access.clone()).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tags/{}", id(&shoes)),
            Some(&seller.access),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let promoted = app.fetch_json(&format!("/api/v1/tags/{}", id(&running))).await;
    assert_eq!(
        promoted["parent_id"],
        Value::Null,
        "children move up to the deleted tag's parent"
    );
    let again = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tags/{}", id(&shoes)),
            Some(&seller.access),
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    let app = app.restart().await;
    let roots = app.fetch_json("/api/v1/tags").await;
    assert_eq!(
        names(&roots["items"]),
        ["Clothing", "Running", "Sport"],
        "the tree survives a restart"
    );
}

#[tokio::test]
async fn typed_attributes_are_defined_found_renamed_and_deleted() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let (seller, customer) = seller_and_customer(&app, &admin).await;
    let define = |body: Value, token: String| {
        let app = &app;
        async move {
            app.call(Method::POST, "/api/v1/attributes", Some(&token), Some(body))
                .await
        }
    };
    let size = define(
        json!({"name": "Size", "kind": "enum", "values": ["S", "M", "L"]}),
        seller.access.clone(),
    )
    .await;
    assert_eq!(size.status(), StatusCode::CREATED);
    let size: Value = size.json().await.unwrap();
    assert_eq!(
        (size["kind"].as_str(), size["in_use"].as_bool()),
        (Some("enum"), Some(false))
    );
    let weight = define(
        json!({"name": "Weight", "kind": "decimal", "unit": "kg"}),
        seller.access.clone(),
    )
    .await;
    assert_eq!(weight.json::<Value>().await.unwrap()["unit"], "kg");
    define(json!({"name": "Waterproof", "kind": "boolean"}), seller.access.clone()).await;

    let bad = define(json!({"name": "Colour", "kind": "colour"}), seller.access.clone()).await;
    assert!(error_code(bad).await.2["error"]["fields"]["kind"].is_string());
    let no_values = define(json!({"name": "Fit", "kind": "enum"}), seller.access.clone()).await;
    assert!(error_code(no_values).await.2["error"]["fields"]["values"].is_string());
    let denied = define(json!({"name": "Fit", "kind": "string"}), customer.access.clone()).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let all = app.fetch_json("/api/v1/attributes").await;
    assert_eq!(names(&all["items"]), ["Size", "Waterproof", "Weight"]);
    let found = app.fetch_json("/api/v1/attributes?q=W").await;
    assert_eq!(names(&found["items"]), ["Waterproof", "Weight"]);
    let one = app.fetch_json(&format!("/api/v1/attributes/{}", id(&size))).await;
    assert_eq!(one["values"], json!(["S", "M", "L"]));

    let path = format!("/api/v1/attributes/{}", id(&size));
    let renamed = app
        .call(
            Method::PATCH,
            &path,
            Some(&seller.access),
            Some(json!({"name": "Clothing size", "values": ["S", "M", "L", "XL"]})),
        )
        .await;
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(
        (renamed["name"].as_str(), renamed["values"].as_array().unwrap().len()),
        (Some("Clothing size"), 4)
    );
    let retyped = app
        .call(
            Method::PATCH,
            &path,
            Some(&seller.access),
            Some(json!({"kind": "string"})),
        )
        .await;
    assert_eq!(
        retyped.json::<Value>().await.unwrap()["kind"],
        "string",
        "unused attributes may change kind"
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&seller.access), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.client.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn tags_and_attributes_belong_to_their_creator_and_catalog_admins() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let ann = app.seller(&admin, "ann").await;
    let bob = app.seller(&admin, "bob").await;
    let shoes = id(&create(&app, &ann.access, "Shoes", None).await);
    let attr = app
        .call(
            Method::POST,
            "/api/v1/attributes",
            Some(&ann.access),
            Some(json!({"name": "Size", "kind": "enum", "values": ["S", "M"]})),
        )
        .await;
    assert_eq!(attr.status(), StatusCode::CREATED);
    let attr = format!("/api/v1/attributes/{}", id(&attr.json::<Value>().await.unwrap()));
    let tag = format!("/api/v1/tags/{shoes}");
    // Another seller can neither rename nor delete them.
    for (method, path, body) in [
        (Method::PATCH, tag.clone(), Some(json!({"name": "Boots"}))),
        (Method::DELETE, tag.clone(), None),
        (Method::PATCH, attr.clone(), Some(json!({"name": "Shoe size"}))),
        (Method::DELETE, attr.clone(), None),
    ] {
        let res = app.call(method.clone(), &path, Some(&bob.access), body).await;
        assert_eq!(error_code(res).await.1, "not_owner", "{method} {path}");
    }
    assert_eq!(app.fetch_json(&tag).await["name"], "Shoes", "unchanged");
    // Their creator can, and so can a catalog administrator.
    let mine = app
        .call(
            Method::PATCH,
            &tag,
            Some(&ann.access),
            Some(json!({"name": "Footwear"})),
        )
        .await;
    assert_eq!(mine.status(), StatusCode::OK);
    let admins = app.call(Method::DELETE, &attr, Some(&admin.access), None).await;
    assert_eq!(admins.status(), StatusCode::NO_CONTENT);
    // Once another seller's product uses it, only a catalog administrator may.
    let product = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&bob.access),
            Some(json!({"name": "Boot", "tag_ids": [shoes]})),
        )
        .await;
    assert_eq!(product.status(), StatusCode::CREATED);
    let product = id(&product.json::<Value>().await.unwrap());
    let rename = |token: String| {
        let (app, tag) = (&app, tag.clone());
        async move {
            app.call(Method::PATCH, &tag, Some(&token), Some(json!({"name": "Shoes"})))
                .await
        }
    };
    assert_eq!(error_code(rename(ann.access.clone()).await).await.1, "in_use_by_others");
    assert_eq!(rename(admin.access.clone()).await.status(), StatusCode::OK);
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/products/{product}"),
            Some(&bob.access),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        rename(ann.access.clone()).await.status(),
        StatusCode::OK,
        "no longer used by others"
    );
    let unknown = app
        .call(Method::DELETE, "/api/v1/tags/nope", Some(&bob.access), None)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND, "a missing tag is 404, not 403");
}
