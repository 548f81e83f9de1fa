//! Carts and orders over HTTP: quotes, all-or-nothing holds, idempotent
//! placement, contention, cancellation, expiry (across a restart),
//! payments, shipments, returns and the store dashboard.

use crate::support::*;
use actors::orders::model::ChargeUpdate;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub struct Shop {
    pub app: TestApp,
    pub seller: Session,
    pub store: String,
    pub product: String,
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

impl Shop {
    /// A store selling one product at 10.00 USD with `units` in stock.
    pub async fn open(units: i64) -> Shop {
        let (app, admin) = TestApp::spawn_with_admin().await;
        let seller = app.seller(&admin, "sella").await;
        let shop = Shop {
            store: String::new(),
            product: String::new(),
            app,
            seller,
        };
        let store = shop
            .send(
                Method::POST,
                "/api/v1/stores",
                json!({"name": "Corner", "currency": "USD", "timezone": "UTC"}),
            )
            .await;
        let store = id(&store.json::<Value>().await.unwrap());
        let mut shop = Shop { store, ..shop };
        shop.product = shop.add_product("Lamp", "10.00", units).await;
        shop
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> Response {
        self.app.call(method, path, Some(&self.seller.access), Some(body)).await
    }

    /// A visible product with an offer and stock in the shop's store.
    pub async fn add_product(&self, name: &str, price: &str, units: i64) -> String {
        let res = self
            .send(Method::POST, "/api/v1/products", json!({"name": name, "visible": true}))
            .await;
        let product = id(&res.json::<Value>().await.unwrap());
        let offer = format!("/api/v1/stores/{}/offers/{product}", self.store);
        let res = self.send(Method::PUT, &offer, json!({"price": price})).await;
        assert_eq!(res.status(), StatusCode::OK);
        if units > 0 {
            let stock = format!("/api/v1/stores/{}/stock/{product}", self.store);
            let res = self.send(Method::PUT, &stock, json!({"adjust": units})).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        product
    }

    pub async fn stock(&self, product: &str) -> Value {
        let path = format!("/api/v1/stores/{}/stock/{product}", self.store);
        self.app.get(&path, &self.seller.access).await.json().await.unwrap()
    }

    pub async fn set_policy(&self, product: &str, policy: Value) {
        let path = format!("/api/v1/stores/{}/policies/{product}", self.store);
        assert_eq!(self.send(Method::PUT, &path, policy).await.status(), StatusCode::OK);
    }

    /// An order body for `lines` (the cart's if `None`).
    pub fn order(&self, lines: Option<Value>) -> Value {
        let mut body = json!({
            "currency": "USD",
            "shipping": {
                "contact": {"name": "Ann Buyer", "email": "ann@example.com", "phone": "+14155550100"},
                "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country": "US"},
                "method": {self.store.clone(): "standard"}
            },
            "billing": {"contact": {"name": "Ann Buyer", "email": "ann@example.com", "phone": "+14155550100"}}
        });
        if let Some(lines) = lines {
            body["lines"] = lines;
        }
        body
    }

    pub fn line(&self, product: &str, quantity: u32) -> Value {
        json!({"store_id": self.store, "product_id": product, "quantity": quantity})
    }
}

pub async fn place(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url("/api/v1/orders")).bearer_auth(token).json(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    let res = app.call(method, path, Some(token), body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn counts(stock: &Value) -> (u64, u64, u64) {
    (
        stock["on_hand"].as_u64().unwrap(),
        stock["reserved"].as_u64().unwrap(),
        stock["available"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn a_cart_quotes_its_lines_and_ordered_lines_leave_it() {
    let shop = Shop::open(20).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let mug = shop.add_product("Mug", "4.50", 20).await;
    let put = |body: Value| call(app, Method::PUT, "/api/v1/cart/items", &ann.access, Some(body));
    let (status, cart) = put(shop.line(&shop.product, 2)).await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    let line = &cart["lines"][0];
    assert_eq!(
        (
            line["quote"]["unit_price"].as_str(),
            line["quote"]["line_total"].as_str()
        ),
        (Some("10.00"), Some("20.00"))
    );
    assert_eq!(line["price_changed"], false);
    let (_, cart) = put(shop.line(&mug, 1)).await;
    assert_eq!(cart["lines"].as_array().unwrap().len(), 2);
    let (_, cart) = put(shop.line(&shop.product, 3)).await;
    assert_eq!(
        cart["lines"].as_array().unwrap().len(),
        2,
        "the same product is the same line"
    );

    // The seller raises the price: the cart says so.
    let offer = format!("/api/v1/stores/{}/offers/{}", shop.store, shop.product);
    shop.send(Method::PUT, &offer, json!({"price": "12.00"})).await;
    let (_, cart) = call(app, Method::GET, "/api/v1/cart", &ann.access, None).await;
    let lamp = cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_id"] == shop.product.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (lamp["price_changed"].as_bool(), lamp["quote"]["line_total"].as_str()),
        (Some(true), Some("36.00"))
    );

    for (body, field) in [
        (
            json!({"store_id": shop.store, "product_id": "nope", "quantity": 1}),
            "product_id",
        ),
        (
            json!({"store_id": "nope", "product_id": shop.product, "quantity": 1}),
            "store_id",
        ),
        (
            json!({"store_id": shop.store, "product_id": shop.product, "quantity": 1, "attributes": {"size": "XL"}}),
            "attr.size",
        ),
    ] {
        let (status, err) = put(body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert!(err["error"]["fields"][field].is_string(), "{field}: {err}");
    }
    let unsold = shop.add_product("Unsold", "1.00", 0).await;
    let remove_offer = format!("/api/v1/stores/{}/offers/{unsold}", shop.store);
    shop.app
        .call(Method::DELETE, &remove_offer, Some(&shop.seller.access), None)
        .await;
    let (status, _) = put(shop.line(&unsold, 1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no valid offer");

    // Order the cart: its lines leave it, their units are held.
    let (status, order) = place(app, &ann.access, Some("k1"), &shop.order(None)).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(order["total"], "40.50", "3 x 12.00 + 4.50");
    assert_eq!(order["totals"][&shop.store], "40.50");
    assert!(
        order["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["status"] == "reserved")
    );
    assert!(order["fx_snapshot"].is_null(), "nothing converted");
    let (_, cart) = call(app, Method::GET, "/api/v1/cart", &ann.access, None).await;
    assert_eq!(cart["lines"], json!([]));
    assert_eq!(counts(&shop.stock(&shop.product).await), (20, 3, 17));

    let (_, cart) = put(shop.line(&mug, 1)).await;
    let line_id = cart["lines"][0]["line_id"].as_str().unwrap().to_string();
    let (status, cart) = call(
        app,
        Method::DELETE,
        &format!("/api/v1/cart/items/{line_id}"),
        &ann.access,
        None,
    )
    .await;
    assert_eq!((status, cart["lines"].clone()), (StatusCode::OK, json!([])));
    let (status, _) = call(app, Method::DELETE, "/api/v1/cart/items/ln_nope", &ann.access, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    put(shop.line(&mug, 1)).await;
    let (status, _) = call(app, Method::DELETE, "/api/v1/cart", &ann.access, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, err) = place(app, &ann.access, Some("k2"), &shop.order(None)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an empty cart: {err}");
}

#[tokio::test]
async fn placing_is_idempotent_per_key_and_checks_every_field() {
    let shop = Shop::open(10).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 2)])));
    let (status, first) = place(app, &ann.access, Some("key-1"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = place(app, &ann.access, Some("key-1"), &body).await;
    assert_eq!(
        (status, &again["id"], &again["created_at"]),
        (StatusCode::CREATED, &first["id"], &first["created_at"])
    );
    assert_eq!(counts(&shop.stock(&shop.product).await).1, 2, "held once");
    let other = shop.order(Some(json!([shop.line(&shop.product, 3)])));
    let (status, err) = place(app, &ann.access, Some("key-1"), &other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["fields"]["Idempotency-Key"].is_string());
    let (status, err) = place(app, &ann.access, None, &body).await;
    assert_eq!(
        (status, err["error"]["fields"]["Idempotency-Key"].is_string()),
        (StatusCode::UNPROCESSABLE_ENTITY, true)
    );
    // Another buyer's same key is another order.
    let bob = app.user("bob").await;
    let (status, bobs) = place(app, &bob.access, Some("key-1"), &body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(bobs["id"], first["id"]);

    let mut bad = body.clone();
    bad["shipping"]["contact"]["email"] = json!("not-an-email");
    bad["shipping"]["contact"]["phone"] = json!("555");
    bad["shipping"]["address"]["country"] = json!("XX");
    bad["shipping"]["method"] = json!({});
    bad["billing"]["contact"]["name"] = json!("");
    bad["currency"] = json!("usd1");
    let (status, err) = place(app, &ann.access, Some("key-2"), &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &err["error"]["fields"];
    for field in [
        "shipping.contact.email".to_string(),
        "shipping.contact.phone".into(),
        "shipping.address.country".into(),
        format!("shipping.methods.{}", shop.store),
        "billing.contact.name".into(),
        "currency".into(),
    ] {
        assert!(fields[&field].is_string(), "{field}: {err}");
    }
    assert_eq!(
        counts(&shop.stock(&shop.product).await).1,
        4,
        "a refused order holds nothing"
    );
    // The key of a refused request can be used once the request is fixed.
    let (status, _) = place(app, &ann.access, Some("key-2"), &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "but only with the same body");
}

#[tokio::test]
async fn an_order_is_all_or_nothing_and_says_which_lines_fail() {
    let shop = Shop::open(5).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let scarce = shop.add_product("Scarce", "3.00", 1).await;
    let strict = shop.add_product("Strict", "2.00", 50).await;
    shop.set_policy(
        &strict,
        json!({"reservation_minutes": 5, "warranty_days": 10, "min_per_order": 2, "max_per_order": 4}),
    )
    .await;
    let none = shop.add_product("None", "1.00", 0).await;
    let body = shop.order(Some(json!([
        shop.line(&shop.product, 2),
        shop.line(&scarce, 3),
        shop.line(&strict, 5),
        shop.line(&none, 1),
    ])));
    let (status, err) = place(app, &ann.access, Some("k"), &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"]["code"], "unavailable");
    assert_eq!(
        err["error"]["lines"],
        json!([
            {"index": 1, "reason": "insufficient_stock", "available": 1},
            {"index": 2, "reason": "policy: at most 4 per order", "available": 50},
            {"index": 3, "reason": "out_of_stock", "available": 0},
        ])
    );
    assert_eq!(
        counts(&shop.stock(&shop.product).await),
        (5, 0, 5),
        "the line that fit was released"
    );
    // Fixed, the same key goes through.
    let body = shop.order(Some(json!([shop.line(&shop.product, 2), shop.line(&strict, 4)])));
    let (status, order) = place(app, &ann.access, Some("k2"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let strict_line = &order["lines"][1];
    assert_eq!(strict_line["unit_price"], "2.00");
    let created = time::OffsetDateTime::parse(
        order["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let until = time::OffsetDateTime::parse(
        strict_line["reserved_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let warranty = time::OffsetDateTime::parse(
        strict_line["warranty_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        (until - created - time::Duration::minutes(5)).abs() < time::Duration::seconds(2),
        "the policy's 5 minutes"
    );
    assert!((warranty - created - time::Duration::days(10)).abs() < time::Duration::seconds(2));
    assert_eq!(counts(&shop.stock(&strict).await), (50, 4, 46));
}

#[tokio::test]
async fn two_hundred_buyers_for_ten_units_get_exactly_ten_orders() {
    let shop = Shop::open(10).await;
    let app = &shop.app;
    let buyers: Vec<Session> =
        futures::future::join_all((0..200).map(|i| async move { app.user(&format!("buyer{i}")).await })).await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 1)])));
    let outcomes =
        futures::future::join_all(buyers.iter().map(|b| place(app, &b.access, Some("checkout"), &body))).await;
    let created = outcomes.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused: Vec<&Value> = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        (created, refused.len()),
        (10, 190),
        "{:?}",
        outcomes
            .iter()
            .find(|(s, _)| *s != StatusCode::CREATED && *s != StatusCode::CONFLICT)
    );
    for err in refused {
        assert_eq!(err["error"]["code"], "unavailable");
        assert_eq!(err["error"]["lines"][0]["available"], 0);
    }
    assert_eq!(
        counts(&shop.stock(&shop.product).await),
        (10, 10, 0),
        "nothing oversold, nothing negative"
    );
    // Paying sells the units; the dashboard agrees with the orders.
    let mut paid = 0;
    for ((status, order), buyer) in outcomes.iter().zip(&buyers) {
        if *status != StatusCode::CREATED {
            continue;
        }
        let id = order["id"].as_str().unwrap();
        if paid < 4 {
            let update = ChargeUpdate {
                version: 1,
                paid: BTreeMap::from([("l1".to_string(), 1)]),
            };
            let (after, outcome) = app
                .orders
                .record_payment(id, &format!("ch_{id}"), update)
                .await
                .unwrap();
            assert_eq!((after.status().as_str(), outcome.accepted.len()), ("paid", 1));
            paid += 1;
        } else if paid == 4 {
            let (status, cancelled) = call(
                app,
                Method::POST,
                &format!("/api/v1/orders/{id}/cancel"),
                &buyer.access,
                None,
            )
            .await;
            assert_eq!(
                (status, cancelled["status"].as_str()),
                (StatusCode::OK, Some("cancelled"))
            );
            paid += 1;
        }
    }
    assert_eq!(
        counts(&shop.stock(&shop.product).await),
        (6, 5, 1),
        "4 sold, 5 held, 1 back from the cancelled order"
    );
    let (_, dash) = call(
        app,
        Method::GET,
        &format!("/api/v1/stores/{}/dashboard", shop.store),
        &shop.seller.access,
        None,
    )
    .await;
    assert_eq!(
        dash["by_status"]["paid"],
        json!({"orders": 4, "units": 4, "revenue": "40.00"})
    );
    assert_eq!(
        dash["by_status"]["awaiting_payment"],
        json!({"orders": 5, "units": 5, "revenue": "50.00"})
    );
    assert_eq!(dash["by_status"]["cancelled"]["orders"], 1);
    let (_, page) = call(
        app,
        Method::GET,
        &format!("/api/v1/stores/{}/orders?limit=7", shop.store),
        &shop.seller.access,
        None,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 7);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = call(
        app,
        Method::GET,
        &format!("/api/v1/stores/{}/orders?limit=7&cursor={cursor}", shop.store),
        &shop.seller.access,
        None,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);
    assert!(rest["next_cursor"].is_null());
}

#[tokio::test]
async fn paid_lines_ship_arrive_and_come_back_within_their_warranty() {
    let shop = Shop::open(10).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let stranger = app.user("stranger").await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 3)])));
    let (_, order) = place(app, &ann.access, Some("k"), &body).await;
    let id = order["id"].as_str().unwrap().to_string();
    let store = format!("/api/v1/stores/{}", shop.store);
    let seller = &shop.seller.access;
    let ship = json!({"line_ids": ["l1"], "carrier": "UPS", "tracking": "1Z999"});
    let (status, err) = call(
        app,
        Method::POST,
        &format!("{store}/orders/{id}/shipments"),
        seller,
        Some(ship.clone()),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_shippable"))
    );

    // The payment message: idempotent per charge, stale updates ignored.
    let update = |version, units| ChargeUpdate {
        version,
        paid: BTreeMap::from([("l1".to_string(), units)]),
    };
    let (after, _) = app.orders.record_payment(&id, "ch_1", update(1, 1)).await.unwrap();
    assert_eq!(after.status().as_str(), "partially_paid");
    let (after, outcome) = app.orders.record_payment(&id, "ch_1", update(1, 1)).await.unwrap();
    assert!(outcome.stale);
    assert_eq!(after.lines[0].paid, 1, "a repeat counts once");
    let (after, _) = app.orders.record_payment(&id, "ch_1", update(2, 3)).await.unwrap();
    assert_eq!((after.status().as_str(), after.lines[0].paid), ("paid", 3));
    let (after, outcome) = app.orders.record_payment(&id, "ch_1", update(1, 1)).await.unwrap();
    assert!(
        outcome.stale && after.lines[0].paid == 3,
        "an older update changes nothing"
    );
    assert_eq!(counts(&shop.stock(&shop.product).await), (7, 0, 7), "sold");

    let (status, err) = call(
        app,
        Method::POST,
        &format!("/api/v1/orders/{id}/cancel"),
        &ann.access,
        None,
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_cancellable"))
    );
    let (status, shipped) = call(
        app,
        Method::POST,
        &format!("{store}/orders/{id}/shipments"),
        seller,
        Some(ship),
    )
    .await;
    assert_eq!(
        (status, shipped["status"].as_str()),
        (StatusCode::CREATED, Some("shipped")),
        "{shipped}"
    );
    let shipment = shipped["shipments"][0]["id"].as_str().unwrap().to_string();
    let delivered_path = format!("{store}/orders/{id}/shipments/{shipment}/delivered");
    let (status, delivered) = call(app, Method::POST, &delivered_path, seller, None).await;
    assert_eq!(
        (status, delivered["status"].as_str()),
        (StatusCode::OK, Some("delivered"))
    );

    // Who sees the order.
    let (status, _) = call(
        app,
        Method::GET,
        &format!("/api/v1/orders/{id}"),
        &stranger.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, seen) = call(app, Method::GET, &format!("/api/v1/orders/{id}"), seller, None).await;
    assert_eq!((status, seen["lines"].as_array().unwrap().len()), (StatusCode::OK, 1));
    let (_, mine) = call(app, Method::GET, "/api/v1/orders", &ann.access, None).await;
    assert_eq!(mine["items"][0]["id"], id.as_str());

    // Returns: at most what was paid, idempotent per key.
    let returns = format!("/api/v1/orders/{id}/returns");
    let ask = |key: &'static str, body: Value| {
        app.client
            .post(app.url(&returns))
            .bearer_auth(&ann.access)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let res = ask(
        "r1",
        json!({"lines": [{"line_id": "l1", "quantity": 4, "reason": "broken"}]}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let two = json!({"lines": [{"line_id": "l1", "quantity": 2, "reason": "broken"}]});
    let res = ask("r1", two.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let ret: Value = res.json().await.unwrap();
    assert_eq!(
        (ret["status"].as_str(), ret["refund_amount"].as_str()),
        (Some("requested"), Some("20.00"))
    );
    let again: Value = ask("r1", two).await.unwrap().json().await.unwrap();
    assert_eq!(again["return_id"], ret["return_id"], "replayed");
    let res = ask(
        "r2",
        json!({"lines": [{"line_id": "l1", "quantity": 2, "reason": "more"}]}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "only 1 left to return");

    let return_id = ret["return_id"].as_str().unwrap();
    let decision = format!("{store}/returns/{return_id}/decision");
    let wrong = json!({"lines": [{"line_id": "l1", "approve_quantity": 1, "reject_quantity": 0}]});
    let (status, _) = call(app, Method::POST, &decision, seller, Some(wrong)).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "approved + rejected must be what was asked"
    );
    let (status, _) = call(
        app,
        Method::POST,
        &decision,
        &stranger.access,
        Some(json!({"lines": []})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let split =
        json!({"lines": [{"line_id": "l1", "approve_quantity": 1, "reject_quantity": 1, "reason": "one was fine"}]});
    let (status, decided) = call(app, Method::POST, &decision, seller, Some(split)).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(
        (decided["status"].as_str(), decided["approved_refund"].as_str()),
        (Some("partially_approved"), Some("10.00"))
    );
    assert_eq!(
        counts(&shop.stock(&shop.product).await).0,
        8,
        "the approved unit is back in stock"
    );
    let res = ask(
        "r3",
        json!({"lines": [{"line_id": "l1", "quantity": 2, "reason": "again"}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the rejected unit may be asked for again"
    );
}

#[tokio::test]
async fn unpaid_orders_expire_and_return_their_units_even_across_a_restart() {
    let shop = Shop::open(5).await;
    shop.set_policy(
        &shop.product,
        json!({"reservation_minutes": 1, "warranty_days": 30, "min_per_order": 1, "max_per_order": 10}),
    )
    .await;
    let ann = shop.app.user("ann").await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 2)])));
    let (_, kept) = place(&shop.app, &ann.access, Some("kept"), &body).await;
    let (_, lapsing) = place(&shop.app, &ann.access, Some("lapsing"), &body).await;
    let update = ChargeUpdate {
        version: 1,
        paid: BTreeMap::from([("l1".to_string(), 2)]),
    };
    shop.app
        .orders
        .record_payment(kept["id"].as_str().unwrap(), "ch", update)
        .await
        .unwrap();
    assert_eq!(counts(&shop.stock(&shop.product).await), (3, 2, 1));
    // Down while the hold falls due.
    let Shop {
        app,
        seller,
        store,
        product,
    } = shop;
    let mut app = app;
    app.shutdown().await;
    tokio::time::sleep(std::time::Duration::from_secs(62)).await;
    let app = app.restart().await;
    let shop = Shop {
        app,
        seller,
        store,
        product,
    };
    let path = format!("/api/v1/orders/{}", lapsing["id"].as_str().unwrap());
    let mut seen = Value::Null;
    for _ in 0..50 {
        seen = call(&shop.app, Method::GET, &path, &ann.access, None).await.1;
        if seen["status"] == "expired" && counts(&shop.stock(&shop.product).await) == (3, 0, 3) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen["status"], "expired");
    assert_eq!(seen["lines"][0]["status"], "expired");
    assert_eq!(
        counts(&shop.stock(&shop.product).await),
        (3, 0, 3),
        "the unpaid units are back"
    );
    let (_, paid) = call(
        &shop.app,
        Method::GET,
        &format!("/api/v1/orders/{}", kept["id"].as_str().unwrap()),
        &ann.access,
        None,
    )
    .await;
    assert_eq!(paid["status"], "paid", "a paid order does not expire");
}
