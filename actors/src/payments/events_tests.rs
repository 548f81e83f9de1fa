use super::*;
use std::collections::BTreeMap;

#[test]
fn every_stripe_payment_status_maps_to_one_of_ours() {
    for (stripe, ours) in [
        ("requires_action", ChargeStatus::RequiresAction),
        ("requires_confirmation", ChargeStatus::Processing),
        ("processing", ChargeStatus::Processing),
        ("requires_capture", ChargeStatus::Authorized),
        ("succeeded", ChargeStatus::Succeeded),
        ("requires_payment_method", ChargeStatus::Failed),
        ("canceled", ChargeStatus::Canceled),
    ] {
        assert_eq!(status_of(stripe), Some(ours), "{stripe}");
    }
    assert_eq!(status_of("exploded"), None);
    assert_eq!(refund_status_of("succeeded"), Some(RefundStatus::Succeeded));
    assert_eq!(refund_status_of("canceled"), Some(RefundStatus::Failed));
    assert_eq!(refund_status_of("pending"), Some(RefundStatus::Pending));
}

#[test]
fn payment_and_refund_events_parse_and_others_are_ignored() {
    let paid =
        br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","status":"succeeded"}}}"#;
    assert_eq!(
        parse(paid).unwrap(),
        Webhook {
            event_id: "evt_1".into(),
            event: Event::Payment {
                id: "pi_1".into(),
                status: ChargeStatus::Succeeded,
                metadata: BTreeMap::new(),
            }
        }
    );
    let refund = br#"{"id":"evt_2","type":"refund.updated","data":{"object":{"id":"re_1","status":"failed"}}}"#;
    assert_eq!(
        parse(refund).unwrap().event,
        Event::Refund {
            id: "re_1".into(),
            status: RefundStatus::Failed,
            metadata: BTreeMap::new(),
        }
    );
    let other = br#"{"id":"evt_3","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#;
    assert_eq!(parse(other).unwrap().event, Event::Other);
}

#[test]
fn malformed_bodies_are_bad_requests() {
    for body in [
        &b"not json"[..],
        br#"{"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","status":"succeeded"}}}"#,
        br#"{"id":"evt_1","data":{"object":{}}}"#,
        br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#,
        br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","status":"weird"}}}"#,
    ] {
        assert_eq!(
            parse(body).unwrap_err().code(),
            "malformed_webhook",
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn what_the_sandbox_sends_parses_back_to_the_same_payment_and_refund() {
    for status in ChargeStatus::ALL {
        assert_eq!(status_of(stripe_status(status)), Some(status), "{status:?}");
        let payment = ProcessorPayment {
            id: "sbx_pi_1".into(),
            status,
            amount_minor: 1_000,
            captured_minor: 0,
            currency: "USD".into(),
            redirect_url: None,
            decline: None,
            metadata: BTreeMap::from([("charge_id".to_string(), "ch_1".to_string())]),
        };
        let parsed = parse(&payment_event("evt_9", &payment)).unwrap();
        assert_eq!(parsed.event_id, "evt_9");
        assert_eq!(
            parsed.event,
            Event::Payment {
                id: "sbx_pi_1".into(),
                status,
                metadata: payment.metadata.clone()
            }
        );
    }
    let refund = ProcessorRefund {
        id: "sbx_re_1".into(),
        payment_id: "sbx_pi_1".into(),
        amount_minor: 300,
        status: RefundStatus::Succeeded,
        metadata: BTreeMap::from([("refund_id".to_string(), "rf_1".to_string())]),
    };
    assert_eq!(
        parse(&refund_event("evt_10", &refund)).unwrap().event,
        Event::Refund {
            id: "sbx_re_1".into(),
            status: RefundStatus::Succeeded,
            metadata: refund.metadata.clone()
        }
    );
}

#[test]
fn account_and_dispute_events_read_as_stripe_sends_them() {
    let account = br#"{"id": "evt_1", "object": "event", "type": "account.updated", "data": {"object": {
        "id": "acct_1", "object": "account", "charges_enabled": true, "payouts_enabled": false,
        "details_submitted": true, "requirements": {"currently_due": ["external_account"], "disabled_reason": "requirements.past_due"},
        "metadata": {"store_id": "s1"}}}}"#;
    let Event::Account(a) = parse(account).unwrap().event else {
        panic!("not an account event")
    };
    assert_eq!((a.id.as_str(), a.metadata["store_id"].as_str()), ("acct_1", "s1"));
    assert!(a.reported.charges_enabled && !a.reported.payouts_enabled && a.reported.details_submitted);
    assert_eq!(a.reported.currently_due, ["external_account"]);
    assert_eq!(a.reported.disabled_reason.as_deref(), Some("requirements.past_due"));
    // What the sandbox sends reads back the same.
    let Event::Account(again) = parse(&account_event("evt_2", &a)).unwrap().event else {
        panic!("not an account event")
    };
    assert_eq!(again, a);
    for kind in ["created", "funds_withdrawn", "funds_reinstated", "closed"] {
        let body = format!(
            r#"{{"id": "evt_3", "type": "charge.dispute.{kind}", "data": {{"object": {{"id": "dp_1", "object": "dispute", "payment_intent": "pi_1", "amount": 500, "status": "needs_response"}}}}}}"#
        );
        assert_eq!(
            parse(body.as_bytes()).unwrap().event,
            Event::Dispute {
                id: "dp_1".into(),
                payment_id: "pi_1".into()
            }
        );
    }
    let nameless = br#"{"id": "evt_4", "type": "account.updated", "data": {"object": {"object": "account"}}}"#;
    assert!(parse(nameless).is_err());
}
