//! Reading the text in an image with Tesseract, loaded at run time (`tesseract`), so the service builds
//! and runs without it and only the QR codes are read then.
//!
//! [`Ocr::load`] loads the library and checks the language data once, at start; the reason it cannot is
//! an [`OcrUnavailable`] for the start-up log and `/readyz`. [`Ocr::read`] runs one image on tokio's
//! blocking pool, at most `image.max_concurrency` at once (a semaphore), each with its own engine from
//! a pool that grows to that bound, under the per-image deadline: Tesseract's monitor stops recognition
//! when it passes, and an outer timeout answers the caller even when Tesseract is still busy (its permit
//! and engine stay taken until it returns). See docs/media.md.

mod prepare;
mod tesseract;
mod text;

use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use image::GrayImage;
use tokio::sync::Semaphore;

use crate::config::ImageSettings;
use tesseract::{Engine, InitError, LoadError, PageSegMode, Tesseract};
pub use text::OcrText;

/// The library's names for the dynamic loader, tried in order: the soname Debian's `libtesseract5`
/// installs, then the development link.
pub const LIBRARY_NAMES: &[&str] = &["libtesseract.so.5", "libtesseract.so"];

/// How long past the deadline the caller waits for a recognition Tesseract's monitor did not stop (it
/// is checked between words, not during page layout).
const DEADLINE_GRACE: Duration = Duration::from_millis(500);

/// The resolution Tesseract is told: phone screenshots' text, 28–48 pixels high, is 7–12 point at 300.
const PPI: u16 = 300;

/// Why OCR is off. Its `Display` is the reason in plain words, for the start-up log and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcrUnavailable {
    #[error("OCR is switched off in the settings (image.ocr = false)")]
    Disabled,
    #[error(
        "Tesseract is not installed: {} could not be loaded (Debian: tesseract-ocr)",
        .tried.join(", ")
    )]
    LibraryMissing { tried: Vec<String> },
    #[error("the Tesseract library has no {symbol}: Tesseract 4 or 5 is needed")]
    LibraryIncompatible { symbol: String },
    #[error(
        "Tesseract has no language data for {} (Debian: tesseract-ocr-vie; or set image.tessdata_dir)",
        .missing.join(", ")
    )]
    LanguageMissing { missing: Vec<String> },
    #[error("Tesseract could not be started")]
    InitFailed,
}

impl OcrUnavailable {
    /// A stable label for metrics and `/readyz`.
    pub fn as_str(&self) -> &'static str {
        match self {
            OcrUnavailable::Disabled => "disabled",
            OcrUnavailable::LibraryMissing { .. } => "library_missing",
            OcrUnavailable::LibraryIncompatible { .. } => "library_incompatible",
            OcrUnavailable::LanguageMissing { .. } => "language_missing",
            OcrUnavailable::InitFailed => "init_failed",
        }
    }
}

/// Why one image could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OcrError {
    #[error("reading the image took longer than its deadline")]
    Timeout,
    #[error("the image is too large for Tesseract")]
    TooLarge,
    #[error("Tesseract failed on the image")]
    Failed,
}

impl OcrError {
    pub const ALL: [OcrError; 3] = [OcrError::Timeout, OcrError::TooLarge, OcrError::Failed];

    /// A stable label for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            OcrError::Timeout => "timeout",
            OcrError::TooLarge => "too_large",
            OcrError::Failed => "failed",
        }
    }
}

/// Tesseract, loaded and checked, with a bounded pool of engines. Cheap to clone.
#[derive(Clone)]
pub struct Ocr {
    inner: Arc<Inner>,
}

struct Inner {
    tesseract: Arc<Tesseract>,
    version: String,
    datapath: Option<CString>,
    languages: CString,
    /// Engines not lent out. At most `max_concurrency` exist, since each read holds a permit.
    idle: Mutex<Vec<Engine>>,
    engines: AtomicUsize,
    permits: Arc<Semaphore>,
    deadline: Duration,
}

impl std::fmt::Debug for Ocr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ocr")
            .field("version", &self.inner.version)
            .field("languages", &self.inner.languages)
            .finish_non_exhaustive()
    }
}

impl Ocr {
    /// Loads Tesseract from [`LIBRARY_NAMES`] and makes one engine, which checks every language.
    pub fn load(settings: &ImageSettings) -> Result<Ocr, OcrUnavailable> {
        Self::load_from(settings, LIBRARY_NAMES)
    }

