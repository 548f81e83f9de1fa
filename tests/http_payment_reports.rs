//! The payment reports over HTTP: a store's sales and the day's
//! reconciliation agree with the charges, refunds and payouts.

use crate::order_shop::*;
use crate::pay_shop::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

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
