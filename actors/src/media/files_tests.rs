use super::*;
use sha2::{Digest, Sha256};

fn store() -> (tempfile::TempDir, Files) {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(dir.path());
    (dir, files)
}

#[test]
fn chunks_append_at_their_offset_and_a_crash_leftover_is_cut() {
    let (_dir, files) = store();
    assert_eq!(files.append(3, "up1", 0, b"hello ").unwrap(), 6);
    assert_eq!(files.append(3, "up1", 6, b"world").unwrap(), 11);
    // Bytes written past the acknowledged offset (a crash mid-chunk) go.
    assert_eq!(files.append(3, "up1", 6, b"there").unwrap(), 11);
    assert_eq!(std::fs::read(files.upload_path(3, "up1")).unwrap(), b"hello there");
    // A gap is refused.
    assert!(files.append(3, "up1", 20, b"x").is_err());
    // A discarded chunk.
    files.truncate(3, "up1", 6).unwrap();
    assert_eq!(std::fs::read(files.upload_path(3, "up1")).unwrap(), b"hello ");
    assert!(
        files
            .upload_path(3, "up1")
            .starts_with(_dir.path().join("media/shard-3/uploads"))
    );
}

#[test]
fn a_finished_file_is_hashed_sniffed_and_stored_once_per_digest() {
    let (_dir, files) = store();
    let png = b"\x89PNG\r\n\x1a\n then the rest of the picture".repeat(40_000);
    for (i, chunk) in png.chunks(300_000).enumerate() {
        files.append(1, "a", (i * 300_000) as u64, chunk).unwrap();
    }
    let digested = files.digest(1, "a", png.len() as u64).unwrap();
    assert_eq!(digested.sha256, <[u8; 32]>::from(Sha256::digest(&png)));
    assert_eq!(digested.size, png.len() as u64);
    assert_eq!(
        crate::media::sniff::sniff(&digested.head),
        Some(crate::media::sniff::MediaType::Png)
    );
    assert_eq!(digested.head.len(), SNIFF_BYTES);
    let blob = files.promote(1, "a", &digested.sha256).unwrap();
    assert_eq!(std::fs::read(&blob).unwrap(), png);
    assert!(!files.upload_path(1, "a").exists());
    // The same bytes again: stored once.
    files.append(1, "b", 0, &png).unwrap();
    assert_eq!(files.promote(1, "b", &digested.sha256).unwrap(), blob);
    assert!(!files.upload_path(1, "b").exists());
    assert_eq!(std::fs::read_dir(blob.parent().unwrap()).unwrap().count(), 1);
    files.remove_blob(1, &digested.sha256).unwrap();
    assert!(!blob.exists());
    files.remove_blob(1, &digested.sha256).unwrap();
}

#[test]
fn an_empty_upload_and_a_short_file() {
    let (_dir, files) = store();
    let empty = files.digest(2, "e", 0).unwrap();
    assert_eq!((empty.size, hex(&empty.sha256).len()), (0, 64));
    assert_eq!(
        std::fs::read(files.promote(2, "e", &empty.sha256).unwrap()).unwrap(),
        b""
    );
    files.append(2, "s", 0, b"abc").unwrap();
    assert!(files.digest(2, "s", 10).is_err(), "fewer bytes than acknowledged");
    files.remove_upload(2, "s").unwrap();
    files.remove_upload(2, "s").unwrap();
    assert!(!files.upload_path(2, "s").exists());
}
