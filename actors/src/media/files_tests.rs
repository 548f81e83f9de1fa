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
    let blob = files.promote(1, "a", &digested.sha256, "m_a").unwrap();
    assert_eq!(std::fs::read(&blob).unwrap(), png);
    assert!(!files.upload_path(1, "a").exists());
    // The same bytes again: stored once.
    files.append(1, "b", 0, &png).unwrap();
    assert_eq!(files.promote(1, "b", &digested.sha256, "m_b").unwrap(), blob);
    assert!(!files.upload_path(1, "b").exists());
    assert_eq!(std::fs::read_dir(blob.parent().unwrap()).unwrap().count(), 1);
    // The blob goes with the last of its holders, once.
    assert!(!files.release(1, &digested.sha256, "m_a").unwrap());
    assert!(blob.exists());
    assert!(
        !files.release(1, &digested.sha256, "m_a").unwrap(),
        "a repeat changes nothing"
    );
    assert!(blob.exists());
    assert!(files.release(1, &digested.sha256, "m_b").unwrap());
    assert!(!blob.exists());
    files.release(1, &digested.sha256, "m_b").unwrap();
}

#[test]
fn stored_blobs_are_kept_once_and_shared_by_holders() {
    let (_dir, files) = store();
    let sha = files.store_blob(4, b"variant bytes", "m_1~thumb").unwrap();
    assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(b"variant bytes")));
    assert_eq!(files.store_blob(4, b"variant bytes", "m_2~thumb").unwrap(), sha);
    assert_eq!(files.read_blob(4, &sha, 8, 100).unwrap(), b"bytes");
    assert!(!files.release(4, &sha, "m_1~thumb").unwrap());
    assert_eq!(files.read_blob(4, &sha, 0, 7).unwrap(), b"variant");
    assert!(files.release(4, &sha, "m_2~thumb").unwrap());
    assert!(files.read_blob(4, &sha, 0, 7).is_err());
}

#[test]
fn a_shard_directory_moves_checked_file_by_file() {
    let (_from_dir, from) = store();
    let (_to_dir, to) = store();
    let big = vec![7u8; CHUNK + 10];
    let sha = from.store_blob(5, &big, "m_1").unwrap();
    from.append(5, "up_1", 0, b"half an upload").unwrap();
    from.store_blob(6, b"another shard", "m_9").unwrap();
    let manifest = from.export(5).unwrap();
    let paths: Vec<&str> = manifest.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            format!("blobs/{}", hex(&sha)).as_str(),
            format!("refs/{}/m_1", hex(&sha)).as_str(),
            "uploads/up_1"
        ]
    );
    // The receiver had a stale copy of the shard: it is replaced whole.
    to.store_blob(5, b"stale", "m_old").unwrap();
    send(&from, &to, 5, &manifest);
    to.install(5, &manifest).unwrap();
    assert_eq!(to.export(5).unwrap(), manifest);
    assert_eq!(to.read_blob(5, &sha, CHUNK as u64, 100).unwrap(), vec![7u8; 10]);
    from.clear(5).unwrap();
    assert!(from.export(5).unwrap().is_empty());
    assert_eq!(from.export(6).unwrap().len(), 2, "other shards stay");
}

#[test]
fn a_damaged_or_escaping_shard_file_is_refused() {
    let (_from_dir, from) = store();
    let (_to_dir, to) = store();
    from.store_blob(5, b"the picture", "m_1").unwrap();
    let manifest = from.export(5).unwrap();
    to.store_blob(5, b"what was there", "m_0").unwrap();
    to.receive(5, &manifest[0].path, 0, b"the pictur!", true).unwrap();
    to.receive(5, &manifest[1].path, 0, b"", false).unwrap();
    let refused = to.install(5, &manifest).unwrap_err();
    assert!(refused.to_string().contains("arrived damaged"), "{refused}");
    assert_eq!(to.export(5).unwrap().len(), 2, "the old copy is untouched");
    assert!(to.receive(5, "../../etc/passwd", 0, b"x", false).is_err());
    assert!(from.read_shard_file(5, "blobs/../../x", 0, 1).is_err());
}

