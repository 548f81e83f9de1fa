use super::*;
use proptest::prelude::*;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn rates() -> RateSet {
    let rates = BTreeMap::from([
        ("EUR".to_string(), "0.9".to_string()),
        ("JPY".to_string(), "150".to_string()),
        ("TWD".to_string(), "32.5".to_string()),
    ]);
    RateSet::parse(1, "usd", &rates, 0).unwrap()
}

#[test]
fn amounts_are_decimal_strings_only() {
    assert_eq!(decimal("19.99").unwrap(), d("19.99"));
    for bad in ["", "1e3", "12,5", "abc", "1.2.3"] {
        assert!(decimal(bad).is_err(), "{bad}");
    }
}

#[test]
fn rounding_is_half_even_to_the_minor_unit() {
    assert_eq!(round(d("2.345"), "USD"), d("2.34"));
    assert_eq!(round(d("2.355"), "USD"), d("2.36"));
    assert_eq!(round(d("2.5"), "JPY"), d("2"));
    assert_eq!(round(d("3.5"), "JPY"), d("4"));
    assert_eq!(format(d("5"), "USD"), "5.00");
    assert_eq!(format(d("1234.5"), "JPY"), "1234");
}

#[test]
fn rate_sets_are_checked_and_include_their_base() {
    let set = rates();
    assert_eq!((set.base.as_str(), set.rates["USD"].as_str()), ("USD", "1"));
    let bad = BTreeMap::from([
        ("XYZ".to_string(), "1".to_string()),
        ("EUR".to_string(), "-2".to_string()),
    ]);
    let err = RateSet::parse(1, "ABC", &bad, 0).unwrap_err();
    let Error::Validation { fields } = err else { panic!() };
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["base", "rates.EUR", "rates.XYZ"]);
    assert!(RateSet::parse(1, "USD", &BTreeMap::new(), 0).is_err());
    for (rate, ok) in [
        ("0.000001", true),
        ("1000000", true),
        ("0.0000009", false),
        ("1000000.1", false),
    ] {
        let one = BTreeMap::from([("EUR".to_string(), rate.to_string())]);
        assert_eq!(RateSet::parse(1, "USD", &one, 0).is_ok(), ok, "rate {rate}");
    }
}

fn usd() -> Currency {
    Currency::parse("usd").unwrap()
}

#[test]
fn currencies_are_known_codes_and_stored_ones_must_read() {
    assert_eq!((usd().code(), usd().minor_unit()), ("USD", 2));
    assert_eq!(Currency::parse(" jpy ").unwrap().minor_unit(), 0);
    assert!(Currency::parse("XXX").is_err());
    assert!(
        matches!(Currency::stored("usd"), Err(Error::Internal(_))),
        "stored codes are exact"
    );
}

#[test]
fn prices_are_bounded_decimals_of_the_currency() {
    assert_eq!(Money::price("19.9", usd()).unwrap().to_string(), "19.90");
    assert!(Money::price("1000000000", usd()).is_ok());
    for bad in ["1000000000.01", "-0.01", "0.001", "1e3", ""] {
        assert!(Money::price(bad, usd()).is_err(), "{bad}");
    }
    assert!(Money::price("1.5", Currency::parse("JPY").unwrap()).is_err());
}

#[test]
fn money_arithmetic_is_checked() {
    let max = Money::new(Decimal::MAX, usd());
    assert!(
        max.checked_add(Money::new(d("1"), usd())).is_err(),
        "overflow is an error"
    );
    assert!(max.times(2).is_err());
    let eur = Money::new(d("1"), Currency::parse("EUR").unwrap());
    assert!(matches!(
        Money::new(d("1"), usd()).checked_add(eur),
        Err(Error::Internal(_))
    ));
    let parts = [d("0.335"), d("0.335"), d("0.335")].map(|a| Money::new(a, usd()));
    let total = Money::sum(parts, usd()).unwrap();
    assert_eq!(
        (total.amount(), total.to_string()),
        (d("1.005"), "1.00".to_string()),
        "rounded once"
    );
    assert_eq!(Money::sum([], usd()).unwrap().to_string(), "0.00");
    assert_eq!(
        Money::stored("2.50", "USD")
            .unwrap()
            .times(3)
            .unwrap()
            .rounded()
            .amount(),
        d("7.50")
    );
    assert!(matches!(Money::stored("2,50", "USD"), Err(Error::Internal(_))));
}

#[test]
fn conversion_goes_through_the_base_and_rounds_once() {
    let set = rates();
    assert_eq!(set.convert(d("10"), "USD", "TWD").unwrap(), d("325.00"));
    assert_eq!(
        set.convert(d("10"), "EUR", "JPY").unwrap(),
        d("1667"),
        "10 / 0.9 * 150 = 1666.67 → 1667"
    );
    assert_eq!(set.convert(d("1.005"), "USD", "USD").unwrap(), d("1.00"), "half-even");
    assert!(
        set.convert(d("1"), "USD", "GBP")
            .unwrap_err()
            .to_string()
            .contains("validation")
    );
    assert!(
        set.convert(Decimal::MAX, "USD", "JPY").is_err(),
        "overflow is an error, not a panic"
    );
}

proptest! {
    /// Rounding a total once can differ from adding separately rounded
    /// parts; we always round once, so the result is the total's rounding.
    #[test]
    fn a_total_is_rounded_once(cents in proptest::collection::vec(0i64..1_000_000, 1..20), scale in 3u32..6) {
        let parts: Vec<Decimal> = cents.iter().map(|c| Decimal::new(*c, scale)).collect();
        let total: Decimal = parts.iter().copied().sum();
        let once = round(total, "USD");
        prop_assert_eq!(once.scale().min(2), once.scale());
        prop_assert!((once - total).abs() <= d("0.005"));
    }

    /// Converting never panics, whatever the amount.
    #[test]
    fn conversion_never_panics(mantissa in any::<i64>(), scale in 0u32..20) {
        let _ = rates().convert(Decimal::new(mantissa, scale), "EUR", "JPY");
    }
}
