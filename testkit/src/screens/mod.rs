//! Generated phone screenshots of scam chats, for OCR tests and benches: Vietnamese text with diacritics
//! in DejaVu Sans or Noto Sans, in two light chat themes and a dark one (status bar, title bar with
//! icons, bubbles with their times and the sender's avatar, input box), at phone scale (1080 pixels
//! wide, text 28–48 pixels) or shrunk, saved as JPEG at quality 50–80. Everything follows from a seed,
//! so a failure reproduces; nothing is written to disk.
//!
//! Each [`Screenshot`] carries, as the ground truth, the lines it shows, top to bottom, and the blocks
//! they were wrapped from (a whole message each).

mod draw;
pub mod script;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ab_glyph::FontVec;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

pub use draw::Face;
use script::{BATTERY, CHATS, Chat, INPUT_HINT, Side, TIMES};

/// The width of a phone screenshot.
pub const PHONE_WIDTH: u32 = 1080;
/// The height of a full phone screenshot.
pub const PHONE_HEIGHT: u32 = 2400;

/// The font files used, by family, as Debian installs them (fonts-dejavu-core, fonts-noto-core).
const FONT_FILES: &[(&str, &str)] = &[
    ("DejaVu Sans", "DejaVuSans.ttf"),
    ("Noto Sans", "NotoSans-Regular.ttf"),
];

/// Loads every font of [`FONT_FILES`] from under `/usr/share/fonts`. The error names the missing
/// files and the packages that install them.
pub fn fonts() -> Result<Vec<Face>, String> {
    let root = Path::new("/usr/share/fonts");
    let mut faces = Vec::new();
    let mut missing = Vec::new();
    for &(name, file) in FONT_FILES {
        let loaded = find_file(root, file)
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| FontVec::try_from_vec(bytes).ok());
        match loaded {
            Some(font) => faces.push(Face { name, font }),
            None => missing.push(file),
        }
    }
    if missing.is_empty() {
        Ok(faces)
    } else {
        Err(format!(
            "fonts not found under {}: {} (Debian: fonts-dejavu-core, fonts-noto-core)",
            root.display(),
            missing.join(", ")
        ))
    }
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in &entries {
        let path = entry.path();
        if path.is_file() && entry.file_name() == name {
            return Some(path);
        }
    }
    entries
        .iter()
        .filter(|e| e.path().is_dir())
        .find_map(|e| find_file(&e.path(), name))
}

/// A chat app's colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Blue title bar with white text, white and pale blue bubbles with dark text.
    Light,
    /// White, with grey bubbles for the other side and blue ones with white text for one's own.
    LightBlue,
    /// Near-black background, grey and blue bubbles with light text.
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::Light, Theme::LightBlue, Theme::Dark];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::LightBlue => "light-blue",
            Theme::Dark => "dark",
        }
    }

    fn colors(self) -> Colors {
        match self {
            Theme::Light => Colors {
                background: Rgb([226, 233, 241]),
                bar: Rgb([0, 104, 255]),
                bar_text: Rgb([255, 255, 255]),
                incoming: Rgb([255, 255, 255]),
                outgoing: Rgb([214, 232, 255]),
                text: Rgb([18, 18, 18]),
                outgoing_text: Rgb([18, 18, 18]),
                muted: Rgb([125, 130, 138]),
                chip: Rgb([200, 208, 218]),
                input: Rgb([255, 255, 255]),
            },
            Theme::LightBlue => Colors {
                background: Rgb([255, 255, 255]),
                bar: Rgb([250, 250, 250]),
                bar_text: Rgb([10, 10, 10]),
                incoming: Rgb([236, 237, 240]),
                outgoing: Rgb([0, 132, 255]),
                text: Rgb([10, 10, 10]),
                outgoing_text: Rgb([255, 255, 255]),
                muted: Rgb([138, 141, 145]),
                chip: Rgb([244, 244, 246]),
                input: Rgb([240, 241, 243]),
            },
            Theme::Dark => Colors {
                background: Rgb([18, 18, 20]),
                bar: Rgb([34, 35, 38]),
                bar_text: Rgb([240, 240, 240]),
                incoming: Rgb([46, 47, 51]),
                outgoing: Rgb([0, 84, 180]),
                text: Rgb([232, 232, 232]),
                outgoing_text: Rgb([255, 255, 255]),
                muted: Rgb([140, 142, 148]),
                chip: Rgb([52, 53, 57]),
                input: Rgb([30, 31, 34]),
            },
        }
    }
}

