//! Where media bytes live: in the node's data directory, under the shard
//! their upload or asset belongs to, so a shard's files can move with its
//! records. An upload is one growing file; a finished file is stored once
//! per sha256 (a blob) whatever the number of assets made of it.
//! Every write is fsynced before it is acknowledged; a blob appears by an
//! atomic rename (and a fsync of its directory). Blocking: callers run
//! these on `spawn_blocking`.
//!
//! `<data>/media/shard-<n>/uploads/<upload id>` and
//! `<data>/media/shard-<n>/blobs/<sha256 hex>`.

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

    /// Makes a finished upload's file the blob of `sha256`: renamed into
    /// place (atomically, durably), or dropped when that blob exists
    /// already (stored once).
    pub fn promote(&self, shard: u32, upload_id: &str, sha256: &[u8; 32]) -> io::Result<PathBuf> {
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
        match std::fs::remove_file(self.upload_path(shard, upload_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Removes a blob nothing uses any more.
    pub fn remove_blob(&self, shard: u32, sha256: &[u8; 32]) -> io::Result<()> {
        match std::fs::remove_file(self.blob_path(shard, sha256)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
