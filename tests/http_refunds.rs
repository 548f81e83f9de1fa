//! Refunds over HTTP with the sandbox: rounds, over-refunds and races,
//! automatic refunds (a payment after the reservation ended, an approved
//! return), and capture on shipment (captured, voided by a cancel or in time).

use crate::order_shop::*;
use crate::pay_shop::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn refunds_never_exceed_what_was_captured_even_when_twenty_race_for_the_last_units() {
    let p = PayShop::open(10).await;
    let order = p.order("o1", 5).await;
    let two = json!({"payment_method": "pm_card_visa", "lines": [{"line_id": "l1", "quantity": 2}]});
    let (_, first) = p.charge(&order, "c1", two).await;
    let (_, second) = p.charge(&order, "c2", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(
        (first["status"].as_str(), second["status"].as_str()),
        (Some("succeeded"), Some("succeeded"))
    );
    let lines = |n: u64| json!({"order_id": order, "lines": [{"line_id": "l1", "quantity": n}], "reason": "damaged"});
    // Round one: three units, spread over the charges that paid them.
    let (status, r1) = p.refund("r1", lines(3)).await;
    assert_eq!(status, StatusCode::CREATED, "{r1}");
    assert_eq!(
        (r1["status"].as_str(), r1["amount"].as_str()),
        (Some("succeeded"), Some("30.00"))
    );
    assert_eq!(
        r1["charges"],
        json!([{"charge_id": first["id"], "amount": "20.00"}, {"charge_id": second["id"], "amount": "10.00"}])
    );
    // The same key and body replay it; another body is refused.
    let (status, again) = p.refund("r1", lines(3)).await;
    assert_eq!((status, &again["id"]), (StatusCode::CREATED, &r1["id"]));
    let (status, _) = p.refund("r1", lines(1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Round two: twenty requests race for the last two units.
    let racers = (0..20).map(|i| {
        let p = &p;
        let body = lines(1);
        async move { p.refund(&format!("race{i}"), body).await }
    });
    let results = futures::future::join_all(racers).await;
    let won = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && code(b) == "refund_exceeds_captured")
        .count();
    assert_eq!((won, refused), (2, 18), "{results:?}");
    let (status, err) = p.refund("r9", lines(1)).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "refund_exceeds_captured"));
    // The buyer and the store see the three refunds.
    let listed = p.get(&format!("/api/v1/orders/{order}/refunds")).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|r| r["status"] == "succeeded"));
    let (status, staff) = call(
        p.app(),
        Method::GET,
        &format!("/api/v1/orders/{order}/refunds"),
        &p.shop.seller.access,
        None,
    )
    .await;
    assert_eq!(
        (status, staff["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(3))
    );
    // Bad requests: a stranger, unknown lines, no reason.
    let eve = p.app().user("eve").await;
    let url = p.app().url(&format!("/api/v1/stores/{}/refunds", p.shop.store));
    let (status, _) = send(
        &p.app().client,
        &url,
        Method::POST,
        Some(&eve.access),
        Some("e"),
        Some(&lines(1)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let bad = json!({"order_id": order, "lines": [{"line_id": "l7", "quantity": 1}], "reason": ""});
    let (status, err) = p.refund("bad", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["fields"]["lines[0].line_id"].is_string() && err["error"]["fields"]["reason"].is_string());
}

#[tokio::test]
async fn a_payment_landing_after_the_reservation_ended_is_refunded_in_full() {
    let p = PayShop::open(10).await;
    let order = p.order("o1", 2).await;
    let (_, charge) = p
        .charge(
            &order,
            "c1",
            json!({"payment_method": "pm_card_authenticationRequired"}),
        )
        .await;
    assert_eq!(charge["status"], "requires_action");
    // The buyer takes two days to authenticate: the reservation ended.
    p.app().clock.advance(2 * 24 * 3_600_000);
    let p = p.signed_in_again().await;
    p.eventually(&format!("/api/v1/orders/{order}"), |o| o["status"] == "expired")
        .await;
    let (status, _) = p.authenticate(&charge, true).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    let refunded = p.eventually(&path, |c| c["refund"]["status"] == "succeeded").await;
    assert_eq!(refunded["status"], "succeeded");
    assert_eq!(refunded["refund"]["amount"], "20.00");
    assert!(
        refunded["refund"]["reason"]
            .as_str()
            .unwrap()
            .contains("reservation ended"),
        "{refunded}"
    );
    assert_eq!(p.get(&format!("/api/v1/orders/{order}")).await["status"], "expired");
    assert_eq!(counts(&p.shop.stock(&p.shop.product).await), (10, 0, 10));
}

#[tokio::test]
async fn an_approved_return_is_refunded_once_and_the_order_shows_it() {
    let p = PayShop::open(10).await;
    let order = p.order("o1", 3).await;
    let (_, charge) = p.charge(&order, "c1", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(charge["status"], "succeeded");
    p.approved_return(&order, "ret1", 2).await;
    let refunds = p
        .eventually(&format!("/api/v1/orders/{order}/refunds"), |r| {
            r["items"]
                .as_array()
                .is_some_and(|i| i.len() == 1 && i[0]["status"] == "succeeded")
        })
        .await;
    assert_eq!(refunds["items"][0]["amount"], "20.00");
    assert_eq!(refunds["items"][0]["charges"][0]["charge_id"], charge["id"]);
    let seen = p
        .eventually(&format!("/api/v1/orders/{order}"), |o| {
            o["lines"][0]["refunded_quantity"] == 2
        })
        .await;
    assert_eq!(seen["lines"][0]["paid_quantity"], 3);
    // A store refunds the last unit by hand: the order shows three.
    let last = json!({"order_id": order, "lines": [{"line_id": "l1", "quantity": 1}], "reason": "goodwill"});
    let (status, _) = p.refund("last", last).await;
    assert_eq!(status, StatusCode::CREATED);
    p.eventually(&format!("/api/v1/orders/{order}"), |o| {
        o["lines"][0]["refunded_quantity"] == 3
    })
    .await;
    // Nothing more to refund; the return's refund happened once.
    let (status, err) = p
        .refund(
            "more",
            json!({"order_id": order, "lines": [{"line_id": "l1", "quantity": 1}], "reason": "x"}),
        )
        .await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "refund_exceeds_captured"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listed = p.get(&format!("/api/v1/orders/{order}/refunds")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

/// The sandbox, capturing at the first shipment.
const ON_SHIPMENT: &str = "[payments]\ncapture = \"on_shipment\"\nauthorization_days = 7\n[payments.sandbox]\nduplicate_webhooks = true\nwebhook_secret_envs = [\"SHOP_TEST_SANDBOX_SECRET\"]\n";

#[tokio::test]
async fn on_shipment_an_authorization_is_captured_by_the_first_shipment_voided_by_a_cancel_or_in_time() {
    test_secrets();
    let shop = Shop::open_with(10, ON_SHIPMENT).await;
    shop.accept_payments().await;
    let ann = shop.app.user("ann").await;
    let p = PayShop { shop, ann };
    let order = p.order("o1", 2).await;
    let (status, charge) = p.charge(&order, "c1", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(
        (status, charge["status"].as_str()),
        (StatusCode::CREATED, Some("authorized")),
        "{charge}"
    );
    assert!(charge["capture_before"].is_string());
    // The order counts the units as paid: they do not expire.
    assert_eq!(p.get(&format!("/api/v1/orders/{order}")).await["status"], "paid");
    // The first shipment captures it.
    let ship = json!({"line_ids": ["l1"], "carrier": "UPS", "tracking": "1Z1"});
    let path = format!("/api/v1/stores/{}/orders/{order}/shipments", p.shop.store);
    let (status, _) = call(p.app(), Method::POST, &path, &p.shop.seller.access, Some(ship)).await;
    assert_eq!(status, StatusCode::CREATED);
    let charge_path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    let captured = p.get(&charge_path).await;
    assert_eq!(captured["status"], "succeeded", "{captured}");
    // Shipped and captured: no cancelling now.
    let (status, _) = call(
        p.app(),
        Method::POST,
        &format!("/api/v1/orders/{order}/cancel"),
        &p.ann.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Cancelled before shipping: the authorization is voided, the units
    // go back to stock.
    let other = p.order("o2", 3).await;
    let (_, held) = p.charge(&other, "c1", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(held["status"], "authorized");
    assert_eq!(
        counts(&p.shop.stock(&p.shop.product).await),
        (5, 0, 5),
        "2 shipped, 3 sold"
    );
    let (status, cancelled) = call(
        p.app(),
        Method::POST,
        &format!("/api/v1/orders/{other}/cancel"),
        &p.ann.access,
        None,
    )
    .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{cancelled}"
    );
    let voided = p
        .get(&format!("/api/v1/charges/{}", held["id"].as_str().unwrap()))
        .await;
    assert_eq!(voided["status"], "canceled", "{voided}");
    assert!(voided["void_reason"].as_str().unwrap().contains("cancelled"));
    p.stock_becomes((8, 0, 8)).await; // the cancelled order's units are back

    // Never shipped: voided once its time is up; the units are unpaid again.
    let lapsing = p.order("o3", 1).await;
    let (_, held) = p
        .charge(&lapsing, "c1", json!({"payment_method": "pm_card_visa"}))
        .await;
    assert_eq!(held["status"], "authorized");
    p.app().clock.advance(8 * 24 * 3_600_000);
    let p = p.signed_in_again().await;
    let path = format!("/api/v1/charges/{}", held["id"].as_str().unwrap());
    let voided = p.eventually(&path, |c| c["status"] == "canceled").await;
    assert!(voided["void_reason"].as_str().unwrap().contains("in time"), "{voided}");
    let lapsed = p
        .eventually(&format!("/api/v1/orders/{lapsing}"), |o| o["status"] == "expired")
        .await;
    assert_eq!(lapsed["lines"][0]["paid_quantity"], 0);
    p.stock_becomes((8, 0, 8)).await; // the lapsed unit is back
}
