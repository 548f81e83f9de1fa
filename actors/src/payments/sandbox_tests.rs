use super::*;
use crate::payments::events::{self, Event};
use crate::runtime::{Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables};
use std::collections::BTreeMap;
use tokio::sync::mpsc;

fn request(key: &str, method: &str, capture: CaptureMode) -> CreatePayment {
    CreatePayment {
        amount_minor: 2_500,
        currency: "USD".into(),
        idempotency_key: key.into(),
        payment_method: method.into(),
        capture,
        metadata: BTreeMap::from([("charge_id".to_string(), "ch_1".to_string())]),
    }
}

fn refund(payment: &str, amount: i64, key: &str) -> CreateRefund {
    CreateRefund {
        payment_id: payment.into(),
        amount_minor: amount,
        idempotency_key: key.into(),
        metadata: BTreeMap::new(),
    }
}

/// A sandbox on a runtime of its own (with its connected accounts), and
/// the webhooks it sends.
pub(crate) async fn sandbox_at(url: &str) -> (Sandbox, Runtime, mpsc::UnboundedReceiver<Vec<u8>>) {
    let (outbox, webhooks) = mpsc::unbounded_channel();
    let builder = RuntimeBuilder::new(
        Storage::temporary(4).unwrap(),
        Tunables::default(),
        RuntimeMetrics::default(),
    );
    let context = builder.context();
    let runtime = builder
        .register(Arc::new(SandboxEntity {
            outbox: Some(outbox.clone()),
        }))
        .register(Arc::new(crate::payments::sandbox_accounts::SandboxAccounts {
            outbox: Some(outbox),
            context: context.clone(),
        }))
        .start()
        .await
        .unwrap();
    let clock = Arc::new(crate::ports::ManualClock::at(1_000_000));
    (
        Sandbox::new(context, url, "http://127.0.0.1/accounts", clock),
        runtime,
        webhooks,
    )
}

#[test]
fn stripes_test_methods_and_raw_numbers_behave_as_their_names_say() {
    assert_eq!(behaviour("pm_card_visa"), Some(Behaviour::Succeeds));
    assert_eq!(behaviour("4242424242424242"), Some(Behaviour::Succeeds));
    assert_eq!(behaviour("pm_card_chargeDeclined"), Some(Behaviour::Declined));
    assert_eq!(behaviour("4000000000000002"), Some(Behaviour::Declined));
    assert_eq!(
        behaviour("pm_card_authenticationRequired"),
        Some(Behaviour::NeedsAuthentication)
    );
    assert_eq!(behaviour("4000000000003220"), Some(Behaviour::NeedsAuthentication));
    assert_eq!(behaviour("4242"), None);
    assert_eq!(behaviour("pm_card_unknown"), None);
}

#[tokio::test]
async fn one_key_creates_exactly_one_payment_however_often_it_is_sent() {
    let (sandbox, _runtime, mut webhooks) = sandbox_at("http://127.0.0.1/api/v1/payments/sandbox/authenticate").await;
    let first = sandbox
        .create(request("k1", "pm_card_visa", CaptureMode::Automatic))
        .await
        .unwrap();
    assert_eq!((first.status, first.captured_minor), (ChargeStatus::Succeeded, 2_500));
    for _ in 0..3 {
        let again = sandbox
            .create(request("k1", "pm_card_visa", CaptureMode::Automatic))
            .await
            .unwrap();
        assert_eq!(again, first);
    }
    assert_eq!(sandbox.created_for("k1").await.unwrap(), 1);
    assert_eq!(sandbox.created_for("k2").await.unwrap(), 0);
    let announced = events::parse(&webhooks.recv().await.unwrap()).unwrap();
    assert!(
        matches!(&announced.event, Event::Payment { id, status: ChargeStatus::Succeeded, metadata } if *id == first.id && metadata["charge_id"] == "ch_1"),
        "{announced:?}"
    );
    assert!(webhooks.try_recv().is_err(), "one event: replays change nothing");
    assert_eq!(sandbox.get(&first.id).await.unwrap(), first);
    assert_eq!(first.metadata["charge_id"], "ch_1");
}

