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
        current: validate(&draft(), None, &tags(), &definitions()).unwrap(),
        listing_count: 0,
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
    assert!(p.current().visible, "old versions stay as they were");
    assert_eq!(p2.current().updated_at, 9);
}

#[test]
fn invisible_products_are_their_owners_only_and_edits_need_the_version() {
    let mut p = product();
    assert!(p.readable_by(None));
    p.current.visible = false;
    assert!(!p.readable_by(None) && !p.readable_by(Some("bob")) && p.readable_by(Some("alice")));
    assert_eq!(p.check_owner("bob").unwrap_err().code(), "not_owner");
    assert_eq!(p.check_version(None).unwrap_err().code(), "if_match_required");
    assert_eq!(p.check_version(Some(2)).unwrap_err().code(), "version_mismatch");
    assert!(p.check_version(Some(1)).is_ok());
    p.deleted = true;
    assert!(!p.readable_by(Some("alice")));
    assert_eq!(p.check_owner("alice").unwrap_err().code(), "not_found");
}

#[test]
fn creating_is_idempotent_for_its_owner_and_only_the_owner_changes_or_deletes() {
    let first = product().current.clone();
    let create = |owner: &str| ProductCommand::Create {
        owner: owner.into(),
        first: first.clone(),
    };
    let (change, made, members) = decide("p", None, create("alice"), None, 10).unwrap();
    assert_eq!(
        (change, made.created_at, made.current().version),
        (ProductChange::Put, 10, 1)
    );
    assert_eq!(
        members,
        [ProductMember::Version(made.current.clone())],
        "version 1 is a member"
    );
    assert_eq!(
        decide("p", Some(&made), create("alice"), None, 11).unwrap(),
        (ProductChange::Keep, made.clone(), Vec::new())
    );
    assert_eq!(
        decide("p", Some(&made), create("bob"), None, 11).unwrap_err().code(),
        "product_exists"
    );
    assert_eq!(
        decide("q", None, ProductCommand::Get, None, 11).unwrap_err().code(),
        "not_found"
    );
    let change = |caller: &str, expected| ProductCommand::Change {
        caller: caller.into(),
        expected,
        next: first.clone(),
    };
    assert!(
        decide("p", Some(&made), change("bob", Some(1)), None, 12).is_err(),
        "not the owner"
    );
    assert!(
        decide("p", Some(&made), change("alice", Some(7)), None, 12).is_err(),
        "stale version"
    );
    let (_, changed, members) = decide("p", Some(&made), change("alice", Some(1)), None, 12).unwrap();
    assert_eq!(changed.current().version, 2);
    assert_eq!(
        members,
        [ProductMember::Version(changed.current.clone())],
        "only the new version is written"
    );
    let delete = |caller: &str| ProductCommand::Delete { caller: caller.into() };
    assert!(decide("p", Some(&changed), delete("bob"), None, 13).is_err());
    assert!(
        decide("p", Some(&changed), delete("alice"), None, 13)
            .unwrap()
            .1
            .deleted
    );
    let listing = Listing {
        currency: "USD".into(),
        price: "9.99".into(),
        valid_from: None,
        valid_until: None,
    };
    let list = |l: Option<Listing>| ProductCommand::List {
        store: "s1".into(),
        listing: l,
    };
    let (change, listed, members) = decide("p", Some(&changed), list(Some(listing.clone())), None, 14).unwrap();
    assert_eq!(
        (change, listed.current().version, listed.listing_count),
        (ProductChange::Put, 2, 1),
        "a price is not a version"
    );
    assert_eq!(members, [ProductMember::Listing("s1".into(), Some(listing.clone()))]);
    assert_eq!(
        decide("p", Some(&listed), list(Some(listing.clone())), Some(&listing), 15)
            .unwrap()
            .0,
        ProductChange::Keep,
        "the same price again"
    );
    let (_, unlisted, members) = decide("p", Some(&listed), list(None), Some(&listing), 16).unwrap();
    assert_eq!(unlisted.listing_count, 0);
    assert_eq!(members, [ProductMember::Listing("s1".into(), None)]);
    assert_eq!(
        decide("p", Some(&unlisted), list(None), None, 17).unwrap().0,
        ProductChange::Keep,
        "nothing to forget"
    );
}

#[test]
fn a_hidden_product_hides_its_history_from_all_but_its_owner() {
    let shown = product();
    let v1 = shown.current.clone();
    assert!(shown.version_readable_by(&v1, None), "visible then and now");
    let mut hidden_draft = draft();
    hidden_draft.visible = Some(false);
    let hidden_version = validate(&hidden_draft, Some(&v1), &tags(), &definitions()).unwrap();
    let hidden = shown.with_version(hidden_version, 5);
    assert!(!hidden.version_readable_by(&v1, None), "hidden now: its history too");
    assert!(!hidden.version_readable_by(&v1, Some("bob")));
    assert!(
        hidden.version_readable_by(&v1, Some("alice")),
        "its owner sees everything"
    );
    assert!(!hidden.version_readable_by(hidden.current(), None));
    let deleted = Product {
        deleted: true,
        ..shown.clone()
    };
    assert!(
        deleted.version_readable_by(&v1, None),
        "orders can show what was bought"
    );
}
