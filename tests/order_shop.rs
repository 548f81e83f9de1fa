//! A shop for order tests: one seller, one store, products with offers
//! and stock; helpers to place orders and read stock over HTTP.

use crate::support::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

pub struct Shop {
    pub app: TestApp,
    pub seller: Session,
    pub store: String,
    pub product: String,
}

pub fn id(v: &Value) -> String {
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

    pub async fn send(&self, method: Method, path: &str, body: Value) -> Response {
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

pub async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    let res = app.call(method, path, Some(token), body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn counts(stock: &Value) -> (u64, u64, u64) {
    (
        stock["on_hand"].as_u64().unwrap(),
        stock["reserved"].as_u64().unwrap(),
        stock["available"].as_u64().unwrap(),
    )
}
