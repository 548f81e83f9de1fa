//! Byte ranges (RFC 9110 §14): what a `Range` header asks of a
//! representation of `size` bytes, and the `Content-Range` that answers it.
//! Pure.
//!
//! - `bytes=0-499`, `bytes=500-` (to the end), `bytes=-500` (the last
//!   500) and lists of them; ranges past the end are cut to it.
//! - Satisfiable ranges are answered in the order asked; overlapping or
//!   adjacent ones are merged first (a client cannot make the server send
//!   the same bytes many times), and too many ranges are answered whole.
//! - None satisfiable (all start at or past the end, or the body is empty):
//!   416 with `Content-Range: bytes */size`.
//! - A header that does not parse, or another unit, is ignored: the whole
//!   representation (200), as the RFC asks.

/// At most this many ranges are answered one by one; more → the whole body.
pub const MAX_RANGES: usize = 16;

/// An inclusive span of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: u64,
    pub last: u64,
}

impl Span {
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// `Content-Range` of this span of a body of `size` bytes.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.first, self.last)
    }
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranged {
    /// The whole body (200): no range asked, or one that does not parse.
    Whole,
    /// These spans (206): one → a plain body with `Content-Range`, several
    /// → `multipart/byteranges`.
    Spans(Vec<Span>),
    /// 416 with [`unsatisfiable`]'s `Content-Range`.
    Unsatisfiable,
}

/// `Content-Range` of a 416.
pub fn unsatisfiable(size: u64) -> String {
    format!("bytes */{size}")
}

enum Spec {
    From(u64, Option<u64>),
    Suffix(u64),
}

fn parse_spec(text: &str) -> Option<Spec> {
    let (first, last) = text.trim().split_once('-')?;
    let number = |t: &str| -> Option<u64> {
        let t = t.trim();
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    if first.trim().is_empty() {
        return number(last).map(Spec::Suffix);
    }
    let first = number(first)?;
    if last.trim().is_empty() {
        return Some(Spec::From(first, None));
    }
    let last = number(last)?;
    (last >= first).then_some(Spec::From(first, Some(last)))
}

/// What `header` (the `Range` value, if any) asks of `size` bytes.
pub fn ranges(header: Option<&str>, size: u64) -> Ranged {
    let Some(header) = header else {
        return Ranged::Whole;
    };
    let Some((unit, list)) = header.split_once('=') else {
        return Ranged::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ranged::Whole;
    }
    let mut specs = Vec::new();
    for part in list.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        match parse_spec(part) {
            Some(spec) => specs.push(spec),
            None => return Ranged::Whole,
        }
    }
    if specs.is_empty() {
        return Ranged::Whole;
    }
    let mut spans: Vec<Span> = specs
        .into_iter()
        .filter_map(|spec| match spec {
            Spec::From(first, _) if first >= size => None,
            Spec::From(first, last) => Some(Span {
                first,
                last: last.unwrap_or(u64::MAX).min(size - 1),
            }),
            Spec::Suffix(n) if n == 0 || size == 0 => None,
            Spec::Suffix(n) => Some(Span {
                first: size.saturating_sub(n),
                last: size - 1,
            }),
        })
        .collect();
    if spans.is_empty() {
        return Ranged::Unsatisfiable;
    }
    if spans.len() > 1 {
        spans = merged(spans);
    }
    if spans.len() > MAX_RANGES {
        return Ranged::Whole;
    }
    Ranged::Spans(spans)
}

/// Overlapping or adjacent spans merged, the rest kept in the order asked.
fn merged(mut spans: Vec<Span>) -> Vec<Span> {
    loop {
        let mut out: Vec<Span> = Vec::new();
        for span in &spans {
            let touching = out
                .iter_mut()
                .find(|s| span.first <= s.last.saturating_add(1) && s.first <= span.last.saturating_add(1));
            match touching {
                Some(existing) => {
                    existing.first = existing.first.min(span.first);
                    existing.last = existing.last.max(span.last);
                }
                None => out.push(*span),
            }
        }
        // A merge may make earlier spans touch: again until nothing changes.
        if out.len() == spans.len() {
            return out;
        }
        spans = out;
    }
}

/// Whether a request's `If-Range` (an entity tag or an HTTP date) still
/// names the representation: only then are its ranges honoured. A strong
/// tag must match exactly; a date must equal `last_modified` exactly
/// (RFC 9110 §13.1.5); a weak tag never matches.
pub fn if_range_holds(if_range: Option<&str>, etag: &str, last_modified: &str) -> bool {
    match if_range.map(str::trim) {
        None => true,
        Some(v) if v.starts_with("W/") => false,
        Some(v) if v.starts_with('"') => v == etag,
        Some(v) => v == last_modified,
    }
}

#[cfg(test)]
#[path = "range_tests.rs"]
mod tests;
