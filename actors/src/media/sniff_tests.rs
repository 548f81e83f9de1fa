use super::*;

#[test]
fn each_served_type_is_known_by_its_first_bytes() {
    let cases: [(&[u8], MediaType); 9] = [
        (
            &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'],
            MediaType::Jpeg,
        ),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", MediaType::Png),
        (b"GIF89a\x01\0\x01\0", MediaType::Gif),
        (b"GIF87a\x01\0\x01\0", MediaType::Gif),
        (b"RIFF\x24\0\0\0WEBPVP8 ", MediaType::Webp),
        (b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2", MediaType::Mp4),
        (b"\0\0\0\x14ftypqt  \0\0\x02\0qt  ", MediaType::QuickTime),
        (b"\0\0\x01\x00moov\0\0\0\x6cmvhd", MediaType::QuickTime),
        (
            b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm",
            MediaType::Webm,
        ),
    ];
    for (head, expected) in cases {
        assert_eq!(sniff(head), Some(expected), "{head:?}");
    }
    assert!(MediaType::Webp.is_image() && !MediaType::Webm.is_image());
    assert_eq!(MediaType::QuickTime.mime(), "video/quicktime");
}

#[test]
fn svg_html_text_matroska_and_truncated_files_are_refused() {
    for head in [
        &b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\">"[..],
        b"<svg onload=alert(1)>",
        b"<!DOCTYPE html><html>",
        b"just some text",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska",
        b"RIFF\x24\0\0\0WAVEfmt ",
        b"\xFF\xD8",
        b"\0\0\0\x20ftyp",
        b"",
        b"%PDF-1.7",
    ] {
        assert_eq!(sniff(head), None, "{head:?}");
    }
}
