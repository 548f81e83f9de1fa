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

/// A refund of `units` of order `order`'s first line.
fn refund_of(order: &str, units: u64) -> Value {
    json!({"order_id": order, "lines": [{"line_id": "l1", "quantity": units}], "reason": "damaged"})
}

async fn paid(p: &PayShop, order: &str, key: &str) -> Value {
    let (status, charge) = p.charge(order, key, json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(
        (status, charge["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded")),
        "{charge}"
    );
    charge
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

#[tokio::test]
async fn a_dispute_holds_the_charge_a_lost_one_is_taken_back_from_the_store_a_won_one_is_paid_out() {
    let p = PayShop::open_with(10, "payout_hold_days = 0\nfee_rate = \"0.1\"").await;
    let root = p.app().login("root", PASSWORD).await;
    let first = p.order("o1", 2).await;
    let c1 = paid(&p, &first, "c1").await;
    let (status, _) = p.payout("k1").await;
    assert_eq!(status, StatusCode::CREATED);
    let dispute = |charge: &Value, amount: &str| json!({"processor_payment_id": charge["processor_payment_id"], "amount": amount});
    let (status, opened) = call(
        p.app(),
        Method::POST,
        "/api/v1/payments/sandbox/disputes",
        &root.access,
        Some(dispute(&c1, "20.00")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let (status, _) = call(
        p.app(),
        Method::POST,
        "/api/v1/payments/sandbox/disputes",
        &root.access,
        Some(dispute(&c1, "20.01")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "never more than the payment");
    let (status, same) = call(
        p.app(),
        Method::POST,
        "/api/v1/payments/sandbox/disputes",
        &root.access,
        Some(dispute(&c1, "20.00")),
    )
    .await;
    assert_eq!(
        (status, &same["id"]),
        (StatusCode::CREATED, &opened["id"]),
        "one dispute per payment"
    );
    let c1_path = format!("/api/v1/charges/{}", c1["id"].as_str().unwrap());
    let charge = p.eventually(&c1_path, |c| c["status"] == "disputed").await;
    assert_eq!(charge["disputes"][0]["status"], "needs_response");
    // No refund while it is fought.
    let (status, err) = p.refund("r1", refund_of(&first, 1)).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, "charge_disputed"), "{err}");
    let disputes_path = format!("/api/v1/stores/{}/disputes", p.shop.store);
    let (_, listed) = call(p.app(), Method::GET, &disputes_path, &p.shop.seller.access, None).await;
    assert_eq!(listed["items"][0]["store_part"], "20.00", "{listed}");
    assert_eq!(listed["items"][0]["lost"], false);
    // Lost: the store's part (20.00 less the 2.00 fee on it) comes back
    // from its transfer.
    let close = format!(
        "/api/v1/payments/sandbox/disputes/{}/close",
        opened["id"].as_str().unwrap()
    );
    let (status, _) = call(p.app(), Method::POST, &close, &root.access, Some(json!({"won": false}))).await;
    assert_eq!(status, StatusCode::OK);
    let charge = p.eventually(&c1_path, |c| c["status"] == "succeeded").await;
    assert_eq!(charge["disputes"][0]["status"], "lost");
    let account = poll(|_| p.connected_account(), |v| v["transfers"][0]["reversed"] == "18.00").await;
    assert_eq!(account["balances"][0]["amount"], "0.00", "{account}");
    let (_, listed) = call(p.app(), Method::GET, &disputes_path, &p.shop.seller.access, None).await;
    assert_eq!(
        (
            listed["items"][0]["lost"].as_bool(),
            listed["items"][0]["status"].as_str()
        ),
        (Some(true), Some("lost"))
    );
    let (status, _) = call(p.app(), Method::POST, &close, &root.access, Some(json!({"won": true}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a closed dispute stays closed");

    // A disputed charge not yet paid out waits; won, it is paid.
    let second = p.order("o2", 1).await;
    let c2 = paid(&p, &second, "c2").await;
    let (_, opened) = call(
        p.app(),
        Method::POST,
        "/api/v1/payments/sandbox/disputes",
        &root.access,
        Some(dispute(&c2, "10.00")),
    )
    .await;
    let c2_path = format!("/api/v1/charges/{}", c2["id"].as_str().unwrap());
    p.eventually(&c2_path, |c| c["status"] == "disputed").await;
    let held = poll(|_| p.payout("k2"), |v| v.0 == StatusCode::CONFLICT).await;
    assert_eq!(code(&held.1), "nothing_payable", "{}", held.1);
    let close = format!(
        "/api/v1/payments/sandbox/disputes/{}/close",
        opened["id"].as_str().unwrap()
    );
    let (status, _) = call(p.app(), Method::POST, &close, &root.access, Some(json!({"won": true}))).await;
    assert_eq!(status, StatusCode::OK);
    p.eventually(&c2_path, |c| {
        c["status"] == "succeeded" && c["disputes"][0]["status"] == "won"
    })
    .await;
    let payout = poll(
        |i| {
            let p = &p;
            async move { p.payout(&format!("k3-{i}")).await }
        },
        |v| v.0 == StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        payout.1["totals"],
        json!([{"currency": "USD", "amount": "9.00"}]),
        "{}",
        payout.1
    );
    let (status, refund) = p
        .refund(
            "r2",
            json!({"order_id": second, "lines": [{"line_id": "l1", "quantity": 1}], "reason": "damaged"}),
        )
        .await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded")),
        "refunds again once won"
    );
}

#[tokio::test]
async fn the_sales_and_reconciliation_reports_agree_with_the_charges_refunds_and_payouts() {
    let p = PayShop::open_with(10, "payout_hold_days = 0\nfee_rate = \"0.1\"").await;
    let vase = p.shop.add_product("Vase", "5.00", 10).await;
    let body = p
        .shop
        .order(Some(json!([p.shop.line(&p.shop.product, 2), p.shop.line(&vase, 1)])));
    let (status, order) = place(p.app(), &p.ann.access, Some("o1"), &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let first = id(&order);
    let c1 = paid(&p, &first, "c1").await;
    assert_eq!(c1["amount"], "25.00");
    let (status, _) = p.refund("r1", refund_of(&first, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, payout) = p.payout("k1").await;
    assert_eq!(status, StatusCode::CREATED, "{payout}");
    let body = p.shop.order(Some(json!([p.shop.line(&vase, 1)])));
    let (_, order) = place(p.app(), &p.ann.access, Some("o2"), &body).await;
    let c2 = paid(&p, &id(&order), "c2").await;
    // A charge waiting for the buyer stays in a non-final state.
    let third = p.order("o3", 1).await;
    let (_, waiting) = p
        .charge(
            &third,
            "c3",
            json!({"payment_method": "pm_card_authenticationRequired"}),
        )
        .await;
    assert_eq!(waiting["status"], "requires_action");

    let sales_path = format!("/api/v1/stores/{}/sales", p.shop.store);
    let (status, sales) = call(p.app(), Method::GET, &sales_path, &p.shop.seller.access, None).await;
    assert_eq!(status, StatusCode::OK, "{sales}");
    let row = |product: &str| {
        sales["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["product_id"] == product)
            .unwrap()
            .clone()
    };
    // Lamps: 2 sold, 1 refunded; paid out: 10.00 less its 1.00 fee.
    assert_eq!(
        row(&p.shop.product),
        json!({"product_id": p.shop.product, "currency": "USD", "units_sold": 2, "units_refunded": 1,
               "gross": "20.00", "refunded": "10.00", "fees": "1.00", "net": "9.00", "paid_out": "9.00"})
    );
    // Vases: one paid out (5.00 less 0.50), one not yet.
    assert_eq!(
        row(&vase),
        json!({"product_id": vase, "currency": "USD", "units_sold": 2, "units_refunded": 0,
               "gross": "10.00", "refunded": "0.00", "fees": "0.50", "net": "9.50", "paid_out": "4.50"})
    );
    // The same figures as the charges, refunds and payouts say.
    let sum = |field: &str| -> f64 {
        sales["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[field].as_str().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let charged: f64 = [&c1, &c2]
        .iter()
        .map(|c| c["amount"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(sum("gross"), charged);
    let refunds = p.get(&format!("/api/v1/orders/{first}/refunds")).await;
    assert_eq!(
        sum("refunded"),
        refunds["items"][0]["amount"].as_str().unwrap().parse::<f64>().unwrap()
    );
    let fee: f64 = payout["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["charge"]["fee"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(sum("fees"), fee);
    assert_eq!(
        sum("paid_out"),
        payout["totals"][0]["amount"].as_str().unwrap().parse::<f64>().unwrap()
    );
    // A window without those days: nothing.
    let (_, none) = call(
        p.app(),
        Method::GET,
        &format!("{sales_path}?from=2001-01-01&to=2001-01-02"),
        &p.shop.seller.access,
        None,
    )
    .await;
    assert_eq!(none["items"], json!([]));
    let (status, _) = call(
        p.app(),
        Method::GET,
        &format!("{sales_path}?from=2001-13-01"),
        &p.shop.seller.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let eve = p.app().user("eve").await;
    let (status, _) = call(p.app(), Method::GET, &sales_path, &eve.access, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The day's reconciliation: ours and the sandbox's agree; the charge
    // waiting for its buyer is listed as stuck.
    let root = p.app().login("root", PASSWORD).await;
    let date = &c1["created_at"].as_str().unwrap()[..10];
    let path = format!("/api/v1/payments/reconciliation?date={date}");
    let (status, _) = call(p.app(), Method::GET, &path, &p.shop.seller.access, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "payment:admin only");
    let (status, report) = call(p.app(), Method::GET, &path, &root.access, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let usd = |a: &str| json!([{"currency": "USD", "amount": a}]);
    assert_eq!(report["charges"]["count"], 3, "{report}");
    assert_eq!(
        (&report["charges"]["ours"], &report["charges"]["processor"]),
        (&usd("30.00"), &usd("30.00"))
    );
    assert_eq!(
        (&report["refunds"]["count"], &report["refunds"]["ours"]),
        (&json!(1), &usd("10.00"))
    );
    assert_eq!(report["refunds"]["processor"], usd("10.00"));
    assert_eq!(
        (&report["transfers"]["count"], &report["transfers"]["ours"]),
        (&json!(1), &usd("13.50"))
    );
    assert_eq!(report["transfers"]["processor"], usd("13.50"));
    assert_eq!(report["mismatches"], json!([]));
    assert_eq!(report["unreachable"], 0);
    let stuck = report["stuck"].as_array().unwrap();
    assert_eq!(stuck.len(), 1, "{report}");
    assert_eq!(
        (&stuck[0]["id"], &stuck[0]["status"]),
        (&waiting["id"], &json!("requires_action"))
    );
    // Reading it changed nothing.
    let (_, again) = call(p.app(), Method::GET, &path, &root.access, None).await;
    assert_eq!(again, report);
    assert_eq!(p.connected_account().await["transfer_count"], 1);
    let (_, other_day) = call(
        p.app(),
        Method::GET,
        "/api/v1/payments/reconciliation?date=2001-01-01",
        &root.access,
        None,
    )
    .await;
    assert_eq!(other_day["charges"]["count"], 0);
    let (status, _) = call(
        p.app(),
        Method::GET,
        "/api/v1/payments/reconciliation?date=yesterday",
        &root.access,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_return_approved_while_its_charge_is_disputed_is_refunded_once_the_dispute_closes() {
    let p = PayShop::open_with(10, "payout_hold_days = 0").await;
    let root = p.app().login("root", PASSWORD).await;
    let order = p.order("o1", 2).await;
    let charge = paid(&p, &order, "c1").await;
    let body = json!({"processor_payment_id": charge["processor_payment_id"], "amount": "5.00"});
    let (status, dispute) = call(
        p.app(),
        Method::POST,
        "/api/v1/payments/sandbox/disputes",
        &root.access,
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{dispute}");
    let charge_path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    p.eventually(&charge_path, |c| c["status"] == "disputed").await;
    let ask = json!({"lines": [{"line_id": "l1", "quantity": 1, "reason": "broken"}]});
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
    let approve = json!({"lines": [{"line_id": "l1", "approve_quantity": 1, "reject_quantity": 0, "reason": "ok"}]});
    let (status, _) = call(p.app(), Method::POST, &decision, &p.shop.seller.access, Some(approve)).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let refunds_path = format!("/api/v1/orders/{order}/refunds");
    assert_eq!(p.get(&refunds_path).await["items"], json!([]), "held while disputed");
    let close = format!(
        "/api/v1/payments/sandbox/disputes/{}/close",
        dispute["id"].as_str().unwrap()
    );
    let (status, _) = call(p.app(), Method::POST, &close, &root.access, Some(json!({"won": true}))).await;
    assert_eq!(status, StatusCode::OK);
    p.eventually(&charge_path, |c| c["status"] == "succeeded").await;
    // The order retries its refund step (backing off, at most 5 minutes).
    p.app().clock.advance(6 * 60_000);
    let refunds = p
        .eventually(&refunds_path, |r| r["items"][0]["status"] == "succeeded")
        .await;
    assert_eq!(
        (
            refunds["items"].as_array().unwrap().len(),
            &refunds["items"][0]["amount"]
        ),
        (1, &json!("10.00"))
    );
}
