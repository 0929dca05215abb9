//! The images users send: fetched through the guarded fetcher, recognised by their magic bytes
//! ([`sniff`]) and decoded to gray under a pixel cap ([`decode`]), for the QR and OCR stages.
//!
//! [`fetch_image`] is the one counted path: every call adds one to `tradesphere_media_fetch_total`,
//! labelled `ok` or the [`FetchError`]'s label. See docs/media.md.

pub mod decode;
pub mod ocr;
pub mod qr;
pub mod read;
pub mod reading;
pub mod sniff;

pub use decode::{DecodeLimits, DecodedImage, decode};
pub use read::{ImageReader, OcrStatus};
pub use reading::{ImageReading, ImageStage, OcrOutcome};
pub use sniff::{ImageKind, sniff};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::net::{FetchError, GuardedFetcher};
use crate::telemetry;

/// Fetches the image at `url` and decodes it (in a blocking task), counting the outcome.
pub async fn fetch_image(
    fetcher: &GuardedFetcher,
    url: &str,
    limits: &DecodeLimits,
) -> Result<DecodedImage, FetchError> {
    let unbounded = Semaphore::new(1);
    fetch_image_within(fetcher, url, limits, &unbounded)
        .await
        .map(|(image, _permit)| image)
}

/// As [`fetch_image`], decoding only once one of `permits` is free, and keeping it for what follows the
/// decode: a fetch waits on the network without holding a permit.
pub async fn fetch_image_within<'a>(
    fetcher: &GuardedFetcher,
    url: &str,
    limits: &DecodeLimits,
    permits: &'a Semaphore,
) -> Result<(DecodedImage, SemaphorePermit<'a>), FetchError> {
    let result = async {
        let fetched = fetcher.get(url).await?;
        // Refused before a permit or a blocking task is spent on it.
        sniff(&fetched.bytes).ok_or(FetchError::NotImage)?;
        let permit = permits
            .acquire()
            .await
            .expect("image permits are never closed");
        Ok((decode_blocking(fetched.bytes, *limits).await?, permit))
    }
    .await;
    let label = FetchError::result_label(&result);
    metrics::counter!(telemetry::MEDIA_FETCH, "result" => label).increment(1);
    result
}

/// [`decode`] on a blocking thread.
pub async fn decode_blocking(
    bytes: Vec<u8>,
    limits: DecodeLimits,
) -> Result<DecodedImage, FetchError> {
    let decoding = tokio::task::spawn_blocking(move || decode(&bytes, &limits));
    // A decoder that panicked on hostile input has met a damaged image.
    decoding.await.unwrap_or(Err(FetchError::BadImage))
}
