//! Reading an image end to end: fetch (or bytes in hand), decode, every QR code, then OCR. QR decoding and
//! OCR are CPU-bound and run on blocking threads, at most `image.max_concurrency` images at once.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use super::ocr::{Ocr, OcrUnavailable};
use super::reading::{ImageReading, ImageStage, OcrOutcome};
use super::{DecodeLimits, DecodedImage, decode_blocking, fetch_image_within};
use crate::config::Settings;
use crate::net::{FetchError, FetchLimits, GuardedFetcher};
use crate::telemetry;

/// Whether OCR runs, and why not when it does not: for the start-up log and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OcrStatus {
    pub enabled: bool,
    /// The Tesseract version, or why OCR is off.
    pub detail: String,
}

/// Reads images: shared by the media actor and `scam check --image`.
pub struct ImageReader {
    fetcher: GuardedFetcher,
    limits: DecodeLimits,
    /// Images between decode and the end of OCR (not while fetching): bounds CPU and the buffers held.
    permits: Semaphore,
    ocr: OcrEngine,
}

impl ImageReader {
    /// A reader with the fetcher's default limits; loads Tesseract when `image.ocr` is on.
    #[must_use]
    pub fn new(settings: &Settings) -> Self {
        ImageReader {
            fetcher: GuardedFetcher::new(&settings.net, FetchLimits::default()),
            limits: DecodeLimits::default(),
            permits: Semaphore::new(settings.image.max_concurrency.max(1)),
            ocr: OcrEngine::load(settings),
        }
    }

    #[must_use]
    pub fn ocr_status(&self) -> OcrStatus {
        self.ocr.status()
    }

    /// Fetches the image at `url` through the guarded fetcher and reads it.
    pub async fn read_url(&self, url: &str) -> Result<ImageReading, FetchError> {
        let started = Instant::now();
        let (image, _permit) =
            fetch_image_within(&self.fetcher, url, &self.limits, &self.permits).await?;
        observe(ImageStage::Decode, started);
        Ok(self.read_decoded(image).await)
    }

    /// Reads an image already in hand (a local file).
    pub async fn read_bytes(&self, bytes: Vec<u8>) -> Result<ImageReading, FetchError> {
        let _permit = self.permits.acquire().await;
        let started = Instant::now();
        let image = decode_blocking(bytes, self.limits).await?;
        observe(ImageStage::Decode, started);
        Ok(self.read_decoded(image).await)
    }

    async fn read_decoded(&self, image: DecodedImage) -> ImageReading {
        let DecodedImage { gray, sha256, .. } = image;
        let gray = Arc::new(gray);
        let started = Instant::now();
        let for_qr = gray.clone();
        let qr = tokio::task::spawn_blocking(move || super::qr::decode_qr(&for_qr))
            .await
            .unwrap_or_default();
        observe(ImageStage::Qr, started);
        metrics::counter!(telemetry::IMAGE_QR_CODES).increment(qr.len() as u64);
        let started = Instant::now();
        let ocr = self.ocr.read(gray).await;
        if ocr != OcrOutcome::Off {
            observe(ImageStage::Ocr, started);
        }
        ImageReading { sha256, qr, ocr }
    }
}

fn observe(stage: ImageStage, started: Instant) {
    metrics::histogram!(telemetry::IMAGE_STAGE_DURATION, "stage" => stage.as_str())
        .record(started.elapsed().as_secs_f64());
}

/// Tesseract when it loaded, or why not.
struct OcrEngine {
    ocr: Result<Ocr, OcrUnavailable>,
}

impl OcrEngine {
    fn load(settings: &Settings) -> Self {
        OcrEngine {
            ocr: Ocr::load(&settings.image),
        }
    }

    fn status(&self) -> OcrStatus {
        match &self.ocr {
            Ok(ocr) => OcrStatus {
                enabled: true,
                detail: format!("Tesseract {}", ocr.version()),
            },
            Err(why) => OcrStatus {
                enabled: false,
                detail: why.to_string(),
            },
        }
    }

    async fn read(&self, gray: Arc<image::GrayImage>) -> OcrOutcome {
        match &self.ocr {
            Err(_) => OcrOutcome::Off,
            Ok(ocr) => match ocr.read(gray).await {
                Ok(text) => OcrOutcome::Text(text.text),
                Err(_) => OcrOutcome::Failed,
            },
        }
    }
}
