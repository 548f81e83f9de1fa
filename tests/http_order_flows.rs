//! What happens to orders after placement, over HTTP: payment updates,
//! shipments, delivery, returns and decisions, and expiry across a restart.

use crate::order_shop::*;
use actors::orders::model::ChargeUpdate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

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
        captured: true,
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
    assert_dashboard_agrees(app, &shop.seller.user_id, &shop.store).await;
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
        captured: true,
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
    // The hold falls due while the shop is down.
    app.clock.advance(62_000);
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
    assert_dashboard_agrees(&shop.app, &shop.seller.user_id, &shop.store).await;
}

#[tokio::test]
async fn concurrent_shipments_of_one_order_get_distinct_ids() {
    let shop = Shop::open(10).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let products = [shop.product.clone(), shop.add_product("Desk", "20.00", 10).await];
    let lines: Vec<Value> = products.iter().map(|p| shop.line(p, 1)).collect();
    let (status, order) = place(app, &ann.access, Some("k"), &shop.order(Some(json!(lines)))).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let id = order["id"].as_str().unwrap().to_string();
    let paid = BTreeMap::from([("l1".to_string(), 1), ("l2".to_string(), 1)]);
    app.orders
        .record_payment(
            &id,
            "ch_1",
            ChargeUpdate {
                version: 1,
                paid,
                captured: true,
            },
        )
        .await
        .unwrap();
    let path = format!("/api/v1/stores/{}/orders/{id}/shipments", shop.store);
    let ship = |line: &str| {
        let body = json!({"line_ids": [line], "carrier": "UPS", "tracking": format!("1Z-{line}")});
        call(app, Method::POST, &path, &shop.seller.access, Some(body))
    };
    let ((s1, first), (s2, second)) = tokio::join!(ship("l1"), ship("l2"));
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    let (_, seen) = call(app, Method::GET, &format!("/api/v1/orders/{id}"), &ann.access, None).await;
    let ids: Vec<&str> = seen["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{seen}");
    assert_ne!(ids[0], ids[1], "two shipments never share an id: {first} {second}");
    for (line, shipment) in seen["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (&l["line_id"], &l["shipment_id"]))
    {
        let own = seen["shipments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| &s["id"] == shipment)
            .unwrap();
        assert_eq!(&own["line_ids"][0], line, "each line points at its own shipment");
    }
}
