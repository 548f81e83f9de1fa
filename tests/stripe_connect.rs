//! The Stripe adapter's Connect calls (accounts, account links, transfers
//! with their group and source, reversals, disputes) against a fake of
//! ours — localstripe has no Connect — that answers with the shapes of
//! Stripe's documented example objects and checks what the adapter sends.
//! Then a shop whose stores are paid through it: onboarding, a payout and
//! a reversal refused for a short balance; and a refund left pending by
//! the bank, which holds its charge's payout until it settled.

use crate::order_shop::*;
use crate::pay_shop::poll;
use crate::stripe_fake::fake_connect;
use crate::support::*;
use actors::payments::ports::{CreateAccount, CreateReversal, CreateTransfer, PaymentProcessor, ProcessorError};
use actors::payments::processors::Secret;
use actors::payments::stripe::Stripe;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeMap;

/// A shop paying out (at once, fee 0.1) through Stripe at `base`, its
/// store active with contacts; `payments` adds to `[payments]`.
async fn stripe_shop(base: &str, payments: &str) -> Shop {
    let config = format!(
        "[payments]\n{payments}payout_hold_days = 0\nfee_rate = \"0.1\"\n[payments.stripe]\nbase_url = \"{base}\"\nsecret_key_env = \"SHOP_TEST_STRIPE_KEY\"\nwebhook_secret_envs = [\"SHOP_TEST_STRIPE_WHSEC\"]\n"
    );
    let shop = Shop::open_with(10, &config).await;
    let path = format!("/api/v1/stores/{}", shop.store);
    let res = shop
        .app
        .call(Method::PATCH, &path, Some(&shop.seller.access), Some(active_store()))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    shop
}

