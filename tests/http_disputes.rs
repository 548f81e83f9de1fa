//! Disputes over HTTP with the sandbox: a disputed charge is held (no
//! payout, no refund, not even a return's), a lost one is taken back from
//! the store, a won one is paid out; with every webhook lost, the sweep
//! finds them all the same.

use crate::order_shop::*;
use crate::pay_shop::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The sandbox's buyer asks to dispute `amount` of `charge`.
async fn ask_dispute(p: &PayShop, root: &Session, charge: &Value, amount: &str) -> (StatusCode, Value) {
    let body = json!({"processor_payment_id": charge["processor_payment_id"], "amount": amount});
    call(
        p.app(),
        Method::POST,
        "/api/v1/payments/sandbox/disputes",
        &root.access,
        Some(body),
    )
    .await
}

/// [`ask_dispute`], which must open it: the dispute.
async fn open_dispute(p: &PayShop, root: &Session, charge: &Value, amount: &str) -> Value {
    let (status, opened) = ask_dispute(p, root, charge, amount).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    opened
}

/// The sandbox closes `dispute`, won or lost.
async fn close_dispute(p: &PayShop, root: &Session, dispute: &Value, won: bool) -> StatusCode {
    let close = format!(
        "/api/v1/payments/sandbox/disputes/{}/close",
        dispute["id"].as_str().unwrap()
    );
    call(p.app(), Method::POST, &close, &root.access, Some(json!({"won": won})))
        .await
        .0
}

#[tokio::test]
async fn a_dispute_holds_the_charge_a_lost_one_is_taken_back_from_the_store_a_won_one_is_paid_out() {
    let p = PayShop::open_with(10, "payout_hold_days = 0\nfee_rate = \"0.1\"").await;
    let root = p.app().login("root", PASSWORD).await;
    let first = p.order("o1", 2).await;
    let c1 = paid(&p, &first, "c1").await;
    let (status, _) = p.payout("k1").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, opened) = ask_dispute(&p, &root, &c1, "20.00").await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let (status, _) = ask_dispute(&p, &root, &c1, "20.01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "never more than the payment");
    let (status, same) = ask_dispute(&p, &root, &c1, "20.00").await;
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
    assert_eq!(close_dispute(&p, &root, &opened, false).await, StatusCode::OK);
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
    assert_eq!(
        close_dispute(&p, &root, &opened, true).await,
        StatusCode::CONFLICT,
        "a closed dispute stays closed"
    );

    // A disputed charge not yet paid out waits; won, it is paid.
    let second = p.order("o2", 1).await;
    let c2 = paid(&p, &second, "c2").await;
    let (_, opened) = ask_dispute(&p, &root, &c2, "10.00").await;
    let c2_path = format!("/api/v1/charges/{}", c2["id"].as_str().unwrap());
    p.eventually(&c2_path, |c| c["status"] == "disputed").await;
    let held = poll(|_| p.payout("k2"), |v| v.0 == StatusCode::CONFLICT).await;
    assert_eq!(code(&held.1), "nothing_payable", "{}", held.1);
    assert_eq!(close_dispute(&p, &root, &opened, true).await, StatusCode::OK);
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
async fn a_return_approved_while_its_charge_is_disputed_is_refunded_once_the_dispute_closes() {
    let p = PayShop::open_with(10, "payout_hold_days = 0").await;
    let root = p.app().login("root", PASSWORD).await;
    let order = p.order("o1", 2).await;
    let charge = paid(&p, &order, "c1").await;
    let dispute = open_dispute(&p, &root, &charge, "5.00").await;
    let charge_path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    p.eventually(&charge_path, |c| c["status"] == "disputed").await;
    p.approved_return(&order, "ret1", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let refunds_path = format!("/api/v1/orders/{order}/refunds");
    assert_eq!(p.get(&refunds_path).await["items"], json!([]), "held while disputed");
    assert_eq!(close_dispute(&p, &root, &dispute, true).await, StatusCode::OK);
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

#[tokio::test]
async fn disputes_whose_webhooks_are_lost_are_found_by_the_sweep() {
    let p =
        PayShop::open_without_webhooks(10, "payout_hold_days = 0\nfee_rate = \"0.1\"\ndispute_sweep_secs = 1").await;
    let root = p.app().login("root", PASSWORD).await;
    let order = p.order("o1", 2).await;
    let charge = paid(&p, &order, "c1").await;
    let opened = open_dispute(&p, &root, &charge, "20.00").await;
    // No webhook came: the sweep finds the dispute and holds the charge.
    let path = format!("/api/v1/charges/{}", charge["id"].as_str().unwrap());
    p.eventually(&path, |c| c["status"] == "disputed").await;
    let (status, held) = p.payout("k1").await;
    assert_eq!(
        (status, code(&held)),
        (StatusCode::CONFLICT, "nothing_payable"),
        "{held}"
    );
    // Lost, silently too: the next sweep reads the open dispute again and
    // the store's part is taken back.
    assert_eq!(close_dispute(&p, &root, &opened, false).await, StatusCode::OK);
    let closed = p
        .eventually(&path, |c| {
            c["status"] == "succeeded" && c["disputes"][0]["status"] == "lost"
        })
        .await;
    assert!(closed["disputes"][0]["closed_at"].is_string(), "{closed}");
    let listed = format!("/api/v1/stores/{}/disputes", p.shop.store);
    let (_, listed) = call(p.app(), Method::GET, &listed, &p.shop.seller.access, None).await;
    assert_eq!(listed["items"][0]["lost"], true, "{listed}");
    // All of it was lost: the charge is closed out with nothing sent.
    let (status, after) = p.payout("k2").await;
    assert_eq!(status, StatusCode::CREATED, "{after}");
    assert_eq!(
        after["totals"],
        json!([{"currency": "USD", "amount": "0.00"}]),
        "{after}"
    );
    assert_eq!(
        (&after["lines"][0]["refunded"], &after["lines"][0]["transfer_id"]),
        (&json!("20.00"), &Value::Null)
    );
}
