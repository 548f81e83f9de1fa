use super::*;
use crate::catalog::attributes::AttributeSpec;

fn definitions() -> BTreeMap<String, AttributeDef> {
    let spec = |name: &str, kind: &str, values: &[&str]| AttributeSpec {
        name: Some(name.into()),
        kind: Some(kind.into()),
        values: Some(values.iter().map(|v| v.to_string()).collect()),
        unit: None,
    };
    [
        ("size", spec("Size", "enum", &["S", "M"])),
        ("weight", spec("Weight", "integer", &[])),
    ]
    .into_iter()
    .map(|(id, s)| (id.to_string(), AttributeDef::create(id.into(), &s, 0).unwrap()))
    .collect()
}

fn tags() -> BTreeSet<String> {
    ["shoes".to_string(), "sport".to_string()].into()
}

fn draft() -> ProductDraft {
    ProductDraft {
        name: Some(" Runner ".into()),
        description: Some("Light".into()),
        visible: Some(true),
        tag_ids: Some(vec!["shoes".into(), "shoes".into()]),
        attributes: Some(vec![("size".into(), "\"M\"".into()), ("weight".into(), "300".into())]),
        media_ids: None,
    }
}

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Validation { fields } => fields.into_keys().collect(),
        other => panic!("{other:?}"),
    }
}

fn product() -> Product {
    Product {
        id: "p".into(),
        owner_id: "alice".into(),
        created_at: 0,
        deleted: false,
        versions: vec![validate(&draft(), None, &tags(), &definitions()).unwrap()],
        listings: Default::default(),
    }
}

#[test]
fn a_valid_draft_becomes_version_one() {
    let v = validate(&draft(), None, &tags(), &definitions()).unwrap();
    assert_eq!((v.version, v.name.as_str(), v.visible), (1, "Runner", true));
    assert_eq!(v.tag_ids, ["shoes"], "duplicates collapse");
    assert_eq!(v.attributes[0], ("size".to_string(), AttrValue::Enum("M".into())));
}

#[test]
fn every_bad_field_is_named() {
    let bad = ProductDraft {
        name: Some("".into()),
        tag_ids: Some(vec!["ghost".into(), "phantom".into()]),
        attributes: Some(vec![
            ("weight".into(), "\"300\"".into()),
            ("colour".into(), "\"red\"".into()),
            ("size".into(), "\"XL\"".into()),
        ]),
        ..Default::default()
    };
    let err = validate(&bad, None, &tags(), &definitions()).unwrap_err();
    let fields = fields(err.clone());
    assert_eq!(
        fields,
        [
            "attributes[0].value",
            "attributes[1].attribute_id",
            "attributes[2].value",
            "name",
            "tag_ids"
        ]
    );
    let Error::Validation { fields } = err else {
        unreachable!()
    };
    assert!(fields["tag_ids"].contains("ghost") && fields["tag_ids"].contains("phantom"));
    assert!(fields["attributes[1].attribute_id"].contains("colour"));
    assert!(
        validate(&ProductDraft::default(), None, &tags(), &definitions()).is_err(),
        "a name is required"
    );
}

#[test]
fn an_edit_keeps_what_it_does_not_set() {
    let p = product();
    let edit = ProductDraft {
        visible: Some(false),
        ..Default::default()
    };
    let next = validate(&edit, Some(p.current()), &tags(), &definitions()).unwrap();
    let p2 = p.with_version(next, 9);
    assert_eq!(p2.current().version, 2);
    assert_eq!((p2.current().name.as_str(), p2.current().visible), ("Runner", false));
    assert!(p2.version(1).unwrap().visible, "old versions stay as they were");
    assert_eq!(p2.current().updated_at, 9);
}

#[test]
fn invisible_products_are_their_owners_only_and_edits_need_the_version() {
    let mut p = product();
    assert!(p.readable_by(None));
    p.versions[0].visible = false;
    assert!(!p.readable_by(None) && !p.readable_by(Some("bob")) && p.readable_by(Some("alice")));
    assert_eq!(p.check_owner("bob").unwrap_err().code(), "not_owner");
    assert_eq!(p.check_version(None).unwrap_err().code(), "if_match_required");
    assert_eq!(p.check_version(Some(2)).unwrap_err().code(), "version_mismatch");
    assert!(p.check_version(Some(1)).is_ok());
    p.deleted = true;
    assert!(!p.readable_by(Some("alice")));
    assert_eq!(p.check_owner("alice").unwrap_err().code(), "not_found");
}
