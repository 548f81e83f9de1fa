use super::*;
use crate::payments::model::ChargeStatus;
use serde_json::json;

#[test]
fn payment_intents_read_as_our_payments() {
    let intent = json!({
        "id": "pi_1", "object": "payment_intent", "status": "requires_capture",
        "amount": 2500, "currency": "usd", "metadata": {"charge_id": "ch_1"}
    });
    let p = payment_of(&intent).unwrap();
    assert_eq!(
        (p.status, p.amount_minor, p.captured_minor),
        (ChargeStatus::Authorized, 2500, 0)
    );
    assert_eq!((p.currency.as_str(), p.metadata["charge_id"].as_str()), ("USD", "ch_1"));
    let paid = json!({"id": "pi_1", "status": "succeeded", "amount": 2500, "amount_received": 2000, "currency": "usd"});
    assert_eq!(payment_of(&paid).unwrap().captured_minor, 2000);
    let redirect = json!({"id": "pi_2", "status": "requires_action", "amount": 1,
        "next_action": {"type": "redirect_to_url", "redirect_to_url": {"url": "https://hooks.example/3ds"}}});
    assert_eq!(
        payment_of(&redirect).unwrap().redirect_url.as_deref(),
        Some("https://hooks.example/3ds")
    );
    let declined = json!({"id": "pi_3", "status": "requires_payment_method", "amount": 1,
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds", "message": "no"}});
    let d = payment_of(&declined).unwrap();
    assert_eq!(
        (d.status, d.decline.unwrap().code.as_str()),
        (ChargeStatus::Failed, "insufficient_funds")
    );
    assert!(payment_of(&json!({"id": "pi_4", "status": "exploded"})).is_err());
    let refund = json!({"id": "re_1", "payment_intent": "pi_1", "amount": 500, "status": "pending", "metadata": {"refund_id": "rf_1"}});
    let r = refund_of(&refund).unwrap();
    assert_eq!(
        (r.status, r.amount_minor, r.metadata["refund_id"].as_str()),
        (RefundStatus::Pending, 500, "rf_1")
    );
}

#[test]
fn stripe_errors_map_to_final_refusals_or_unknown_outcomes() {
    let card = json!({"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "declined"}});
    assert!(matches!(error_of(402, &card), ProcessorError::Refused { code, .. } if code == "generic_decline"));
    let idem = json!({"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters"}});
    assert!(matches!(error_of(400, &idem), ProcessorError::Refused { code, .. } if code == "idempotency_error"));
    for status in [409, 429, 500, 502, 503, 401] {
        assert!(
            matches!(error_of(status, &json!({})), ProcessorError::Unknown(_)),
            "{status}"
        );
    }
    let missing = json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such payment_intent"}});
    assert!(matches!(error_of(404, &missing), ProcessorError::Refused { code, .. } if code == "resource_missing"));
}

#[tokio::test]
async fn raw_card_numbers_and_bad_ids_never_leave_the_process() {
    // Nothing listens here: a request that went out would be `Unknown`.
    let stripe = Stripe::new("http://127.0.0.1:9", Secret::new("sk_test_x"));
    let raw = CreatePayment {
        amount_minor: 100,
        currency: "USD".into(),
        idempotency_key: "k".into(),
        payment_method: "4242 4242 4242 4242".into(),
        capture: CaptureMode::Automatic,
        metadata: BTreeMap::new(),
    };
    assert!(
        matches!(stripe.create(raw).await, Err(ProcessorError::Refused { code, .. }) if code == "raw_card_refused")
    );
    assert!(matches!(
        stripe.get("pi_1/../x").await,
        Err(ProcessorError::Refused { .. })
    ));
    assert!(matches!(stripe.get("pi_1").await, Err(ProcessorError::Unknown(_))));
}
