//! Products over HTTP.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Shop {
    app: TestApp,
    admin: Session,
    seller: Session,
    customer: Session,
    shoes: String,
    running: String,
    size: String,
    weight: String,
}

async fn shop() -> Shop {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let seller = app.user("sella").await;
    let path = format!("/api/v1/users/{}/roles", seller.user_id);
    app.call(
        Method::PUT,
        &path,
        Some(&admin.access),
        Some(json!({"roles": ["seller"]})),
    )
    .await;
    let seller = app.login("sella", PASSWORD).await;
    let customer = app.user("custo").await;
    let post = |path: &'static str, body: Value| app.call(Method::POST, path, Some(&seller.access), Some(body));
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let shoes = id(post("/api/v1/tags", json!({"name": "Shoes"}))
        .await
        .json()
        .await
        .unwrap());
    let running = id(post("/api/v1/tags", json!({"name": "Running", "parent_id": shoes}))
        .await
        .json()
        .await
        .unwrap());
    let size = id(post(
        "/api/v1/attributes",
        json!({"name": "Size", "kind": "enum", "values": ["S", "M"]}),
    )
    .await
    .json()
    .await
    .unwrap());
    let weight = id(post(
        "/api/v1/attributes",
        json!({"name": "Weight", "kind": "integer", "unit": "g"}),
    )
    .await
    .json()
    .await
    .unwrap());
    Shop {
        app,
        admin,
        seller,
        customer,
        shoes,
        running,
        size,
        weight,
    }
}

impl Shop {
    fn product(&self, name: &str, visible: bool) -> Value {
        json!({
            "name": name, "description": "Light and fast", "visible": visible,
            "tag_ids": [self.running],
            "attributes": [{"attribute_id": self.size, "value": "M"}, {"attribute_id": self.weight, "value": 300}],
            "media_ids": []
        })
    }

    async fn create(&self, token: &str, body: Value) -> reqwest::Response {
        self.app
            .call(Method::POST, "/api/v1/products", Some(token), Some(body))
            .await
    }