#[tokio::test]
async fn declines_authentication_and_unknown_methods() {
    let (sandbox, _runtime, _) = sandbox_at("http://127.0.0.1/auth/").await;
    let declined = sandbox
        .create(request("d", "pm_card_chargeDeclined", CaptureMode::Automatic))
        .await
        .unwrap();
    assert_eq!(declined.status, ChargeStatus::Failed);
    assert_eq!(declined.decline.unwrap().code, "card_declined");
    let waiting = sandbox
        .create(request("a", "pm_card_authenticationRequired", CaptureMode::Automatic))
        .await
        .unwrap();
    assert_eq!(waiting.status, ChargeStatus::RequiresAction);
    assert_eq!(
        waiting.redirect_url.as_deref(),
        Some(format!("http://127.0.0.1/auth/{}", waiting.id).as_str())
    );
    let done = sandbox.authenticate(&waiting.id, true).await.unwrap();
    assert_eq!((done.status, done.redirect_url), (ChargeStatus::Succeeded, None));
    assert!(sandbox.authenticate(&waiting.id, true).await.is_err(), "once");
    let other = sandbox
        .create(request("b", "4000000000003220", CaptureMode::Automatic))
        .await
        .unwrap();
    let failed = sandbox.authenticate(&other.id, false).await.unwrap();
    assert_eq!(failed.decline.unwrap().code, "authentication_failed");
    let unknown = sandbox
        .create(request("u", "pm_card_bogus", CaptureMode::Automatic))
        .await;
    assert!(matches!(unknown, Err(ProcessorError::Refused { code, .. }) if code == "payment_method_unknown"));
    assert_eq!(sandbox.created_for("u").await.unwrap(), 0, "nothing created");
}

#[tokio::test]
async fn an_authorization_is_captured_in_part_or_cancelled_and_refunds_never_exceed_the_capture() {
    let (sandbox, _runtime, _) = sandbox_at("http://127.0.0.1/auth").await;
    let held = sandbox
        .create(request("h", "pm_card_visa", CaptureMode::Manual))
        .await
        .unwrap();
    assert_eq!((held.status, held.captured_minor), (ChargeStatus::Authorized, 0));
    assert!(
        sandbox.capture(&held.id, Some(3_000), "c").await.is_err(),
        "more than authorized"
    );
    let captured = sandbox.capture(&held.id, Some(2_000), "c").await.unwrap();
    assert_eq!(
        (captured.status, captured.captured_minor),
        (ChargeStatus::Succeeded, 2_000)
    );
    assert!(
        sandbox.cancel(&held.id, "x").await.is_err(),
        "a captured payment is not cancelled"
    );
    let r1 = sandbox.refund(refund(&held.id, 1_500, "r1")).await.unwrap();
    assert_eq!(
        sandbox.refund(refund(&held.id, 1_500, "r1")).await.unwrap(),
        r1,
        "the same key, the same refund"
    );
    assert!(
        sandbox.refund(refund(&held.id, 501, "r2")).await.is_err(),
        "over what is left"
    );
    let r2 = sandbox.refund(refund(&held.id, 500, "r2")).await.unwrap();
    assert_eq!(
        sandbox.get_refund(&r2.id).await.unwrap().status,
        RefundStatus::Succeeded
    );
    let other = sandbox
        .create(request("v", "pm_card_visa", CaptureMode::Manual))
        .await
        .unwrap();
    let voided = sandbox.cancel(&other.id, "x").await.unwrap();
    assert_eq!(voided.status, ChargeStatus::Canceled);
    assert!(sandbox.capture(&other.id, None, "c").await.is_err(), "a void is final");
}
