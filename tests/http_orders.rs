//! Carts and order placement over HTTP: quotes, all-or-nothing holds,
//! idempotent placement, contention, cancellation and the store dashboard.

use crate::order_shop::*;
use crate::support::*;
use actors::orders::model::ChargeUpdate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

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
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
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
    // A refused request stored nothing: its key is free for the fixed one.
    let (status, fixed) = place(app, &ann.access, Some("key-2"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{fixed}");
    assert_eq!(counts(&shop.stock(&shop.product).await).1, 6);

    // A replay answers exactly the first answer, even after the order changed.
    let id = first["id"].as_str().unwrap();
    let (status, cancelled) = call(
        app,
        Method::POST,
        &format!("/api/v1/orders/{id}/cancel"),
        &ann.access,
        None,
    )
    .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (status, replayed) = place(app, &ann.access, Some("key-1"), &body).await;
    assert_eq!((status, &replayed), (StatusCode::CREATED, &first));
    assert_eq!(
        counts(&shop.stock(&shop.product).await).1,
        4,
        "the replay holds nothing again"
    );
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
                captured: true,
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
    assert_dashboard_agrees(app, &shop.seller.user_id, &shop.store).await;
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
async fn an_oversized_order_is_refused_at_once_and_stores_nothing() {
    let shop = Shop::open(10).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let copies: Vec<Value> = (0..7_000).map(|_| shop.line(&shop.product, 1)).collect();
    let started = std::time::Instant::now();
    let (status, err) = place(app, &ann.access, Some("huge"), &shop.order(Some(json!(copies)))).await;
    assert_eq!(
        (status, err["error"]["fields"]["lines"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("at most 100 lines"))
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refused before any work"
    );
    let (_, mine) = call(app, Method::GET, "/api/v1/orders", &ann.access, None).await;
    assert_eq!(mine["items"], json!([]), "nothing was placed");
    assert_eq!(
        counts(&shop.stock(&shop.product).await),
        (10, 0, 10),
        "nothing was held"
    );
    // The same key with a body that can be placed works at once: nothing
    // was claimed by the refused one.
    let three: Vec<Value> = (0..3).map(|_| shop.line(&shop.product, 1)).collect();
    let (status, order) = place(app, &ann.access, Some("huge2"), &shop.order(Some(json!(three)))).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let lines = order["lines"].as_array().unwrap();
    assert_eq!(
        (lines.len(), lines[0]["quantity"].as_u64()),
        (1, Some(3)),
        "the same line three times is one line of three: {order}"
    );
    assert_eq!(
        counts(&shop.stock(&shop.product).await),
        (10, 3, 7),
        "one hold of three units"
    );
}

#[tokio::test]
async fn a_buyer_holds_at_most_max_open_orders_unpaid_orders() {
    let shop = Shop::open(100).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 1)])));
    let mut first = Value::Null;
    for i in 0..20 {
        let (status, order) = place(app, &ann.access, Some(&format!("k{i}")), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        if i == 0 {
            first = order;
        }
    }
    let (status, err) = place(app, &ann.access, Some("k20"), &body).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("quota_exceeded")),
        "{err}"
    );
    assert_eq!(
        counts(&shop.stock(&shop.product).await).1,
        20,
        "the refused one holds nothing"
    );
    // A replay of an open order is still answered.
    let (status, _) = place(app, &ann.access, Some("k0"), &body).await;
    assert_eq!(status, StatusCode::CREATED);
    // Another buyer is not affected.
    let bob = app.user("bob").await;
    assert_eq!(place(app, &bob.access, Some("k0"), &body).await.0, StatusCode::CREATED);
    // Once one is no longer awaiting payment, another may be placed.
    let id = first["id"].as_str().unwrap();
    let (status, _) = call(
        app,
        Method::POST,
        &format!("/api/v1/orders/{id}/cancel"),
        &ann.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, order) = place(app, &ann.access, Some("k20"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
}

#[tokio::test]
async fn a_buyer_holds_at_most_max_held_units_across_unpaid_orders() {
    let shop = Shop::open(5_000).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let order = |units: u32| shop.order(Some(json!([shop.line(&shop.product, units)])));
    assert_eq!(
        place(app, &ann.access, Some("a"), &order(600)).await.0,
        StatusCode::CREATED
    );
    let (status, err) = place(app, &ann.access, Some("b"), &order(401)).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("quota_exceeded")),
        "{err}"
    );
    assert_eq!(
        counts(&shop.stock(&shop.product).await).1,
        600,
        "the refused order holds nothing"
    );
    assert_eq!(
        place(app, &ann.access, Some("c"), &order(400)).await.0,
        StatusCode::CREATED,
        "up to the limit"
    );
}
