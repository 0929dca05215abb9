//! Decoding an image under limits read from its header, so a small file that declares a huge picture
//! (a decompression bomb) is refused before any pixel buffer is allocated.
//!
//! The result is grayscale: QR detection and OCR both read luminance, and one byte a pixel is a quarter
//! of RGBA. Transparent pixels are laid on white first, as a viewer shows them, so dark marks drawn on a
//! transparent background stay readable.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::sniff::{ImageKind, sniff};
use crate::net::FetchError;

/// The bounds of one decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Width × height at most.
    pub max_pixels: u64,
    /// Width and height each at most.
    pub max_side: u32,
}

impl DecodeLimits {
    /// Bytes the decoder may allocate for the decoded picture: 8-bit RGBA at the pixel cap. A 16-bit
    /// image gets half the pixels.
    pub fn max_alloc(&self) -> u64 {
        self.max_pixels.saturating_mul(4)
    }
}

impl Default for DecodeLimits {
    /// About 40 megapixels: a phone camera's full photo, or a long scrolling screenshot (1080 × 32768).
    fn default() -> Self {
        DecodeLimits {
            max_pixels: 40_000_000,
            max_side: 32_768,
        }
    }
}

/// A decoded image, reduced to gray.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// The format its magic bytes named.
    pub kind: ImageKind,
    pub gray: GrayImage,
    /// SHA-256 of the bytes as received, hex: what is kept of an image instead of the image.
    pub sha256: String,
}

/// Sniffs and decodes `bytes`, the first frame of a GIF or an animated WebP. CPU-bound: callers on the
/// async runtime run it in a blocking task.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, FetchError> {
    let kind = sniff(bytes).ok_or(FetchError::NotImage)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format(kind));
    reader.limits(image_limits(limits));
    let decoder = reader.into_decoder().map_err(refusal)?;
    let (width, height) = decoder.dimensions();
    let too_many = u64::from(width) * u64::from(height) > limits.max_pixels
        || decoder.total_bytes() > limits.max_alloc();
    if too_many {
        return Err(FetchError::TooManyPixels);
    }
    let image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    Ok(DecodedImage {
        kind,
        gray: to_gray(image),
        sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)),
    })
}

fn format(kind: ImageKind) -> ImageFormat {
    match kind {
        ImageKind::Png => ImageFormat::Png,
        ImageKind::Jpeg => ImageFormat::Jpeg,
        ImageKind::WebP => ImageFormat::WebP,
        ImageKind::Gif => ImageFormat::Gif,
    }
}

fn image_limits(limits: &DecodeLimits) -> Limits {
    let mut out = Limits::default();
    out.max_image_width = Some(limits.max_side);
    out.max_image_height = Some(limits.max_side);
    out.max_alloc = Some(limits.max_alloc());
    out
}

/// A limit the decoder hit is the size refusal; anything else means the file is damaged (truncated,
/// corrupt, or a variant the decoder does not support).
fn refusal(e: ImageError) -> FetchError {
    match e {
        ImageError::Limits(_) => FetchError::TooManyPixels,
        _ => FetchError::BadImage,
    }
}

