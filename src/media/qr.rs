//! QR codes in a decoded image: every code's payload text, deduplicated, in reading order.
//!
//! The reader is rxing's port of zxing-cpp's QR detector, chosen on the generated set against rqrr and
//! rxing's older Java port (docs/media.md). A picture is read as it is first. When nothing is found it is
//! read once more with each pixel's level stretched between the darkest and lightest around it: the
//! binariser takes a uniform patch for background unless it is nearly black, so a faded code (a dim
//! screen photographed, a washed-out image inside a crisp screenshot) loses its dark modules.

use image::GrayImage;
use image::imageops::{self, FilterType};
use rxing::common::HybridBinarizer;
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8Source, RXingResult};

/// Larger pictures are read scaled down to about this many pixels, so the time a read takes stays
/// bounded whatever the decoder let through: a 1440×3200 screenshot is read whole, a 12 MP photo (whose
/// code fills much of it) at about four fifths of its width.
const MAX_READ_PIXELS: u64 = 8_000_000;
/// The blocks the local stretch measures, in pixels, and how many blocks around one it looks at.
const BLOCK: usize = 16;
const REACH: usize = 2;
/// Below this spread between darkest and lightest around a block it holds no code: it becomes white.
const FLAT: u8 = 24;

/// Every QR code in `image`: the payloads, deduplicated, top to bottom (left to right within a row).
/// CPU-bound (tens of milliseconds for a phone screenshot): callers on the async runtime run it in a
/// blocking task.
#[must_use]
pub fn decode_qr(image: &GrayImage) -> Vec<String> {
    let (scaled, scale) = bounded(image);
    let image = scaled.as_ref().unwrap_or(image);
    let mut found = read(image);
    if found.is_empty() {
        found = read(&local_stretch(image));
    }
    for code in &mut found {
        code.top *= scale;
        code.left *= scale;
        code.height *= scale;
    }
    reading_order(found)
}

/// A code read, with where it lies.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    text: String,
    top: f32,
    left: f32,
    height: f32,
}

/// `image` scaled down to [`MAX_READ_PIXELS`] when larger, and the factor back to its coordinates.
fn bounded(image: &GrayImage) -> (Option<GrayImage>, f32) {
    let (w, h) = image.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels <= MAX_READ_PIXELS {
        return (None, 1.0);
    }
    let factor = (MAX_READ_PIXELS as f64 / pixels as f64).sqrt();
    let (sw, sh) = (
        ((f64::from(w) * factor) as u32).max(1),
        ((f64::from(h) * factor) as u32).max(1),
    );
    let scaled = imageops::resize(image, sw, sh, FilterType::Triangle);
    (Some(scaled), w as f32 / sw as f32)
}

fn read(image: &GrayImage) -> Vec<Found> {
    let (w, h) = image.dimensions();
    let Ok(source) = Luma8Source::new_with_slice(image.as_raw(), w, h) else {
        return Vec::new(); // an empty picture
    };
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    let hints = DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some([BarcodeFormat::QR_CODE].into_iter().collect()),
        ..DecodeHints::default()
    };
    QrReader
        .decode_multiple_with_hints(&mut bitmap, &hints)
        .unwrap_or_default()
        .iter()
        .map(found)
        .collect()
}

fn found(result: &RXingResult) -> Found {
    let points = result.getPoints();
    let ys = points.iter().map(|p| p.y);
    let top = ys.clone().fold(f32::INFINITY, f32::min);
    let bottom = ys.fold(f32::NEG_INFINITY, f32::max);
    let left = points.iter().map(|p| p.x).fold(f32::INFINITY, f32::min);
    Found {
        text: result.getText().to_string(),
        top,
        left,
        height: (bottom - top).max(0.0),
    }
}

/// Top to bottom; codes whose tops are within half a code's height of the row's first are one row,
/// read left to right. A payload seen twice is kept once, where it is first read.
fn reading_order(mut found: Vec<Found>) -> Vec<String> {
    found.sort_by(|a, b| a.top.total_cmp(&b.top));
    let mut ordered: Vec<Found> = Vec::with_capacity(found.len());
    let mut row_start = 0;
    for code in found {
        let new_row = ordered
            .get(row_start)
            .is_none_or(|first| code.top - first.top > first.height.min(code.height) / 2.0);
        if new_row {
            row_start = ordered.len();
        }
        ordered.push(code);
        ordered[row_start..].sort_by(|a, b| a.left.total_cmp(&b.left));
    }
    let mut texts: Vec<String> = Vec::with_capacity(ordered.len());
    for code in ordered {
        if !texts.contains(&code.text) {
            texts.push(code.text);
        }
    }
    texts
}

