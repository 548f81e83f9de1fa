use super::*;

fn rights(view: bool, transform: bool, manage: bool) -> Rights {
    Rights {
        view,
        transform,
        manage,
    }
}

fn acl() -> Acl {
    Acl {
        public: false,
        grants: BTreeMap::from([
            ("viewer".to_string(), rights(true, false, false)),
            ("editor".to_string(), rights(false, true, false)),
            ("manager".to_string(), rights(false, false, true)),
        ]),
        version: 1,
    }
}

#[test]
fn the_access_matrix() {
    use Action::*;
    let private = acl();
    let public = Acl { public: true, ..acl() };
    // (caller, view, transform, manage) on a private and a public asset.
    let expected = [
        (Some("owner"), [true, true, true], [true, true, true]),
        (Some("viewer"), [true, false, false], [true, false, false]),
        (Some("editor"), [true, true, false], [true, true, false]),
        (Some("manager"), [true, true, true], [true, true, true]),
        (Some("stranger"), [false, false, false], [true, false, false]),
        (None, [false, false, false], [true, false, false]),
    ];
    for (caller, on_private, on_public) in expected {
        for (i, action) in [View, Transform, Manage].into_iter().enumerate() {
            assert_eq!(
                private.allows("owner", caller, action),
                on_private[i],
                "{caller:?} {action:?} private"
            );
            assert_eq!(
                public.allows("owner", caller, action),
                on_public[i],
                "{caller:?} {action:?} public"
            );
        }
    }
}

#[test]
fn only_the_owner_or_a_manager_changes_access_and_a_change_moves_the_version() {
    let a = acl();
    let grants = BTreeMap::from([("viewer".to_string(), rights(true, false, false))]);
    let changed = a.replaced("owner", "manager", true, grants.clone()).unwrap();
    assert_eq!((changed.public, changed.version), (true, 2));
    let same = changed.replaced("owner", "owner", true, grants.clone()).unwrap();
    assert_eq!(same.version, 2, "nothing changed, nothing revoked");
    assert_eq!(
        a.replaced("owner", "viewer", true, grants.clone()).unwrap_err().code(),
        "not_manager"
    );
    assert!(matches!(
        a.replaced("owner", "stranger", true, grants),
        Err(Error::NotFound { .. })
    ));
    for bad in [
        BTreeMap::from([("owner".to_string(), rights(true, false, false))]),
        BTreeMap::from([("x".to_string(), Rights::default())]),
        (0..=MAX_GRANTS)
            .map(|i| (format!("u{i}"), rights(true, false, false)))
            .collect(),
    ] {
        assert!(matches!(
            a.replaced("owner", "owner", false, bad),
            Err(Error::Validation { .. })
        ));
    }
}

#[test]
fn a_signed_link_works_until_it_expires_or_the_acl_changes_and_not_when_tampered() {
    let secret = b"link secret";
    let link = Link {
        media_id: "m1",
        variant: Some("thumb"),
        expires: 1_000,
        acl_version: 3,
    };
    let sig = sign(secret, &link).unwrap();
    assert!(verify(secret, &link, 3, &sig, 999).is_ok());
    let code = |r: Result<()>| r.unwrap_err().to_string();
    assert!(code(verify(secret, &link, 3, &sig, 1_000)).contains("expired"));
    assert!(code(verify(secret, &link, 4, &sig, 999)).contains("revoked"));
    for tampered in [
        Link {
            media_id: "m2",
            ..link.clone()
        },
        Link {
            variant: None,
            ..link.clone()
        },
        Link {
            expires: 9_999,
            ..link.clone()
        },
    ] {
        assert!(code(verify(secret, &tampered, 3, &sig, 999)).contains("does not match"));
    }
    assert!(verify(b"other secret", &link, 3, &sig, 999).is_err());
    assert!(verify(secret, &link, 3, "zz", 999).is_err());
    assert_eq!(expiry(100, MAX_LINK_SECS).unwrap(), 100 + MAX_LINK_SECS);
    assert!(expiry(100, MAX_LINK_SECS + 1).is_err() && expiry(100, 0).is_err());
}
