use super::*;

const AT: i64 = 1_795_831_200_123; // 2026-11-28T02:00:00.123Z

#[test]
fn validators_come_from_the_content_and_its_time() {
    assert_eq!(
        etag("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        "\"2cf24dba5fb0a30e26e83b2ac5b9e29e\""
    );
    assert_eq!(http_date(AT), "Sat, 28 Nov 2026 02:00:00 GMT");
}

#[test]
fn if_none_match_decides_before_if_modified_since() {
    let tag = "\"abc\"";
    assert!(not_modified(Some("\"abc\""), None, tag, AT));
    assert!(
        not_modified(Some("\"x\", W/\"abc\""), None, tag, AT),
        "weak comparison, any of a list"
    );
    assert!(not_modified(Some("*"), None, tag, AT));
    assert!(
        !not_modified(Some("\"x\""), Some(&http_date(AT)), tag, AT),
        "a tag that differs wins over the date"
    );
    assert!(
        not_modified(None, Some("Sat, 28 Nov 2026 02:00:00 GMT"), tag, AT),
        "the same second"
    );
    assert!(not_modified(None, Some("Sun, 29 Nov 2026 00:00:00 GMT"), tag, AT));
    assert!(!not_modified(None, Some("Sat, 28 Nov 2026 01:59:59 GMT"), tag, AT));
    assert!(!not_modified(None, Some("yesterday"), tag, AT));
    assert!(!not_modified(None, None, tag, AT));
}