struct Colors {
    background: Rgb<u8>,
    bar: Rgb<u8>,
    bar_text: Rgb<u8>,
    incoming: Rgb<u8>,
    outgoing: Rgb<u8>,
    text: Rgb<u8>,
    outgoing_text: Rgb<u8>,
    muted: Rgb<u8>,
    chip: Rgb<u8>,
    input: Rgb<u8>,
}

/// Avatar colours, picked per chat.
const AVATARS: &[Rgb<u8>] = &[
    Rgb([233, 84, 32]),
    Rgb([0, 150, 136]),
    Rgb([103, 58, 183]),
    Rgb([255, 152, 0]),
];

/// One generated screenshot and what it shows.
pub struct Screenshot {
    /// `font/theme/size`, with `@scale%` when it was shrunk after drawing.
    pub name: String,
    pub font: &'static str,
    pub theme: Theme,
    /// The message text's size as drawn, before any shrinking.
    pub text_px: u32,
    /// The size relative to drawing, in percent (100: as drawn).
    pub scale_percent: u32,
    pub width: u32,
    pub height: u32,
    pub jpeg_quality: u8,
    pub jpeg: Vec<u8>,
    /// Every line of text shown, top to bottom.
    pub lines: Vec<String>,
    /// The same text by block (a bubble's message, a time, a title), each on one line: what was
    /// written, before the chat app wrapped it.
    pub blocks: Vec<String>,
}

impl Screenshot {
    /// The ground truth as shown: the lines joined by newlines.
    pub fn truth(&self) -> String {
        self.lines.join("\n")
    }

    /// The ground truth as written: the blocks joined by newlines.
    pub fn written(&self) -> String {
        self.blocks.join("\n")
    }
}

/// What to draw.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Index into [`fonts`].
    pub font: usize,
    pub theme: Theme,
    pub text_px: u32,
    pub scale_percent: u32,
    /// At least this tall: chats repeat until the screen is full. 0 for just one chat.
    pub min_height: u32,
    pub seed: u64,
}

/// The OCR test set: every font and theme at 28, 36 and 48 pixel text, and shrunk as a screenshot is
/// when an app resizes it before forwarding (28 pixels to 67 %, 36 to 60 %, 48 to 50 %: 19–24 pixel
/// text on a 540–723 pixel wide image); the chats in turn.
pub fn test_set_specs(fonts: usize) -> Vec<Spec> {
    let sizes = [
        (28, 100),
        (36, 100),
        (48, 100),
        (28, 67),
        (36, 60),
        (48, 50),
    ];
    let mut specs = Vec::new();
    for font in 0..fonts {
        for theme in Theme::ALL {
            for (text_px, scale_percent) in sizes {
                let seed = specs.len() as u64;
                specs.push(Spec {
                    font,
                    theme,
                    text_px,
                    scale_percent,
                    min_height: 0,
                    seed,
                });
            }
        }
    }
    specs
}

/// A full 1080×2400 screenshot at 36 pixel text.
pub fn full_screen_spec(font: usize, theme: Theme, seed: u64) -> Spec {
    Spec {
        font,
        theme,
        text_px: 36,
        scale_percent: 100,
        min_height: PHONE_HEIGHT,
        seed,
    }
}

