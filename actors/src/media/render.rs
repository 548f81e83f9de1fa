//! Making an image's variants: its size read from the header and checked
//! before anything is decoded; then decoded once, turned as its EXIF
//! orientation says, and each variant cut and scaled (fast_image_resize,
//! Lanczos 3) and encoded afresh, so no metadata of the original survives.
//! CPU-bound and blocking: callers run it on the bounded job pool.

use super::variants::{Fit, Format, Plan, Spec, check_pixels, plan};
use crate::error::{Error, Result};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageReader};
use std::io::{BufRead, Cursor, Seek};

/// JPEG quality when a spec names none.
pub const DEFAULT_QUALITY: u8 = 85;

/// One variant made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub format: Format,
    pub bytes: Vec<u8>,
}

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::invalid("source", format!("corrupt_image: the image cannot be decoded ({why})"))
}

fn reader<R: BufRead + Seek>(source: R) -> Result<ImageReader<R>> {
    ImageReader::new(source).with_guessed_format().map_err(corrupt)
}

/// The image's size as its header says, without decoding it.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    reader(Cursor::new(bytes))?.into_dimensions().map_err(corrupt)
}

/// The image's size as it is meant to be seen (its EXIF orientation
/// applied), from its header alone.
pub fn upright_dimensions<R: BufRead + Seek>(source: R) -> Result<(u32, u32)> {
    let mut decoder = reader(source)?.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    let turned = matches!(
        decoder.orientation().map_err(corrupt)?,
        image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH
    );
    Ok(if turned { (height, width) } else { (width, height) })
}

fn encode(image: &DynamicImage, format: Format, quality: Option<u8>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let failed = |e: image::ImageError| Error::internal(format!("encoding a variant: {e}"));
    match format {
        Format::Jpeg => {
            let encoder =
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.unwrap_or(DEFAULT_QUALITY));
            image.to_rgb8().write_with_encoder(encoder).map_err(failed)?;
        }
        Format::Png => {
            let encoder = image::codecs::png::PngEncoder::new(&mut out);
            image.to_rgba8().write_with_encoder(encoder).map_err(failed)?;
        }
        Format::Webp => {
            let encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            image.to_rgba8().write_with_encoder(encoder).map_err(failed)?;
        }
    }
    Ok(out)
}

fn scaled(resizer: &mut Resizer, source: &DynamicImage, plan: &Plan) -> Result<DynamicImage> {
    let mut target = DynamicImage::new(plan.width, plan.height, source.color());
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(
            f64::from(plan.crop.x),
            f64::from(plan.crop.y),
            f64::from(plan.crop.width),
            f64::from(plan.crop.height),
        );
    resizer
        .resize(source, &mut target, &options)
        .map_err(|e| Error::internal(format!("resizing a variant: {e}")))?;
    Ok(target)
}

/// Every variant of `bytes` that `specs` ask for: 422 when the header
/// claims more than `max_pixels` (before decoding) or the file does not
/// decode.
pub fn render(bytes: &[u8], specs: &[Spec], max_pixels: u64) -> Result<Vec<Rendered>> {
    let mut made = Vec::with_capacity(specs.len());
    render_each(
        || Ok(Cursor::new(bytes)),
        specs,
        max_pixels,
        |variant| {
            made.push(variant);
            Ok(())
        },
    )?;
    Ok(made)
}

/// [`render`] reading from `open` (called twice: the header, then the
/// decoding) and handing each variant to `each` as soon as it is made, so
/// one is held at a time.
pub fn render_each<R: BufRead + Seek>(
    open: impl Fn() -> Result<R>,
    specs: &[Spec],
    max_pixels: u64,
    mut each: impl FnMut(Rendered) -> Result<()>,
) -> Result<()> {
    let (width, height) = reader(open()?)?.into_dimensions().map_err(corrupt)?;
    check_pixels(width, height, max_pixels)?;
    let mut decoder = reader(open()?)?.into_decoder().map_err(corrupt)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    // Resizers want 8-bit RGB(A) or luma; anything else becomes RGBA.
    let image = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) | DynamicImage::ImageLuma8(_) => image,
        other => DynamicImage::ImageRgba8(other.to_rgba8()),
    };
    let mut resizer = Resizer::new();
    for spec in specs {
        let plan = plan(image.width(), image.height(), spec);
        let variant = match (spec.fit, plan.width == image.width() && plan.height == image.height()) {
            (Fit::Contain, true) => image.clone(),
            _ => scaled(&mut resizer, &image, &plan)?,
        };
        each(Rendered {
            name: spec.name.clone(),
            width: variant.width(),
            height: variant.height(),
            format: spec.format,
            bytes: encode(&variant, spec.format, spec.quality)?,
        })?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
