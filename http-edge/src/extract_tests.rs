use super::*;

#[test]
fn messages_name_json_shapes_not_rust_types() {
    assert_eq!(
        plain("lines[0].quantity: invalid type: string \"x\", expected u32 at line 1 column 9"),
        "lines[0].quantity: invalid type: string \"x\", expected a whole number at line 1 column 9"
    );
    assert_eq!(
        plain("invalid type: integer `5`, expected struct PlaceOrderRequest"),
        "invalid type: integer `5`, expected an object"
    );
    assert_eq!(
        plain("Cannot parse `abc` to a `u32`"),
        "Cannot parse `abc` to a whole number"
    );
}