/// Each pixel's level stretched between the darkest and the lightest pixel of the blocks around its own
/// ([`REACH`] blocks of [`BLOCK`] px each way); white where that spread is under [`FLAT`].
fn local_stretch(image: &GrayImage) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let raw = image.as_raw();
    let mut lows = vec![u8::MAX; bw * bh];
    let mut highs = vec![u8::MIN; bw * bh];
    for (y, row) in raw.chunks_exact(w.max(1)).enumerate() {
        let blocks = (y / BLOCK) * bw;
        for (bx, chunk) in row.chunks(BLOCK).enumerate() {
            let (lo, hi) = chunk
                .iter()
                .fold((u8::MAX, u8::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            lows[blocks + bx] = lows[blocks + bx].min(lo);
            highs[blocks + bx] = highs[blocks + bx].max(hi);
        }
    }
    let lows = around(&lows, bw, bh, u8::min);
    let highs = around(&highs, bw, bh, u8::max);
    let mut out = image.clone();
    for (y, row) in out.chunks_exact_mut(w.max(1)).enumerate() {
        let blocks = (y / BLOCK) * bw;
        for (x, pixel) in row.iter_mut().enumerate() {
            let (lo, hi) = (lows[blocks + x / BLOCK], highs[blocks + x / BLOCK]);
            *pixel = if hi - lo < FLAT {
                u8::MAX
            } else {
                // lo <= pixel <= hi: the block's own pixels are among those measured.
                (u32::from(*pixel - lo) * 255 / u32::from(hi - lo)) as u8
            };
        }
    }
    out
}

/// Each block's value combined (`pick`: min or max) with those of the blocks within [`REACH`], as two
/// passes: along rows, then along columns.
fn around(values: &[u8], bw: usize, bh: usize, pick: fn(u8, u8) -> u8) -> Vec<u8> {
    let span = |i: usize, n: usize| i.saturating_sub(REACH)..(i + REACH + 1).min(n);
    let mut across = vec![0; values.len()];
    for by in 0..bh {
        for bx in 0..bw {
            across[by * bw + bx] = span(bx, bw)
                .map(|x| values[by * bw + x])
                .fold(values[by * bw + bx], pick);
        }
    }
    let mut out = vec![0; values.len()];
    for by in 0..bh {
        for bx in 0..bw {
            out[by * bw + bx] = span(by, bh)
                .map(|y| across[y * bw + bx])
                .fold(across[by * bw + bx], pick);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use image::Luma;
    use testkit::images::distort;
    use testkit::images::qr::{code_modules, vietqr};

    use super::*;

    fn canvas(width: u32, height: u32) -> GrayImage {
        GrayImage::from_pixel(width, height, Luma([255]))
    }

    fn found(text: &str, top: f32, left: f32, height: f32) -> Found {
        let text = text.to_string();
        Found {
            text,
            top,
            left,
            height,
        }
    }

    #[test]
    fn reads_a_code_and_nothing_where_there_is_none() {
        let payload = vietqr("970436", "0071000123456", Some(500_000), None);
        let mut image = canvas(400, 400);
        distort::paste(&mut image, &code_modules(&payload, 5, 0, 255), 60, 60);
        assert_eq!(decode_qr(&image), vec![payload]);
        assert!(decode_qr(&canvas(400, 400)).is_empty());
        assert!(decode_qr(&canvas(0, 0)).is_empty());
        assert!(decode_qr(&canvas(7, 3)).is_empty());
    }

    #[test]
    fn the_same_code_twice_is_one_payload() {
        let mut image = canvas(400, 800);
        let code = code_modules("https://zalo.me/abc", 5, 0, 255);
        distort::paste(&mut image, &code, 40, 40);
        distort::paste(&mut image, &code, 40, 440);
        assert_eq!(decode_qr(&image), vec!["https://zalo.me/abc".to_string()]);
    }

    #[test]
    fn rows_read_top_to_bottom_then_left_to_right() {
        let codes = vec![
            found("lower", 500.0, 10.0, 300.0),
            found("right", 20.0, 600.0, 300.0),
            found("left, a little lower", 90.0, 40.0, 300.0),
            found("right", 520.0, 600.0, 300.0),
        ];
        assert_eq!(
            reading_order(codes),
            vec!["left, a little lower", "right", "lower"]
        );
        let stacked = vec![found("b", 400.0, 0.0, 300.0), found("a", 0.0, 500.0, 300.0)];
        assert_eq!(reading_order(stacked), vec!["a", "b"]);
    }

    #[test]
    fn a_faded_patch_is_stretched_to_black_and_white_and_a_flat_one_is_white() {
        // Left: a faded checkerboard (110 and 170); right: flat gray.
        let image = GrayImage::from_fn(160, 64, |x, y| {
            if x >= 96 {
                Luma([128])
            } else if (x / 8 + y / 8) % 2 == 0 {
                Luma([110])
            } else {
                Luma([170])
            }
        });
        let out = local_stretch(&image);
        assert_eq!(out.get_pixel(4, 4).0[0], 0);
        assert_eq!(out.get_pixel(12, 4).0[0], 255);
        assert_eq!(out.get_pixel(150, 60).0[0], 255);
    }

    #[test]
    fn a_large_picture_is_read_scaled_down_and_placed_back() {
        let (none, scale) = bounded(&canvas(1080, 2400));
        assert!(none.is_none() && scale == 1.0);
        let (scaled, scale) = bounded(&canvas(4000, 3000));
        let scaled = scaled.unwrap();
        assert!(u64::from(scaled.width()) * u64::from(scaled.height()) <= MAX_READ_PIXELS);
        assert!((scale - 4000.0 / scaled.width() as f32).abs() < 1e-6);

        let mut photo = canvas(4000, 3000);
        let lower = code_modules("https://zalo.me/lower", 12, 0, 255);
        let upper = code_modules("https://zalo.me/upper", 12, 0, 255);
        distort::paste(&mut photo, &lower, 2400, 1600);
        distort::paste(&mut photo, &upper, 300, 200);
        assert_eq!(
            decode_qr(&photo),
            vec!["https://zalo.me/upper", "https://zalo.me/lower"]
        );
    }
}
