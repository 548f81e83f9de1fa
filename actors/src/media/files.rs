//! Where media bytes live: in the node's data directory, under the shard
//! their upload or asset belongs to, so a shard's files can move with its
//! records. An upload is one growing file; a finished file is stored once
//! per sha256 (a blob) whatever the number of assets made of it.
//! Every write is fsynced before it is acknowledged; a blob appears by an
//! atomic rename (and a fsync of its directory). Blocking: callers run
//! these on `spawn_blocking`.
//!
//! `<data>/media/shard-<n>/uploads/<upload id>`,
//! `<data>/media/shard-<n>/blobs/<sha256 hex>` and, for every holder of a
//! blob (an asset's original or one of its variants), an empty
//! `<data>/media/shard-<n>/refs/<sha256 hex>/<holder>`: a blob goes when
//! its last holder lets go of it. A hand-off copies the shard's whole
//! directory (`export`/`receive`/`install`), checked file by file.

use super::sniff::SNIFF_BYTES;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// How much is read at once when a file is hashed or copied.
pub const CHUNK: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
}

/// What hashing a whole file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    pub sha256: [u8; 32],
    pub size: u64,
    /// The first [`SNIFF_BYTES`] (fewer if the file is shorter).
    pub head: Vec<u8>,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Taken while blobs gain or lose holders, so a blob being stored for one
/// asset is never removed as another's last one lets go of it.
static BLOBS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn blobs_locked() -> std::sync::MutexGuard<'static, ()> {
    BLOBS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn not_found_ok(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// One file of a shard's directory, as a hand-off lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardFile {
    /// Relative to the shard's directory, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: [u8; 32],
}

/// Writes `bytes` to `path` by a temporary file, fsynced and renamed.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&dir)?;
    let temporary = dir.join(format!(".{}.tmp", ulid::Ulid::new()));
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    sync_dir(&dir)
}

fn sha256_of_file(path: &Path) -> io::Result<(u64, [u8; 32])> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let got = file.read(&mut buffer)?;
        if got == 0 {
            return Ok((size, hasher.finalize().into()));
        }
        hasher.update(&buffer[..got]);
        size += got as u64;
    }
}

/// The digest a blob's path names (`blobs/<sha256 hex>`).
fn blob_digest(path: &str) -> Option<[u8; 32]> {
    let name = path.strip_prefix("blobs/")?;
    if name.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(name.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(digest)
}

/// Every file of `manifest` under `dir` has its size and sha256, and is
/// durable.
fn checked(shard: u32, dir: &Path, manifest: &[ShardFile]) -> io::Result<()> {
    for file in manifest {
        let path = inside(dir, &file.path)?;
        let (size, sha256) = sha256_of_file(&path)?;
        if (size, sha256) != (file.size, file.sha256) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "shard {shard}: {} arrived damaged ({size} bytes, sha256 {})",
                    file.path,
                    hex(&sha256)
                ),
            ));
        }
        File::open(&path)?.sync_all()?;
    }
    Ok(())
}

fn relative_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            relative_files(root, &path, out)?;
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            out.push(path.strip_prefix(root).map(Path::to_path_buf).unwrap_or(path));
        }
    }
    Ok(())
}

/// A relative path from a peer, refused unless it stays inside the shard.
fn inside(root: &Path, relative: &str) -> io::Result<PathBuf> {
    let clean = relative
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if !clean {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a shard file path that leaves the shard: {relative}"),
        ));
    }
    Ok(root.join(relative))
}

