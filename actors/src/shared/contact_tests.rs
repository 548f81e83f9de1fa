use super::*;

#[test]
fn addresses_the_mailer_cannot_send_to_are_refused() {
    assert!(email("ann@example.com").is_ok());
    for bad in [
        "\"a b\"@example.com",
        "a b@example.com",
        "ann@localhost",
        "ann@[127.0.0.1]",
    ] {
        assert!(email(bad).is_err(), "{bad}");
    }
}

#[test]
fn names_refuse_text_direction_tricks() {
    assert_eq!(display_name(" Ann Lee ").unwrap(), "Ann Lee");
    for bad in ["Ann\u{202E}gpj.exe", "Ann\u{2066}x", "Ann\u{200F}", "Ann\u{7}"] {
        assert!(display_name(bad).is_err(), "{bad:?}");
    }
}
