//! Image variants: what may be asked, and the geometry of each (which part
//! of the source, scaled to what size). Pure; the pixels are the job's.

use crate::error::{Error, FieldErrors, Result};
use serde::{Deserialize, Serialize};

/// Most variants one request asks.
pub const MAX_PER_REQUEST: usize = 10;
/// The largest side of a variant.
pub const MAX_SIDE: u32 = 8192;
/// Sources with more pixels are refused before decoding (40 MP).
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Inside the box, the aspect kept (never enlarged).
    Contain,
    /// Filling the box, the aspect kept, the overflow cropped at the centre.
    Cover,
    /// Exactly the box, the aspect not kept.
    Fill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub fit: Fit,
    pub format: Format,
    /// JPEG quality 1–100 (85 if not given); only for JPEG.
    #[serde(default)]
    pub quality: Option<u8>,
}

/// A variant made and stored: the spec it answers, what came out, and the
/// blob holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub spec: Spec,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    pub sha256: [u8; 32],
}

/// The specs of `asked` still to be made: those without a variant of the
/// same name made from the identical spec (never recomputed).
pub fn pending(asked: &[Spec], made: &[Variant]) -> Vec<Spec> {
    asked
        .iter()
        .filter(|spec| !made.iter().any(|v| v.spec == **spec))
        .cloned()
        .collect()
}

/// `existing` with `made` added, each replacing a variant of its name;
/// also the variants replaced (their blobs are no longer this asset's).
pub fn merge(existing: &[Variant], made: Vec<Variant>) -> (Vec<Variant>, Vec<Variant>) {
    let mut kept: Vec<Variant> = Vec::with_capacity(existing.len() + made.len());
    let mut replaced = Vec::new();
    for old in existing {
        match made.iter().any(|new| new.spec.name == old.spec.name) {
            true if !made.contains(old) => replaced.push(old.clone()),
            true => {}
            false => kept.push(old.clone()),
        }
    }
    for new in made {
        if !kept.iter().any(|v| v.spec.name == new.spec.name) {
            kept.push(new);
        }
    }
    kept.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    (kept, replaced)
}

/// Checks a request's specs: 1 to [`MAX_PER_REQUEST`], names of 1–32
/// `[a-z0-9_-]` unique within the request, sides 1 to [`MAX_SIDE`], a
/// quality only for JPEG and within 1–100.
pub fn check(specs: &[Spec]) -> Result<()> {
    let mut errors = FieldErrors::new();
    if specs.is_empty() || specs.len() > MAX_PER_REQUEST {
        errors.add("variants", format!("ask 1 to {MAX_PER_REQUEST}"));
    }
    for (i, s) in specs.iter().enumerate() {
        let field = |f: &str| format!("variants[{i}].{f}");
        let name_ok = (1..=32).contains(&s.name.len())
            && s.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !name_ok {
            errors.add(field("name"), "1 to 32 of a-z, 0-9, _ and -");
        } else if specs[..i].iter().any(|o| o.name == s.name) {
            errors.add(field("name"), "named twice");
        }
        if !(1..=MAX_SIDE).contains(&s.width) {
            errors.add(field("width"), format!("1 to {MAX_SIDE}"));
        }
        if !(1..=MAX_SIDE).contains(&s.height) {
            errors.add(field("height"), format!("1 to {MAX_SIDE}"));
        }
        match (s.quality, s.format) {
            (Some(q), Format::Jpeg) if !(1..=100).contains(&q) => errors.add(field("quality"), "1 to 100"),
            (Some(_), Format::Png | Format::Webp) => errors.add(field("quality"), "only for jpeg"),
            _ => {}
        }
    }
    errors.into_result()
}

/// A source of `width` × `height` pixels may be decoded under `max_pixels`
/// (422 `image_too_large` naming both, before any decoding).
pub fn check_pixels(width: u32, height: u32, max_pixels: u64) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(Error::Validation {
            fields: [(
                "source".to_string(),
                format!("{width}×{height} is {pixels} pixels; at most {max_pixels} are decoded"),
            )]
            .into(),
        });
    }
    Ok(())
}

/// A rectangle of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// How one variant is made from a `width` × `height` source (after EXIF
/// orientation): the part of the source taken and the output's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub crop: Crop,
    pub width: u32,
    pub height: u32,
}

fn scaled(side: u32, factor: f64) -> u32 {
    ((f64::from(side) * factor).round() as u32).max(1)
}

/// The plan of `spec` for a source of `width` × `height`.
pub fn plan(width: u32, height: u32, spec: &Spec) -> Plan {
    let whole = Crop {
        x: 0,
        y: 0,
        width,
        height,
    };
    let (fw, fh) = (
        f64::from(spec.width) / f64::from(width),
        f64::from(spec.height) / f64::from(height),
    );
    match spec.fit {
        Fit::Fill => Plan {
            crop: whole,
            width: spec.width,
            height: spec.height,
        },
        Fit::Contain => {
            let factor = fw.min(fh).min(1.0);
            Plan {
                crop: whole,
                width: scaled(width, factor).min(spec.width),
                height: scaled(height, factor).min(spec.height),
            }
        }
        Fit::Cover => {
            // The largest part of the source with the box's aspect, centred.
            let factor = fw.max(fh);
            let crop_w = ((f64::from(spec.width) / factor).round() as u32).clamp(1, width);
            let crop_h = ((f64::from(spec.height) / factor).round() as u32).clamp(1, height);
            Plan {
                crop: Crop {
                    x: (width - crop_w) / 2,
                    y: (height - crop_h) / 2,
                    width: crop_w,
                    height: crop_h,
                },
                width: spec.width,
                height: spec.height,
            }
        }
    }
}

#[cfg(test)]
#[path = "variants_tests.rs"]
mod tests;
