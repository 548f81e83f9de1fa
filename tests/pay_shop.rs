//! A shop that takes payments through the sandbox, for payment tests: a
//! buyer, orders, charges, refunds and waits.

use crate::order_shop::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// The sandbox with known webhook secrets (the first signs, both verify:
/// a rotation), every webhook sent twice in shuffled order.
pub const SANDBOX: &str = "[payments.sandbox]\nduplicate_webhooks = true\nwebhook_secret_envs = [\"SHOP_TEST_SANDBOX_SECRET\", \"SHOP_TEST_SANDBOX_PREVIOUS\"]\n";

pub struct PayShop {
    pub shop: Shop,
    pub ann: Session,
}

impl PayShop {
    /// Ann asks to return `quantity` units of line l1 of `order` (key
    /// `key`), and the store approves them all: the decision's answer.
    pub async fn approved_return(&self, order: &str, key: &str, quantity: u64) -> Value {
        let ask = json!({"lines": [{"line_id": "l1", "quantity": quantity, "reason": "broken"}]});
        let url = self.app().url(&format!("/api/v1/orders/{order}/returns"));
        let (status, ret) = send(
            &self.app().client,
            &url,
            Method::POST,
            Some(&self.ann.access),
            Some(key),
            Some(&ask),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{ret}");
        let decision = format!(
            "/api/v1/stores/{}/returns/{}/decision",
            self.shop.store,
            ret["return_id"].as_str().unwrap()
        );
        let approve =
            json!({"lines": [{"line_id": "l1", "approve_quantity": quantity, "reject_quantity": 0, "reason": "ok"}]});
        let (status, decided) = call(
            self.app(),
            Method::POST,
            &decision,
            &self.shop.seller.access,
            Some(approve),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{decided}");
        decided
    }

    pub async fn open(units: i64) -> Self {
        Self::open_with(units, "").await
    }

    /// [`PayShop::open`] with `extra` TOML in the `[payments]` section.
    pub async fn open_with(units: i64, payments: &str) -> Self {
        Self::open_config(units, &format!("[payments]\n{payments}\n{SANDBOX}")).await
    }

    /// [`PayShop::open_with`], the sandbox losing every webhook.
    pub async fn open_without_webhooks(units: i64, payments: &str) -> Self {
        Self::open_config(
            units,
            &format!("[payments]\n{payments}\n[payments.sandbox]\nsend_webhooks = false\n"),
        )
        .await
    }

    async fn open_config(units: i64, config: &str) -> Self {
        test_secrets();
        let shop = Shop::open_with(units, config).await;
        shop.accept_payments().await;
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

    /// The seller asks for a payout under `key`.
    pub async fn payout(&self, key: &str) -> (StatusCode, Value) {
        let url = self.app().url(&format!("/api/v1/stores/{}/payouts", self.shop.store));
        let token = &self.shop.seller.access;
        send(&self.app().client, &url, Method::POST, Some(token), Some(key), None).await
    }

    /// The store's payouts as its supervisor sees them.
    pub async fn payouts(&self) -> Value {
        let path = format!("/api/v1/stores/{}/payouts", self.shop.store);
        let (status, body) = call(self.app(), Method::GET, &path, &self.shop.seller.access, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The store's account at the sandbox (read by an administrator).
    pub async fn connected_account(&self) -> Value {
        let path = format!("/api/v1/stores/{}/payment-account", self.shop.store);
        let (_, account) = call(self.app(), Method::GET, &path, &self.shop.seller.access, None).await;
        let root = self.app().login("root", PASSWORD).await;
        let path = format!(
            "/api/v1/payments/sandbox/accounts/{}",
            account["account_id"].as_str().unwrap()
        );
        let (status, body) = call(self.app(), Method::GET, &path, &root.access, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
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

/// Asks `probe` (with the attempt's number) every 50 ms until `done`
/// holds for its answer, at most 100 times; the last answer.
pub async fn poll<T, Fut: std::future::Future<Output = T>>(
    mut probe: impl FnMut(u32) -> Fut,
    done: impl Fn(&T) -> bool,
) -> T {
    let mut answer = probe(0).await;
    for attempt in 1..100 {
        if done(&answer) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = probe(attempt).await;
    }
    answer
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A refund of `units` of order `order`'s first line.
pub fn refund_of(order: &str, units: u64) -> Value {
    json!({"order_id": order, "lines": [{"line_id": "l1", "quantity": units}], "reason": "damaged"})
}

pub async fn paid(p: &PayShop, order: &str, key: &str) -> Value {
    let (status, charge) = p.charge(order, key, json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(
        (status, charge["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded")),
        "{charge}"
    );
    charge
}
