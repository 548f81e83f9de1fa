use super::*;
use crate::media::samples::{encoded, gradient, huge_png, rotated_jpeg};
use crate::media::sniff::{MediaType, sniff};
use crate::media::variants::DEFAULT_MAX_PIXELS;
use image::{ImageFormat, RgbImage};

fn spec(name: &str, width: u32, height: u32, fit: Fit, format: Format) -> Spec {
    Spec {
        name: name.into(),
        width,
        height,
        fit,
        format,
        quality: None,
    }
}

fn size_of(bytes: &[u8]) -> (u32, u32) {
    dimensions(bytes).unwrap()
}

#[test]
fn one_decode_makes_every_variant_at_its_size_and_format() {
    let source = encoded(gradient(400, 300), ImageFormat::Png);
    let specs = [
        spec("thumb", 100, 100, Fit::Cover, Format::Jpeg),
        spec("view", 200, 200, Fit::Contain, Format::Png),
        spec("strip", 50, 20, Fit::Fill, Format::Webp),
        spec("big", 1200, 1200, Fit::Contain, Format::Jpeg),
    ];
    let made = render(&source, &specs, DEFAULT_MAX_PIXELS).unwrap();
    let seen: Vec<(&str, u32, u32, Option<MediaType>)> = made
        .iter()
        .map(|r| (r.name.as_str(), r.width, r.height, sniff(&r.bytes)))
        .collect();
    assert_eq!(
        seen,
        [
            ("thumb", 100, 100, Some(MediaType::Jpeg)),
            ("view", 200, 150, Some(MediaType::Png)),
            ("strip", 50, 20, Some(MediaType::Webp)),
            ("big", 400, 300, Some(MediaType::Jpeg)),
        ]
    );
    for r in &made {
        assert_eq!(size_of(&r.bytes), (r.width, r.height), "{}", r.name);
    }
}

#[test]
fn jpeg_gif_and_webp_sources_work_too() {
    let rgb = DynamicImage::ImageRgb8(RgbImage::from_fn(300, 200, |x, y| image::Rgb([x as u8, y as u8, 7])));
    let cases = [
        (
            encoded(rgb, ImageFormat::Jpeg),
            spec("v", 150, 150, Fit::Contain, Format::Jpeg),
            (150, 100),
        ),
        (
            encoded(gradient(64, 32), ImageFormat::Gif),
            spec("v", 32, 32, Fit::Contain, Format::Png),
            (32, 16),
        ),
        (
            encoded(gradient(80, 40), ImageFormat::WebP),
            spec("v", 20, 20, Fit::Cover, Format::Jpeg),
            (20, 20),
        ),
    ];
    for (source, spec, expected) in cases {
        let made = render(&source, &[spec], DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!((made[0].width, made[0].height), expected);
        assert_eq!(size_of(&made[0].bytes), expected);
    }
}

#[test]
fn exif_orientation_is_honoured_and_metadata_left_behind() {
    let source = rotated_jpeg(40, 20);
    assert_eq!(size_of(&source), (40, 20), "as stored");
    assert_eq!(upright_dimensions(Cursor::new(&source)).unwrap(), (20, 40), "as seen");
    let plain = encoded(gradient(40, 20), ImageFormat::Png);
    assert_eq!(upright_dimensions(Cursor::new(&plain)).unwrap(), (40, 20));
    let made = render(
        &source,
        &[spec("v", 100, 100, Fit::Contain, Format::Jpeg)],
        DEFAULT_MAX_PIXELS,
    )
    .unwrap();
    assert_eq!((made[0].width, made[0].height), (20, 40), "as meant to be seen");
    assert!(!made[0].bytes.windows(4).any(|w| w == b"Exif"), "no metadata survives");
}

#[test]
fn a_corrupt_file_and_a_huge_header_are_refused_without_decoding() {
    let mut corrupt = encoded(gradient(50, 50), ImageFormat::Png);
    let len = corrupt.len();
    corrupt[40..len - 12].fill(0x55);
    let Err(Error::Validation { fields }) = render(
        &corrupt,
        &[spec("v", 10, 10, Fit::Fill, Format::Png)],
        DEFAULT_MAX_PIXELS,
    ) else {
        panic!("a corrupt file must fail")
    };
    assert!(fields["source"].contains("corrupt_image"), "{fields:?}");
    // A PNG header claiming 64250 × 64250 pixels and no pixels at all.
    let huge = huge_png(64250, 64250);
    let Err(Error::Validation { fields }) =
        render(&huge, &[spec("v", 10, 10, Fit::Fill, Format::Png)], DEFAULT_MAX_PIXELS)
    else {
        panic!("refused")
    };
    assert!(fields["source"].contains("64250×64250"), "{fields:?}");
}
