use super::*;

#[test]
fn only_our_version_is_spoken() {
    assert!(check_version(Some("1.0.0")).is_ok());
    assert!(matches!(
        check_version(Some("0.2.2")),
        Err(Error::PreconditionFailed { .. })
    ));
    assert!(matches!(check_version(None), Err(Error::PreconditionFailed { .. })));
}

#[test]
fn lengths_and_offsets_are_non_negative_integers() {
    assert_eq!(number("Upload-Length", Some("1048576")).unwrap(), 1_048_576);
    assert_eq!(number("Upload-Offset", Some(" 0 ")).unwrap(), 0);
    for bad in [
        None,
        Some(""),
        Some("-1"),
        Some("1.5"),
        Some("0x10"),
        Some("99999999999999999999999"),
    ] {
        assert!(
            matches!(number("Upload-Length", bad), Err(Error::Validation { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn metadata_is_key_base64_pairs() {
    let parsed = metadata(Some(
        "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential,filetype aW1hZ2UvcG5n",
    ))
    .unwrap();
    assert_eq!(parsed["filename"], b"world_domination_plan.pdf");
    assert_eq!(parsed["filetype"], b"image/png");
    assert_eq!(parsed["is_confidential"], b"");
    assert!(metadata(None).unwrap().is_empty());
    for bad in [
        "filename !!!",
        "a YQ==,a YQ==",
        "a YQ==,,b",
        "a YQ== YQ==",
        "k\u{e9}y YQ==",
    ] {
        assert!(matches!(metadata(Some(bad)), Err(Error::Validation { .. })), "{bad:?}");
    }
}

#[test]
fn checksums_name_sha1_or_sha256_with_a_digest_of_the_right_length() {
    // sha1("hello") and sha256("hello"), base64.
    let sha1 = "qvTGHdzF6KLavt4PO0gs2a6pQ00=";
    let sha256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
    assert!(matches!(
        checksum(Some(&format!("sha1 {sha1}"))).unwrap(),
        Some(Checksum::Sha1(_))
    ));
    assert!(matches!(
        checksum(Some(&format!("sha256 {sha256}"))).unwrap(),
        Some(Checksum::Sha256(_))
    ));
    assert_eq!(checksum(None).unwrap(), None);
    for bad in [
        format!("md5 {sha1}"),
        format!("sha256 {sha1}"),
        "sha1".to_string(),
        "sha1 %%%".to_string(),
    ] {
        assert!(matches!(checksum(Some(&bad)), Err(Error::BadRequest { .. })), "{bad}");
    }
}

#[test]
fn the_announced_digest_is_raw_or_hex() {
    let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    let from_hex = announced_sha256(&BTreeMap::from([("sha256".into(), hex.as_bytes().to_vec())]))
        .unwrap()
        .unwrap();
    assert_eq!(from_hex[0], 0x2c);
    let raw = announced_sha256(&BTreeMap::from([("sha256".into(), from_hex.to_vec())])).unwrap();
    assert_eq!(raw, Some(from_hex));
    assert_eq!(announced_sha256(&BTreeMap::new()).unwrap(), None);
    assert!(announced_sha256(&BTreeMap::from([("sha256".into(), b"abc".to_vec())])).is_err());
}