    /// [`Ocr::load`] from other library files (names or paths).
    pub fn load_from(settings: &ImageSettings, libraries: &[&str]) -> Result<Ocr, OcrUnavailable> {
        if !settings.ocr {
            return Err(OcrUnavailable::Disabled);
        }
        let tesseract = Tesseract::open(libraries).map_err(|e| match e {
            LoadError::Missing => OcrUnavailable::LibraryMissing {
                tried: libraries.iter().map(|s| (*s).to_string()).collect(),
            },
            LoadError::Incompatible(symbol) => OcrUnavailable::LibraryIncompatible {
                symbol: symbol.to_string(),
            },
        })?;
        let requested: Vec<String> = settings
            .ocr_languages
            .split('+')
            .map(str::to_string)
            .collect();
        let languages = CString::new(settings.ocr_languages.as_str()).map_err(|_| {
            OcrUnavailable::LanguageMissing {
                missing: requested.clone(),
            }
        })?;
        let datapath = match &settings.tessdata_dir {
            None => None,
            Some(dir) => Some(
                CString::new(dir.as_os_str().as_encoded_bytes())
                    .map_err(|_| OcrUnavailable::InitFailed)?,
            ),
        };
        let tesseract = Arc::new(tesseract);
        let engine =
            Engine::new(Arc::clone(&tesseract), datapath.as_deref(), &languages).map_err(|e| {
                match e {
                    InitError::Create => OcrUnavailable::InitFailed,
                    InitError::Languages => OcrUnavailable::LanguageMissing {
                        missing: requested.clone(),
                    },
                }
            })?;
        let missing = missing_languages(&requested, &engine.loaded_languages());
        if !missing.is_empty() {
            return Err(OcrUnavailable::LanguageMissing { missing });
        }
        let version = tesseract.version();
        Ok(Ocr {
            inner: Arc::new(Inner {
                tesseract,
                version,
                datapath,
                languages,
                idle: Mutex::new(vec![engine]),
                engines: AtomicUsize::new(1),
                permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
                deadline: settings.ocr_deadline,
            }),
        })
    }

    /// Tesseract's version, e.g. `5.3.0`.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// Engines made so far: one per image read at once, at most `image.max_concurrency`.
    pub fn engines(&self) -> usize {
        self.inner.engines.load(Ordering::Relaxed)
    }

    /// Reads the text in `image`, waiting for a permit first; the deadline runs from the permit.
    pub async fn read(&self, image: Arc<GrayImage>) -> Result<OcrText, OcrError> {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| OcrError::Failed)?;
        let inner = Arc::clone(&self.inner);
        let started = Instant::now();
        let work = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner.read_blocking(&image, started)
        });
        match tokio::time::timeout(self.inner.deadline + DEADLINE_GRACE, work).await {
            Err(_) => Err(OcrError::Timeout),
            // A panic while reading: this image failed; the engine it held was dropped with it.
            Ok(Err(_)) => Err(OcrError::Failed),
            Ok(Ok(result)) => result,
        }
    }
}

impl Inner {
    fn read_blocking(&self, image: &GrayImage, started: Instant) -> Result<OcrText, OcrError> {
        let prepared = prepare::prepare(image);
        let mut engine = self.take_engine()?;
        let left = self.deadline.saturating_sub(started.elapsed());
        let result = if left.is_zero() {
            Ok(Err(tesseract::Stopped))
        } else {
            engine.recognize(&prepared, PageSegMode::SparseText, PPI, left)
        };
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(engine);
        match result {
            Err(tesseract::TooLarge) => Err(OcrError::TooLarge),
            Ok(Ok(words)) => Ok(OcrText::from_words(&words)),
            Ok(Err(tesseract::Stopped)) if started.elapsed() >= self.deadline => {
                Err(OcrError::Timeout)
            }
            Ok(Err(tesseract::Stopped)) => Err(OcrError::Failed),
        }
    }

    /// An idle engine, or a new one (the caller's permit bounds how many exist).
    fn take_engine(&self) -> Result<Engine, OcrError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(engine) = idle {
            return Ok(engine);
        }
        let engine = Engine::new(
            Arc::clone(&self.tesseract),
            self.datapath.as_deref(),
            &self.languages,
        )
        .map_err(|_| OcrError::Failed)?;
        self.engines.fetch_add(1, Ordering::Relaxed);
        Ok(engine)
    }
}

/// The requested languages Tesseract did not load.
fn missing_languages(requested: &[String], loaded: &[String]) -> Vec<String> {
    requested
        .iter()
        .filter(|r| !loaded.contains(r))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_languages_are_those_not_loaded() {
        let requested = ["vie".to_string(), "eng".to_string()];
        assert_eq!(missing_languages(&requested, &["eng".to_string()]), ["vie"]);
        assert!(missing_languages(&requested, &requested).is_empty());
    }

    #[test]
    fn ocr_switched_off_loads_nothing() {
        let settings = ImageSettings {
            ocr: false,
            ..ImageSettings::default()
        };
        let err = Ocr::load(&settings).unwrap_err();
        assert_eq!(err, OcrUnavailable::Disabled);
        assert_eq!(err.as_str(), "disabled");
    }

    #[test]
    fn a_missing_library_says_which_files_were_tried() {
        let bogus = ["/nonexistent/libtesseract.so.5", "libtesseract-bogus.so.0"];
        let err = Ocr::load_from(&ImageSettings::default(), &bogus).unwrap_err();
        assert_eq!(err.as_str(), "library_missing");
        assert!(err.to_string().contains("libtesseract-bogus.so.0"), "{err}");
        assert!(err.to_string().contains("tesseract-ocr"), "{err}");
    }

    #[test]
    fn a_library_without_the_api_is_incompatible() {
        // The C library is loaded in every process, and has none of Tesseract's functions.
        let err = Ocr::load_from(&ImageSettings::default(), &["libc.so.6"]).unwrap_err();
        assert_eq!(
            err,
            OcrUnavailable::LibraryIncompatible {
                symbol: "TessVersion".to_string()
            }
        );
    }

    #[test]
    fn error_labels_are_distinct() {
        let labels: std::collections::HashSet<_> =
            OcrError::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(labels.len(), OcrError::ALL.len());
    }
}
