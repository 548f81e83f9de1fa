use super::*;

const NOW: Millis = 1_800_000_000_000;
const MB: u64 = 1024 * 1024;

fn upload(length: u64) -> Upload {
    Upload::new("u", length, BTreeMap::new(), NOW, DEFAULT_EXPIRY)
}

#[test]
fn an_upload_is_admitted_within_the_quota_the_open_count_and_the_largest_size() {
    let usage = Usage {
        stored: 4 * MB,
        reserved: 3 * MB,
        open: 2,
    };
    assert!(admit(usage, 3 * MB, 10 * MB, 100 * MB).is_ok(), "exactly the quota");
    let over = admit(usage, 3 * MB + 1, 10 * MB, 100 * MB).unwrap_err();
    assert_eq!(over.code(), "quota_exceeded");
    assert!(
        over.to_string().contains("stored 4194304, in open uploads 3145728"),
        "{over}"
    );
    assert!(matches!(
        admit(usage, 101 * MB, u64::MAX, 100 * MB),
        Err(Error::TooLarge { .. })
    ));
    let five = Usage {
        open: MAX_OPEN,
        ..usage
    };
    assert_eq!(
        admit(five, 1, 10 * MB, 100 * MB).unwrap_err().code(),
        "too_many_uploads"
    );
}

#[test]
fn bytes_arrive_only_at_the_current_offset_until_the_length_or_the_expiry() {
    let u = upload(10);
    assert!(u.may_append(0, NOW).is_ok());
    assert_eq!(u.may_append(3, NOW).unwrap_err().code(), "offset_mismatch");
    let part = u.appended(4);
    assert_eq!((part.offset, part.remaining(), part.is_complete()), (4, 6, false));
    assert!(part.may_append(4, NOW).is_ok());
    assert_eq!(
        part.may_append(0, NOW).unwrap_err().code(),
        "offset_mismatch",
        "no rewinding"
    );
    let done = part.appended(100);
    assert_eq!((done.offset, done.is_complete()), (10, true), "never past the length");
    assert_eq!(done.may_append(10, NOW).unwrap_err().code(), "upload_complete");
    // Expired: gone, unless it became an asset.
    let late = NOW + DEFAULT_EXPIRY;
    assert!(matches!(part.may_append(4, late), Err(Error::Gone { .. })));
    assert!(!part.expired(late - 1) && part.expired(late));
    let kept = Upload {
        media_id: Some("m1".into()),
        ..done
    };
    assert!(!kept.expired(late));
    assert!(upload(0).is_complete(), "an empty file is complete at once");
}

#[test]
fn metadata_is_given_back_as_it_was_sent() {
    let sent = crate::media::tus::metadata(Some("filename YS5wbmc=,flag")).unwrap();
    let u = Upload::new("u", 1, sent.clone(), NOW, DEFAULT_EXPIRY);
    assert_eq!(u.metadata_header(), "filename YS5wbmc=,flag");
    assert_eq!(crate::media::tus::metadata(Some(&u.metadata_header())).unwrap(), sent);
}

fn record(length: u64) -> UploadRecord {
    UploadRecord {
        upload: upload(length),
        patch: None,
    }
}

#[test]
fn one_patch_at_a_time_appends_in_order_and_a_failed_checksum_rolls_back() {
    let r = record(10).start("p1", 0, NOW).unwrap();
    assert_eq!(
        r.start("p2", 0, NOW).unwrap_err().code(),
        "upload_locked",
        "423 while p1 holds it"
    );
    let r = r.chunk("p1", 0, 4, NOW).unwrap();
    assert_eq!(r.chunk("p2", 4, 1, NOW).unwrap_err().code(), "upload_locked");
    assert_eq!(r.chunk("p1", 0, 1, NOW).unwrap_err().code(), "offset_mismatch");
    assert_eq!(r.chunk("p1", 4, 7, NOW).unwrap_err().code(), "past_upload_length");
    let r = r.chunk("p1", 4, 2, NOW).unwrap();
    assert_eq!(r.upload.offset, 6);
    // A failed checksum: back to where the PATCH began.
    let rolled = r.end("p1", false);
    assert_eq!((rolled.upload.offset, rolled.patch.clone()), (0, None));
    // Kept: what arrived stays, and the next PATCH starts there.
    let kept = r.end("p1", true);
    assert_eq!(kept.upload.offset, 6);
    assert_eq!(kept.end("p1", false), kept, "a repeated end changes nothing");
    assert!(kept.start("p2", 6, NOW).is_ok());
    assert_eq!(
        kept.chunk("p2", 6, 1, NOW).unwrap_err().code(),
        "patch_ended",
        "start first"
    );
    // A PATCH whose client vanished holds the upload only for its lease.
    let stale = record(10).start("p1", 0, NOW).unwrap();
    assert!(stale.start("p2", 0, NOW + PATCH_LEASE).is_ok());
}
