//! The sellers' money over HTTP with the sandbox: onboarding, the charge
//! refusal for stores that cannot be paid, payouts (once, after the hold,
//! net of refunds, fees and debts, on schedule), refunds after a payout
//! (reversals, and debts when the store's balance is short).

use crate::order_shop::*;
use crate::pay_shop::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DAY_MS: i64 = 24 * 3_600_000;

fn account_body() -> Value {
    json!({"return_url": "https://shop.example/done", "refresh_url": "https://shop.example/again"})
}

async fn put_account(app: &TestApp, token: &str, store: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/stores/{store}/payment-account");
    call(app, Method::PUT, &path, token, Some(body)).await
}

#[tokio::test]
async fn a_store_onboards_once_its_link_renews_when_expired_and_only_an_active_account_is_charged_for() {
    test_secrets();
    let shop = Shop::open_with(10, SANDBOX).await;
    let app = &shop.app;
    let ann = app.user("ann").await;
    let body = shop.order(Some(json!([shop.line(&shop.product, 1)])));
    let (_, order) = place(app, &ann.access, Some("o1"), &body).await;
    let charges = format!("/api/v1/orders/{}/charges", id(&order));
    let pay = json!({"payment_method": "pm_card_visa"});
    let url = app.url(&charges);
    let (status, refused) = send(
        &app.client,
        &url,
        Method::POST,
        Some(&ann.access),
        Some("c1"),
        Some(&pay),
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "store_cannot_accept_payments")
    );
    assert!(
        refused["error"]["message"].as_str().unwrap().contains(&shop.store),
        "{refused}"
    );
    // A draft store without contacts may not onboard: each gap named.
    let seller = &shop.seller.access;
    let (status, err) = put_account(app, seller, &shop.store, account_body()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let mut fields: Vec<&str> = err["error"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["address", "emails", "status"]);
    let complete = active_store();
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/v1/stores/{}", shop.store),
            Some(seller),
            Some(complete),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Only the supervisor; only configured processors; only http(s) URLs.
    let (status, _) = put_account(app, &ann.access, &shop.store, account_body()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stripe = json!({"processor": "stripe", "return_url": "https://a.example", "refresh_url": "https://b.example"});
    let (status, err) = put_account(app, seller, &shop.store, stripe).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && err["error"]["fields"]["processor"].is_string());
    let bad_url = json!({"return_url": "javascript:x", "refresh_url": "https://b.example"});
    let (status, _) = put_account(app, seller, &shop.store, bad_url).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let path = format!("/api/v1/stores/{}/payment-account", shop.store);
    let (status, _) = call(app, Method::GET, &path, seller, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no account before onboarding");

    let (status, first) = put_account(app, seller, &shop.store, account_body()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (first["processor"].as_str(), first["status"].as_str()),
        (Some("sandbox"), Some("pending"))
    );
    assert!(!first["requirements"].as_array().unwrap().is_empty());
    let link = first["onboarding_url"].as_str().unwrap();
    assert!(link.ends_with(&format!("/{}/complete", first["account_id"].as_str().unwrap())));
    // Asked again: the same account and, while it lives, the same link.
    let (_, again) = put_account(app, seller, &shop.store, account_body()).await;
    assert_eq!(
        (&again["account_id"], &again["onboarding_expires_at"]),
        (&first["account_id"], &first["onboarding_expires_at"])
    );
    // Once it expired, a new one.
    app.clock.advance(301_000);
    let (_, renewed) = put_account(app, seller, &shop.store, account_body()).await;
    assert_eq!(renewed["account_id"], first["account_id"]);
    assert!(renewed["onboarding_expires_at"].as_str() > first["onboarding_expires_at"].as_str());
    let (status, pending) = call(app, Method::GET, &path, seller, None).await;
    assert_eq!((status, pending["status"].as_str()), (StatusCode::OK, Some("pending")));
    let (status, _) = send(
        &app.client,
        &url,
        Method::POST,
        Some(&ann.access),
        Some("c2"),
        Some(&pay),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a pending account takes no charge");

    // The sandbox completes onboarding; its account.updated webhook tells
    // the platform (charges are taken without anyone reading the account).
    let done = app.url(&format!(
        "/api/v1/payments/sandbox/accounts/{}/complete",
        first["account_id"].as_str().unwrap()
    ));
    let (status, _) = send(&app.client, &done, Method::POST, None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let charge = |_| {
        send(
            &app.client,
            &url,
            Method::POST,
            Some(&ann.access),
            Some("c3"),
            Some(&pay),
        )
    };
    let (status, charge) = poll(charge, |(status, charge)| {
        assert!(*status == StatusCode::CREATED || code(charge) == "store_cannot_accept_payments");
        *status == StatusCode::CREATED
    })
    .await;
    assert_eq!(
        (status, charge["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded")),
        "{charge}"
    );
    let (_, active) = call(app, Method::GET, &path, seller, None).await;
    assert_eq!(active["status"], "active", "{active}");
    assert_eq!(active["requirements"], json!([]));
    assert!(active["onboarding_url"].is_null(), "an active account needs no link");
    // One account per store: another PUT reuses it, and needs no link.
    let (_, same) = put_account(app, seller, &shop.store, account_body()).await;
    assert_eq!(
        (&same["account_id"], &same["status"]),
        (&first["account_id"], &json!("active"))
    );
    assert!(same["onboarding_url"].is_null());
}

#[tokio::test]
async fn a_store_is_paid_each_charge_once_after_the_hold_net_of_refunds_and_fees() {
    let p = PayShop::open_with(10, "payout_hold_days = 1\nfee_rate = \"0.1\"").await;
    let first = p.order("o1", 3).await;
    let c1 = paid(&p, &first, "c1").await;
    let second = p.order("o2", 1).await;
    let c2 = paid(&p, &second, "c2").await;
    // Nothing is payable during the hold.
    let (status, err) = p.payout("early").await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "nothing_payable"), "{err}");
    // One unit of the first order is refunded before the payout.
    let (status, refund) = p.refund("r1", refund_of(&first, 1)).await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded"))
    );
    p.app().clock.advance(DAY_MS + 1_000);
    let p = p.signed_in_again().await;
    // A stranger may not ask.
    let eve = p.app().user("eve").await;
    let url = p.app().url(&format!("/api/v1/stores/{}/payouts", p.shop.store));
    let (status, _) = send(&p.app().client, &url, Method::POST, Some(&eve.access), Some("k"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Two requests at once: one payout; the other is told why not.
    let (a, b) = tokio::join!(p.payout("k1"), p.payout("k2"));
    let (payout, other) = if a.0 == StatusCode::CREATED { (a, b) } else { (b, a) };
    assert_eq!(payout.0, StatusCode::CREATED, "{}", payout.1);
    assert_eq!(other.0, StatusCode::CONFLICT, "{}", other.1);
    assert!(
        ["payout_in_progress", "nothing_payable"].contains(&code(&other.1)),
        "{}",
        other.1
    );
    let payout = payout.1;
    assert_eq!(payout["status"], "paid", "{payout}");
    // 30.00 − 10.00 refunded = 20.00 less 2.00 fee; 10.00 less 1.00.
    assert_eq!(payout["totals"], json!([{"currency": "USD", "amount": "27.00"}]));
    let lines = payout["lines"].as_array().unwrap();
    let line = |charge: &Value| lines.iter().find(|l| l["charge_id"] == charge["id"]).unwrap().clone();
    let l1 = line(&c1);
    assert_eq!(
        (l1["gross"].as_str(), l1["refunded"].as_str(), l1["order_id"].as_str()),
        (Some("30.00"), Some("10.00"), Some(first.as_str()))
    );
    assert_eq!(
        l1["charge"],
        json!({"currency": "USD", "share": "20.00", "fee": "2.00", "debt_netted": "0.00", "amount": "18.00"})
    );
    assert_eq!(l1["store"]["amount"], "18.00", "the store prices in USD too");
    assert_eq!(line(&c2)["charge"]["amount"], "9.00");
    // At the processor: one transfer per charge, keyed by store and charge.
    let account = p.connected_account().await;
    assert_eq!(account["transfer_count"], 2);
    assert_eq!(account["balances"], json!([{"currency": "USD", "amount": "27.00"}]));
    let mut keys: Vec<String> = account["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["idempotency_key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    let mut expected = [c1["id"].as_str().unwrap(), c2["id"].as_str().unwrap()]
        .map(|c| format!("payout:{}:{c}", p.shop.store))
        .to_vec();
    expected.sort();
    assert_eq!(keys, expected);
    let groups: Vec<&str> = account["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transfer_group"].as_str().unwrap())
        .collect();
    assert!(
        groups
            .iter()
            .all(|g| *g == format!("order_{first}") || *g == format!("order_{second}"))
    );
    // The same key answers the same payout; a new one finds nothing due.
    let (status, replay) = p.payout("k1").await;
    assert_eq!((status, &replay["id"]), (StatusCode::CREATED, &payout["id"]));
    let (status, err) = p.payout("k3").await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "nothing_payable"));
    assert_eq!(p.connected_account().await["transfer_count"], 2);
    let listed = p.payouts().await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], payout["id"]);
    assert_eq!(listed["debt"], json!([]));
    assert_eq!(listed["schedule"]["every"], "manual");
}

