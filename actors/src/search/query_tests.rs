use super::*;

fn parse(params: &[(&str, &str)]) -> Result<SearchQuery> {
    let pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    SearchQuery::parse(&pairs)
}

fn fields_of(e: Error) -> Vec<String> {
    match e {
        Error::Validation { fields } => fields.into_keys().collect(),
        other => panic!("not a field error: {other:?}"),
    }
}

#[test]
fn defaults_sort_by_relevance_with_words_and_newest_without() {
    let q = parse(&[("q", "lamp")]).unwrap();
    assert_eq!(
        (q.sort, q.limit, q.currency.as_str()),
        (Sort::Relevance, LIMIT_DEFAULT, "USD")
    );
    assert_eq!(parse(&[]).unwrap().sort, Sort::Newest);
    assert_eq!(parse(&[("sort", "price_desc")]).unwrap().sort, Sort::PriceDesc);
}

#[test]
fn every_parameter_is_read() {
    let q = parse(&[
        ("q", " red lamp "),
        ("tag", "t1"),
        ("store", "s1"),
        ("attr.size", "40..44"),
        ("attr.color", "Red"),
        ("attr.width", "5.50"),
        ("min_price", "1.5"),
        ("max_price", "20"),
        ("currency", "eur"),
        ("limit", "5"),
    ])
    .unwrap();
    assert_eq!(q.text, "red lamp");
    assert_eq!((q.tag.as_deref(), q.store.as_deref()), (Some("t1"), Some("s1")));
    assert_eq!(q.currency, "EUR");
    assert_eq!(
        (q.min_price.as_deref(), q.max_price.as_deref()),
        (Some("1.5"), Some("20"))
    );
    assert_eq!(
        q.attributes,
        vec![
            AttrFilter::Range {
                attribute: "size".into(),
                min: Some(40.0),
                max: Some(44.0)
            },
            AttrFilter::Equals {
                attribute: "color".into(),
                value: "red".into()
            },
            AttrFilter::Equals {
                attribute: "width".into(),
                value: "5.5".into()
            },
        ]
    );
    assert!(q.needs_price());
}

#[test]
fn bad_parameters_are_named() {
    let e = parse(&[
        ("sort", "cheapest"),
        ("limit", "0"),
        ("currency", "XXX"),
        ("min_price", "-1"),
        ("attr.size", "9..3"),
        ("colour", "red"),
        ("cursor", "nonsense"),
    ])
    .unwrap_err();
    let mut fields = fields_of(e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "attr.size",
            "colour",
            "currency",
            "cursor",
            "limit",
            "min_price",
            "sort"
        ]
    );
    assert_eq!(
        fields_of(parse(&[("min_price", "9"), ("max_price", "3")]).unwrap_err()),
        ["min_price"]
    );
    assert_eq!(fields_of(parse(&[("attr.size", "..")]).unwrap_err()), ["attr.size"]);
    assert_eq!(fields_of(parse(&[("limit", "101")]).unwrap_err()), ["limit"]);
}

#[test]
fn positions_survive_a_cursor_and_order_by_rank_then_key() {
    let p = Position {
        rank: -123_456,
        key: u64::MAX,
    };
    assert_eq!(Position::decode(&p.encode()), Some(p));
    assert!(Position { rank: 1, key: 9 } < Position { rank: 2, key: 0 });
    assert!(score_rank(2.0) < score_rank(1.0), "better scores first");
    assert_eq!(score_rank(1.000_000_1), score_rank(1.0), "float noise does not reorder");
}