#[test]
fn an_empty_upload_and_a_short_file() {
    let (_dir, files) = store();
    let empty = files.digest(2, "e", 0).unwrap();
    assert_eq!((empty.size, hex(&empty.sha256).len()), (0, 64));
    assert_eq!(
        std::fs::read(files.promote(2, "e", &empty.sha256, "m_e").unwrap()).unwrap(),
        b""
    );
    files.append(2, "s", 0, b"abc").unwrap();
    assert!(files.digest(2, "s", 10).is_err(), "fewer bytes than acknowledged");
    files.remove_upload(2, "s").unwrap();
    files.remove_upload(2, "s").unwrap();
    assert!(!files.upload_path(2, "s").exists());
}

/// Sends `files` of `shard` from `from` to `to` a chunk at a time.
fn send(from: &Files, to: &Files, shard: u32, files: &[ShardFile]) {
    let mut first = true;
    for file in files {
        let mut offset = 0;
        while offset < file.size {
            let bytes = from.read_shard_file(shard, &file.path, offset, CHUNK as u64).unwrap();
            to.receive(shard, &file.path, offset, &bytes, first).unwrap();
            first = false;
            offset += bytes.len() as u64;
        }
    }
}

#[test]
fn blobs_copied_before_the_freeze_are_not_sent_again() {
    let (_from_dir, from) = store();
    let (_to_dir, to) = store();
    let kept = from.store_blob(3, &vec![1u8; CHUNK + 5], "m_1").unwrap();
    let dropped = from.store_blob(3, b"deleted before the freeze", "m_2").unwrap();
    // Before the freeze: the blobs alone, named by their digest (not hashed).
    let blobs = from.export_blobs(3).unwrap();
    assert_eq!(blobs.len(), 2);
    assert!(blobs.iter().all(|f| f.path.starts_with("blobs/")));
    send(&from, &to, 3, &blobs);
    to.stage(3, &blobs).unwrap();
    // Meanwhile the shard still serves: an asset goes, another comes, an
    // upload grows.
    from.release(3, &dropped, "m_2").unwrap();
    let added = from.store_blob(3, b"made after the copy", "m_3").unwrap();
    from.append(3, "up_9", 0, b"partial").unwrap();
    // Frozen: everything is listed, only what was not staged is sent.
    let manifest = from.export(3).unwrap();
    let staged: Vec<&str> = blobs.iter().map(|f| f.path.as_str()).collect();
    let rest: Vec<ShardFile> = manifest
        .iter()
        .filter(|f| !staged.contains(&f.path.as_str()))
        .cloned()
        .collect();
    assert!(rest.iter().all(|f| f.path != format!("blobs/{}", hex(&kept))));
    send(&from, &to, 3, &rest);
    to.install(3, &manifest).unwrap();
    assert_eq!(
        to.export(3).unwrap(),
        manifest,
        "exactly the shard's files, the deleted blob left out"
    );
    assert_eq!(to.read_blob(3, &kept, CHUNK as u64, 10).unwrap(), vec![1u8; 5]);
    assert_eq!(to.read_blob(3, &added, 0, 4).unwrap(), b"made");
    assert!(to.read_blob(3, &dropped, 0, 1).is_err());
    assert!(
        !_to_dir.path().join("media/.staged-shard-3").exists(),
        "nothing left aside"
    );
}

#[test]
fn a_damaged_blob_is_refused_when_staged() {
    let (_from_dir, from) = store();
    let (_to_dir, to) = store();
    let sha = from.store_blob(2, b"the picture", "m_1").unwrap();
    let blobs = from.export_blobs(2).unwrap();
    assert_eq!(blobs[0].sha256, sha);
    to.receive(2, &blobs[0].path, 0, b"the pictur!", true).unwrap();
    let refused = to.stage(2, &blobs).unwrap_err();
    assert!(refused.to_string().contains("arrived damaged"), "{refused}");
}
