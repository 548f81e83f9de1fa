use super::*;
use crate::media::sniff::{MediaType, sniff};
use crate::media::variants::DEFAULT_MAX_PIXELS;
use image::{ImageFormat, RgbImage, RgbaImage};

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

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn gradient(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgba8(RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8, 255])
    }))
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

/// A JPEG whose EXIF says "rotate 90° clockwise" (orientation 6).
fn rotated_jpeg(width: u32, height: u32) -> Vec<u8> {
    let plain = encoded(
        DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, image::Rgb([200, 10, 10]))),
        ImageFormat::Jpeg,
    );
    // APP1: "Exif\0\0", a big-endian TIFF header, one IFD entry: tag 0x0112
    // (orientation), type SHORT, count 1, value 6.
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend([0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

#[test]
fn exif_orientation_is_honoured_and_metadata_left_behind() {
    let source = rotated_jpeg(40, 20);
    assert_eq!(size_of(&source), (40, 20), "as stored");
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
    let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    huge.extend(64250u32.to_be_bytes());
    huge.extend(64250u32.to_be_bytes());
    huge.extend([8, 6, 0, 0, 0]);
    let crc = crc32(&huge[12..]);
    huge.extend(crc.to_be_bytes());
    // An empty IDAT (its pixels would follow) and the end.
    huge.extend(b"\0\0\0\0IDAT");
    huge.extend(crc32(b"IDAT").to_be_bytes());
    huge.extend(b"\0\0\0\0IEND\xAE\x42\x60\x82");
    let Err(Error::Validation { fields }) =
        render(&huge, &[spec("v", 10, 10, Fit::Fill, Format::Png)], DEFAULT_MAX_PIXELS)
    else {
        panic!("refused")
    };
    assert!(fields["source"].contains("64250×64250"), "{fields:?}");
}

/// CRC-32 (PNG's), for a hand-made chunk.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
