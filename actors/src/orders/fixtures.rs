//! Orders for tests of the order rules.

use super::model::*;
use crate::ports::Millis;
use crate::shared::money::Money;
use std::collections::BTreeMap;

pub const NOW: Millis = 1_800_000_000_000;

/// A line of `quantity` units at 2.50 USD, held until `until`.
pub fn line(id: &str, store: &str, quantity: u64, until: Millis) -> Line {
    Line {
        line_id: id.into(),
        store_id: store.into(),
        product_id: format!("p-{id}"),
        product_version: 1,
        attributes: BTreeMap::new(),
        quantity,
        unit_price: "2.50".into(),
        line_total: Money::stored("2.50", "USD")
            .unwrap()
            .times(quantity)
            .unwrap()
            .to_string(),
        store_currency: "USD".into(),
        store_line_total: "0".into(),
        hold: format!("h-{id}"),
        held_until: until,
        warranty_days: 10,
        status: LineStatus::Held,
        paid: 0,
        returning: 0,
        shipment_id: None,
        delivered_at: None,
    }
}

/// An order of two lines: `l1` (2 units, store `s1`) and `l2` (3 units,
/// store `s2`), placed at [`NOW`].
pub fn order() -> Order {
    let contact = Contact {
        name: "A".into(),
        email: "a@example.com".into(),
        phone: "+14155550100".into(),
    };
    Order {
        id: "o".into(),
        buyer: "u".into(),
        created_at: NOW,
        currency: "USD".into(),
        fx: None,
        shipping: Shipping {
            contact: contact.clone(),
            address: Address {
                line1: "1".into(),
                line2: None,
                city: "c".into(),
                region: None,
                postal_code: "1".into(),
                country: "US".into(),
            },
            methods: BTreeMap::new(),
        },
        billing: Billing { contact, address: None },
        lines: vec![line("l1", "s1", 2, NOW + 100), line("l2", "s2", 3, NOW + 200)],
        cancelled: false,
        payments: BTreeMap::new(),
        shipments: Vec::new(),
        returns: Vec::new(),
        updated_at: NOW,
        refunds: BTreeMap::new(),
    }
}
