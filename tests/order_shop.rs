//! A shop for order tests: one seller, one store, products with offers
//! and stock; helpers to place orders and read stock over HTTP.

use crate::support::*;
use reqwest::{Client, Method, Response, StatusCode};
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
        Self::open_with(units, "").await
    }

    /// [`Shop::open`] with `extra` TOML in the configuration.
    pub async fn open_with(units: i64, extra: &str) -> Shop {
        let (app, admin) = TestApp::spawn_with_admin_and(extra).await;
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

    /// The store becomes able to take payments: active with contacts and
    /// an address, its sandbox account onboarded.
    pub async fn accept_payments(&self) -> Value {
        accept_payments(&self.app.client, &self.app.url(""), &self.seller.access, &self.store).await
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
        order_body(&self.store, lines)
    }

    pub fn line(&self, product: &str, quantity: u32) -> Value {
        order_line(&self.store, product, quantity)
    }
}

/// One line of an order body.
pub fn order_line(store: &str, product: &str, quantity: u32) -> Value {
    json!({"store_id": store, "product_id": product, "quantity": quantity})
}

/// An order body shipping from `store` for `lines` (the cart's if `None`).
pub fn order_body(store: &str, lines: Option<Value>) -> Value {
    let mut body = json!({
        "currency": "USD",
        "shipping": {
            "contact": {"name": "Ann Buyer", "email": "ann@example.com", "phone": "+14155550100"},
            "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country": "US"},
            "method": {store: "standard"}
        },
        "billing": {"contact": {"name": "Ann Buyer", "email": "ann@example.com", "phone": "+14155550100"}}
    });
    if let Some(lines) = lines {
        body["lines"] = lines;
    }
    body
}

pub async fn place(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let url = app.url("/api/v1/orders");
    send(&app.client, &url, Method::POST, Some(token), key, Some(body)).await
}

pub async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    send(&app.client, &app.url(path), method, Some(token), None, body.as_ref()).await
}

pub fn counts(stock: &Value) -> (u64, u64, u64) {
    (
        stock["on_hand"].as_u64().unwrap(),
        stock["reserved"].as_u64().unwrap(),
        stock["available"].as_u64().unwrap(),
    )
}

/// One request to a running `node` process (or a cluster's edge): the
/// status and the JSON body (`Null` when there is none).
pub async fn send(
    client: &Client,
    url: &str,
    method: Method,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    try_send(client, url, method, token, key, body).await.unwrap()
}

