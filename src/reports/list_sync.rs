//! Downloads the configured scam-domain list and imports it (`tradesphere scam sync`, and the scam actor's
//! schedule). Entries the list no longer has are marked removed for that source, so the index follows the
//! list; a download that parses to nothing changes nothing (a broken mirror must not wipe the list).

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use crate::config::ScamSettings;
use crate::scam::import::{ListDefaults, parse_domain_list};
use crate::store::Store;
use crate::telemetry;

/// Largest list accepted (the chongluadao list is about 250 KB).
const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSummary {
    pub entries: usize,
    pub written: u64,
    pub removed: u64,
    pub bad_lines: usize,
}

impl fmt::Display for SyncSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} entries, {} new or changed, {} removed, {} unparseable lines skipped",
            self.entries, self.written, self.removed, self.bad_lines
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("download failed: {0}")]
    Download(String),
    #[error(
        "the list is empty or has no valid entry ({bad_lines} unparseable lines); nothing changed"
    )]
    Empty { bad_lines: usize },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Downloads `url` once and imports it under `settings.sync_source`.
pub async fn sync_once(
    store: &Store,
    url: &url::Url,
    settings: &ScamSettings,
) -> Result<SyncSummary, SyncError> {
    let result = download_and_import(store, url, settings).await;
    let label = if result.is_ok() { "ok" } else { "error" };
    metrics::counter!(telemetry::SCAM_SYNC, "result" => label).increment(1);
    result
}

async fn download_and_import(
    store: &Store,
    url: &url::Url,
    settings: &ScamSettings,
) -> Result<SyncSummary, SyncError> {
    let body = download(url).await?;
    let parsed = parse_domain_list(
        &body,
        &ListDefaults {
            source: settings.sync_source.clone(),
            category: settings.sync_category.clone(),
            verified: true,
        },
    );
    if parsed.records.is_empty() {
        return Err(SyncError::Empty {
            bad_lines: parsed.bad_lines.len(),
        });
    }
    let written = store.upsert_reports(&parsed.records).await?;
    let keep: HashSet<_> = parsed
        .records
        .iter()
        .map(|r| (r.kind, r.value.clone()))
        .collect();
    let removed = store
        .remove_reports_not_in(&settings.sync_source, &keep)
        .await?;
    Ok(SyncSummary {
        entries: parsed.records.len(),
        written,
        removed,
        bad_lines: parsed.bad_lines.len(),
    })
}

/// Scheme, host and path only: a list URL may carry a token in its query.
pub fn redacted_url(url: &url::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.path()
    )
}

async fn download(url: &url::Url) -> Result<String, SyncError> {
    let client = reqwest::Client::builder()
        .timeout(DOWNLOAD_TIMEOUT)
        .build()
        .map_err(|e| SyncError::Download(e.to_string()))?;
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| SyncError::Download(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(SyncError::Download(format!("HTTP {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SyncError::Download(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > MAX_LIST_BYTES {
            return Err(SyncError::Download(format!(
                "the list is larger than {MAX_LIST_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| SyncError::Download("the list is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_url_is_shown_without_its_query() {
        let url = url::Url::parse("https://lists.example/feed/domains.json?token=s3cret").unwrap();
        assert_eq!(
            redacted_url(&url),
            "https://lists.example/feed/domains.json"
        );
    }
}
