//! The images users send: fetched through the guarded fetcher, recognised by their magic bytes
//! ([`sniff`]) and decoded to gray under a pixel cap ([`decode`]), for the QR and OCR stages.
//!
//! [`fetch_image`] is the one counted path: every call adds one to `tradesphere_media_fetch_total`,
//! labelled `ok` or the [`FetchError`]'s label. See docs/media.md.

pub mod decode;
pub mod qr;
pub mod sniff;

pub use decode::{DecodeLimits, DecodedImage, decode};
pub use sniff::{ImageKind, sniff};

use crate::net::{FetchError, GuardedFetcher};
use crate::telemetry;

/// Fetches the image at `url` and decodes it (in a blocking task), counting the outcome.
pub async fn fetch_image(
    fetcher: &GuardedFetcher,
    url: &str,
    limits: &DecodeLimits,
) -> Result<DecodedImage, FetchError> {
    let result = fetch_and_decode(fetcher, url, *limits).await;
    let label = FetchError::result_label(&result);
    metrics::counter!(telemetry::MEDIA_FETCH, "result" => label).increment(1);
    result
}

async fn fetch_and_decode(
    fetcher: &GuardedFetcher,
    url: &str,
    limits: DecodeLimits,
) -> Result<DecodedImage, FetchError> {
    let fetched = fetcher.get(url).await?;
    // Refused before a blocking task is spent on it.
    sniff(&fetched.bytes).ok_or(FetchError::NotImage)?;
    let decoding = tokio::task::spawn_blocking(move || decode(&fetched.bytes, &limits));
    // A decoder that panicked on hostile input has met a damaged image.
    decoding.await.unwrap_or(Err(FetchError::BadImage))
}
