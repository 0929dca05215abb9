//! Preparing a screenshot for Tesseract.

use std::borrow::Cow;

use image::GrayImage;
use image::imageops::{self, FilterType};

/// Experiment switches (temporary).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Steps {
    pub invert: bool,
    pub local: bool,
    pub upscale: bool,
    pub otsu: bool,
}

impl Steps {
    pub(super) fn from_env() -> Steps {
        let v = std::env::var("TRADESPHERE_OCR_STEPS").unwrap_or_default();
        Steps {
            invert: v.contains("invert"),
            local: v.contains("local"),
            upscale: v.contains("upscale"),
            otsu: v.contains("otsu"),
        }
    }
}

pub(super) fn prepare(image: &GrayImage, steps: Steps) -> Cow<'_, GrayImage> {
    let mut out = Cow::Borrowed(image);
    if steps.upscale {
        if let Some(big) = upscale(&out) {
            out = Cow::Owned(big);
        }
    }
    if steps.invert && median(&out) < 128 {
        let mut inv = out.into_owned();
        imageops::invert(&mut inv);
        out = Cow::Owned(inv);
    }
    if steps.local {
        out = Cow::Owned(local_polarity(&out));
    }
    if steps.otsu {
        let t = otsu(&out);
        let mut bin = out.into_owned();
        for p in bin.pixels_mut() {
            p.0[0] = if p.0[0] > t { 255 } else { 0 };
        }
        out = Cow::Owned(bin);
    }
    out
}

fn histogram(image: &GrayImage) -> [u64; 256] {
    let mut h = [0u64; 256];
    for &v in image.as_raw() {
        h[usize::from(v)] += 1;
    }
    h
}

fn median(image: &GrayImage) -> u8 {
    let h = histogram(image);
    let half = (image.as_raw().len() as u64).div_ceil(2);
    let mut seen = 0;
    for (v, n) in h.iter().enumerate() {
        seen += n;
        if seen >= half {
            return v as u8;
        }
    }
    255
}

fn upscale(image: &GrayImage) -> Option<GrayImage> {
    let (w, h) = image.dimensions();
    if w >= 1000 || w == 0 {
        return None;
    }
    let factor = 1080.0 / w as f64;
    let nh = (h as f64 * factor).round() as u32;
    if u64::from(nh) * 1080 > 20_000_000 || nh > 32_000 {
        return None;
    }
    Some(imageops::resize(image, 1080, nh, FilterType::CatmullRom))
}

fn otsu(image: &GrayImage) -> u8 {
    let h = histogram(image);
    let total: u64 = h.iter().sum();
    let sum: f64 = h.iter().enumerate().map(|(v, n)| v as f64 * *n as f64).sum();
    let (mut wb, mut sb, mut best, mut t) = (0u64, 0f64, 0f64, 0u8);
    for v in 0..256 {
        wb += h[v];
        if wb == 0 {
            continue;
        }
        let wf = total - wb;
        if wf == 0 {
            break;
        }
        sb += v as f64 * h[v] as f64;
        let mb = sb / wb as f64;
        let mf = (sum - sb) / wf as f64;
        let between = wb as f64 * wf as f64 * (mb - mf) * (mb - mf);
        if between > best {
            best = between;
            t = v as u8;
        }
    }
    t
}

const BLOCK: u32 = 16;

/// Inverts blocks whose neighbourhood's median is dark.
fn local_polarity(image: &GrayImage) -> GrayImage {
    let (w, h) = image.dimensions();
    let gw = w.div_ceil(BLOCK);
    let gh = h.div_ceil(BLOCK);
    let mut medians = vec![0u8; (gw * gh) as usize];
    for by in 0..gh {
        for bx in 0..gw {
            let mut hist = [0u16; 256];
            let mut n = 0u16;
            for y in by * BLOCK..((by + 1) * BLOCK).min(h) {
                for x in bx * BLOCK..((bx + 1) * BLOCK).min(w) {
                    hist[usize::from(image.get_pixel(x, y).0[0])] += 1;
                    n += 1;
                }
            }
            let half = n.div_ceil(2);
            let mut seen = 0;
            let mut m = 255;
            for (v, c) in hist.iter().enumerate() {
                seen += c;
                if seen >= half {
                    m = v as u8;
                    break;
                }
            }
            medians[(by * gw + bx) as usize] = m;
        }
    }
    let mut dark = vec![false; medians.len()];
    for by in 0..gh {
        for bx in 0..gw {
            let mut around = Vec::with_capacity(9);
            for y in by.saturating_sub(1)..(by + 2).min(gh) {
                for x in bx.saturating_sub(1)..(bx + 2).min(gw) {
                    around.push(medians[(y * gw + x) as usize]);
                }
            }
            around.sort_unstable();
            dark[(by * gw + bx) as usize] = around[around.len() / 2] < 128;
        }
    }
    let mut out = image.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        if dark[((y / BLOCK) * gw + x / BLOCK) as usize] {
            p.0[0] = 255 - p.0[0];
        }
    }
    out
}
