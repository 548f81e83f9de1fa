//! A fake Stripe of ours for what localstripe lacks (Connect): accounts,
//! account links, payment intents, refunds that stay pending until told,
//! transfers and their reversals, disputes — answering with the shapes of
//! Stripe's documented example objects, recording every POST (path,
//! idempotency key, form), and replaying the first answer to a key.
//! `/_onboard/{id}`, `/_withdraw/{id}` and `/_settle/{refund}` play the
//! store and the bank.

use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// When the fake's listed disputes begin (unix seconds).
pub const DISPUTES_FROM: i64 = 1_700_000_000;

/// The fake's books.
#[derive(Default)]
pub struct Books {
    /// Account id → (the account object, its balance in cents).
    pub accounts: BTreeMap<String, (Value, i64)>,
    /// Idempotency key → the object answered first.
    pub keys: BTreeMap<String, Value>,
    pub transfers: BTreeMap<String, Value>,
    pub refunds: BTreeMap<String, Value>,
    /// Every POST: path, key and form.
    pub posts: Vec<(String, String, BTreeMap<String, String>)>,
}

pub type Shared = Arc<Mutex<Books>>;

fn error(status: u16, code: &str, message: &str) -> (axum::http::StatusCode, axum::Json<Value>) {
    let body = json!({"error": {"type": "invalid_request_error", "code": code, "message": message}});
    (axum::http::StatusCode::from_u16(status).unwrap(), axum::Json(body))
}

fn ok(v: Value) -> (axum::http::StatusCode, axum::Json<Value>) {
    (axum::http::StatusCode::OK, axum::Json(v))
}

