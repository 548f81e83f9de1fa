//! Stores over HTTP: creation within quota, views, activation, staff, hours.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Opens a store named `name`; its path.
async fn open_store(app: &TestApp, token: &str, name: &str) -> String {
    let res = app
        .call(Method::POST, "/api/v1/stores", Some(token), Some(store(name)))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    format!("/api/v1/stores/{}", created["id"].as_str().unwrap())
}

fn store(name: &str) -> Value {
    json!({"name": name, "currency": "TWD", "timezone": "Asia/Taipei"})
}

#[tokio::test]
async fn sellers_open_stores_within_their_quota() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let sella = app.seller(&admin, "sella").await;
    let customer = app.user("custo").await;
    let denied = app
        .call(
            Method::POST,
            "/api/v1/stores",
            Some(&customer.access),
            Some(store("Nope")),
        )
        .await;
    assert_eq!(error_code(denied).await.1, "missing_permission");
    let bad = app
        .call(
            Method::POST,
            "/api/v1/stores",
            Some(&sella.access),
            Some(json!({"name": "X", "currency": "ABC"})),
        )
        .await;
    let (status, _, body) = error_code(bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["currency"].is_string() && body["error"]["fields"]["timezone"].is_string());

    let res = app
        .call(
            Method::POST,
            "/api/v1/stores",
            Some(&sella.access),
            Some(store("Corner")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(
        (created["status"].as_str(), created["currency"].as_str()),
        (Some("draft"), Some("TWD"))
    );
    assert_eq!(
        created["supervisor"]["supervisor_id"],
        sella.user_id.as_str(),
        "the creator supervises it"
    );
    for i in 0..2 {
        let more = app
            .call(
                Method::POST,
                "/api/v1/stores",
                Some(&sella.access),
                Some(store(&format!("S{i}"))),
            )
            .await;
        assert_eq!(more.status(), StatusCode::CREATED);
    }
    let over = app
        .call(
            Method::POST,
            "/api/v1/stores",
            Some(&sella.access),
            Some(store("Fourth")),
        )
        .await;
    let (status, code, body) = error_code(over).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "quota_exceeded"));
    assert!(body["error"]["message"].as_str().unwrap().contains("limit 3, usage 3"));
}

