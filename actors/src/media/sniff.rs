//! A file's real type, from its first bytes — never from the name or the
//! type the uploader claimed. Only what the platform serves is known:
//! JPEG, PNG, GIF, WebP, MP4, QuickTime and WebM; anything else (SVG
//! among them: it can carry scripts) is refused. Pure.

use serde::{Deserialize, Serialize};

/// How many leading bytes [`sniff`] needs at most.
pub const SNIFF_BYTES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaType {
    Jpeg,
    Png,
    Gif,
    Webp,
    Mp4,
    QuickTime,
    Webm,
}

impl MediaType {
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Gif => "image/gif",
            MediaType::Webp => "image/webp",
            MediaType::Mp4 => "video/mp4",
            MediaType::QuickTime => "video/quicktime",
            MediaType::Webm => "video/webm",
        }
    }

    /// An image (variants can be made of it).
    pub fn is_image(self) -> bool {
        matches!(
            self,
            MediaType::Jpeg | MediaType::Png | MediaType::Gif | MediaType::Webp
        )
    }
}

/// ISO base media file brands that are QuickTime rather than MP4.
const QUICKTIME_BRANDS: &[&[u8; 4]] = &[b"qt  "];
/// Top-level atoms a QuickTime file without `ftyp` may start with.
const QUICKTIME_ATOMS: &[&[u8; 4]] = &[b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

/// The type of a file starting with `head` (its first [`SNIFF_BYTES`] or
/// all of it if shorter), or `None` for one the platform does not take.
pub fn sniff(head: &[u8]) -> Option<MediaType> {
    let at = |range: std::ops::Range<usize>| head.get(range);
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(MediaType::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(MediaType::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(MediaType::Gif);
    }
    if head.starts_with(b"RIFF") && at(8..12) == Some(b"WEBP") {
        return Some(MediaType::Webp);
    }
    if at(4..8) == Some(b"ftyp") {
        let brand = at(8..12)?;
        return Some(if QUICKTIME_BRANDS.iter().any(|b| &b[..] == brand) {
            MediaType::QuickTime
        } else {
            MediaType::Mp4
        });
    }
    if let Some(atom) = at(4..8)
        && QUICKTIME_ATOMS.iter().any(|a| &a[..] == atom)
    {
        return Some(MediaType::QuickTime);
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        // EBML: WebM says so in its DocType (Matroska proper is not served).
        return head.windows(4).any(|w| w == b"webm").then_some(MediaType::Webm);
    }
    None
}

#[cfg(test)]
#[path = "sniff_tests.rs"]
mod tests;
