//! Small pictures for the image path's tests: a real PNG, and PNGs shaped as attacks.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};

/// A real PNG of `width` × `height`, a gray gradient.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, _| {
        image::Rgb([u8::try_from(x * 255 / width.max(1)).unwrap_or(255); 3])
    }));
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .expect("a PNG encodes");
    out.into_inner()
}

/// A PNG whose header declares `width` × `height`, with a few bytes of data: a decompression bomb's shape.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    let idat = [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
    for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &idat), (b"IEND", &[])] {
        png.extend(u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
        let start = png.len();
        png.extend(kind);
        png.extend(data);
        let crc = crc32(&png[start..]);
        png.extend(crc.to_be_bytes());
    }
    png
}

/// A real PNG cut in half.
pub fn png_truncated() -> Vec<u8> {
    let mut whole = png(64, 64);
    whole.truncate(whole.len() / 2);
    whole
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