#[tokio::test]
async fn a_store_is_public_activates_when_complete_and_only_its_supervisor_edits_it() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let sella = app.seller(&admin, "sella").await;
    let other = app.seller(&admin, "other").await;
    let path = open_store(&app, &sella.access, "Corner").await;

    let activate = app
        .call(
            Method::PATCH,
            &path,
            Some(&sella.access),
            Some(json!({"status": "active"})),
        )
        .await;
    let (status, _, body) = error_code(activate).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing: Vec<&str> = body["error"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(missing, ["address", "emails", "phones"]);
    let complete = json!({
        "emails": ["shop@example.com"], "phones": ["+886223456789"], "status": "active",
        "address": {"line1": "1 Main St", "city": "Taipei", "postal_code": "100", "country": "TW"}
    });
    let res = app
        .call(Method::PATCH, &path, Some(&sella.access), Some(complete))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "active");

    let public = app.fetch_json(&path).await;
    assert_eq!(public["name"], "Corner");
    assert!(
        public.get("supervisor").is_none(),
        "no staff or contact internals in public: {public}"
    );
    let own = app.get(&path, &sella.access).await.json::<Value>().await.unwrap();
    assert_eq!(own["supervisor"]["emails"], json!(["shop@example.com"]));

    let stranger = app
        .call(Method::PATCH, &path, Some(&other.access), Some(json!({"name": "Mine"})))
        .await;
    assert_eq!(error_code(stranger).await.1, "not_supervisor");
    assert_eq!(
        app.client
            .get(app.url("/api/v1/stores/NOPE"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn staff_windows_and_opening_hours() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let sella = app.seller(&admin, "sella").await;
    let bob = app.user("bobby").await;
    let body = json!({"name": "Clock", "currency": "JPY", "timezone": "UTC"});
    let created: Value = app
        .call(Method::POST, "/api/v1/stores", Some(&sella.access), Some(body))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/stores/{}", created["id"].as_str().unwrap());

    let window = json!({"valid_from": "2020-01-01T00:00:00Z", "valid_until": "2999-01-01T00:00:00Z"});
    let res = app
        .call(
            Method::PUT,
            &format!("{path}/staff/{}", bob.user_id),
            Some(&sella.access),
            Some(window),
        )
        .await;
    let staff: Value = res.json().await.unwrap();
    assert_eq!(
        (
            staff["items"][0]["user_id"].as_str(),
            staff["items"][0]["active_now"].as_bool()
        ),
        (Some(bob.user_id.as_str()), Some(true))
    );
    let expired = json!({"valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z"});
    let res = app
        .call(
            Method::PUT,
            &format!("{path}/staff/{}", bob.user_id),
            Some(&sella.access),
            Some(expired),
        )
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["items"][0]["active_now"],
        false,
        "rights hold inside the window only"
    );
    let backwards = json!({"valid_from": "2021-01-01T00:00:00Z", "valid_until": "2020-01-01T00:00:00Z"});
    let res = app
        .call(
            Method::PUT,
            &format!("{path}/staff/{}", bob.user_id),
            Some(&sella.access),
            Some(backwards),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&format!("{path}/staff"), &bob.access).await.status(),
        StatusCode::FORBIDDEN
    );
    let gone = app
        .call(
            Method::DELETE,
            &format!("{path}/staff/{}", bob.user_id),
            Some(&sella.access),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let list: Value = app
        .get(&format!("{path}/staff"), &sella.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());

    let bad = json!([{"day": 1, "open": "09:00", "close": "08:00"}, {"day": 1, "open": "10:00", "close": "11:00"}]);
    let res = app
        .call(Method::PUT, &format!("{path}/hours"), Some(&sella.access), Some(bad))
        .await;
    let (status, _, body) = error_code(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["[0].close"].is_string() && body["error"]["fields"]["[1].day"].is_string());
    assert_eq!(app.fetch_json(&path).await["open_now"], false, "no hours: closed");
    let always: Vec<Value> = (0..7)
        .map(|day| json!({"day": day, "open": "00:00", "close": "23:59"}))
        .collect();
    let res = app
        .call(
            Method::PUT,
            &format!("{path}/hours"),
            Some(&sella.access),
            Some(json!(always)),
        )
        .await;
    let store: Value = res.json().await.unwrap();
    assert_eq!(store["hours"].as_array().unwrap().len(), 7);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if secs % 86_400 / 60 != 23 * 60 + 59 {
        // Open round the clock in UTC, but for the last minute of the day.
        assert_eq!(app.fetch_json(&path).await["open_now"], true);
    }
}

#[tokio::test]
async fn a_store_moves_only_when_its_new_supervisor_accepts_it() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let sella = app.seller(&admin, "sella").await;
    let bert = app.seller(&admin, "bertie").await;
    let carl = app.user("carl").await; // a customer: no store:create
    let path = open_store(&app, &sella.access, "Corner").await;
    let transfer = |to: &str, token: &str| {
        let (app, path, body, token) = (
            &app,
            format!("{path}/transfer"),
            json!({"user_id": to}),
            token.to_string(),
        );
        async move { app.call(Method::POST, &path, Some(&token), Some(body)).await }
    };
    let accept = |token: &str| {
        let (app, path, token) = (&app, format!("{path}/transfer/accept"), token.to_string());
        async move { app.call(Method::POST, &path, Some(&token), None).await }
    };
    let supervisor =
        || async { app.get(&path, &sella.access).await.json::<Value>().await.unwrap()["supervisor"].clone() };
    let unknown = transfer("NOBODY", &sella.access).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let customer = transfer(&carl.user_id, &sella.access).await;
    assert!(
        error_code(customer).await.2["error"]["fields"]["user_id"]
            .as_str()
            .unwrap()
            .contains("store:create")
    );
    let stranger = transfer(&bert.user_id, &bert.access).await;
    assert_eq!(error_code(stranger).await.1, "not_supervisor");

    // Offered: nothing moves until Bert accepts.
    let offered = transfer(&bert.user_id, &sella.access).await;
    assert_eq!(offered.status(), StatusCode::ACCEPTED);
    assert_eq!(supervisor().await["supervisor_id"], sella.user_id.as_str());
    let (status, code, _) = error_code(accept(&sella.access).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found"),
        "only Bert accepts"
    );

    // Bert has no store quota left: refused, nothing changes.
    let quotas = format!("/api/v1/users/{}/quotas", bert.user_id);
    app.call(
        Method::PUT,
        &quotas,
        Some(&admin.access),
        Some(json!({"max_stores": 0})),
    )
    .await;
    let bert = app.login("bertie", PASSWORD).await;
    assert_eq!(error_code(accept(&bert.access).await).await.1, "quota_exceeded");
    assert_eq!(supervisor().await["supervisor_id"], sella.user_id.as_str());

    app.call(
        Method::PUT,
        &quotas,
        Some(&admin.access),
        Some(json!({"max_stores": 1})),
    )
    .await;
    let bert = app.login("bertie", PASSWORD).await;
    let moved = accept(&bert.access).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let edit = app
        .call(Method::PATCH, &path, Some(&sella.access), Some(json!({"name": "Mine"})))
        .await;
    assert_eq!(edit.status(), StatusCode::FORBIDDEN, "the old supervisor lost it");
    let edit = app
        .call(
            Method::PATCH,
            &path,
            Some(&bert.access),
            Some(json!({"name": "Bert's"})),
        )
        .await;
    assert_eq!(edit.status(), StatusCode::OK);
    assert_eq!(
        error_code(accept(&bert.access).await).await.1,
        "not_found",
        "accepted once"
    );
    // Sella's quota was freed: she can open three stores again.
    for i in 0..3 {
        let res = app
            .call(
                Method::POST,
                "/api/v1/stores",
                Some(&sella.access),
                Some(store(&format!("N{i}"))),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn exchange_rates_are_published_by_fx_admins_and_every_set_is_kept() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let sella = app.seller(&admin, "sella").await;
    assert_eq!(
        app.client
            .get(app.url("/api/v1/fx-rates"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let rates = json!({"base": "USD", "rates": {"EUR": "0.92", "GBP": "0.79", "JPY": "151.2", "TWD": "32.4", "INR": "83.3", "IDR": "15650", "THB": "35.9"}});
    let denied = app
        .call(
            Method::PUT,
            "/api/v1/fx-rates",
            Some(&sella.access),
            Some(rates.clone()),
        )
        .await;
    assert_eq!(error_code(denied).await.1, "missing_permission");
    let first: Value = app
        .call(Method::PUT, "/api/v1/fx-rates", Some(&admin.access), Some(rates))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            first["id"].as_u64(),
            first["rates"]["USD"].as_str(),
            first["rates"]["JPY"].as_str()
        ),
        (Some(1), Some("1"), Some("151.2"))
    );
    let bad = json!({"base": "USD", "rates": {"EUR": "-1", "XYZ": "2"}});
    let (status, _, body) = error_code(
        app.call(Method::PUT, "/api/v1/fx-rates", Some(&admin.access), Some(bad))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["rates.EUR"].is_string() && body["error"]["fields"]["rates.XYZ"].is_string());
    let numbers = json!({"base": "USD", "rates": {"EUR": 0.9}});
    let res = app
        .call(Method::PUT, "/api/v1/fx-rates", Some(&admin.access), Some(numbers))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "rates are decimal strings, never floats"
    );
    let second = json!({"base": "EUR", "rates": {"USD": "1.09"}});
    app.call(Method::PUT, "/api/v1/fx-rates", Some(&admin.access), Some(second))
        .await;
    let current = app.fetch_json("/api/v1/fx-rates").await;
    assert_eq!(
        (current["id"].as_u64(), current["base"].as_str()),
        (Some(2), Some("EUR"))
    );
    let kept = app.fetch_json("/api/v1/fx-rates/1").await;
    assert_eq!(kept["base"], "USD", "orders can always read the set they snapshot");
}

#[tokio::test]
async fn offers_price_products_and_quotes_round_once() {
    let (app, admin) = TestApp::spawn_with_admin().await;
    let sella = app.seller(&admin, "sella").await;
    let clerk = app.user("clerk").await;
    let post = |path: &'static str, body: Value| app.call(Method::POST, path, Some(&sella.access), Some(body));
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let size: Value = post(
        "/api/v1/attributes",
        json!({"name": "Size", "kind": "enum", "values": ["M", "XL"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let shirt = json!({"name": "Shirt", "visible": true, "attributes": [{"attribute_id": id(&size), "value": "M"}, {"attribute_id": id(&size), "value": "XL"}]});
    let shirt: Value = post("/api/v1/products", shirt).await.json().await.unwrap();
    let hidden: Value = post("/api/v1/products", json!({"name": "Draft", "visible": false}))
        .await
        .json()
        .await
        .unwrap();
    let store: Value = post(
        "/api/v1/stores",
        json!({"name": "Shop", "currency": "USD", "timezone": "UTC"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let base = format!("/api/v1/stores/{}", id(&store));

    let offer = json!({"price": "0.335", "attribute_charges": []});
    let res = app
        .call(
            Method::PUT,
            &format!("{base}/offers/{}", id(&shirt)),
            Some(&sella.access),
            Some(offer),
        )
        .await;
    assert!(
        error_code(res).await.2["error"]["fields"]["price"]
            .as_str()
            .unwrap()
            .contains("2 decimals")
    );
    let offer =
        json!({"price": "10.00", "attribute_charges": [{"attribute_id": id(&size), "value": "XL", "amount": "2.50"}]});
    let res = app
        .call(
            Method::PUT,
            &format!("{base}/offers/{}", id(&shirt)),
            Some(&clerk.access),
            Some(offer.clone()),
        )
        .await;
    assert_eq!(error_code(res).await.1, "not_staff");
    let res = app
        .call(
            Method::PUT,
            &format!("{base}/offers/{}", id(&hidden)),
            Some(&sella.access),
            Some(json!({"price": "1"})),
        )
        .await;
    assert!(
        error_code(res).await.2["error"]["fields"]["product_id"].is_string(),
        "invisible products cannot be offered"
    );
    let wrong =
        json!({"price": "10.00", "attribute_charges": [{"attribute_id": id(&size), "value": "S", "amount": "1"}]});
    let res = app
        .call(
            Method::PUT,
            &format!("{base}/offers/{}", id(&shirt)),
            Some(&sella.access),
            Some(wrong),
        )
        .await;
    assert!(error_code(res).await.2["error"]["fields"]["attribute_charges[0].value"].is_string());

    // Staff may price, inside their window.
    let window = json!({"valid_from": "2020-01-01T00:00:00Z"});
    app.call(
        Method::PUT,
        &format!("{base}/staff/{}", clerk.user_id),
        Some(&sella.access),
        Some(window),
    )
    .await;
    let res = app
        .call(
            Method::PUT,
            &format!("{base}/offers/{}", id(&shirt)),
            Some(&clerk.access),
            Some(offer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let listed = app.fetch_json(&format!("{base}/offers")).await;
    assert_eq!(
        (
            listed["items"][0]["price"].as_str(),
            listed["items"][0]["currency"].as_str()
        ),
        (Some("10.00"), Some("USD"))
    );

    let quote = |query: String| {
        let (app, path) = (&app, format!("{base}/offers/{}/quote?{query}", id(&shirt)));
        async move { app.fetch_json_status(&path).await }
    };
    let (status, q) = quote(format!("quantity=3&attr.{}=XL", id(&size))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (q["unit_price"].as_str(), q["line_total"].as_str()),
        (Some("12.50"), Some("37.50"))
    );
    let (_, q) = quote("quantity=2".into()).await;
    assert_eq!(q["line_total"], "20.00", "no chosen value: no charge");
    let (status, _) = quote(format!("quantity=1&attr.{}=XXL", id(&size))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = quote("quantity=0".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = quote("quantity=1&currency=JPY".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no rates published yet");

    let rates = json!({"base": "USD", "rates": {"JPY": "151.237"}});
    let set: Value = app
        .call(Method::PUT, "/api/v1/fx-rates", Some(&admin.access), Some(rates))
        .await
        .json()
        .await
        .unwrap();
    let (_, q) = quote(format!("quantity=3&currency=JPY&attr.{}=XL", id(&size))).await;
    // 12.50 × 151.237 = 1890.4625 → 1890; 37.50 × 151.237 = 5671.3875 → 5671.
    assert_eq!(
        (q["unit_price"].as_str(), q["line_total"].as_str()),
        (Some("1890"), Some("5671"))
    );
    assert_eq!(q["fx_rates_id"], set["id"]);

    let gone = app
        .call(
            Method::DELETE,
            &format!("{base}/offers/{}", id(&shirt)),
            Some(&sella.access),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let (status, body) = quote("quantity=1".into()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_valid_offer"))
    );
}