/// Draws `spec` with `fonts`.
pub fn render(fonts: &[Face], spec: Spec) -> Screenshot {
    let face = &fonts[spec.font];
    let mut rng = SplitMix(spec.seed.wrapping_mul(0x9e37_79b9).wrapping_add(7));
    let (canvas, blocks) = Layout::new(face, spec, &mut rng).draw();
    let canvas = if spec.scale_percent == 100 {
        canvas
    } else {
        let width = canvas.width() * spec.scale_percent / 100;
        let height = canvas.height() * spec.scale_percent / 100;
        imageops::resize(&canvas, width, height, FilterType::Triangle)
    };
    let jpeg_quality = 50 + (rng.next() % 31) as u8;
    let mut jpeg = Cursor::new(Vec::new());
    JpegEncoder::new_with_quality(&mut jpeg, jpeg_quality)
        .encode_image(&canvas)
        .expect("JPEG encoding into memory");
    let family = face
        .name
        .split(' ')
        .next()
        .unwrap_or(face.name)
        .to_lowercase();
    let mut name = format!("{family}/{}/{}px", spec.theme.as_str(), spec.text_px);
    if spec.scale_percent != 100 {
        name.push_str(&format!("@{}%", spec.scale_percent));
    }
    Screenshot {
        name,
        font: face.name,
        theme: spec.theme,
        text_px: spec.text_px,
        scale_percent: spec.scale_percent,
        width: canvas.width(),
        height: canvas.height(),
        jpeg_quality,
        jpeg: jpeg.into_inner(),
        lines: blocks.iter().flatten().cloned().collect(),
        blocks: blocks.iter().map(|b| b.join(" ")).collect(),
    }
}

/// The positions and sizes of one screenshot, derived from the text size.
struct Layout<'a> {
    face: &'a Face,
    spec: Spec,
    colors: Colors,
    rng: &'a mut SplitMix,
    px: f32,
    small: f32,
    margin: u32,
}

impl<'a> Layout<'a> {
    fn new(face: &'a Face, spec: Spec, rng: &'a mut SplitMix) -> Self {
        let px = spec.text_px as f32;
        Layout {
            face,
            spec,
            colors: spec.theme.colors(),
            rng,
            px,
            small: (px * 0.62).max(16.0),
            margin: 36,
        }
    }

