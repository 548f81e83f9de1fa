use super::*;

fn line(product: &str, size: Option<&str>, quantity: u32) -> LineSpec {
    test_line(product, size, quantity)
}

#[test]
fn the_same_choice_on_several_lines_is_one_line() {
    let lines = merged(&[
        line("lamp", None, 1),
        line("desk", None, 2),
        line("lamp", None, 3),
        line("lamp", Some("XL"), 1),
    ]);
    let seen: Vec<(usize, &str, u32)> = lines
        .iter()
        .map(|(i, l)| (*i, l.product_id.as_str(), l.quantity))
        .collect();
    assert_eq!(seen, [(0, "lamp", 4), (1, "desk", 2), (3, "lamp", 1)]);
    let copies = vec![line("lamp", None, u32::MAX); 3];
    assert_eq!(
        merged(&copies)[0].1.quantity,
        u32::MAX,
        "saturates, then fails the bound"
    );
    assert!(quantity(u32::MAX).is_err());
}
