use super::*;
use proptest::prelude::*;

const NOW: Millis = 1_800_000_000_000;
const EVERY: Millis = 60_000;
const AUTH: Millis = 7 * 86_400_000;

fn intent(currency: &str, amount: &str) -> Intent {
    Intent {
        charge_id: "ch_1".into(),
        order_id: "ord_1".into(),
        buyer: "u".into(),
        stores: vec!["s1".into()],
        lines: vec![
            ChargeLine {
                line_id: "l1".into(),
                quantity: 2,
            },
            ChargeLine {
                line_id: "l2".into(),
                quantity: 1,
            },
        ],
        amount: amount.into(),
        currency: currency.into(),
        unit_prices: BTreeMap::from([
            ("l1".to_string(), "2.50".to_string()),
            ("l2".to_string(), "5.00".to_string()),
        ]),
        payment_method: "pm_card_visa".into(),
        processor: "sandbox".into(),
        capture: CaptureMode::Automatic,
        return_url: None,
        created_at: NOW,
    }
}

fn charge() -> Charge {
    Charge::new(intent("USD", "10.00"), NOW, EVERY, AUTH).unwrap()
}

fn payment(status: ChargeStatus, captured: i64) -> ProcessorPayment {
    ProcessorPayment {
        id: "pi_1".into(),
        status,
        amount_minor: 1_000,
        captured_minor: captured,
        currency: "USD".into(),
        redirect_url: (status == ChargeStatus::RequiresAction).then(|| "/auth/pi_1".to_string()),
        decline: None,
        metadata: BTreeMap::new(),
    }
}

#[test]
fn the_request_is_fixed_with_the_intent_in_minor_units_under_one_key() {
    let c = charge();
    assert_eq!(c.request.amount_minor, 1_000);
    assert_eq!(c.request.idempotency_key, "charge:ch_1");
    assert_eq!(c.request.metadata["charge_id"], "ch_1");
    assert_eq!(c.request.metadata["order_id"], "ord_1");
    assert!(c.must_send() && c.has_steps());
    assert_eq!(c.next_check, Some(NOW + RETRY_FIRST));
    let yen = Charge::new(intent("JPY", "1500"), NOW, EVERY, AUTH).unwrap();
    assert_eq!(yen.request.amount_minor, 1_500);
}

#[test]
fn the_first_answer_sets_the_status_and_later_ones_only_move_it_forward() {
    let waiting = charge().observe(&payment(ChargeStatus::RequiresAction, 0), NOW);
    assert_eq!(waiting.status, ChargeStatus::RequiresAction);
    assert_eq!(waiting.processor_payment_id.as_deref(), Some("pi_1"));
    assert_eq!(waiting.redirect_url.as_deref(), Some("/auth/pi_1"));
    assert!(!waiting.must_send());
    let paid = waiting.observe(&payment(ChargeStatus::Succeeded, 1_000), NOW + 5);
    assert_eq!(
        (paid.status, paid.captured_minor, paid.redirect_url.as_deref()),
        (ChargeStatus::Succeeded, 1_000, None)
    );
    assert_eq!(paid.updated_at, NOW + 5);
    // A late report of an earlier state changes nothing.
    let late = paid.observe(&payment(ChargeStatus::RequiresAction, 0), NOW + 9);
    assert_eq!(late, paid);
    assert!(paid.must_tell_order() && paid.must_tell_ledger());
    // A failure without a decline still says why.
    let failed = charge().observe(&payment(ChargeStatus::Failed, 0), NOW);
    assert_eq!(failed.failure.unwrap().code, "payment_failed");
}

#[test]
fn an_unknown_outcome_is_sent_again_and_a_refusal_fails_the_charge() {
    let unknown = charge().send_failed(&ProcessorError::Unknown("timeout".into()), NOW);
    assert_eq!(unknown.sent, Sent::Unknown);
    assert!(unknown.must_send());
    assert_eq!(unknown.request, charge().request, "the same request, the same key");
    let refused = ProcessorError::Refused {
        code: "payment_method_unknown".into(),
        message: "no".into(),
    };
    let failed = charge().send_failed(&refused, NOW);
    assert_eq!((failed.status, failed.sent), (ChargeStatus::Failed, Sent::Answered));
    assert_eq!(failed.failure.unwrap().code, "payment_method_unknown");
}

