//! Preparing a screenshot for Tesseract: only the steps that measurably helped on the generated test set
//! (docs/perf-journal.md has the figures, and what did not help: local polarity, Otsu or Sauvola
//! binarisation, upscaling phone-width images further).
//!
//! - A dark page (a dark chat theme) is inverted to dark text on light, which Tesseract's thresholding
//!   expects; otherwise it reads the page as inverted lines, slower and worse.
//! - A narrow image (a screenshot shrunk before it was forwarded) is scaled up to phone width, so its
//!   text is about the size Tesseract reads best.

use std::borrow::Cow;

use image::GrayImage;
use image::imageops::{self, FilterType};

/// Images narrower than this are scaled up to [`PHONE_WIDTH`].
const NARROW: u32 = 1000;
/// The width of a phone screenshot.
const PHONE_WIDTH: u32 = 1080;
/// No image is scaled up past this many pixels: it bounds the memory of one read.
const MAX_UPSCALED_PIXELS: u64 = 12_000_000;
/// A page whose median luminance is below this is dark.
const DARK_MEDIAN: u8 = 128;

/// The image Tesseract is given.
pub(super) fn prepare(image: &GrayImage) -> Cow<'_, GrayImage> {
    let mut out = Cow::Borrowed(image);
    if median(image) < DARK_MEDIAN {
        let mut inverted = out.into_owned();
        imageops::invert(&mut inverted);
        out = Cow::Owned(inverted);
    }
    if let Some((width, height)) = upscaled_size(out.width(), out.height()) {
        out = Cow::Owned(imageops::resize(
            out.as_ref(),
            width,
            height,
            FilterType::CatmullRom,
        ));
    }
    out
}

/// The median luminance.
fn median(image: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for &value in image.as_raw() {
        histogram[usize::from(value)] += 1;
    }
    let half = (image.as_raw().len() as u64).div_ceil(2).max(1);
    let mut seen = 0;
    for (value, count) in (0..=u8::MAX).zip(histogram) {
        seen += count;
        if seen >= half {
            return value;
        }
    }
    u8::MAX
}

/// The size a narrow image is scaled up to, keeping its aspect; `None` to leave it as it is.
fn upscaled_size(width: u32, height: u32) -> Option<(u32, u32)> {
    if width == 0 || width >= NARROW {
        return None;
    }
    let height = (u64::from(height) * u64::from(PHONE_WIDTH)).div_ceil(u64::from(width));
    if height * u64::from(PHONE_WIDTH) > MAX_UPSCALED_PIXELS {
        return None;
    }
    Some((PHONE_WIDTH, u32::try_from(height).ok()?))
}

#[cfg(test)]
mod tests {
    use image::Luma;

    use super::*;

    /// A `background` page with a `text`-coloured bar across a tenth of it.
    fn page(width: u32, height: u32, background: u8, text: u8) -> GrayImage {
        GrayImage::from_fn(width, height, |_, y| {
            Luma([if y < height / 10 { text } else { background }])
        })
    }

    #[test]
    fn a_dark_page_is_inverted_and_a_light_one_left_alone() {
        let dark = page(1080, 200, 20, 230);
        let prepared = prepare(&dark);
        assert_eq!(prepared.get_pixel(0, 199), &Luma([235]));
        assert_eq!(prepared.get_pixel(0, 0), &Luma([25]));

        let light = page(1080, 200, 240, 20);
        assert!(matches!(prepare(&light), Cow::Borrowed(_)));
    }

    #[test]
    fn the_median_is_the_background_even_with_much_text() {
        // Text on 40 % of the pixels does not turn a light page dark.
        let image = GrayImage::from_fn(100, 100, |x, _| Luma([if x < 40 { 0 } else { 250 }]));
        assert_eq!(median(&image), 250);
        assert_eq!(median(&GrayImage::new(0, 0)), u8::MAX);
    }

    #[test]
    fn a_narrow_image_is_scaled_up_to_phone_width() {
        assert_eq!(upscaled_size(540, 1200), Some((1080, 2400)));
        assert_eq!(upscaled_size(648, 1440), Some((1080, 2400)));
        let narrow = page(540, 300, 240, 20);
        assert_eq!(prepare(&narrow).dimensions(), (1080, 600));
    }

    #[test]
    fn phone_width_and_wider_images_and_huge_results_are_not_scaled() {
        assert_eq!(upscaled_size(1080, 2400), None);
        assert_eq!(upscaled_size(4000, 3000), None);
        assert_eq!(upscaled_size(0, 10), None);
        // 500 × 6000 would become 1080 × 12960, over the pixel bound.
        assert_eq!(upscaled_size(500, 6000), None);
    }
}
