use super::*;
use crate::orders::fixtures::NOW;
use crate::orders::model::{Address, Contact};
use crate::storefront::offers::Quote;

fn contact() -> Contact {
    Contact {
        name: "Ann Buyer".into(),
        email: "ann@example.com".into(),
        phone: "+14155550100".into(),
    }
}

fn request(currency: &str) -> PlaceRequest {
    PlaceRequest {
        lines: None,
        currency: currency.into(),
        shipping: Shipping {
            contact: contact(),
            address: Address {
                line1: "1 Main St".into(),
                line2: None,
                city: "Springfield".into(),
                region: None,
                postal_code: "62701".into(),
                country: "us".into(),
            },
            methods: BTreeMap::from([("s1".to_string(), "standard".to_string())]),
        },
        billing: Billing {
            contact: contact(),
            address: None,
        },
    }
}

fn line(store: &str, quantity: u32) -> LineSpec {
    LineSpec {
        store_id: store.into(),
        product_id: "p1".into(),
        attributes: BTreeMap::new(),
        quantity,
    }
}

fn fields(err: crate::error::Error) -> Vec<String> {
    match err {
        crate::error::Error::Validation { fields } => fields.into_keys().collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_valid_request_becomes_a_placement_with_normalised_fields() {
    let placement = Placement::validate(&request("usd"), &[line("s1", 2)]).unwrap();
    assert_eq!(placement.currency.code(), "USD");
    assert_eq!(placement.shipping.address.country, "US");
    assert_eq!(placement.lines, [line("s1", 2)]);
}

#[test]
fn every_bad_field_is_named_before_anything_is_stored() {
    let mut bad = request("XXX");
    bad.shipping.contact.email = "nope".into();
    bad.billing.contact.phone = "123".into();
    let err = Placement::validate(&bad, &[line("s1", 0), line("s2", 10_001)]).unwrap_err();
    assert_eq!(
        fields(err),
        [
            "billing.contact.phone",
            "currency",
            "lines[0].quantity",
            "lines[1].quantity",
            "shipping.contact.email",
            "shipping.methods.s2"
        ]
    );
    assert_eq!(
        fields(Placement::validate(&request("USD"), &[]).unwrap_err()),
        ["lines"]
    );
    let many: Vec<LineSpec> = (0..=ORDER_LINES_MAX).map(|_| line("s1", 1)).collect();
    assert_eq!(
        fields(Placement::validate(&request("USD"), &many).unwrap_err()),
        ["lines"]
    );
}

fn priced(rates_id: Option<u64>) -> PricedLine {
    PricedLine {
        quote: Quote {
            currency: "USD".into(),
            quantity: 2,
            unit_price: "5.00".into(),
            line_total: "10.00".into(),
            rates_id,
        },
        product_version: 3,
        store_currency: "USD".into(),
        store_line_total: "10.00".into(),
    }
}

#[test]
fn a_placement_becomes_an_order_with_its_holds_and_only_the_rates_it_used() {
    let held = || Held {
        quantity: 2,
        until: NOW + 900_000,
        warranty_days: 30,
    };
    let rates = RateSet::parse(4, "USD", &BTreeMap::from([("EUR".to_string(), "0.9".to_string())]), 0).unwrap();
    let placement = || Placement::validate(&request("USD"), &[line("s1", 2)]).unwrap();
    let order = placement().order(
        "ord_x",
        2,
        "u",
        vec![priced(None)],
        vec![held()],
        Some(rates.clone()),
        NOW,
    );
    let l = &order.lines[0];
    assert_eq!((l.line_id.as_str(), l.hold.as_str()), ("l1", "ord_x.2.0"));
    assert_eq!(
        (l.status, l.held_until, l.product_version),
        (LineStatus::Held, NOW + 900_000, 3)
    );
    assert_eq!(
        (order.total().unwrap(), order.fx),
        ("10.00".to_string(), None),
        "no price was converted"
    );
    let converted = placement().order("ord_x", 2, "u", vec![priced(Some(4))], vec![held()], Some(rates), NOW);
    assert_eq!(converted.fx.unwrap().rates_id, 4);
}
