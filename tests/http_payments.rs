//! Charges over HTTP with the sandbox, webhooks duplicated and shuffled:
//! whole, partial, declined, authenticated; webhooks signed, repeated,
//! stale, rotated.

use crate::order_shop::*;
use crate::pay_shop::*;
use crate::support::*;
use actors::ports::Clock;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_whole_order_is_paid_once_however_often_the_charge_and_its_webhooks_come() {
    let p = PayShop::open(10).await;
    let order = p.order("o1", 3).await;
    let (status, charge) = p.charge(&order, "c1", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED, "{charge}");
    assert_eq!(charge["status"], "succeeded");
    assert_eq!(
        (charge["amount"].as_str(), charge["currency"].as_str()),
        (Some("30.00"), Some("USD"))
    );
    assert_eq!(charge["lines"], json!([{"line_id": "l1", "quantity": 3}]));
    assert_eq!(charge["processor"], "sandbox");
    let after = p.get(&format!("/api/v1/orders/{order}")).await;
    assert_eq!(after["status"], "paid", "{after}");

    // The same key and body: the same charge; another body: 422.
    let (status, again) = p.charge(&order, "c1", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!((status, &again["id"]), (StatusCode::CREATED, &charge["id"]));
    let (status, _) = p
        .charge(&order, "c1", json!({"payment_method": "pm_card_mastercard"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Every unit is paid: a new charge finds nothing to take.
    let (status, body) = p.charge(&order, "c2", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "already_charged"));

    let listed = p.get(&format!("/api/v1/orders/{order}/charges")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let one = p
        .get(&format!("/api/v1/charges/{}", charge["id"].as_str().unwrap()))
        .await;
    assert_eq!(one["status"], "succeeded");
    // The sandbox created exactly one payment for the charge.
    let (app, admin) = (p.app(), p.app().login("root", PASSWORD).await);
    let path = format!(
        "/api/v1/payments/sandbox/charges/{}/created",
        charge["id"].as_str().unwrap()
    );
    let (status, created) = call(app, Method::GET, &path, &admin.access, None).await;
    assert_eq!((status, created["created"].as_u64()), (StatusCode::OK, Some(1)));
    // The store's staff and a payments administrator see it; a stranger
    // sees no charge, nor the order's.
    let path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    for token in [&p.shop.seller.access, &admin.access] {
        let (status, seen) = call(app, Method::GET, &path, token, None).await;
        assert_eq!((status, &seen["id"]), (StatusCode::OK, &charge["id"]));
    }
    let (status, listed) = call(
        app,
        Method::GET,
        &format!("/api/v1/orders/{order}/charges"),
        &p.shop.seller.access,
        None,
    )
    .await;
    assert_eq!(
        (status, listed["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let eve = app.user("eve").await;
    let (status, _) = call(app, Method::GET, &path, &eve.access, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        app,
        Method::GET,
        &format!("/api/v1/orders/{order}/charges"),
        &eve.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn two_partial_charges_pay_an_order_and_a_decline_frees_its_units() {
    let p = PayShop::open(10).await;
    let order = p.order("o1", 3).await;
    let one = json!({"payment_method": "pm_card_visa", "lines": [{"line_id": "l1", "quantity": 1}]});
    let (status, first) = p.charge(&order, "c1", one).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded"))
    );
    assert_eq!(first["amount"], "10.00");
    assert_eq!(
        p.get(&format!("/api/v1/orders/{order}")).await["status"],
        "partially_paid"
    );
    // A declined card takes nothing and holds nothing.
    let (status, declined) = p
        .charge(&order, "c2", json!({"payment_method": "pm_card_chargeDeclined"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (declined["status"].as_str(), declined["failure"]["code"].as_str()),
        (Some("failed"), Some("card_declined"))
    );
    assert_eq!(declined["lines"], json!([{"line_id": "l1", "quantity": 2}]));
    let (status, second) = p
        .charge(&order, "c3", json!({"payment_method": "4242424242424242"}))
        .await;
    assert_eq!(
        (status, second["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded"))
    );
    assert_eq!(second["amount"], "20.00");
    assert_eq!(p.get(&format!("/api/v1/orders/{order}")).await["status"], "paid");
    assert_eq!(
        p.get(&format!("/api/v1/orders/{order}/charges")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Bad requests change nothing.
    let other = p.order("o2", 1).await;
    for (body, field) in [
        (
            json!({"payment_method": "pm_card_visa", "lines": [{"line_id": "l9", "quantity": 1}]}),
            "lines[0].line_id",
        ),
        (
            json!({"payment_method": "pm_card_visa", "lines": [{"line_id": "l1", "quantity": 0}]}),
            "lines[0].quantity",
        ),
        (
            json!({"payment_method": "pm_card_visa", "processor": "acme"}),
            "processor",
        ),
        (json!({"payment_method": ""}), "payment_method"),
    ] {
        let (status, err) = p.charge(&other, &format!("bad-{field}"), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert!(err["error"]["fields"][field].is_string(), "{field}: {err}");
    }
    let (status, _) = p
        .charge(
            &other,
            "big",
            json!({"payment_method": "pm_card_visa", "lines": [{"line_id": "l1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Without a key: 422; someone else's order: 404.
    let url = p.app().url(&format!("/api/v1/orders/{other}/charges"));
    let body = json!({"payment_method": "pm_card_visa"});
    let (status, _) = send(
        &p.app().client,
        &url,
        Method::POST,
        Some(&p.ann.access),
        None,
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let eve = p.app().user("eve").await;
    let (status, _) = send(
        &p.app().client,
        &url,
        Method::POST,
        Some(&eve.access),
        Some("k"),
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Five attempts per order (the default quota), declined ones too.
    for i in 0..5 {
        let (status, c) = p
            .charge(
                &other,
                &format!("d{i}"),
                json!({"payment_method": "pm_card_chargeDeclined"}),
            )
            .await;
        assert_eq!((status, c["status"].as_str()), (StatusCode::CREATED, Some("failed")));
    }
    let (status, err) = p.charge(&other, "d5", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!((status, code(&err)), (StatusCode::FORBIDDEN, "quota_exceeded"));
}

#[tokio::test]
async fn a_charge_waiting_for_authentication_completes_by_webhook() {
    let p = PayShop::open(10).await;
    let order = p.order("o1", 2).await;
    let (status, charge) = p
        .charge(
            &order,
            "c1",
            json!({"payment_method": "pm_card_authenticationRequired"}),
        )
        .await;
    assert_eq!(
        (status, charge["status"].as_str()),
        (StatusCode::CREATED, Some("requires_action"))
    );
    let payment = charge["processor_payment_id"].as_str().unwrap().to_string();
    assert_eq!(charge["client_action"]["type"], "redirect");
    assert_eq!(
        charge["client_action"]["url"],
        format!("/api/v1/payments/sandbox/authenticate/{payment}")
    );
    // While it waits, its units are taken.
    let (status, err) = p.charge(&order, "c2", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "already_charged"));
    let (status, done) = p.authenticate(&charge, true).await;
    assert_eq!((status, done["status"].as_str()), (StatusCode::OK, Some("succeeded")));
    // Only the sandbox's webhook tells the platform (the sweep is a minute away).
    let path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    p.eventually(&path, |c| c["status"] == "succeeded").await;
    p.eventually(&format!("/api/v1/orders/{order}"), |o| o["status"] == "paid")
        .await;

    // The buyer fails to authenticate: failed, and the units are free again.
    let other = p.order("o2", 1).await;
    let (_, charge) = p
        .charge(&other, "c1", json!({"payment_method": "4000000000003220"}))
        .await;
    let (status, _) = p.authenticate(&charge, false).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    let failed = p.eventually(&path, |c| c["status"] == "failed").await;
    assert_eq!(failed["failure"]["code"], "authentication_failed");
    assert!(failed.get("client_action").is_none());
    let (status, again) = p.charge(&other, "c2", json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded"))
    );
    // No such payment to authenticate: 404.
    let (status, _) = send(
        &p.app().client,
        &p.app().url("/api/v1/payments/sandbox/authenticate/sbx_pi_nope"),
        Method::POST,
        None,
        None,
        Some(&json!({"succeed": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Posts a webhook `body` signed by `header` (none if `None`).
async fn post_webhook(app: &TestApp, body: &str, header: Option<String>) -> StatusCode {
    let mut req = app
        .client
        .post(app.url("/api/v1/payments/webhooks/sandbox"))
        .body(body.to_string());
    if let Some(header) = header {
        req = req.header("Stripe-Signature", header);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn webhooks_need_a_fresh_signature_under_a_current_secret_and_count_once() {
    let p = PayShop::open(10).await;
    let order = p.order("o1", 1).await;
    let (_, charge) = p
        .charge(
            &order,
            "c1",
            json!({"payment_method": "pm_card_authenticationRequired"}),
        )
        .await;
    let (charge_id, payment) = (
        charge["id"].as_str().unwrap(),
        charge["processor_payment_id"].as_str().unwrap(),
    );
    // A forged "succeeded": the platform reads the payment back, so even a
    // validly signed event cannot move a charge the processor did not.
    let body = json!({"id": "evt_forged", "type": "payment_intent.succeeded",
        "data": {"object": {"id": payment, "status": "succeeded", "metadata": {"charge_id": charge_id}}}})
    .to_string();
    let now = p.app().clock.now() / 1000;
    let sign = |secret: &str, t: i64| Some(actors::payments::signature::sign(secret, t, body.as_bytes()).unwrap());
    assert_eq!(post_webhook(p.app(), &body, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        post_webhook(p.app(), &body, sign("whsec_wrong", now)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_webhook(p.app(), &body, sign(SECRET, now - 301)).await,
        StatusCode::UNAUTHORIZED,
        "stale"
    );
    assert_eq!(
        post_webhook(p.app(), "{not json", sign(SECRET, now)).await,
        StatusCode::UNAUTHORIZED,
        "signed over other bytes"
    );
    let garbage = "{\"nope\": 1}";
    let header = Some(actors::payments::signature::sign(SECRET, now, garbage.as_bytes()).unwrap());
    assert_eq!(post_webhook(p.app(), garbage, header).await, StatusCode::BAD_REQUEST);
    assert_eq!(post_webhook(p.app(), &body, sign(SECRET, now)).await, StatusCode::OK);
    assert_eq!(
        post_webhook(p.app(), &body, sign(PREVIOUS, now)).await,
        StatusCode::OK,
        "the previous secret, mid-rotation"
    );
    assert_eq!(
        post_webhook(p.app(), &body, sign(SECRET, now)).await,
        StatusCode::OK,
        "seen before"
    );
    let path = format!("/api/v1/charges/{charge_id}");
    assert_eq!(
        p.get(&path).await["status"],
        "requires_action",
        "read back, not believed"
    );
    assert_eq!(
        p.get(&format!("/api/v1/orders/{order}")).await["status"],
        "awaiting_payment"
    );
    // Events about nothing of ours are acknowledged and ignored.
    let other = json!({"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}).to_string();
    let header = Some(actors::payments::signature::sign(SECRET, now, other.as_bytes()).unwrap());
    assert_eq!(post_webhook(p.app(), &other, header).await, StatusCode::OK);
}
