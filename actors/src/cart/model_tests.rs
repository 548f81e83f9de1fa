use super::*;

fn spec(product: &str, size: Option<&str>, quantity: u32) -> LineSpec {
    crate::shared::lines::test_line(product, size, quantity)
}

#[test]
fn the_same_choice_is_the_same_line_and_zero_removes_it() {
    let cart = Cart::default()
        .set(spec("p1", Some("M"), 2), "10.00", "EUR", 1)
        .unwrap();
    let cart = cart.set(spec("p1", Some("M"), 5), "11.00", "EUR", 2).unwrap();
    assert_eq!(cart.lines.len(), 1);
    assert_eq!(
        (cart.lines[0].spec.quantity, cart.lines[0].unit_price.as_str()),
        (5, "11.00")
    );
    let cart = cart.set(spec("p1", Some("L"), 1), "12.00", "EUR", 3).unwrap();
    let cart = cart.set(spec("p1", None, 1), "9.00", "EUR", 3).unwrap();
    assert_eq!(cart.lines.len(), 3, "other values, other lines");
    let ids: Vec<_> = cart.lines.iter().map(|l| l.line_id.clone()).collect();
    assert!(ids[0] != ids[1] && ids[1] != ids[2]);
    let cart = cart.set(spec("p1", Some("M"), 0), "0", "EUR", 4).unwrap();
    assert_eq!(cart.lines.len(), 2);
    assert_eq!(
        cart.set(spec("p9", None, 0), "0", "EUR", 4).unwrap(),
        cart,
        "nothing to remove"
    );
}

#[test]
fn at_most_fifty_lines_and_sane_quantities() {
    let mut cart = Cart::default();
    for i in 0..MAX_LINES {
        cart = cart.set(spec(&format!("p{i}"), None, 1), "1", "EUR", 1).unwrap();
    }
    let err = cart.set(spec("one-more", None, 1), "1", "EUR", 1).unwrap_err();
    assert!(matches!(err, Error::Validation { ref fields } if fields.contains_key("lines")));
    cart.set(spec("p3", None, 7), "1", "EUR", 1)
        .expect("changing a line is not adding one");
    let err = Cart::default().set(spec("p", None, 10_001), "1", "EUR", 1).unwrap_err();
    assert!(matches!(err, Error::Validation { ref fields } if fields.contains_key("quantity")));
}

#[test]
fn lines_are_removed_by_id_once() {
    let cart = Cart::default().set(spec("p1", None, 1), "1", "EUR", 1).unwrap();
    let id = cart.lines[0].line_id.clone();
    assert!(cart.remove(&id).unwrap().lines.is_empty());
    assert!(matches!(cart.remove("ln_nope"), Err(Error::NotFound { .. })));
    let two = cart.set(spec("p2", None, 1), "1", "EUR", 1).unwrap();
    assert_eq!(two.without(std::slice::from_ref(&id)).lines.len(), 1);
}
