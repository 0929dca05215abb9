//! Raster primitives for the generated screenshots: anti-aliased text from an outline font (ab_glyph),
//! filled rounded rectangles, and greedy word wrapping by measured width.

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

/// A loaded font face.
pub struct Face {
    /// The family as fonts name it ("DejaVu Sans").
    pub name: &'static str,
    pub font: FontVec,
}

impl Face {
    /// The advance width of `text` at `px` pixels, kerning included.
    pub fn width(&self, px: f32, text: &str) -> f32 {
        let font = self.font.as_scaled(PxScale::from(px));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                width += font.kern(previous, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// The distance from a line's top to its baseline at `px`.
    pub fn ascent(&self, px: f32) -> f32 {
        self.font.as_scaled(PxScale::from(px)).ascent()
    }

    /// Draws `text` with its top-left corner at (`x`, `top`), blending by each pixel's coverage.
    pub fn draw(
        &self,
        canvas: &mut RgbImage,
        color: Rgb<u8>,
        x: f32,
        top: f32,
        px: f32,
        text: &str,
    ) {
        let scale = PxScale::from(px);
        let font = self.font.as_scaled(scale);
        let baseline = top + font.ascent();
        let mut pen = x;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen += font.kern(previous, id);
            }
            let glyph = id.with_scale_and_position(scale, point(pen, baseline));
            pen += font.h_advance(id);
            previous = Some(id);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i64 + i64::from(gx);
                let py = bounds.min.y as i64 + i64::from(gy);
                if px < 0
                    || py < 0
                    || px >= i64::from(canvas.width())
                    || py >= i64::from(canvas.height())
                {
                    return;
                }
                let pixel = canvas.get_pixel_mut(px as u32, py as u32);
                blend(pixel, color, coverage.clamp(0.0, 1.0));
            });
        }
    }

    /// Splits `text` into lines no wider than `max_width` at `px`, breaking between words (a word wider
    /// than the line stays whole).
    pub fn wrap(&self, px: f32, text: &str, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.width(px, &candidate) > max_width {
                lines.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

fn blend(pixel: &mut Rgb<u8>, color: Rgb<u8>, coverage: f32) {
    for (channel, target) in pixel.0.iter_mut().zip(color.0) {
        let mixed = f32::from(*channel) * (1.0 - coverage) + f32::from(target) * coverage;
        *channel = mixed.round().clamp(0.0, 255.0) as u8;
    }
}

/// Fills the rectangle at (`x`, `y`) of `width` × `height` with corners rounded to `radius`,
/// anti-aliased on the corners.
pub fn rounded_rect(
    canvas: &mut RgbImage,
    color: Rgb<u8>,
    (x, y): (u32, u32),
    (width, height): (u32, u32),
    radius: u32,
) {
    let radius = radius.min(width / 2).min(height / 2) as f32;
    let right = (x + width).min(canvas.width());
    let bottom = (y + height).min(canvas.height());
    for py in y..bottom {
        for px in x..right {
            // The distance outside the rectangle shrunk by the radius, measured from pixel centres.
            let cx = px as f32 + 0.5;
            let cy = py as f32 + 0.5;
            let dx = (x as f32 + radius - cx)
                .max(cx - ((x + width) as f32 - radius))
                .max(0.0);
            let dy = (y as f32 + radius - cy)
                .max(cy - ((y + height) as f32 - radius))
                .max(0.0);
            let outside = (dx * dx + dy * dy).sqrt() - radius;
            let coverage = (0.5 - outside).clamp(0.0, 1.0);
            if coverage > 0.0 {
                blend(canvas.get_pixel_mut(px, py), color, coverage);
            }
        }
    }
}

/// Fills a disc centred on `(cx, cy)`.
pub fn disc(canvas: &mut RgbImage, color: Rgb<u8>, (cx, cy): (f32, f32), radius: f32) {
    let side = (2.0 * radius).round().max(1.0) as u32;
    let x = (cx - radius).round().max(0.0) as u32;
    let y = (cy - radius).round().max(0.0) as u32;
    rounded_rect(canvas, color, (x, y), (side, side), side / 2);
}

/// A stroke from `a` to `b`, `width` wide with round ends (an icon's line).
pub fn line(canvas: &mut RgbImage, color: Rgb<u8>, a: (f32, f32), b: (f32, f32), width: f32) {
    let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let steps = (length / (width / 4.0).max(1.0)).ceil().max(1.0) as u32;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let point = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        disc(canvas, color, point, width / 2.0);
    }
}

/// Fills a plain rectangle.
pub fn rect(
    canvas: &mut RgbImage,
    color: Rgb<u8>,
    (x, y): (u32, u32),
    (width, height): (u32, u32),
) {
    for py in y..(y + height).min(canvas.height()) {
        for px in x..(x + width).min(canvas.width()) {
            canvas.put_pixel(px, py, color);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rounded_rect_leaves_its_corners_and_fills_its_middle() {
        let mut canvas = RgbImage::from_pixel(40, 40, Rgb([255, 255, 255]));
        rounded_rect(&mut canvas, Rgb([0, 0, 0]), (5, 5), (30, 20), 8);
        assert_eq!(canvas.get_pixel(5, 5), &Rgb([255, 255, 255]));
        assert_eq!(canvas.get_pixel(20, 15), &Rgb([0, 0, 0]));
        assert_eq!(canvas.get_pixel(20, 30), &Rgb([255, 255, 255]));
    }
}
