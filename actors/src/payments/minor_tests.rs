use super::*;
use proptest::prelude::*;
use std::str::FromStr;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[test]
fn each_currency_counts_in_its_processor_minor_unit() {
    for (amount, currency, minor) in [
        ("19.99", "USD", 1999),
        ("19.9", "EUR", 1990),
        ("1200", "JPY", 1200),
        ("15000", "KRW", 15000),
        ("25000", "VND", 25000),
        ("1.234", "BHD", 1234),
        ("0.5", "KWD", 500),
        ("300", "TWD", 30000),
        ("0", "GBP", 0),
    ] {
        assert_eq!(to_minor(d(amount), currency).unwrap(), minor, "{amount} {currency}");
        assert_eq!(from_minor(minor, currency), d(amount), "{minor} {currency}");
    }
}

#[test]
fn amounts_between_minor_units_or_negative_are_refused() {
    assert!(to_minor(d("0.001"), "USD").is_err());
    assert!(to_minor(d("1.5"), "JPY").is_err());
    assert!(to_minor(d("0.0001"), "KWD").is_err());
    assert!(to_minor(d("-1"), "USD").is_err());
    assert!(to_minor(Decimal::MAX, "USD").is_err(), "too large");
}

fn currency() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("USD"),
        Just("JPY"),
        Just("KWD"),
        Just("TWD"),
        Just("KRW"),
        Just("BHD")
    ]
}

proptest! {
    /// Every whole number of minor units goes there and back unchanged.
    #[test]
    fn minor_units_round_trip(minor in 0i64..1_000_000_000_000, currency in currency()) {
        prop_assert_eq!(to_minor(from_minor(minor, currency), currency).unwrap(), minor);
    }
}