#[tokio::test]
async fn a_refund_after_the_payout_reverses_the_store_part_and_a_short_balance_becomes_a_debt_netted_next_time() {
    let p = PayShop::open_with(10, "payout_hold_days = 0\nfee_rate = \"0.1\"").await;
    let first = p.order("o1", 2).await;
    paid(&p, &first, "c1").await;
    let (status, payout) = p.payout("k1").await;
    assert_eq!(
        (status, &payout["totals"][0]["amount"]),
        (StatusCode::CREATED, &json!("18.00"))
    );
    // One unit back to the buyer: the store's part (10.00 less its 1.00
    // fee) is taken back from the transfer.
    let (status, _) = p.refund("r1", refund_of(&first, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let account = poll(|_| p.connected_account(), |v| v["balances"][0]["amount"] == "9.00").await;
    assert_eq!(account["balances"][0]["amount"], "9.00", "{account}");
    assert_eq!(account["transfers"][0]["reversed"], "9.00");
    // The store pays its balance to its bank; the next refund's reversal
    // is refused, and the store owes it. The buyer is refunded regardless.
    let root = p.app().login("root", PASSWORD).await;
    let withdraw = format!(
        "/api/v1/payments/sandbox/accounts/{}/withdraw",
        account["id"].as_str().unwrap()
    );
    let (status, _) = call(
        p.app(),
        Method::POST,
        &withdraw,
        &root.access,
        Some(json!({"amount": "9.00", "currency": "USD"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, refund) = p.refund("r2", refund_of(&first, 1)).await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded"))
    );
    let listed = poll(|_| p.payouts(), |v| v["debt"] != json!([])).await;
    assert_eq!(
        listed["debt"],
        json!([{"currency": "USD", "amount": "9.00"}]),
        "{listed}"
    );
    // The first payout's statement shows what happened since.
    assert_eq!(
        listed["items"][0]["lines"][0]["after_payout"],
        json!({"refunded": "20.00", "reversed": "9.00", "reversing": "0.00"})
    );
    // The next payout nets the debt: one unit's 10.00 less its 1.00 fee is
    // all owed — nothing is transferred, the charge is paid out all the same.
    let second = p.order("o2", 1).await;
    paid(&p, &second, "c2").await;
    let (status, next) = p.payout("k2").await;
    assert_eq!(status, StatusCode::CREATED, "{next}");
    assert_eq!(
        next["lines"][0]["charge"],
        json!({"currency": "USD", "share": "10.00", "fee": "1.00", "debt_netted": "9.00", "amount": "0.00"})
    );
    assert_eq!(
        (next["status"].as_str(), next["lines"][0]["transfer_id"].as_str()),
        (Some("paid"), None)
    );
    let (status, err) = p.payout("k3").await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "nothing_payable"));
    let listed = p.payouts().await;
    assert_eq!(
        (listed["debt"].clone(), listed["items"].as_array().unwrap().len()),
        (json!([]), 2)
    );
    assert_eq!(p.connected_account().await["transfer_count"], 1);
    assert_eq!(p.connected_account().await["balances"][0]["amount"], "0.00");
}

#[tokio::test]
async fn a_daily_schedule_pays_the_store_by_itself() {
    let p = PayShop::open_with(10, "payout_hold_days = 0\nfee_rate = \"0\"").await;
    let path = format!("/api/v1/stores/{}/payout-schedule", p.shop.store);
    let seller = p.shop.seller.access.clone();
    let (status, err) = call(p.app(), Method::PUT, &path, &seller, Some(json!({"every": "hourly"}))).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && err["error"]["fields"]["every"].is_string());
    let (status, schedule) = call(p.app(), Method::PUT, &path, &seller, Some(json!({"every": "daily"}))).await;
    assert_eq!((status, schedule["every"].as_str()), (StatusCode::OK, Some("daily")));
    assert!(schedule["next_payout_at"].is_string());
    let order = p.order("o1", 1).await;
    paid(&p, &order, "c1").await;
    p.app().clock.advance(DAY_MS + 1_000);
    let p = p.signed_in_again().await;
    let listed = poll(|_| p.payouts(), |v| v["items"][0]["status"] == "paid").await;
    let item = &listed["items"][0];
    assert_eq!(
        (item["requested_by"].as_str(), item["status"].as_str()),
        (Some("schedule"), Some("paid")),
        "{listed}"
    );
    assert_eq!(item["totals"], json!([{"currency": "USD", "amount": "10.00"}]));
    assert!(listed["schedule"]["next_payout_at"].as_str() > schedule["next_payout_at"].as_str());
}
