//! Payments over HTTP with the sandbox, webhooks duplicated and shuffled:
//! charges (whole, partial, declined, authenticated), webhooks (signed,
//! repeated, stale, rotated), and refunds.

use crate::order_shop::*;
use crate::support::*;
use actors::ports::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// The sandbox with known webhook secrets (the first signs, both verify:
/// a rotation), every webhook sent twice in shuffled order.
pub const SANDBOX: &str = "[payments.sandbox]\nduplicate_webhooks = true\nwebhook_secret_envs = [\"SHOP_TEST_SANDBOX_SECRET\", \"SHOP_TEST_SANDBOX_PREVIOUS\"]\n";
pub use crate::support::{PREVIOUS, SECRET};

pub struct PayShop {
    pub shop: Shop,
    pub ann: Session,
}

impl PayShop {
    pub async fn open(units: i64) -> Self {
        test_secrets();
        let shop = Shop::open_with(units, SANDBOX).await;
        let ann = shop.app.user("ann").await;
        Self { shop, ann }
    }

    pub fn app(&self) -> &TestApp {
        &self.shop.app
    }

    /// An order of `quantity` units of the shop's product; its id.
    pub async fn order(&self, key: &str, quantity: u32) -> String {
        let body = self
            .shop
            .order(Some(json!([self.shop.line(&self.shop.product, quantity)])));
        let (status, order) = place(self.app(), &self.ann.access, Some(key), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        id(&order)
    }

    pub async fn charge(&self, order: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let url = self.app().url(&format!("/api/v1/orders/{order}/charges"));
        send(
            &self.app().client,
            &url,
            Method::POST,
            Some(&self.ann.access),
            Some(key),
            Some(&body),
        )
        .await
    }

    pub async fn refund(&self, key: &str, body: Value) -> (StatusCode, Value) {
        let url = self.app().url(&format!("/api/v1/stores/{}/refunds", self.shop.store));
        send(
            &self.app().client,
            &url,
            Method::POST,
            Some(&self.shop.seller.access),
            Some(key),
            Some(&body),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = call(self.app(), Method::GET, path, &self.ann.access, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// The sandbox's buyer authenticates `charge`'s payment (or fails to).
    pub async fn authenticate(&self, charge: &Value, succeed: bool) -> (StatusCode, Value) {
        let path = format!(
            "/api/v1/payments/sandbox/authenticate/{}",
            charge["processor_payment_id"].as_str().unwrap()
        );
        let body = json!({"succeed": succeed});
        send(
            &self.app().client,
            &self.app().url(&path),
            Method::POST,
            None,
            None,
            Some(&body),
        )
        .await
    }

    /// After the clock moved past the tokens' life: everyone signs in again.
    pub async fn signed_in_again(self) -> Self {
        let ann = self.app().login("ann", PASSWORD).await;
        let seller = self.app().login("sella", PASSWORD).await;
        PayShop {
            ann,
            shop: Shop { seller, ..self.shop },
        }
    }

    /// Waits (up to 5 s) until the product's stock counts are `expected`.
    pub async fn stock_becomes(&self, expected: (u64, u64, u64)) {
        let mut stock = Value::Null;
        for _ in 0..100 {
            stock = self.shop.stock(&self.shop.product).await;
            if counts(&stock) == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the stock never became {expected:?}: {stock}");
    }

    /// Waits (up to 5 s) until `check` holds for `path` as the buyer sees it.
    pub async fn eventually(&self, path: &str, check: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..100 {
            let body = self.get(path).await;
            if check(&body) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} never got there: {}", self.get(path).await)
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

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
    let ask = json!({"lines": [{"line_id": "l1", "quantity": 2, "reason": "broken"}]});
    let url = p.app().url(&format!("/api/v1/orders/{order}/returns"));
    let (status, ret) = send(
        &p.app().client,
        &url,
        Method::POST,
        Some(&p.ann.access),
        Some("ret1"),
        Some(&ask),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ret}");
    let decision = format!(
        "/api/v1/stores/{}/returns/{}/decision",
        p.shop.store,
        ret["return_id"].as_str().unwrap()
    );
    let approve = json!({"lines": [{"line_id": "l1", "approve_quantity": 2, "reject_quantity": 0, "reason": "ok"}]});
    let (status, decided) = call(p.app(), Method::POST, &decision, &p.shop.seller.access, Some(approve)).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
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