    fn draw(mut self) -> (RgbImage, Vec<Vec<String>>) {
        let width = PHONE_WIDTH;
        let input_height = (self.px * 2.4) as u32;
        // Drawn on a tall canvas, then cut to what was used (or to the screen's height).
        let room = self.spec.min_height.max(PHONE_HEIGHT * 3);
        let mut canvas = RgbImage::from_pixel(width, room, self.colors.background);
        let mut blocks = Vec::new();
        let first = (self.spec.seed % CHATS.len() as u64) as usize;
        let mut y = self.bars(&mut canvas, &mut blocks, &CHATS[first]);
        y = self.chip(&mut canvas, &mut blocks, y, "Hôm nay");
        let limit = match self.spec.min_height {
            0 => None,
            h => Some(h - input_height - self.margin),
        };
        'chats: for k in 0..CHATS.len() {
            let chat = &CHATS[(first + k) % CHATS.len()];
            let avatar = AVATARS[(first + k) % AVATARS.len()];
            for &(side, text) in chat.messages {
                let next = self.bubble(&mut canvas, &mut blocks, y, (side, avatar), text, limit);
                match next {
                    Some(next) => y = next,
                    None => break 'chats,
                }
            }
            if limit.is_none() {
                break;
            }
        }
        let height = match self.spec.min_height {
            0 => y + self.margin + input_height,
            h => h,
        };
        let mut canvas = imageops::crop_imm(&canvas, 0, 0, width, height).to_image();
        self.input_box(
            &mut canvas,
            &mut blocks,
            height - input_height,
            input_height,
        );
        (canvas, blocks)
    }

    /// The status bar and the title bar; returns where the chat starts.
    fn bars(&mut self, canvas: &mut RgbImage, blocks: &mut Vec<Vec<String>>, chat: &Chat) -> u32 {
        let status = (self.small * 2.0) as u32;
        let title = (self.px * 2.3) as u32;
        draw::rect(
            canvas,
            self.colors.bar,
            (0, 0),
            (PHONE_WIDTH, status + title),
        );
        let time = self.pick(TIMES);
        let battery = self.pick(BATTERY);
        let top = (status as f32 - self.small * 1.2) / 2.0;
        let color = self.colors.bar_text;
        self.face.draw(canvas, color, 40.0, top, self.small, time);
        let right = PHONE_WIDTH as f32 - 40.0 - self.face.width(self.small, battery);
        self.face
            .draw(canvas, color, right, top, self.small, battery);
        // Signal bars left of the battery level.
        let base = status as f32 * 0.75;
        for i in 0..4u8 {
            let x = right - 80.0 + f32::from(i) * 12.0;
            let height = self.small * 0.25 * f32::from(i + 1);
            let y = (base - height).max(0.0) as u32;
            draw::rect(canvas, color, (x as u32, y), (7, height as u32));
        }
        blocks.push(vec![format!("{time} {battery}")]);
        let mid = status as f32 + title as f32 / 2.0;
        let arm = self.px * 0.45;
        draw::line(canvas, color, (64.0, mid - arm), (64.0 - arm, mid), 5.0);
        draw::line(canvas, color, (64.0 - arm, mid), (64.0, mid + arm), 5.0);
        // A call icon (a ring) and a menu (three bars) at the right.
        let ring = self.px * 0.45;
        let ring_x = PHONE_WIDTH as f32 - 150.0;
        draw::disc(canvas, color, (ring_x, mid), ring);
        draw::disc(canvas, self.colors.bar, (ring_x, mid), ring - 5.0);
        for k in [-1.0, 0.0, 1.0] {
            let y = mid + k * self.px * 0.3;
            draw::line(
                canvas,
                color,
                (PHONE_WIDTH as f32 - 80.0, y),
                (PHONE_WIDTH as f32 - 50.0, y),
                5.0,
            );
        }
        let chat_title = chat.title;
        let title_px = self.px * 1.1;
        let top = status as f32 + (title as f32 - title_px * 1.2) / 2.0;
        self.face
            .draw(canvas, color, 110.0, top, title_px, chat_title);
        blocks.push(vec![chat_title.to_string()]);
        status + title + self.margin
    }

    /// A centred date chip; returns the next free row.
    fn chip(
        &mut self,
        canvas: &mut RgbImage,
        blocks: &mut Vec<Vec<String>>,
        y: u32,
        text: &str,
    ) -> u32 {
        let pad = (self.small * 0.8) as u32;
        let width = self.face.width(self.small, text) as u32 + 2 * pad;
        let height = (self.small * 1.8) as u32;
        let x = (PHONE_WIDTH - width) / 2;
        draw::rounded_rect(
            canvas,
            self.colors.chip,
            (x, y),
            (width, height),
            height / 2,
        );
        let top = y as f32 + (height as f32 - self.small * 1.2) / 2.0;
        self.face.draw(
            canvas,
            self.colors.muted,
            (x + pad) as f32,
            top,
            self.small,
            text,
        );
        blocks.push(vec![text.to_string()]);
        y + height + self.margin
    }

    /// A message bubble with its time, and the sender's avatar beside an incoming one; `None` when it
    /// would pass `limit`.
    fn bubble(
        &mut self,
        canvas: &mut RgbImage,
        blocks: &mut Vec<Vec<String>>,
        y: u32,
        (side, avatar): (Side, Rgb<u8>),
        text: &str,
        limit: Option<u32>,
    ) -> Option<u32> {
        let pad_x = (self.px * 0.6) as u32;
        let pad_y = (self.px * 0.45) as u32;
        let line_height = self.px * 1.35;
        let max_text = PHONE_WIDTH as f32 * 0.70 - 2.0 * pad_x as f32;
        let avatar_size = (self.px * 1.6) as u32;
        let wrapped = self.face.wrap(self.px, text, max_text);
        let time = self.pick(TIMES);
        let text_width = wrapped
            .iter()
            .map(|l| self.face.width(self.px, l))
            .fold(self.face.width(self.small, time), f32::max);
        let width = text_width.ceil() as u32 + 2 * pad_x;
        let text_height = (line_height * wrapped.len() as f32).ceil() as u32;
        let height = 2 * pad_y + text_height + (self.small * 1.3) as u32;
        if limit.is_some_and(|limit| y + height > limit) {
            return None;
        }
        let (x, fill, ink) = match side {
            Side::Incoming => {
                let r = avatar_size as f32 / 2.0;
                let centre = (self.margin as f32 + r, (y + height) as f32 - r);
                draw::disc(canvas, avatar, centre, r);
                let x = self.margin + avatar_size + self.margin / 2;
                (x, self.colors.incoming, self.colors.text)
            }
            Side::Outgoing => (
                PHONE_WIDTH - self.margin - width,
                self.colors.outgoing,
                self.colors.outgoing_text,
            ),
        };
        let radius = (self.px * 0.7) as u32;
        draw::rounded_rect(canvas, fill, (x, y), (width, height), radius);
        let left = (x + pad_x) as f32;
        for (i, line) in wrapped.iter().enumerate() {
            let top =
                (y + pad_y) as f32 + i as f32 * line_height + (line_height - self.px * 1.2) / 2.0;
            self.face.draw(canvas, ink, left, top, self.px, line);
        }
        blocks.push(wrapped);
        let top = (y + pad_y + text_height) as f32;
        // On one's own bubbles the time is the text colour, faded into the bubble.
        let time_color = match side {
            Side::Incoming => self.colors.muted,
            Side::Outgoing => Rgb(std::array::from_fn(|i| {
                ((u16::from(ink.0[i]) * 7 + u16::from(fill.0[i]) * 3) / 10) as u8
            })),
        };
        self.face
            .draw(canvas, time_color, left, top, self.small, time);
        blocks.push(vec![time.to_string()]);
        Some(y + height + self.margin / 2)
    }

    fn input_box(
        &mut self,
        canvas: &mut RgbImage,
        blocks: &mut Vec<Vec<String>>,
        y: u32,
        height: u32,
    ) {
        draw::rect(canvas, self.colors.input, (0, y), (PHONE_WIDTH, height));
        let mid = y as f32 + height as f32 / 2.0;
        // A smiley's ring at the left, a send arrow at the right.
        let ring = self.px * 0.45;
        draw::disc(canvas, self.colors.muted, (60.0, mid), ring);
        draw::disc(canvas, self.colors.input, (60.0, mid), ring - 4.0);
        let tip = (PHONE_WIDTH as f32 - 50.0, mid);
        let arm = self.px * 0.4;
        draw::line(
            canvas,
            self.colors.muted,
            (tip.0 - 2.0 * arm, mid - arm),
            tip,
            5.0,
        );
        draw::line(
            canvas,
            self.colors.muted,
            (tip.0 - 2.0 * arm, mid + arm),
            tip,
            5.0,
        );
        let top = y as f32 + (height as f32 - self.px * 1.2) / 2.0;
        self.face
            .draw(canvas, self.colors.muted, 110.0, top, self.px, INPUT_HINT);
        blocks.push(vec![INPUT_HINT.to_string()]);
    }

    fn pick(&mut self, from: &[&'static str]) -> &'static str {
        from[(self.rng.next() as usize) % from.len()]
    }
}

/// A small deterministic generator (SplitMix64): the same seed draws the same screenshot.
#[derive(Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_spec_draws_the_same_screenshot_and_its_lines() {
        let Ok(fonts) = fonts() else {
            eprintln!("skipped: fonts missing");
            return;
        };
        let spec = test_set_specs(fonts.len())[1];
        let a = render(&fonts, spec);
        let b = render(&fonts, spec);
        assert_eq!(a.jpeg, b.jpeg);
        assert_eq!(a.lines, b.lines);
        assert_eq!(a.width, PHONE_WIDTH);
        assert!(a.lines.len() > 6, "{:?}", a.lines);
        assert!((50..=80).contains(&a.jpeg_quality));
    }

    #[test]
    fn a_full_screen_is_phone_sized() {
        let Ok(fonts) = fonts() else {
            eprintln!("skipped: fonts missing");
            return;
        };
        let shot = render(&fonts, full_screen_spec(0, Theme::Dark, 3));
        assert_eq!((shot.width, shot.height), (PHONE_WIDTH, PHONE_HEIGHT));
    }
}
