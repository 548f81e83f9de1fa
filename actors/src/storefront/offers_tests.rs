use super::*;

fn values() -> Vec<(String, AttrValue)> {
    vec![
        ("size".into(), AttrValue::Enum("M".into())),
        ("size".into(), AttrValue::Enum("XL".into())),
        ("gift".into(), AttrValue::Boolean(true)),
    ]
}

fn draft(price: &str, charges: &[(&str, &str, &str)]) -> OfferDraft {
    OfferDraft {
        price: price.into(),
        surcharges: charges
            .iter()
            .map(|(a, v, m)| (a.to_string(), v.to_string(), m.to_string()))
            .collect(),
        valid_from: None,
        valid_until: None,
    }
}

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Validation { fields } => fields.into_keys().collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn amounts_respect_the_currency() {
    assert!(amount("19.99", "USD").is_ok());
    assert!(amount("19.999", "USD").unwrap_err().contains("2 decimals"));
    assert!(amount("19.50", "JPY").is_err() && amount("1950", "JPY").is_ok());
    assert!(amount("-1", "USD").is_err() && amount("1e3", "USD").is_err());
    // Bounded, so that no order total can overflow.
    assert!(amount("1000000000", "USD").is_ok());
    assert!(
        amount("1000000000.01", "USD")
            .unwrap_err()
            .contains("at most 1000000000")
    );
    assert!(amount("79228162514264337593543950335", "USD").is_err());
}

#[test]
fn charges_name_values_the_product_has() {
    let ok = Offer::parse(
        "p",
        &draft("10.00", &[("size", "\"XL\"", "2.50"), ("gift", "true", "1")]),
        "USD",
        &values(),
        0,
    )
    .unwrap();
    assert_eq!(ok.surcharges.len(), 2);
    let bad = draft(
        "10.001",
        &[
            ("size", "\"S\"", "1"),
            ("colour", "\"red\"", "1"),
            ("size", "\"XL\"", "-1"),
        ],
    );
    assert_eq!(
        fields(Offer::parse("p", &bad, "USD", &values(), 0).unwrap_err()),
        [
            "attribute_charges[0].value",
            "attribute_charges[1].value",
            "attribute_charges[2].amount",
            "price"
        ]
    );
    let many: Vec<(&str, &str, &str)> = (0..21).map(|_| ("gift", "true", "1")).collect();
    assert!(
        fields(Offer::parse("p", &draft("1", &many), "USD", &values(), 0).unwrap_err())
            .contains(&"attribute_charges".to_string())
    );
}

#[test]
fn validity_windows_bound_an_offer() {
    let mut d = draft("1", &[]);
    d.valid_from = Some(100);
    d.valid_until = Some(200);
    let offer = Offer::parse("p", &d, "USD", &values(), 0).unwrap();
    assert!(!offer.valid_at(99) && offer.valid_at(100) && offer.valid_at(199) && !offer.valid_at(200));
    d.valid_until = Some(100);
    assert_eq!(
        fields(Offer::parse("p", &d, "USD", &values(), 0).unwrap_err()),
        ["valid_until"]
    );
}

fn usd(text: &str) -> Money {
    Money::stored(text, "USD").unwrap()
}

#[test]
fn a_unit_price_adds_the_charges_of_the_chosen_values() {
    let offer = Offer::parse("p", &draft("10.00", &[("size", "\"XL\"", "2.50")]), "USD", &values(), 0).unwrap();
    let chosen = |v: &str| BTreeMap::from([("size".to_string(), v.to_string())]);
    assert_eq!(offer.unit_price(&chosen("XL"), &values(), "USD").unwrap(), usd("12.50"));
    assert_eq!(offer.unit_price(&chosen("M"), &values(), "USD").unwrap(), usd("10.00"));
    assert_eq!(
        fields(offer.unit_price(&chosen("XXL"), &values(), "USD").unwrap_err()),
        ["attr.size"]
    );
}

#[test]
fn a_quote_converts_and_rounds_each_figure_once() {
    let rates = RateSet::parse(
        7,
        "USD",
        &BTreeMap::from([("JPY".to_string(), "151.237".to_string())]),
        0,
    )
    .unwrap();
    let unit = usd("0.335");
    let same = quote(unit, 3, "USD", None).unwrap();
    // 0.335 → 0.34 (half-even); 3 × 0.335 = 1.005 → 1.00, not 3 × 0.34.
    assert_eq!(
        (same.unit_price.as_str(), same.line_total.as_str(), same.rates_id),
        ("0.34", "1.00", None)
    );
    let yen = quote(unit, 3, "JPY", Some(&rates)).unwrap();
    // 0.335 × 151.237 = 50.66… → 51; 1.005 × 151.237 = 151.99… → 152.
    assert_eq!(
        (yen.unit_price.as_str(), yen.line_total.as_str(), yen.rates_id),
        ("51", "152", Some(7))
    );
    assert!(quote(unit, 0, "USD", None).is_err() && quote(unit, 10_001, "USD", None).is_err());
    assert!(quote(unit, 1, "EUR", Some(&rates)).is_err(), "no EUR rate");
    assert!(quote(unit, 1, "JPY", None).is_err(), "no rates published");
}

proptest::proptest! {
    /// Whatever the price and quantity, quoting never panics, and the line
    /// is the rounding of the exact product (never a rounded unit × qty).
    #[test]
    fn quotes_round_the_exact_line(cents in 0i64..10_000_000, scale in 0u32..4, quantity in 1u32..crate::shared::lines::QUANTITY_MAX) {
        let unit = Decimal::new(cents, scale);
        let q = quote(Money::new(unit, Currency::parse("USD").unwrap()), quantity, "USD", None).unwrap();
        let exact = unit * Decimal::from(quantity);
        proptest::prop_assert_eq!(q.line_total, money::format(exact, "USD"));
    }
}

#[test]
fn prices_are_kept_normalised() {
    let offer = Offer::parse("p", &draft("5.", &[("size", "\"XL\"", "02.50")]), "USD", &values(), 0).unwrap();
    assert_eq!(
        (offer.price.as_str(), offer.surcharges[0].amount.as_str()),
        ("5", "2.50")
    );
}