#[test]
fn events_are_remembered_so_each_applies_once() {
    let mut c = charge();
    for i in 0..EVENTS_KEPT + 10 {
        c = c.with_event(&format!("evt_{i}"));
    }
    assert_eq!(c.events.len(), EVENTS_KEPT);
    assert!(c.seen(&format!("evt_{}", EVENTS_KEPT + 9)) && !c.seen("evt_0"));
    assert_eq!(c.clone().with_event("evt_70"), c);
}

#[test]
fn what_the_order_could_not_take_is_refunded_all_or_in_part() {
    let paid = charge().observe(&payment(ChargeStatus::Succeeded, 1_000), NOW);
    let taken = paid.order_told(2, &[]).unwrap();
    assert!(taken.told_order == Some(2) && taken.auto_refund.is_none());
    let expired = |line: &str| (line.to_string(), "line is expired".to_string());
    let all = paid.order_told(2, &[expired("l1"), expired("l2")]).unwrap();
    assert_eq!(all.auto_refund.as_ref().unwrap().amount_minor, 1_000);
    assert!(all.must_refund() && all.auto_refund.as_ref().unwrap().reason.contains("l1: line is expired"));
    let part = paid.order_told(2, &[expired("l2")]).unwrap();
    assert_eq!(part.auto_refund.as_ref().unwrap().amount_minor, 500);
    let done = all.refunded(ProcessorRefund {
        id: "re_1".into(),
        payment_id: "pi_1".into(),
        amount_minor: 1_000,
        status: RefundStatus::Succeeded,
        metadata: BTreeMap::new(),
    });
    assert!(!done.must_refund());
    assert_eq!(done.auto_refund_key(), "auto-refund:ch_1");
}

#[test]
fn the_alarm_retries_steps_with_backoff_sweeps_open_charges_and_forgets_settled_ones() {
    let mut c = charge();
    c.retries = 3;
    assert_eq!(c.clone().scheduled(NOW, EVERY).next_check, Some(NOW + 4 * RETRY_FIRST));
    c.retries = 30;
    assert_eq!(c.clone().scheduled(NOW, EVERY).next_check, Some(NOW + RETRY_MAX));
    let mut waiting = charge().observe(&payment(ChargeStatus::RequiresAction, 0), NOW);
    waiting.told_ledger = Some(ChargeStatus::RequiresAction);
    assert_eq!(waiting.scheduled(NOW, EVERY).next_check, Some(NOW + EVERY));
    let mut done = charge().observe(&payment(ChargeStatus::Failed, 0), NOW);
    done.told_ledger = Some(ChargeStatus::Failed);
    assert_eq!(done.scheduled(NOW, EVERY).next_check, None);
}

fn status() -> impl Strategy<Value = ChargeStatus> {
    proptest::sample::select(ChargeStatus::ALL.to_vec())
}

proptest! {
    /// Whatever the processor reports, in whatever order: after the first
    /// answer the status never goes back and a final one is never left.
    #[test]
    fn reports_in_any_order_only_move_a_charge_forward(reports in proptest::collection::vec(status(), 1..12)) {
        let mut c = charge();
        let mut previous: Option<ChargeStatus> = None;
        for reported in reports {
            c = c.observe(&payment(reported, 0), NOW);
            if let Some(before) = previous {
                prop_assert!(c.status.rank() >= before.rank());
                if before.is_final() {
                    prop_assert_eq!(c.status, before);
                }
            }
            previous = Some(c.status);
        }
    }
}

