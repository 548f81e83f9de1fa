//! Images made in code, for tests and benchmarks (here and in the
//! HTTP and cluster tests): a gradient in any format, a JPEG whose EXIF
//! says to rotate it, a PNG whose header claims any size.

use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use std::io::Cursor;

/// `image` encoded as `format` (one compiled in: anything else is a
/// mistake in the test that asks, so it panics).
#[allow(clippy::unwrap_used)]
pub fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A `width` × `height` JPEG that compresses as a photo does: a smooth
/// gradient with noise (`seed` varies the noise, hence the bytes).
pub fn photo(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64 ^ seed;
    let picture = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 24) as u8;
        image::Rgb([(x / 16) as u8 ^ noise, (y / 12) as u8 ^ noise, ((x + y) / 28) as u8])
    });
    encoded(DynamicImage::ImageRgb8(picture), ImageFormat::Jpeg)
}

/// A `width` × `height` colour gradient.
pub fn gradient(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgba8(RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8, 255])
    }))
}

/// A JPEG whose EXIF says "rotate 90° clockwise" (orientation 6).
pub fn rotated_jpeg(width: u32, height: u32) -> Vec<u8> {
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

/// A PNG whose header claims `width` × `height` pixels and holds none.
pub fn huge_png(width: u32, height: u32) -> Vec<u8> {
    let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    huge.extend(width.to_be_bytes());
    huge.extend(height.to_be_bytes());
    huge.extend([8, 6, 0, 0, 0]);
    let crc = crc32(&huge[12..]);
    huge.extend(crc.to_be_bytes());
    // An empty IDAT (its pixels would follow) and the end.
    huge.extend(b"\0\0\0\0IDAT");
    huge.extend(crc32(b"IDAT").to_be_bytes());
    huge.extend(b"\0\0\0\0IEND\xAE\x42\x60\x82");
    huge
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
