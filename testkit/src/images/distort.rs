//! What happens to a picture between the screen that showed it and the bot: rotation, a phone's
//! perspective, rescaling, blur, JPEG compression, washed-out contrast, uneven light and sensor noise.
//! All gray, one byte a pixel, as the service decodes them.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{GrayImage, ImageFormat, Luma};
use imageproc::geometric_transformations::{
    Border, Interpolation, Projection, rotate_about_center, warp,
};

use super::Rng;

/// Rotated clockwise by `degrees` about the centre; the uncovered corners get `fill`.
pub fn rotate(image: &GrayImage, degrees: f64, fill: u8) -> GrayImage {
    rotate_about_center(
        image,
        degrees.to_radians() as f32,
        Interpolation::Bilinear,
        Border::Constant(Luma([fill])),
    )
}

/// Each corner moved by up to `jitter` of the shorter side, as a phone held not quite square to the
/// screen sees it.
pub fn perspective(image: &GrayImage, jitter: f64, fill: u8, rng: &mut Rng) -> GrayImage {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let reach = jitter * f64::from(w.min(h));
    let from = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let mut to = from;
    for corner in &mut to {
        corner.0 += rng.range(-reach, reach) as f32;
        corner.1 += rng.range(-reach, reach) as f32;
    }
    let projection =
        Projection::from_control_points(from, to).expect("a non-degenerate quadrilateral");
    warp(
        image,
        projection,
        Interpolation::Bilinear,
        Border::Constant(Luma([fill])),
    )
}

/// Resized to `width` × `height` with a triangle filter: the soft edges of a picture shown smaller or
/// larger than it was drawn.
pub fn resize(image: &GrayImage, width: u32, height: u32) -> GrayImage {
    imageops::resize(image, width, height, FilterType::Triangle)
}

pub fn blur(image: &GrayImage, sigma: f64) -> GrayImage {
    imageproc::filter::gaussian_blur_f32(image, sigma as f32)
}

/// The image as a JPEG of `quality` (1–100).
pub fn jpeg_bytes(image: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .expect("a gray image encodes");
    out
}

pub fn png_bytes(image: &GrayImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .expect("a gray image encodes");
    out.into_inner()
}

/// Through a JPEG of `quality` and back: its block artefacts and ringing.
pub fn jpeg(image: &GrayImage, quality: u8) -> GrayImage {
    image::load_from_memory_with_format(&jpeg_bytes(image, quality), ImageFormat::Jpeg)
        .expect("our own JPEG decodes")
        .into_luma8()
}

/// Black mapped to `dark` and white to `light`, linearly: a dim screen photographed, a faded print.
pub fn contrast(image: &GrayImage, dark: u8, light: u8) -> GrayImage {
    let (dark, light) = (f64::from(dark), f64::from(light));
    map(image, |_, _, v| dark + (light - dark) * v / 255.0)
}

/// Light falling off linearly from `left` (a factor, 1 = unchanged) to `right` across the picture.
pub fn uneven_light(image: &GrayImage, left: f64, right: f64) -> GrayImage {
    let width = f64::from(image.width().max(2) - 1);
    map(image, |x, _, v| {
        v * (left + (right - left) * f64::from(x) / width)
    })
}

/// Sensor noise: each pixel moved by up to `amplitude` (a triangular distribution).
pub fn noise(image: &GrayImage, amplitude: f64, rng: &mut Rng) -> GrayImage {
    map(image, |_, _, v| v + amplitude * (rng.unit() - rng.unit()))
}

fn map(image: &GrayImage, mut f: impl FnMut(u32, u32, f64) -> f64) -> GrayImage {
    let width = image.width().max(1);
    let mut out = image.clone();
    for (i, pixel) in out.iter_mut().enumerate() {
        let (x, y) = (i as u32 % width, i as u32 / width);
        *pixel = f(x, y, f64::from(*pixel)).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// `top` copied onto `canvas` with its top-left corner at (`x`, `y`).
pub fn paste(canvas: &mut GrayImage, top: &GrayImage, x: u32, y: u32) {
    imageops::replace(canvas, top, i64::from(x), i64::from(y));
}