/// [`send`], or the transport error (a node that is gone).
pub async fn try_send(
    client: &Client,
    url: &str,
    method: Method,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let mut req = client.request(method, url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// What makes a store active with the contacts and address a payment
/// account needs (a PATCH body).
pub fn active_store() -> Value {
    json!({
        "emails": ["shop@example.com"], "phones": ["+886223456789"], "status": "active",
        "address": {"line1": "1 Main St", "city": "Taipei", "postal_code": "100", "country": "TW"}
    })
}

/// `store` (supervised by the holder of `token`) is made active with
/// contacts and an address and onboarded at the sandbox; answers its
/// payment account.
pub async fn accept_payments(client: &Client, base: &str, token: &str, store: &str) -> Value {
    let complete = active_store();
    let url = format!("{base}/api/v1/stores/{store}");
    let (status, body) = send(client, &url, Method::PATCH, Some(token), None, Some(&complete)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let account = json!({"processor": "sandbox", "return_url": "https://shop.example/done", "refresh_url": "https://shop.example/again"});
    let url = format!("{base}/api/v1/stores/{store}/payment-account");
    let (status, body) = send(client, &url, Method::PUT, Some(token), None, Some(&account)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let complete = format!(
        "{base}/api/v1/payments/sandbox/accounts/{}/complete",
        body["account_id"].as_str().unwrap()
    );
    let (status, done) = send(client, &complete, Method::POST, None, None, None).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (status, account) = send(client, &url, Method::GET, Some(token), None, None).await;
    assert_eq!(
        (status, account["status"].as_str()),
        (StatusCode::OK, Some("active")),
        "{account}"
    );
    account
}

/// A shop set up over HTTP on running `node` processes: one seller, one
/// store, products at 10.00 USD with stock.
pub struct RemoteShop {
    pub client: Client,
    /// The edge the shop is set up and read through.
    pub base: String,
    pub seller: String,
    pub store: String,
    pub products: Vec<String>,
}

impl RemoteShop {
    /// The store with one product per entry of `stock`, each with that
    /// many units; `admin` is an administrator's token.
    pub async fn open(base: &str, admin: &str, stock: &[i64]) -> Self {
        let client = Client::new();
        let (seller_id, _) = sign_up(&client, base, "sella").await;
        let roles = json!({"roles": ["seller"]});
        let url = format!("{base}/api/v1/users/{seller_id}/roles");
        let (status, _) = send(&client, &url, Method::PUT, Some(admin), None, Some(&roles)).await;
        assert_eq!(status, StatusCode::OK);
        let (_, seller) = sign_up(&client, base, "sella").await;
        let mut shop = Self {
            client,
            base: base.to_string(),
            seller,
            store: String::new(),
            products: Vec::new(),
        };
        let store = json!({"name": "Corner", "currency": "USD", "timezone": "UTC"});
        shop.store = id(&shop.seller_call(Method::POST, "/api/v1/stores", &store).await);
        for (i, &units) in stock.iter().enumerate() {
            let product = json!({"name": format!("Lamp {i}"), "visible": true});
            let product = id(&shop.seller_call(Method::POST, "/api/v1/products", &product).await);
            let offer = format!("/api/v1/stores/{}/offers/{product}", shop.store);
            shop.seller_call(Method::PUT, &offer, &json!({"price": "10.00"})).await;
            let stock = format!("/api/v1/stores/{}/stock/{product}", shop.store);
            shop.seller_call(Method::PUT, &stock, &json!({"adjust": units})).await;
            shop.products.push(product);
        }
        shop
    }

    /// See [`accept_payments`].
    pub async fn accept_payments(&self) -> Value {
        accept_payments(&self.client, &self.base, &self.seller, &self.store).await
    }

    async fn seller_call(&self, method: Method, path: &str, body: &Value) -> Value {
        let url = format!("{}{path}", self.base);
        let (status, answer) = send(&self.client, &url, method, Some(&self.seller), None, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    /// `(on_hand, reserved, available)` of product `i`, read through `base`.
    pub async fn stock(&self, base: &str, i: usize) -> (u64, u64, u64) {
        let url = format!("{base}/api/v1/stores/{}/stock/{}", self.store, self.products[i]);
        let (status, stock) = send(&self.client, &url, Method::GET, Some(&self.seller), None, None).await;
        assert_eq!(status, StatusCode::OK, "{stock}");
        counts(&stock)
    }

    pub fn line(&self, i: usize, quantity: u32) -> Value {
        order_line(&self.store, &self.products[i], quantity)
    }

    /// Places an order for `lines` through `base` as `buyer`.
    pub async fn checkout(&self, base: &str, buyer: &str, key: &str, lines: Value) -> (StatusCode, Value) {
        self.try_checkout(base, buyer, key, lines).await.unwrap()
    }

    /// [`Self::checkout`], or the transport error.
    pub async fn try_checkout(
        &self,
        base: &str,
        buyer: &str,
        key: &str,
        lines: Value,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let url = format!("{base}/api/v1/orders");
        let body = order_body(&self.store, Some(lines));
        try_send(&self.client, &url, Method::POST, Some(buyer), Some(key), Some(&body)).await
    }

    /// Every order of the store, all pages, read through `base`.
    pub async fn store_orders(&self, base: &str) -> Vec<Value> {
        let mut orders = Vec::new();
        let mut cursor = String::new();
        loop {
            let url = format!("{base}/api/v1/stores/{}/orders?limit=100{cursor}", self.store);
            let (status, page) = send(&self.client, &url, Method::GET, Some(&self.seller), None, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            orders.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return orders,
            }
        }
    }
}

/// Registers `username` (if new) and signs in: `(user id, access token)`.
pub async fn sign_up(client: &Client, base: &str, username: &str) -> (String, String) {
    let account = json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD});
    let url = format!("{base}/api/v1/accounts");
    let (status, user) = send(client, &url, Method::POST, None, None, Some(&account)).await;
    let login = json!({"login": username, "password": PASSWORD});
    let url = format!("{base}/api/v1/auth/login");
    let (_, tokens) = send(client, &url, Method::POST, None, None, Some(&login)).await;
    let token = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{username}: {tokens}"));
    let user_id = match status {
        StatusCode::CREATED => id(&user),
        _ => {
            let url = format!("{base}/api/v1/me");
            id(&send(client, &url, Method::GET, Some(token), None, None).await.1)
        }
    };
    (user_id, token.to_string())
}

/// The store's dashboard (running figures) agrees with what its orders
/// themselves say; steps still in flight are given two seconds.
pub async fn assert_dashboard_agrees(app: &TestApp, staff: &str, store: &str) {
    let mut last = None;
    for _ in 0..20 {
        let (_, dashboard) = app.orders.dashboard(staff, store).await.unwrap();
        let (_, recount) = app.orders.recount_sales(staff, store).await.unwrap();
        assert!(!recount.is_empty(), "the store has orders");
        if dashboard == recount {
            return;
        }
        last = Some((dashboard, recount));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the dashboard disagrees with the orders: {last:?}");
}