#[test]
fn the_order_learns_paid_held_captured_and_unpaid_again_in_that_order() {
    assert_eq!(charge().order_update(), None, "nothing before an answer");
    let held = charge().observe(&payment(ChargeStatus::Authorized, 0), NOW);
    let update = held.order_update().unwrap();
    assert_eq!((update.version, update.captured, update.paid["l1"]), (1, false, 2));
    assert!(held.must_tell_order());
    let told = held.order_told(1, &[]).unwrap();
    assert!(!told.must_tell_order());
    let captured = told.observe(&payment(ChargeStatus::Succeeded, 1_000), NOW);
    assert_eq!(
        captured.order_update().map(|u| (u.version, u.captured)),
        Some((2, true))
    );
    assert!(captured.must_tell_order());
    let voided = told.observe(&payment(ChargeStatus::Canceled, 0), NOW);
    let update = voided.order_update().unwrap();
    assert_eq!((update.version, update.paid["l1"], update.paid["l2"]), (3, 0, 0));
    // A charge that never paid has nothing to tell.
    let failed = charge().observe(&payment(ChargeStatus::Failed, 0), NOW);
    assert!(!failed.must_tell_order());
}

#[test]
fn an_authorization_is_captured_by_a_shipment_voided_by_a_cancel_or_when_its_time_is_up() {
    use crate::orders::fixtures::order;
    let held = charge()
        .observe(&payment(ChargeStatus::Authorized, 0), NOW)
        .order_told(1, &[])
        .unwrap();
    let mut o = order();
    for line in &mut o.lines {
        line.status = LineStatus::Paid;
    }
    assert_eq!(held.authorization_step(&o, NOW), None);
    o.lines[1].status = LineStatus::Shipped;
    assert_eq!(
        held.authorization_step(&o, NOW),
        Some(AuthorizationStep::Capture(1_000))
    );
    o.lines[1].status = LineStatus::Paid;
    let mut cancelled = o.clone();
    cancelled.cancelled = true;
    assert!(matches!(
        held.authorization_step(&cancelled, NOW),
        Some(AuthorizationStep::Void(_))
    ));
    assert!(
        matches!(held.authorization_step(&o, NOW + AUTH), Some(AuthorizationStep::Void(r)) if r.contains("in time"))
    );
    // Its alarm: every sweep, and when its time is up.
    let mut quiet = held.clone();
    quiet.told_ledger = Some(ChargeStatus::Authorized);
    assert_eq!(quiet.clone().scheduled(NOW, EVERY).next_check, Some(NOW + EVERY));
    assert_eq!(
        quiet.clone().scheduled(NOW + AUTH - 5, EVERY).next_check,
        Some(NOW + AUTH)
    );
    assert_eq!(
        quiet.scheduled(NOW + AUTH, EVERY).next_check,
        Some(NOW + AUTH),
        "due at once"
    );
    // Lines the order could not take are never captured: all of them, a void.
    let expired = |line: &str| (line.to_string(), "line is expired".to_string());
    let part = charge()
        .observe(&payment(ChargeStatus::Authorized, 0), NOW)
        .order_told(1, &[expired("l2")])
        .unwrap();
    assert!(part.auto_refund.is_none());
    assert_eq!(
        part.authorization_step(
            &{
                let mut shipped = o.clone();
                shipped.lines[0].status = LineStatus::Shipped;
                shipped
            },
            NOW
        ),
        Some(AuthorizationStep::Capture(500))
    );
    let none = charge()
        .observe(&payment(ChargeStatus::Authorized, 0), NOW)
        .order_told(1, &[expired("l1"), expired("l2")])
        .unwrap();
    assert!(matches!(
        none.authorization_step(&o, NOW),
        Some(AuthorizationStep::Void(_))
    ));
}

#[test]
fn striking_the_order_and_ledger_steps_is_bookkeeping_but_a_refund_decision_is_not() {
    let paid = charge().observe(&payment(ChargeStatus::Succeeded, 1_000), NOW);
    let mut told = paid.order_told(2, &[]).unwrap();
    told.told_ledger = Some(ChargeStatus::Succeeded);
    assert!(told.only_struck_from(&paid));
    assert!(!paid.only_struck_from(&told), "steps put back are not struck");
    let expired = ("l1".to_string(), "line is expired".to_string());
    let refunding = paid.order_told(2, &[expired]).unwrap();
    assert!(!refunding.only_struck_from(&paid));
    assert!(!paid.only_struck_from(&charge()), "an answer from the processor");
}