impl Files {
    /// The store under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("media"),
        }
    }

    fn shard_dir(&self, shard: u32, what: &str) -> PathBuf {
        self.root.join(format!("shard-{shard}")).join(what)
    }

    pub fn upload_path(&self, shard: u32, upload_id: &str) -> PathBuf {
        self.shard_dir(shard, "uploads").join(upload_id)
    }

    pub fn blob_path(&self, shard: u32, sha256: &[u8; 32]) -> PathBuf {
        self.shard_dir(shard, "blobs").join(hex(sha256))
    }

    fn refs_dir(&self, shard: u32, sha256: &[u8; 32]) -> PathBuf {
        self.shard_dir(shard, "refs").join(hex(sha256))
    }

    /// `holder` holds the blob `sha256` (the lock is held by the caller).
    fn hold(&self, shard: u32, sha256: &[u8; 32], holder: &str) -> io::Result<()> {
        let dir = self.refs_dir(shard, sha256);
        std::fs::create_dir_all(&dir)?;
        File::create(dir.join(holder))?.sync_all()?;
        sync_dir(&dir)
    }

    /// Stores `bytes` as a blob held by `holder` (written once per digest,
    /// atomically and durably); answers its sha256.
    pub fn store_blob(&self, shard: u32, bytes: &[u8], holder: &str) -> io::Result<[u8; 32]> {
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let _locked = blobs_locked();
        let path = self.blob_path(shard, &sha256);
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        self.hold(shard, &sha256, holder)?;
        Ok(sha256)
    }

    /// `holder` lets go of the blob `sha256`; the blob goes with its last
    /// holder. Answers whether it went. Repeating it changes nothing.
    pub fn release(&self, shard: u32, sha256: &[u8; 32], holder: &str) -> io::Result<bool> {
        let _locked = blobs_locked();
        let dir = self.refs_dir(shard, sha256);
        not_found_ok(std::fs::remove_file(dir.join(holder)))?;
        let held = match std::fs::read_dir(&dir) {
            Ok(mut entries) => entries.next().is_some(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        };
        if held {
            return Ok(false);
        }
        not_found_ok(std::fs::remove_dir(&dir))?;
        not_found_ok(std::fs::remove_file(self.blob_path(shard, sha256)))?;
        Ok(true)
    }

    /// Every file of a shard (uploads, blobs, holders), each with its size
    /// and sha256, for a hand-off. A blob's digest is its name (the
    /// receiver checks it); the others are hashed.
    pub fn export(&self, shard: u32) -> io::Result<Vec<ShardFile>> {
        self.described(shard, |_| true)
    }

    /// The shard's blobs alone: they never change, so a hand-off copies
    /// them before the shard freezes.
    pub fn export_blobs(&self, shard: u32) -> io::Result<Vec<ShardFile>> {
        self.described(shard, |path| path.starts_with("blobs/"))
    }

    fn described(&self, shard: u32, wanted: impl Fn(&str) -> bool) -> io::Result<Vec<ShardFile>> {
        let root = self.root.join(format!("shard-{shard}"));
        let mut paths = Vec::new();
        relative_files(&root, &root, &mut paths)?;
        paths.sort();
        let mut described = Vec::new();
        for relative in paths {
            let path = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if !wanted(&path) {
                continue;
            }
            let full = root.join(&relative);
            let (size, sha256) = match blob_digest(&path) {
                Some(sha256) => (std::fs::metadata(&full)?.len(), sha256),
                None => sha256_of_file(&full)?,
            };
            described.push(ShardFile { path, size, sha256 });
        }
        Ok(described)
    }

    /// Up to `len` bytes from `offset` of one file of a shard.
    pub fn read_shard_file(&self, shard: u32, path: &str, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let mut file = File::open(inside(&self.root.join(format!("shard-{shard}")), path)?)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        file.take(len.min(CHUNK as u64)).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn incoming(&self, shard: u32) -> PathBuf {
        self.root.join(format!(".incoming-shard-{shard}"))
    }

    fn staged(&self, shard: u32) -> PathBuf {
        self.root.join(format!(".staged-shard-{shard}"))
    }

    /// Receiving a shard, before it freezes: the files received so far
    /// (its blobs) are checked against `manifest` and kept aside for
    /// [`Files::install`], replacing whatever an earlier attempt kept.
    pub fn stage(&self, shard: u32, manifest: &[ShardFile]) -> io::Result<()> {
        let incoming = self.incoming(shard);
        std::fs::create_dir_all(&incoming)?;
        checked(shard, &incoming, manifest)?;
        let staged = self.staged(shard);
        not_found_ok(std::fs::remove_dir_all(&staged))?;
        std::fs::rename(&incoming, &staged)?;
        sync_dir(&self.root)
    }

    /// Receiving a shard: `bytes` at `offset` of one of its files (the
    /// first chunk of the first file starts afresh).
    pub fn receive(&self, shard: u32, path: &str, offset: u64, bytes: &[u8], first: bool) -> io::Result<()> {
        let incoming = self.incoming(shard);
        if first {
            match std::fs::remove_dir_all(&incoming) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        let target = inside(&incoming, path)?;
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&target)?;
        file.set_len(offset)?;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)
    }

    /// The shard received: every file of `manifest` checked (size and
    /// sha256; those staged before were checked then) and made durable,
    /// then the received directory replaces this node's copy of the shard.
    /// Nothing changes if a check fails.
    pub fn install(&self, shard: u32, manifest: &[ShardFile]) -> io::Result<()> {
        let (incoming, staged) = (self.incoming(shard), self.staged(shard));
        std::fs::create_dir_all(&incoming)?;
        let mut sent = Vec::new();
        for file in manifest {
            let path = inside(&incoming, &file.path)?;
            let kept = inside(&staged, &file.path)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            if !path.exists() && kept.exists() && std::fs::metadata(&kept)?.len() == file.size {
                std::fs::rename(&kept, &path)?;
            } else {
                if !path.exists() && file.size == 0 {
                    File::create(&path)?;
                }
                sent.push(file.clone());
            }
        }
        checked(shard, &incoming, &sent)?;
        // Anything else received (a blob deleted since it was sent) goes.
        let mut present = Vec::new();
        relative_files(&incoming, &incoming, &mut present)?;
        for relative in present {
            let listed = manifest.iter().any(|f| Path::new(&f.path) == relative);
            if !listed {
                std::fs::remove_file(incoming.join(relative))?;
            }
        }
        self.clear(shard)?;
        std::fs::rename(&incoming, self.root.join(format!("shard-{shard}")))?;
        not_found_ok(std::fs::remove_dir_all(&staged))?;
        sync_dir(&self.root)
    }

    /// Forgets a shard's files (it moved to another node).
    pub fn clear(&self, shard: u32) -> io::Result<()> {
        match std::fs::remove_dir_all(self.root.join(format!("shard-{shard}"))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Writes `bytes` at `offset` of an upload's file and makes them
    /// durable; bytes past `offset` a crash left behind (never
    /// acknowledged) are cut first. Answers the file's new length.
    pub fn append(&self, shard: u32, upload_id: &str, offset: u64, bytes: &[u8]) -> io::Result<u64> {
        let path = self.upload_path(shard, upload_id);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        let len = file.metadata()?.len();
        if len < offset {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the upload's file has {len} bytes, not {offset}"),
            ));
        }
        if len > offset {
            file.set_len(offset)?;
        }
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)?;
        file.sync_data()?;
        Ok(offset + bytes.len() as u64)
    }

    /// Cuts an upload's file back to `len` bytes (a chunk whose checksum
    /// failed is discarded).
    pub fn truncate(&self, shard: u32, upload_id: &str, len: u64) -> io::Result<()> {
        let path = self.upload_path(shard, upload_id);
        match OpenOptions::new().write(true).open(&path) {
            Ok(file) => {
                file.set_len(len)?;
                file.sync_data()
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && len == 0 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Hashes the first `len` bytes of an upload's file, in chunks.
    pub fn digest(&self, shard: u32, upload_id: &str, len: u64) -> io::Result<Digested> {
        let mut file = match File::open(self.upload_path(shard, upload_id)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && len == 0 => {
                return Ok(Digested {
                    sha256: Sha256::digest([]).into(),
                    size: 0,
                    head: Vec::new(),
                });
            }
            other => other?,
        };
        let mut hasher = Sha256::new();
        let mut head = Vec::new();
        let mut left = len;
        let mut buffer = vec![0u8; CHUNK];
        while left > 0 {
            let want = buffer.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let got = file.read(&mut buffer[..want])?;
            if got == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the upload's file is short",
                ));
            }
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(got);
                head.extend_from_slice(&buffer[..take]);
            }
            hasher.update(&buffer[..got]);
            left -= got as u64;
        }
        Ok(Digested {
            sha256: hasher.finalize().into(),
            size: len,
            head,
        })
    }

    /// Makes a finished upload's file the blob of `sha256`, held by
    /// `holder`: renamed into place (atomically, durably), or dropped when
    /// that blob exists already (stored once).
    pub fn promote(&self, shard: u32, upload_id: &str, sha256: &[u8; 32], holder: &str) -> io::Result<PathBuf> {
        let _locked = blobs_locked();
        let from = self.upload_path(shard, upload_id);
        let to = self.blob_path(shard, sha256);
        let dir = to.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&dir)?;
        if to.exists() {
            match std::fs::remove_file(&from) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        } else {
            if !from.exists() {
                // An empty file was never written: its blob is empty.
                if let Some(uploads) = from.parent() {
                    std::fs::create_dir_all(uploads)?;
                }
                File::create(&from)?.sync_all()?;
            }
            std::fs::rename(&from, &to)?;
            sync_dir(&dir)?;
        }
        self.hold(shard, sha256, holder)?;
        Ok(to)
    }

    /// Up to `len` bytes of a blob from `offset` (fewer at its end).
    pub fn read_blob(&self, shard: u32, sha256: &[u8; 32], offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let mut file = File::open(self.blob_path(shard, sha256))?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(CHUNK).min(CHUNK));
        file.take(len).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Removes an upload's file (terminated or expired).
    pub fn remove_upload(&self, shard: u32, upload_id: &str) -> io::Result<()> {
        not_found_ok(std::fs::remove_file(self.upload_path(shard, upload_id)))
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