fn key_of(headers: &HeaderMap) -> String {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// An Account as Stripe's API reference shows one, pending or onboarded.
fn account(id: &str, email: &str, store: &str, done: bool) -> Value {
    json!({
        "id": id, "object": "account", "type": "express", "country": "US", "email": email,
        "business_type": null, "default_currency": "usd", "created": 1_700_000_000,
        "capabilities": {"transfers": if done { "active" } else { "inactive" }},
        "charges_enabled": done, "payouts_enabled": done, "details_submitted": done,
        "requirements": {
            "alternatives": [], "current_deadline": null,
            "currently_due": if done { json!([]) } else { json!(["business_profile.url", "external_account", "tos_acceptance.date"]) },
            "disabled_reason": if done { Value::Null } else { json!("requirements.past_due") },
            "errors": [], "eventually_due": [], "past_due": [], "pending_verification": []
        },
        "settings": {"payouts": {"schedule": {"interval": "daily"}}},
        "metadata": {"store_id": store}
    })
}

pub async fn fake_connect() -> (String, Shared) {
    let books: Shared = Default::default();
    let record = |books: &Shared, path: &str, key: &str, form: &BTreeMap<String, String>| {
        books
            .lock()
            .unwrap()
            .posts
            .push((path.to_string(), key.to_string(), form.clone()));
    };
    let app = axum::Router::new()
        .route(
            "/v1/accounts",
            axum::routing::post(
                move |State(books): State<Shared>, headers: HeaderMap, Form(form): Form<BTreeMap<String, String>>| async move {
                    let key = key_of(&headers);
                    record(&books, "/v1/accounts", &key, &form);
                    let mut b = books.lock().unwrap();
                    if let Some(done) = b.keys.get(&key) {
                        return ok(done.clone());
                    }
                    let id = format!("acct_{}", b.accounts.len() + 1);
                    let store = form.get("metadata[store_id]").cloned().unwrap_or_default();
                    let created = account(&id, form.get("email").map_or("", |e| e.as_str()), &store, false);
                    b.accounts.insert(id, (created.clone(), 0));
                    b.keys.insert(key, created.clone());
                    ok(created)
                },
            ),
        )
        .route(
            "/v1/accounts/{id}",
            axum::routing::get(move |State(books): State<Shared>, Path(id): Path<String>| async move {
                match books.lock().unwrap().accounts.get(&id) {
                    Some((a, _)) => ok(a.clone()),
                    None => error(404, "resource_missing", "No such account"),
                }
            }),
        )
        .route(
            "/_onboard/{id}",
            axum::routing::post(move |State(books): State<Shared>, Path(id): Path<String>| async move {
                let mut b = books.lock().unwrap();
                let (a, _) = b.accounts.get_mut(&id).unwrap();
                let store = a["metadata"]["store_id"].as_str().unwrap().to_string();
                let email = a["email"].as_str().unwrap().to_string();
                *a = account(&id, &email, &store, true);
                ok(a.clone())
            }),
        )
        .route(
            "/_withdraw/{id}",
            axum::routing::post(move |State(books): State<Shared>, Path(id): Path<String>| async move {
                books.lock().unwrap().accounts.get_mut(&id).unwrap().1 = 0;
                ok(json!({}))
            }),
        )
        .route(
            "/v1/account_links",
            axum::routing::post(
                move |State(books): State<Shared>, headers: HeaderMap, Form(form): Form<BTreeMap<String, String>>| async move {
                    record(&books, "/v1/account_links", &key_of(&headers), &form);
                    let n = books.lock().unwrap().posts.len();
                    let account = form.get("account").cloned().unwrap_or_default();
                    ok(json!({
                        "object": "account_link", "created": 1_700_000_000, "expires_at": 4_102_444_800i64 + n as i64,
                        "url": format!("https://connect.stripe.com/setup/e/{account}/link{n}")
                    }))
                },
            ),
        )
        .route(
            "/v1/payment_intents",
            axum::routing::post(
                move |State(books): State<Shared>, headers: HeaderMap, Form(form): Form<BTreeMap<String, String>>| async move {
                    let key = key_of(&headers);
                    record(&books, "/v1/payment_intents", &key, &form);
                    let mut b = books.lock().unwrap();
                    if let Some(done) = b.keys.get(&key) {
                        return ok(done.clone());
                    }
                    let amount: i64 = form.get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
                    let metadata: BTreeMap<String, String> = form
                        .iter()
                        .filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_string(), v.clone())))
                        .collect();
                    let intent = json!({"id": format!("pi_{}", b.keys.len() + 1), "object": "payment_intent", "status": "succeeded",
                                        "amount": amount, "amount_received": amount, "currency": form.get("currency"),
                                        "latest_charge": "ch_x", "metadata": metadata});
                    b.keys.insert(key, intent.clone());
                    ok(intent)
                },
            ),
        )
        .route(
            "/v1/refunds",
            axum::routing::post(
                move |State(books): State<Shared>, headers: HeaderMap, Form(form): Form<BTreeMap<String, String>>| async move {
                    let key = key_of(&headers);
                    record(&books, "/v1/refunds", &key, &form);
                    let mut b = books.lock().unwrap();
                    if let Some(done) = b.keys.get(&key) {
                        return ok(done.clone());
                    }
                    let refund_id = form.get("metadata[refund_id]").cloned().unwrap_or_default();
                    // Card refunds may stay pending at the bank for a while.
                    let refund = json!({"id": format!("re_{}", b.keys.len() + 1), "object": "refund", "status": "pending",
                                        "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()),
                                        "payment_intent": form.get("payment_intent"), "metadata": {"refund_id": refund_id}});
                    b.keys.insert(key, refund.clone());
                    b.refunds.insert(refund["id"].as_str().unwrap().to_string(), refund.clone());
                    ok(refund)
                },
            ),
        )
        .route(
            "/v1/refunds/{id}",
            axum::routing::get(move |State(books): State<Shared>, Path(id): Path<String>| async move {
                match books.lock().unwrap().refunds.get(&id) {
                    Some(r) => ok(r.clone()),
                    None => error(404, "resource_missing", "No such refund"),
                }
            }),
        )
        .route(
            "/_settle/{id}",
            axum::routing::post(move |State(books): State<Shared>, Path(id): Path<String>| async move {
                let mut b = books.lock().unwrap();
                let refund = b.refunds.get_mut(&id).unwrap();
                refund["status"] = json!("succeeded");
                ok(refund.clone())
            }),
        )
        .route(
            "/v1/payment_intents/{id}",
            axum::routing::get(move |Path(id): Path<String>| async move {
                ok(json!({"id": id, "object": "payment_intent", "status": "succeeded", "amount": 1000,
                          "amount_received": 1000, "currency": "usd", "latest_charge": format!("ch_of_{id}"), "metadata": {}}))
            }),
        )
        .route(
            "/v1/transfers",
            axum::routing::post(
                move |State(books): State<Shared>, headers: HeaderMap, Form(form): Form<BTreeMap<String, String>>| async move {
                    let key = key_of(&headers);
                    record(&books, "/v1/transfers", &key, &form);
                    let mut b = books.lock().unwrap();
                    if let Some(done) = b.keys.get(&key) {
                        return ok(done.clone());
                    }
                    let destination = form.get("destination").cloned().unwrap_or_default();
                    let amount: i64 = form.get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
                    let Some((acct, balance)) = b.accounts.get_mut(&destination) else {
                        return error(400, "resource_missing", "No such destination");
                    };
                    if !acct["payouts_enabled"].as_bool().unwrap_or(false) {
                        return error(400, "account_invalid", "The destination cannot receive transfers");
                    }
                    *balance += amount;
                    let id = format!("tr_{}", b.transfers.len() + 1);
                    let transfer = json!({
                        "id": id, "object": "transfer", "amount": amount, "amount_reversed": 0,
                        "currency": form.get("currency"), "destination": destination, "livemode": false,
                        "reversals": {"object": "list", "data": [], "has_more": false},
                        "reversed": false, "source_transaction": form.get("source_transaction"),
                        "source_type": "card", "transfer_group": form.get("transfer_group"),
                        "metadata": {}
                    });
                    b.transfers.insert(id, transfer.clone());
                    b.keys.insert(key, transfer.clone());
                    ok(transfer)
                },
            ),
        )
        .route(
            "/v1/transfers/{id}",
            axum::routing::get(move |State(books): State<Shared>, Path(id): Path<String>| async move {
                match books.lock().unwrap().transfers.get(&id) {
                    Some(t) => ok(t.clone()),
                    None => error(404, "resource_missing", "No such transfer"),
                }
            }),
        )
        .route(
            "/v1/transfers/{id}/reversals",
            axum::routing::post(
                move |State(books): State<Shared>,
                      Path(id): Path<String>,
                      headers: HeaderMap,
                      Form(form): Form<BTreeMap<String, String>>| async move {
                    let key = key_of(&headers);
                    record(&books, "/v1/transfers/_/reversals", &key, &form);
                    let mut b = books.lock().unwrap();
                    if let Some(done) = b.keys.get(&key) {
                        return ok(done.clone());
                    }
                    let amount: i64 = form.get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
                    let Some(transfer) = b.transfers.get(&id).cloned() else {
                        return error(404, "resource_missing", "No such transfer");
                    };
                    let destination = transfer["destination"].as_str().unwrap().to_string();
                    let balance = b.accounts.get(&destination).map_or(0, |a| a.1);
                    if balance < amount {
                        return error(400, "balance_insufficient", "Insufficient funds in the connected account");
                    }
                    b.accounts.get_mut(&destination).unwrap().1 -= amount;
                    let t = b.transfers.get_mut(&id).unwrap();
                    t["amount_reversed"] = json!(t["amount_reversed"].as_i64().unwrap() + amount);
                    let reversal = json!({"id": format!("trr_{key}"), "object": "transfer_reversal", "amount": amount,
                                          "currency": "usd", "transfer": id, "metadata": {}});
                    b.keys.insert(key, reversal.clone());
                    ok(reversal)
                },
            ),
        )
        .route(
            "/v1/disputes",
            axum::routing::get(move |Query(q): Query<BTreeMap<String, String>>| async move {
                // 150 disputes, dp_0 created at DISPUTES_FROM, one a second;
                // newest first, as Stripe lists.
                let since: i64 = q.get("created[gte]").and_then(|v| v.parse().ok()).unwrap_or(0);
                let limit: usize = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(10);
                let all: Vec<Value> = (0..150)
                    .rev()
                    .filter(|i| DISPUTES_FROM + i >= since)
                    .map(|i| json!({"id": format!("dp_{i}"), "object": "dispute", "amount": 100 + i, "currency": "usd",
                                    "payment_intent": format!("pi_{i}"), "reason": "fraudulent", "status": "needs_response",
                                    "created": DISPUTES_FROM + i}))
                    .collect();
                let start = match q.get("starting_after") {
                    Some(after) => all.iter().position(|d| d["id"] == after.as_str()).map_or(all.len(), |p| p + 1),
                    None => 0,
                };
                let page: Vec<Value> = all[start..].iter().take(limit).cloned().collect();
                ok(json!({"object": "list", "data": page, "has_more": start + limit < all.len(), "url": "/v1/disputes"}))
            }),
        )
        .route(
            "/v1/disputes/{id}",
            axum::routing::get(move |Path(id): Path<String>| async move {
                ok(json!({"id": id, "object": "dispute", "amount": 1000, "currency": "usd", "charge": "ch_1",
                          "payment_intent": "pi_1", "reason": "general", "status": "warning_needs_response",
                          "is_charge_refundable": true, "evidence": {}, "metadata": {}}))
            }),
        )
        .with_state(books.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, books)
}