fn transfer(account: &str, key: &str, amount: i64) -> CreateTransfer {
    CreateTransfer {
        account_id: account.into(),
        amount_minor: amount,
        currency: "USD".into(),
        idempotency_key: key.into(),
        transfer_group: "order_o1".into(),
        source_payment_id: Some("pi_123".into()),
        metadata: BTreeMap::from([("charge_id".to_string(), "ch_a".to_string())]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_speaks_connect_as_stripe_documents_it() {
    let (base, books) = fake_connect().await;
    let stripe = Stripe::new(&base, Secret::new(STRIPE_KEY));
    let open = CreateAccount {
        store_id: "s1".into(),
        email: "shop@example.com".into(),
        idempotency_key: "account:s1".into(),
    };
    let opened = stripe.create_account(open.clone()).await.unwrap();
    assert_eq!(
        stripe.create_account(open).await.unwrap().id,
        opened.id,
        "one account per key"
    );
    let r = &opened.reported;
    assert!(!r.charges_enabled && !r.payouts_enabled && !r.details_submitted);
    assert_eq!(r.currently_due.len(), 3);
    assert_eq!(r.disabled_reason.as_deref(), Some("requirements.past_due"));
    assert_eq!(opened.metadata["store_id"], "s1");
    let link = stripe
        .account_link(&opened.id, "https://shop.example/done", "https://shop.example/again")
        .await
        .unwrap();
    assert!(link.url.starts_with("https://connect.stripe.com/setup/e/acct_1/"));
    assert!(link.expires_at > 4_102_444_800);
    // Transfers are refused until onboarding is done.
    let refused = stripe.transfer(transfer(&opened.id, "payout:s1:ch_a", 900)).await;
    assert!(
        matches!(refused, Err(ProcessorError::Refused { ref code, .. }) if code == "account_invalid"),
        "{refused:?}"
    );
    reqwest::Client::new()
        .post(format!("{base}/_onboard/{}", opened.id))
        .send()
        .await
        .unwrap();
    let read = stripe.get_account(&opened.id).await.unwrap();
    assert!(read.reported.charges_enabled && read.reported.payouts_enabled && read.reported.currently_due.is_empty());
    let t = stripe
        .transfer(transfer(&opened.id, "payout:s1:ch_a", 900))
        .await
        .unwrap();
    assert_eq!(
        (t.account_id.as_str(), t.amount_minor, t.currency.as_str()),
        (opened.id.as_str(), 900, "USD")
    );
    assert_eq!(stripe.get_transfer(&t.id).await.unwrap(), t);
    let reversal = CreateReversal {
        transfer_id: t.id.clone(),
        amount_minor: 300,
        idempotency_key: "reversal:rf_1:ch_a".into(),
    };
    let rv = stripe.reverse(reversal).await.unwrap();
    assert_eq!((rv.transfer_id.as_str(), rv.amount_minor), (t.id.as_str(), 300));
    assert_eq!(stripe.get_transfer(&t.id).await.unwrap().reversed_minor, 300);
    let short = stripe
        .reverse(CreateReversal {
            transfer_id: t.id.clone(),
            amount_minor: 601,
            idempotency_key: "reversal:rf_2:ch_a".into(),
        })
        .await;
    assert!(
        matches!(short, Err(ProcessorError::Refused { ref code, .. }) if code == "balance_insufficient"),
        "{short:?}"
    );
    let dispute = stripe.get_dispute("dp_1").await.unwrap();
    assert_eq!(
        (dispute.payment_id.as_str(), dispute.amount_minor, dispute.open()),
        ("pi_1", 1_000, true)
    );
    // Listing pages through every dispute created since a time, newest
    // first.
    let since = crate::stripe_fake::DISPUTES_FROM + 20;
    let first = stripe.list_disputes(since, None).await.unwrap();
    assert_eq!((first.disputes.len(), first.disputes[0].id.as_str()), (100, "dp_149"));
    let second = stripe.list_disputes(since, first.next.clone()).await.unwrap();
    assert_eq!(second.disputes.len(), 30);
    assert_eq!((second.disputes[29].id.as_str(), second.next.as_ref()), ("dp_20", None));
    assert_eq!(second.disputes[29].amount_minor, 120);
    // What went over the wire.
    let posts = books.lock().unwrap().posts.clone();
    let (_, key, form) = posts.iter().find(|(p, _, _)| p == "/v1/accounts").unwrap();
    assert_eq!(key, "account:s1");
    assert_eq!(form["type"], "express");
    assert_eq!(form["capabilities[transfers][requested]"], "true");
    assert_eq!(form["email"], "shop@example.com");
    let (_, _, form) = posts.iter().find(|(p, _, _)| p == "/v1/account_links").unwrap();
    assert_eq!(
        (
            form["type"].as_str(),
            form["return_url"].as_str(),
            form["refresh_url"].as_str()
        ),
        (
            "account_onboarding",
            "https://shop.example/done",
            "https://shop.example/again"
        )
    );
    let sent: Vec<_> = posts.iter().filter(|(p, _, _)| p == "/v1/transfers").collect();
    let (_, key, form) = sent.last().unwrap();
    assert_eq!(key, "payout:s1:ch_a");
    assert_eq!(
        (
            form["amount"].as_str(),
            form["currency"].as_str(),
            form["destination"].as_str()
        ),
        ("900", "usd", opened.id.as_str())
    );
    assert_eq!(form["transfer_group"], "order_o1");
    assert_eq!(
        form["source_transaction"], "ch_of_pi_123",
        "a payment intent's latest charge"
    );
    assert_eq!(form["metadata[charge_id]"], "ch_a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_onboarded_at_stripe_is_paid_out_and_owes_what_a_reversal_could_not_take() {
    test_secrets();
    let (base, books) = fake_connect().await;
    let shop = stripe_shop(&base, "").await;
    let app = &shop.app;
    let seller = &shop.seller.access;
    let path = format!("/api/v1/stores/{}/payment-account", shop.store);
    let body = json!({"processor": "stripe", "return_url": "https://shop.example/done", "refresh_url": "https://shop.example/again"});
    let (status, account) = call(app, Method::PUT, &path, seller, Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(
        (account["status"].as_str(), account["processor"].as_str()),
        (Some("pending"), Some("stripe"))
    );
    assert!(
        account["onboarding_url"]
            .as_str()
            .unwrap()
            .starts_with("https://connect.stripe.com/")
    );
    // The link (expiring far ahead) is reused; the sandbox is another processor.
    let (_, again) = call(app, Method::PUT, &path, seller, Some(body)).await;
    assert_eq!(again["onboarding_url"], account["onboarding_url"]);
    let sandbox =
        json!({"processor": "sandbox", "return_url": "https://a.example", "refresh_url": "https://b.example"});
    let (status, err) = call(app, Method::PUT, &path, seller, Some(sandbox)).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("payment_account_exists"))
    );
    let account_id = account["account_id"].as_str().unwrap().to_string();
    reqwest::Client::new()
        .post(format!("{base}/_onboard/{account_id}"))
        .send()
        .await
        .unwrap();
    let (_, active) = call(app, Method::GET, &path, seller, None).await;
    assert_eq!(active["status"], "active", "{active}");
    // The buyer pays through the sandbox; the store is paid through Stripe.
    let ann = app.user("ann").await;
    let order = shop.order(Some(json!([shop.line(&shop.product, 2)])));
    let (_, order) = place(app, &ann.access, Some("o1"), &order).await;
    let charges = app.url(&format!("/api/v1/orders/{}/charges", id(&order)));
    let pay = json!({"payment_method": "pm_card_visa", "processor": "sandbox"});
    let (status, charge) = send(
        &app.client,
        &charges,
        Method::POST,
        Some(&ann.access),
        Some("c1"),
        Some(&pay),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{charge}");
    let payouts = app.url(&format!("/api/v1/stores/{}/payouts", shop.store));
    let (status, payout) = send(&app.client, &payouts, Method::POST, Some(seller), Some("k1"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{payout}");
    assert_eq!(payout["totals"], json!([{"currency": "USD", "amount": "18.00"}]));
    assert!(payout["lines"][0]["transfer_id"].as_str().unwrap().starts_with("tr_"));
    {
        let b = books.lock().unwrap();
        let sent: Vec<_> = b.posts.iter().filter(|(p, _, _)| p == "/v1/transfers").collect();
        assert_eq!(sent.len(), 1);
        let (_, key, form) = sent[0];
        assert_eq!(
            key,
            &format!("payout:{}:{}", shop.store, charge["id"].as_str().unwrap())
        );
        assert_eq!(form["transfer_group"], format!("order_{}", id(&order)));
        assert!(
            !form.contains_key("source_transaction"),
            "the money came through another processor"
        );
    }
    // The store emptied its balance; a refund's reversal is refused and owed.
    reqwest::Client::new()
        .post(format!("{base}/_withdraw/{account_id}"))
        .send()
        .await
        .unwrap();
    let refunds = app.url(&format!("/api/v1/stores/{}/refunds", shop.store));
    let refund = json!({"order_id": id(&order), "lines": [{"line_id": "l1", "quantity": 1}], "reason": "damaged"});
    let (status, _) = send(
        &app.client,
        &refunds,
        Method::POST,
        Some(seller),
        Some("r1"),
        Some(&refund),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let listed_path = format!("/api/v1/stores/{}/payouts", shop.store);
    let listed = poll(
        |_| async { call(app, Method::GET, &listed_path, seller, None).await.1 },
        |v| v["debt"] != json!([]),
    )
    .await;
    assert_eq!(
        listed["debt"],
        json!([{"currency": "USD", "amount": "9.00"}]),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_whose_refund_is_pending_is_paid_out_only_once_the_refund_settled() {
    test_secrets();
    let (base, books) = fake_connect().await;
    let shop = stripe_shop(&base, "default_processor = \"stripe\"\n").await;
    let app = &shop.app;
    let seller = &shop.seller.access;
    let path = format!("/api/v1/stores/{}/payment-account", shop.store);
    let body = json!({"processor": "stripe", "return_url": "https://shop.example/done", "refresh_url": "https://shop.example/again"});
    let (_, account) = call(app, Method::PUT, &path, seller, Some(body)).await;
    let account_id = account["account_id"].as_str().unwrap().to_string();
    reqwest::Client::new()
        .post(format!("{base}/_onboard/{account_id}"))
        .send()
        .await
        .unwrap();
    let (_, active) = call(app, Method::GET, &path, seller, None).await;
    assert_eq!(active["status"], "active");
    let ann = app.user("ann").await;
    let order = shop.order(Some(json!([shop.line(&shop.product, 2)])));
    let (_, order) = place(app, &ann.access, Some("o1"), &order).await;
    let charges = app.url(&format!("/api/v1/orders/{}/charges", id(&order)));
    let pay = json!({"payment_method": "pm_card_visa"});
    let (status, charge) = send(
        &app.client,
        &charges,
        Method::POST,
        Some(&ann.access),
        Some("c1"),
        Some(&pay),
    )
    .await;
    assert_eq!(
        (status, charge["status"].as_str()),
        (StatusCode::CREATED, Some("succeeded")),
        "{charge}"
    );
    // One unit is refunded; the bank keeps the refund pending.
    let refunds = app.url(&format!("/api/v1/stores/{}/refunds", shop.store));
    let refund = json!({"order_id": id(&order), "lines": [{"line_id": "l1", "quantity": 1}], "reason": "damaged"});
    let (status, asked) = send(
        &app.client,
        &refunds,
        Method::POST,
        Some(seller),
        Some("r1"),
        Some(&refund),
    )
    .await;
    assert_eq!(
        (status, asked["status"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "{asked}"
    );
    // Meanwhile the charge's share is unknown: nothing is paid out.
    let payouts = app.url(&format!("/api/v1/stores/{}/payouts", shop.store));
    let (status, held) = send(&app.client, &payouts, Method::POST, Some(seller), Some("k1"), None).await;
    assert_eq!(
        (status, held["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("nothing_payable")),
        "{held}"
    );
    // The refund succeeds; Stripe says so by webhook.
    let refund_id = books.lock().unwrap().refunds.keys().next().cloned().unwrap();
    reqwest::Client::new()
        .post(format!("{base}/_settle/{refund_id}"))
        .send()
        .await
        .unwrap();
    let event = json!({"id": "evt_r1", "object": "event", "type": "refund.updated", "data": {"object": {
        "id": refund_id, "object": "refund", "status": "succeeded", "amount": 1000, "metadata": {"refund_id": asked["id"]}}}})
    .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signature = actors::payments::signature::sign(STRIPE_WEBHOOK_SECRET, now, event.as_bytes()).unwrap();
    let hook = app
        .client
        .post(app.url("/api/v1/payments/webhooks/stripe"))
        .header("Stripe-Signature", signature)
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), StatusCode::OK);
    // Now the share is known: 20.00 − 10.00 refunded, less its 1.00 fee.
    let (status, payout) = send(&app.client, &payouts, Method::POST, Some(seller), Some("k2"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{payout}");
    assert_eq!(
        payout["lines"][0]["charge"],
        json!({"currency": "USD", "share": "10.00", "fee": "1.00", "debt_netted": "0.00", "amount": "9.00"})
    );
}