    /// Creates a product as the seller; its id.
    async fn created(&self, name: &str, visible: bool) -> String {
        let res = self.create(&self.seller.access, self.product(name, visible)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    async fn edit(&self, method: Method, id: &str, if_match: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(&format!("/api/v1/products/{id}")))
            .bearer_auth(&self.seller.access)
            .json(&body);
        if let Some(v) = if_match {
            req = req.header("if-match", v);
        }
        req.send().await.unwrap()
    }
}

#[tokio::test]
async fn sellers_create_products_with_typed_attributes_and_tags() {
    let shop = shop().await;
    let res = shop.create(&shop.seller.access, shop.product("Runner", true)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let p: Value = res.json().await.unwrap();
    assert_eq!(
        (p["version"].as_u64(), p["owner_id"].as_str()),
        (Some(1), Some(shop.seller.user_id.as_str()))
    );
    assert_eq!(p["tags"][0]["name"], "Running");
    assert_eq!(p["tags"][0]["ancestors"][0]["id"], shop.shoes.as_str());
    let attrs = p["attributes"].as_array().unwrap();
    assert_eq!(
        (
            attrs[1]["name"].as_str(),
            attrs[1]["unit"].as_str(),
            attrs[1]["value"].as_i64()
        ),
        (Some("Weight"), Some("g"), Some(300))
    );
    assert_eq!(attrs[0]["kind"], "enum");

    let mut wrong = shop.product("Runner 2", true);
    wrong["attributes"][1]["value"] = json!("300");
    wrong["tag_ids"] = json!(["NOTAG", shop.running]);
    wrong["attributes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"attribute_id": "NOATTR", "value": 1}));
    let (status, _, body) = error_code(shop.create(&shop.seller.access, wrong).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &body["error"]["fields"];
    assert!(
        fields["attributes[1].value"].as_str().unwrap().contains("integer"),
        "the string \"300\" is not an integer"
    );
    assert!(
        fields["attributes[2].attribute_id"]
            .as_str()
            .unwrap()
            .contains("NOATTR")
    );
    assert!(fields["tag_ids"].as_str().unwrap().contains("NOTAG"));

    let denied = shop.create(&shop.customer.access, shop.product("Nope", true)).await;
    assert_eq!(error_code(denied).await.1, "missing_permission");
}

#[tokio::test]
async fn the_product_quota_is_enforced_and_freed_by_deletion() {
    let shop = shop().await;
    let path = format!("/api/v1/users/{}/quotas", shop.seller.user_id);
    shop.app
        .call(
            Method::PUT,
            &path,
            Some(&shop.admin.access),
            Some(json!({"max_products": 1})),
        )
        .await;
    let seller = shop.app.login("sella", PASSWORD).await;
    let first: Value = shop
        .create(&seller.access, shop.product("One", true))
        .await
        .json()
        .await
        .unwrap();
    let (status, code, body) = error_code(shop.create(&seller.access, shop.product("Two", true)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "quota_exceeded"));
    assert!(body["error"]["message"].as_str().unwrap().contains("limit 1, usage 1"));
    let del = shop
        .app
        .call(
            Method::DELETE,
            &format!("/api/v1/products/{}", first["id"].as_str().unwrap()),
            Some(&seller.access),
            None,
        )
        .await;
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        shop.create(&seller.access, shop.product("Two", true)).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn invisible_products_are_for_their_owner_and_edits_name_their_version() {
    let shop = shop().await;
    let id = &shop.created("Secret", false).await;
    let path = format!("/api/v1/products/{id}");
    assert_eq!(
        shop.app.client.get(shop.app.url(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        shop.app.get(&path, &shop.customer.access).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(shop.app.get(&path, &shop.seller.access).await.status(), StatusCode::OK);

    let no_version = shop.edit(Method::PATCH, id, None, json!({"visible": true})).await;
    assert_eq!(error_code(no_version).await.0, StatusCode::PRECONDITION_REQUIRED);
    let stale = shop
        .edit(Method::PATCH, id, Some("\"7\""), json!({"visible": true}))
        .await;
    assert_eq!(error_code(stale).await.1, "version_mismatch");
    let res = shop
        .edit(
            Method::PATCH,
            id,
            Some("\"1\""),
            json!({"visible": true, "name": "Public"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let v2: Value = res.json().await.unwrap();
    assert_eq!(
        (v2["name"].as_str(), v2["description"].as_str()),
        (Some("Public"), Some("Light and fast")),
        "PATCH keeps the rest"
    );
    assert_eq!(
        shop.app.client.get(shop.app.url(&path)).send().await.unwrap().status(),
        StatusCode::OK,
        "now visible"
    );

    let not_owner = shop
        .app
        .client
        .patch(shop.app.url(&path))
        .bearer_auth(&shop.customer.access)
        .header("if-match", "2")
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(not_owner).await.1, "not_owner");
    let replaced: Value = shop
        .edit(Method::PUT, id, Some("2"), json!({"name": "Bare", "visible": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["version"], 3);
    assert!(
        replaced["attributes"].as_array().unwrap().is_empty() && replaced["description"] == "",
        "PUT replaces everything"
    );

    // Every version stays readable; the first was invisible, so only to its owner.
    let v1 = format!("{path}/versions/1");
    assert_eq!(
        shop.app
            .get(&v1, &shop.seller.access)
            .await
            .json::<Value>()
            .await
            .unwrap()["name"],
        "Secret"
    );
    assert_eq!(
        shop.app.get(&v1, &shop.customer.access).await.status(),
        StatusCode::NOT_FOUND
    );
    let v2 = shop.app.fetch_json(&format!("{path}/versions/2")).await;
    assert_eq!(v2["name"], "Public");

    // Hidden again: its history is hidden from everyone but its owner.
    let hidden = shop.edit(Method::PATCH, id, Some("3"), json!({"visible": false})).await;
    assert_eq!(hidden.status(), StatusCode::OK);
    let v2 = format!("{path}/versions/2");
    assert_eq!(
        shop.app.get(&v2, &shop.customer.access).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(shop.app.fetch_json_status(&v2).await.0, StatusCode::NOT_FOUND);
    assert_eq!(shop.app.get(&v2, &shop.seller.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn attributes_in_use_keep_their_kind_and_deleted_products_keep_their_versions() {
    let shop = shop().await;
    let id = &shop.created("Runner", true).await;
    let attr = format!("/api/v1/attributes/{}", shop.weight);
    let retype = shop
        .app
        .call(
            Method::PATCH,
            &attr,
            Some(&shop.seller.access),
            Some(json!({"kind": "string"})),
        )
        .await;
    assert_eq!(error_code(retype).await.1, "attribute_in_use");
    assert_eq!(shop.app.fetch_json(&attr).await["in_use"], true);
    let gone = shop
        .app
        .call(
            Method::DELETE,
            &format!("/api/v1/products/{id}"),
            Some(&shop.seller.access),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        shop.app
            .get(&format!("/api/v1/products/{id}"), &shop.seller.access)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let kept = shop.app.fetch_json(&format!("/api/v1/products/{id}/versions/1")).await;
    assert_eq!(kept["name"], "Runner", "an order can always show what was bought");
    let retype = shop
        .app
        .call(
            Method::PATCH,
            &attr,
            Some(&shop.seller.access),
            Some(json!({"kind": "string"})),
        )
        .await;
    assert_eq!(retype.status(), StatusCode::OK, "no product uses it any more");
}

#[tokio::test]
async fn sellers_list_their_own_products_a_page_at_a_time() {
    let shop = shop().await;
    for i in 0..5 {
        shop.create(&shop.seller.access, shop.product(&format!("P{i}"), i % 2 == 0))
            .await;
    }
    let mut names = Vec::new();
    let mut path = "/api/v1/me/products?limit=2".to_string();
    loop {
        let page: Value = shop.app.get(&path, &shop.seller.access).await.json().await.unwrap();
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/me/products?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        names,
        ["P0", "P1", "P2", "P3", "P4"],
        "invisible ones included, in creation order"
    );
    let theirs: Value = shop
        .app
        .get("/api/v1/me/products", &shop.customer.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs["items"].as_array().unwrap().is_empty());
}
