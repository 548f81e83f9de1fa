use super::*;

const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
const NOW: i64 = 1_800_000_000;

fn secrets(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_signed_webhook_is_genuine_under_either_secret_during_a_rotation() {
    let header = sign("whsec_new", NOW, BODY).unwrap();
    assert!(verify(Some(&header), BODY, &secrets(&["whsec_new"]), NOW).is_ok());
    assert!(verify(Some(&header), BODY, &secrets(&["whsec_old", "whsec_new"]), NOW + 10).is_ok());
    // A header with several v1 tags (the sender signing with both).
    let old = sign("whsec_old", NOW, BODY).unwrap();
    let v1_old = old.split(",v1=").nth(1).unwrap();
    let both = format!("{header},v1={v1_old}");
    assert!(verify(Some(&both), BODY, &secrets(&["whsec_old"]), NOW).is_ok());
}

#[test]
fn missing_malformed_stale_or_wrong_signatures_are_refused() {
    let header = sign("whsec_1", NOW, BODY).unwrap();
    let code = |r: Result<()>| r.unwrap_err().code().to_string();
    assert_eq!(
        code(verify(None, BODY, &secrets(&["whsec_1"]), NOW)),
        "invalid_signature"
    );
    assert_eq!(
        code(verify(Some("v1=abcd"), BODY, &secrets(&["whsec_1"]), NOW)),
        "invalid_signature"
    );
    assert_eq!(
        code(verify(Some("t=1"), BODY, &secrets(&["whsec_1"]), NOW)),
        "invalid_signature"
    );
    assert!(verify(Some(&header), BODY, &secrets(&["whsec_1"]), NOW + TOLERANCE_SECS).is_ok());
    let stale = verify(Some(&header), BODY, &secrets(&["whsec_1"]), NOW + TOLERANCE_SECS + 1);
    assert!(stale.unwrap_err().to_string().contains("too old"));
    assert!(
        verify(Some(&header), BODY, &secrets(&["whsec_2"]), NOW).is_err(),
        "another secret"
    );
    assert!(
        verify(Some(&header), b"{}", &secrets(&["whsec_1"]), NOW).is_err(),
        "another body"
    );
    let err = verify(Some(&header), BODY, &secrets(&["whsec_2"]), NOW).unwrap_err();
    assert!(!err.to_string().contains("whsec"), "no secret in the error");
}