fn to_gray(image: DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.into_luma8();
    }
    let with_alpha = image.into_luma_alpha8();
    let (width, height) = with_alpha.dimensions();
    let pixels = with_alpha
        .pixels()
        .map(|p| {
            let [luma, alpha] = p.0.map(u32::from);
            ((luma * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        })
        .collect();
    GrayImage::from_raw(width, height, pixels).expect("one byte per pixel of the same size")
}

#[cfg(test)]
mod tests {
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, Luma, LumaA, Rgb, RgbImage, Rgba, RgbaImage};

    use testkit::pictures::png_declaring;

    use super::*;

    fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// A picture whose left half is black and right half white.
    fn halves(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        })
    }

    /// A PNG whose header declares `width` × `height` and whose data is a few bytes: a bomb's shape.
    #[test]
    fn each_format_decodes_to_the_same_gray_picture() {
        let picture = DynamicImage::ImageRgb8(halves(64, 32));
        for (format, kind) in [
            (ImageFormat::Png, ImageKind::Png),
            (ImageFormat::Jpeg, ImageKind::Jpeg),
            (ImageFormat::WebP, ImageKind::WebP),
            (ImageFormat::Gif, ImageKind::Gif),
        ] {
            let bytes = encode(&picture, format);
            let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
            assert_eq!(decoded.kind, kind);
            assert_eq!(decoded.gray.dimensions(), (64, 32), "{kind:?}");
            assert!(
                decoded.gray.get_pixel(4, 16).0[0] < 30,
                "{kind:?}: left is dark"
            );
            assert!(
                decoded.gray.get_pixel(60, 16).0[0] > 225,
                "{kind:?}: right is light"
            );
        }
    }

    #[test]
    fn a_gif_gives_its_first_frame() {
        let frame = |shade: u8| {
            let image = RgbaImage::from_pixel(8, 8, Rgba([shade, shade, shade, 255]));
            Frame::from_parts(image, 0, 0, Delay::from_numer_denom_ms(100, 1))
        };
        let mut bytes = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut bytes);
            encoder.set_repeat(Repeat::Infinite).unwrap();
            encoder.encode_frames([frame(0), frame(255)]).unwrap();
        }
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.kind, ImageKind::Gif);
        assert_eq!(decoded.gray.get_pixel(3, 3), &Luma([0]));
    }

    #[test]
    fn transparent_pixels_are_laid_on_white() {
        let mut image = image::GrayAlphaImage::new(2, 1);
        image.put_pixel(0, 0, LumaA([0, 0])); // transparent "black"
        image.put_pixel(1, 0, LumaA([0, 255])); // opaque black mark
        let bytes = encode(&DynamicImage::ImageLumaA8(image), ImageFormat::Png);
        let gray = decode(&bytes, &DecodeLimits::default()).unwrap().gray;
        assert_eq!(gray.get_pixel(0, 0), &Luma([255]));
        assert_eq!(gray.get_pixel(1, 0), &Luma([0]));
    }

    #[test]
    fn a_declared_giant_is_refused_from_its_header() {
        let bomb = png_declaring(50_000, 50_000);
        assert!(bomb.len() < 100);
        assert_eq!(
            decode(&bomb, &DecodeLimits::default()).unwrap_err(),
            FetchError::TooManyPixels
        );
        // Within each side's limit but over the pixel cap.
        let wide = png_declaring(8_000, 8_000);
        assert_eq!(
            decode(&wide, &DecodeLimits::default()).unwrap_err(),
            FetchError::TooManyPixels
        );
        // The same header within the limits is read, and its missing data is damage.
        let small = png_declaring(100, 100);
        assert_eq!(
            decode(&small, &DecodeLimits::default()).unwrap_err(),
            FetchError::BadImage
        );
    }

    #[test]
    fn the_pixel_cap_and_the_side_cap_both_hold() {
        let bytes = encode(&DynamicImage::ImageRgb8(halves(100, 50)), ImageFormat::Png);
        let fits = DecodeLimits {
            max_pixels: 5_000,
            max_side: 100,
        };
        assert!(decode(&bytes, &fits).is_ok());
        for limits in [
            DecodeLimits {
                max_pixels: 4_999,
                ..fits
            },
            DecodeLimits {
                max_side: 99,
                ..fits
            },
        ] {
            assert_eq!(
                decode(&bytes, &limits).unwrap_err(),
                FetchError::TooManyPixels,
                "{limits:?}"
            );
        }
    }

    #[test]
    fn truncated_and_corrupt_images_are_bad_images() {
        let picture = DynamicImage::ImageRgb8(halves(64, 64));
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::WebP,
            ImageFormat::Gif,
        ] {
            let bytes = encode(&picture, format);
            for keep in [bytes.len() / 2, 20] {
                let result = decode(&bytes[..keep], &DecodeLimits::default());
                assert_eq!(
                    result.unwrap_err(),
                    FetchError::BadImage,
                    "{format:?} cut at {keep}"
                );
            }
        }
        let mut flipped = encode(&picture, ImageFormat::Png);
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0xff;
        assert_eq!(
            decode(&flipped, &DecodeLimits::default()).unwrap_err(),
            FetchError::BadImage
        );
    }

    #[test]
    fn non_images_are_refused_before_decoding() {
        for bytes in [&b"<html>login</html>"[..], b"", b"BM\x36\0\0\0"] {
            assert_eq!(
                decode(bytes, &DecodeLimits::default()).unwrap_err(),
                FetchError::NotImage
            );
        }
    }

    #[test]
    fn a_sixteen_bit_image_counts_its_bytes() {
        let image = image::ImageBuffer::from_pixel(50, 50, Rgba([0u16, 0, 0, 65535]));
        let bytes = encode(&DynamicImage::ImageRgba16(image), ImageFormat::Png);
        let limits = DecodeLimits {
            max_pixels: 2_500,
            max_side: 100,
        };
        assert_eq!(
            decode(&bytes, &limits).unwrap_err(),
            FetchError::TooManyPixels,
            "8 bytes a pixel is twice the allocation of the pixel cap"
        );
    }
}
