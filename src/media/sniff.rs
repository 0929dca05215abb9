//! What an image is, from its first bytes only: a server's `Content-Type` and a file's name can lie.

/// The image formats the service reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    Png,
    Jpeg,
    WebP,
    Gif,
}

impl ImageKind {
    pub const ALL: [ImageKind; 4] = [
        ImageKind::Png,
        ImageKind::Jpeg,
        ImageKind::WebP,
        ImageKind::Gif,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpeg",
            ImageKind::WebP => "webp",
            ImageKind::Gif => "gif",
        }
    }
}

/// The format `bytes` start like, or `None` for anything else (text, HTML, other formats, too short).
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    match bytes {
        [0x89, b'P', b'N', b'G', ..] if bytes.starts_with(PNG) => Some(ImageKind::Png),
        [0xff, 0xd8, 0xff, ..] => Some(ImageKind::Jpeg),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageKind::Gif),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some(ImageKind::WebP),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_known_by_its_magic_bytes() {
        let cases: [(&[u8], ImageKind); 5] = [
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", ImageKind::Png),
            (b"\xff\xd8\xff\xe0\0\x10JFIF", ImageKind::Jpeg),
            (b"GIF89a\x01\0\x01\0", ImageKind::Gif),
            (b"GIF87a\x01\0\x01\0", ImageKind::Gif),
            (b"RIFF\x24\0\0\0WEBPVP8 ", ImageKind::WebP),
        ];
        for (bytes, kind) in cases {
            assert_eq!(sniff(bytes), Some(kind), "{kind:?}");
        }
    }

    #[test]
    fn anything_else_is_not_an_image() {
        let cases: [&[u8]; 12] = [
            b"",
            b"\x89PNG",                     // too short to be sure
            b"\x89PNG\r\n\x1a\x0b",         // one byte off
            b"\xff\xd8",                    // too short
            b"GIF88a",                      // no such version
            b"RIFF\x24\0\0\0WAVEfmt ",      // audio
            b"RIFF\x24\0\0\0WEB",           // cut short
            b"<!DOCTYPE html><html>",       // a login page
            b"%PDF-1.7",                    // a document
            b"BM\x36\0\0\0",                // BMP: not read
            b"\0\0\0\x1cftypavif",          // AVIF: not read
            "Ảnh chụp màn hình".as_bytes(), // text
        ];
        for bytes in cases {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn labels_are_distinct() {
        let labels: std::collections::HashSet<_> = ImageKind::ALL.map(ImageKind::as_str).into();
        assert_eq!(labels.len(), ImageKind::ALL.len());
    }
}
