use super::*;
use serde_json::json;

fn spec(name: &str, kind: &str, values: &[&str]) -> AttributeSpec {
    AttributeSpec {
        name: Some(name.into()),
        kind: Some(kind.into()),
        values: Some(values.iter().map(|v| v.to_string()).collect()),
        unit: None,
    }
}

fn def(kind: &str, values: &[&str]) -> AttributeDef {
    AttributeDef::create("a1".into(), &spec("Size", kind, values), 0).unwrap()
}

fn field_errors(err: Error) -> Vec<String> {
    match err {
        Error::Validation { fields } => fields.into_keys().collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn definitions_are_checked() {
    assert_eq!(def("integer", &[]).kind, AttrKind::Integer);
    assert_eq!(
        field_errors(AttributeDef::create("a".into(), &AttributeSpec::default(), 0).unwrap_err()),
        ["kind", "name"]
    );
    assert_eq!(
        field_errors(AttributeDef::create("a".into(), &spec("X", "colour", &[]), 0).unwrap_err()),
        ["kind"]
    );
    assert_eq!(
        field_errors(AttributeDef::create("a".into(), &spec("X", "enum", &[]), 0).unwrap_err()),
        ["values"]
    );
    assert_eq!(
        field_errors(AttributeDef::create("a".into(), &spec("X", "enum", &["S", "S"]), 0).unwrap_err()),
        ["values"]
    );
    assert_eq!(
        field_errors(AttributeDef::create("a".into(), &spec("X", "string", &["S"]), 0).unwrap_err()),
        ["values"]
    );
    let mut with_unit = spec("Weight", "decimal", &[]);
    with_unit.unit = Some(Some("kg".into()));
    assert_eq!(
        AttributeDef::create("a".into(), &with_unit, 0).unwrap().unit.as_deref(),
        Some("kg")
    );
}

#[test]
fn values_must_match_the_kind_exactly() {
    let int = def("integer", &[]);
    assert_eq!(int.check_value(&json!(5)), Ok(AttrValue::Integer(5)));
    assert!(
        int.check_value(&json!("5")).is_err(),
        "the string \"5\" is not an integer"
    );
    assert!(int.check_value(&json!(5.5)).is_err());
    let dec = def("decimal", &[]);
    assert_eq!(dec.check_value(&json!(2.50)), Ok(AttrValue::Decimal("2.5".into())));
    assert_eq!(
        dec.check_value(&json!("19.990")),
        Ok(AttrValue::Decimal("19.99".into()))
    );
    assert!(dec.check_value(&json!("nineteen")).is_err());
    assert!(dec.check_value(&json!(true)).is_err());
    let boolean = def("boolean", &[]);
    assert_eq!(boolean.check_value(&json!(false)), Ok(AttrValue::Boolean(false)));
    assert!(boolean.check_value(&json!("false")).is_err());
    let string = def("string", &[]);
    assert!(string.check_value(&json!("cotton")).is_ok());
    assert!(string.check_value(&json!(1)).is_err());
    assert!(string.check_value(&json!("x".repeat(501))).is_err());
    let size = def("enum", &["S", "M", "L"]);
    assert_eq!(size.check_value(&json!("M")), Ok(AttrValue::Enum("M".into())));
    assert!(size.check_value(&json!("XL")).unwrap_err().contains("S, M, L"));
}

#[test]
fn attributes_in_use_keep_their_kind_and_values() {
    let size = def("enum", &["S", "M"]);
    let used = size.with_user(false, true).unwrap();
    assert_eq!(used.uses, 1);
    assert_eq!(used.with_user(true, true), None, "a product counts once");
    assert_eq!(size.with_user(false, false), None, "a product that never used it");
    let rename = AttributeSpec {
        name: Some("Clothing size".into()),
        ..Default::default()
    };
    assert_eq!(
        used.update(&rename).unwrap().name,
        "Clothing size",
        "renaming is always fine"
    );
    let add = AttributeSpec {
        values: Some(vec!["S".into(), "M".into(), "L".into()]),
        ..Default::default()
    };
    assert_eq!(used.update(&add).unwrap().values.len(), 3, "adding values is fine");
    let drop = AttributeSpec {
        values: Some(vec!["S".into()]),
        ..Default::default()
    };
    assert_eq!(used.update(&drop).unwrap_err().code(), "attribute_in_use");
    let retype = AttributeSpec {
        kind: Some("string".into()),
        ..Default::default()
    };
    assert_eq!(used.update(&retype).unwrap_err().code(), "attribute_in_use");
    assert_eq!(used.check_deletable().unwrap_err().code(), "attribute_in_use");
    let unused = used.with_user(true, false).unwrap();
    assert_eq!(unused.update(&retype).unwrap().kind, AttrKind::String);
    assert!(
        unused.update(&retype).unwrap().values.is_empty(),
        "a string has no values"
    );
    assert!(unused.check_deletable().is_ok());
}
