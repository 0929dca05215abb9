//! The `[image]` section: how images users send are read (QR codes, and text by OCR).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct ImageSettings {
    /// Images decoded and read at once, each on a blocking thread: bounds CPU and memory.
    pub max_concurrency: usize,
    /// How long OCR may run on one image before it is cancelled.
    pub ocr_deadline: Duration,
    /// Images one user may have read per Vietnam day; more get a polite refusal.
    pub daily_budget_per_user: u32,
    /// Whether to load Tesseract at start; without it, or when it is missing, only QR codes are read.
    pub ocr: bool,
    /// Tesseract's language data; `None` lets Tesseract use its own default.
    pub tessdata_dir: Option<PathBuf>,
    /// Tesseract languages, `+`-joined.
    pub ocr_languages: String,
}

impl Default for ImageSettings {
    fn default() -> Self {
        ImageSettings {
            max_concurrency: default_concurrency(),
            ocr_deadline: Duration::from_secs(8),
            daily_budget_per_user: 30,
            ocr: true,
            tessdata_dir: None,
            ocr_languages: "vie".to_string(),
        }
    }
}

/// One image at a time per core.
fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[derive(Deserialize)]
pub(super) struct RawImage {
    max_concurrency: usize,
    ocr_deadline_ms: u64,
    daily_budget_per_user: u32,
    ocr: bool,
    tessdata_dir: String,
    ocr_languages: String,
}

impl RawImage {
    pub(super) fn parse(self) -> Result<ImageSettings, ConfigError> {
        if self.ocr_deadline_ms == 0 {
            return Err(invalid("image.ocr_deadline_ms", "must be at least 1"));
        }
        let languages = self.ocr_languages.trim();
        let valid_language =
            |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !languages.split('+').all(valid_language) {
            return Err(invalid(
                "image.ocr_languages",
                format!("`{languages}`: Tesseract language codes joined by `+`, e.g. `vie+eng`"),
            ));
        }
        let tessdata = self.tessdata_dir.trim();
        Ok(ImageSettings {
            max_concurrency: match self.max_concurrency {
                0 => default_concurrency(),
                n => n,
            },
            ocr_deadline: Duration::from_millis(self.ocr_deadline_ms),
            daily_budget_per_user: self.daily_budget_per_user,
            ocr: self.ocr,
            tessdata_dir: (!tessdata.is_empty()).then(|| PathBuf::from(tessdata)),
            ocr_languages: languages.to_string(),
        })
    }
}
