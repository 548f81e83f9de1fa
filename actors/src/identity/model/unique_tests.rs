use super::*;

const T0: Millis = 1_000_000;

fn claim(owner: &str) -> KeyRequest {
    KeyRequest::Claim { owner: owner.into() }
}

#[test]
fn a_key_is_granted_once_and_again_only_to_its_owner() {
    let (change, answer) = decide(None, claim("u1"), T0);
    let KeyChange::Put(owned) = change else {
        panic!("{change:?}")
    };
    assert_eq!(
        (answer, owned.owner.as_str(), owned.confirmed),
        (KeyAnswer::Granted, "u1", false)
    );
    assert_eq!(
        decide(Some(&owned), claim("u1"), T0 + 1),
        (KeyChange::Keep, KeyAnswer::Granted)
    );
    assert_eq!(
        decide(Some(&owned), claim("u2"), T0 + 1),
        (KeyChange::Keep, KeyAnswer::Owned(owned.clone()))
    );
    let (confirmed, _) = decide(Some(&owned), KeyRequest::Confirm { owner: "u1".into() }, T0 + 2);
    let KeyChange::Put(confirmed) = confirmed else { panic!() };
    assert!(confirmed.confirmed);
    let foreign = decide(Some(&confirmed), KeyRequest::Release { owner: "u2".into() }, T0);
    assert_eq!(foreign.0, KeyChange::Keep, "only the owner releases");
    let released = decide(Some(&confirmed), KeyRequest::Release { owner: "u1".into() }, T0);
    assert_eq!(released, (KeyChange::Delete, KeyAnswer::Free));
    assert_eq!(decide(None, KeyRequest::Get, T0), (KeyChange::Keep, KeyAnswer::Free));
}

#[test]
fn only_a_stale_unconfirmed_claim_by_the_expected_owner_is_taken_over() {
    let stale = KeyOwner {
        owner: "ghost".into(),
        confirmed: false,
        since: T0,
    };
    let take = |expected: &str| KeyRequest::TakeOver {
        expected: expected.into(),
        owner: "u2".into(),
    };
    let early = decide(Some(&stale), take("ghost"), T0 + STALE_CLAIM_AFTER - 1);
    assert_eq!(early.0, KeyChange::Keep, "not stale yet");
    assert_eq!(
        decide(Some(&stale), take("other"), T0 + STALE_CLAIM_AFTER).0,
        KeyChange::Keep
    );
    let (change, answer) = decide(Some(&stale), take("ghost"), T0 + STALE_CLAIM_AFTER);
    assert!(matches!(change, KeyChange::Put(ref o) if o.owner == "u2") && answer == KeyAnswer::Granted);
    let confirmed = KeyOwner {
        confirmed: true,
        ..stale
    };
    assert_eq!(
        decide(Some(&confirmed), take("ghost"), T0 + 100 * STALE_CLAIM_AFTER).0,
        KeyChange::Keep,
        "a confirmed key is never taken over"
    );
}
