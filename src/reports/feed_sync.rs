//! Syncs one outside feed (`tradesphere scam sync`, and the feeds actor's schedule): a conditional GET
//! through the guarded fetcher (or a local file), the body decompressed and parsed as it streams in on a
//! blocking thread, the guards, then the write: the snapshot's entries upserted under the feed's name and
//! those it no longer lists retired (their rows and dates stay). The decisions are in `feeds`.

use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use flate2::read::MultiGzDecoder;
use secrecy::ExposeSecret;
use tokio::sync::mpsc;

use crate::config::{FeedSettings, NetSettings};
use crate::feeds::{
    FeedDefaults, FeedEntries, FeedState, Stored, SyncResult, after_sync, check_snapshot,
    looks_like_html, parse, validators,
};
use crate::net::{Conditional, FetchError, FetchLimits, GuardedFetcher, Validators};
use crate::scam::import::BadLine;
use crate::store::Store;
use crate::telemetry;

/// How one feed's sync ended.
#[derive(Debug, Clone)]
pub struct FeedOutcome {
    pub feed: String,
    pub result: SyncResult,
    /// Entries in the snapshot read (0 when none was).
    pub entries: usize,
    pub written: u64,
    pub retired: u64,
    pub bad_rows: u64,
    /// The first malformed rows, with their line numbers.
    pub bad_lines: Vec<BadLine>,
    pub shared_host_rows: u64,
    /// Why it failed, naming no URL.
    pub detail: Option<String>,
}

impl fmt::Display for FeedOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.feed, self.result.as_str())?;
        if self.result == SyncResult::Ok {
            write!(
                f,
                " ({} entries, {} new or changed, {} retired, {} malformed rows skipped, {} on shared hosts left out)",
                self.entries, self.written, self.retired, self.bad_rows, self.shared_host_rows
            )?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// Syncs every enabled feed (or only `only`, enabled or not) once, in order.
pub async fn sync_feeds(
    store: &Store,
    net: &NetSettings,
    feeds: &[FeedSettings],
    only: Option<&str>,
    force: bool,
) -> Vec<FeedOutcome> {
    let mut outcomes = Vec::new();
    for feed in feeds {
        let chosen = only.map_or(feed.enabled, |name| name == feed.name);
        if chosen {
            outcomes.push(sync_feed(store, net, feed, force, Utc::now()).await);
        }
    }
    outcomes
}

/// Syncs one feed, records its state and metrics. `force` skips the validators and the guards.
pub async fn sync_feed(
    store: &Store,
    net: &NetSettings,
    feed: &FeedSettings,
    force: bool,
    now: DateTime<Utc>,
) -> FeedOutcome {
    let previous = match store.feed_state(&feed.name).await {
        Ok(previous) => previous,
        Err(e) => return failed(feed, SyncResult::StoreError, e.to_string()),
    };
    let mut outcome = fetch_and_store(store, net, feed, previous.as_ref(), force).await;
    let stored = (outcome.0.result == SyncResult::Ok)
        .then_some(outcome.1.take())
        .flatten();
    let state = after_sync(
        previous.as_ref(),
        &feed.name,
        &feed.title,
        outcome.0.result,
        stored,
        now,
    );
    if let Err(e) = store.save_feed_state(&state).await {
        tracing::warn!(feed = %feed.name, error = %e, "feed state not saved");
    }
    publish(&state);
    let label = outcome.0.result.as_str();
    metrics::counter!(telemetry::SCAM_FEED_SYNCS, "feed" => feed.name.clone(), "result" => label)
        .increment(1);
    outcome.0
}

/// Sets a feed's gauges from its stored state (after a sync, and at start).
pub fn publish(state: &FeedState) {
    let feed = state.name.clone();
    metrics::gauge!(telemetry::SCAM_FEED_ENTRIES, "feed" => feed.clone()).set(state.entries as f64);
    let at = state.last_success.map_or(0.0, |at| at.timestamp() as f64);
    metrics::gauge!(telemetry::SCAM_FEED_LAST_SUCCESS, "feed" => feed).set(at);
}

fn failed(feed: &FeedSettings, result: SyncResult, detail: String) -> FeedOutcome {
    FeedOutcome {
        feed: feed.name.clone(),
        result,
        entries: 0,
        written: 0,
        retired: 0,
        bad_rows: 0,
        bad_lines: Vec::new(),
        shared_host_rows: 0,
        detail: Some(detail),
    }
}

async fn fetch_and_store(
    store: &Store,
    net: &NetSettings,
    feed: &FeedSettings,
    previous: Option<&FeedState>,
    force: bool,
) -> (FeedOutcome, Option<Stored>) {
    let (etag, last_modified) = validators(previous, force);
    let read = match read_feed(
        net,
        feed,
        Validators {
            etag,
            last_modified,
        },
        force,
    )
    .await
    {
        Ok(read) => read,
        Err((result, detail)) => return (failed(feed, result, detail), None),
    };
    let Some((entries, new_validators)) = read else {
        let mut outcome = failed(feed, SyncResult::NotModified, String::new());
        outcome.detail = None;
        outcome.entries = usize::try_from(previous.map_or(0, |p| p.entries)).unwrap_or(0);
        return (outcome, None);
    };
    let mut outcome = FeedOutcome {
        feed: feed.name.clone(),
        result: SyncResult::Ok,
        entries: entries.len(),
        written: 0,
        retired: 0,
        bad_rows: entries.bad_rows,
        bad_lines: entries.bad_lines.clone(),
        shared_host_rows: entries.shared_host_rows,
        detail: None,
    };
    match store_snapshot(store, feed, &entries, force).await {
        Ok((written, retired)) => {
            outcome.written = written;
            outcome.retired = retired;
            let stored = Stored {
                etag: new_validators.etag,
                last_modified: new_validators.last_modified,
                entries: i64::try_from(entries.len()).unwrap_or(i64::MAX),
                bad_rows: i64::try_from(entries.bad_rows).unwrap_or(i64::MAX),
            };
            (outcome, Some(stored))
        }
        Err((result, detail)) => {
            outcome.result = result;
            outcome.detail = Some(detail);
            (outcome, None)
        }
    }
}

type Failure = (SyncResult, String);

/// Checks the snapshot against what the feed listed, then writes it. Returns (written, retired).
async fn store_snapshot(
    store: &Store,
    feed: &FeedSettings,
    entries: &FeedEntries,
    force: bool,
) -> Result<(u64, u64), Failure> {
    let store_error = |e: crate::store::StoreError| (SyncResult::StoreError, e.to_string());
    let listed = store
        .active_report_keys(&feed.name)
        .await
        .map_err(store_error)?;
    let keep: std::collections::HashSet<_> = entries
        .records
        .iter()
        .map(|r| (r.kind, r.value.clone()))
        .collect();
    let dropped = listed.iter().filter(|k| !keep.contains(*k)).count();
    check_snapshot(listed.len(), entries.len(), dropped, force).map_err(|result| {
        let detail = format!(
            "refused: the feed listed {} entries, this snapshot has {} and drops {dropped} (--force overrides)",
            listed.len(),
            entries.len()
        );
        (result, detail)
    })?;
    let written = store
        .upsert_reports(&entries.records)
        .await
        .map_err(store_error)?;
    let retired = store
        .remove_reports_not_in(&feed.name, &keep)
        .await
        .map_err(store_error)?;
    Ok((written, retired))
}

/// The parsed snapshot and its validators, or `None` when the feed has not changed.
async fn read_feed(
    net: &NetSettings,
    feed: &FeedSettings,
    sent: Validators,
    force: bool,
) -> Result<Option<(FeedEntries, Validators)>, Failure> {
    let defaults = FeedDefaults {
        source: feed.name.clone(),
        category: feed.category.clone(),
        verified: feed.verified,
    };
    let (format, max_bytes) = (feed.format, feed.max_bytes);
    let exceeded = Arc::new(AtomicBool::new(false));
    if feed.url.scheme() == "file" {
        let path = feed
            .url
            .to_file_path()
            .map_err(|()| (SyncResult::FetchError, "not a file path".to_string()))?;
        let flag = exceeded.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)?;
            Ok::<_, io::Error>(decode_and_parse(
                file, None, format, &defaults, max_bytes, force, &flag,
            ))
        })
        .await
        .map_err(|e| (SyncResult::FetchError, e.to_string()))?
        .map_err(|e| (SyncResult::FetchError, format!("cannot read the file: {e}")))?;
        return finish(parsed, &exceeded, None).map(|e| Some((e, Validators::default())));
    }
    let url = match &feed.api_key {
        Some(key) => feed
            .url
            .as_str()
            .replace("%7Bapi_key%7D", key.expose_secret()),
        None => feed.url.to_string(),
    };
    let limits = FetchLimits {
        total_timeout: feed.timeout,
        max_bytes: feed.max_bytes,
        ..FetchLimits::default()
    };
    let fetcher = GuardedFetcher::new(net, limits);
    let mut body = match fetcher.get_conditional(&url, &sent).await {
        Ok(Conditional::NotModified) => return Ok(None),
        Ok(Conditional::Body(body)) => body,
        Err(e) => return Err(fetch_failure(e)),
    };
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let content_type = body.content_type.clone();
    let flag = exceeded.clone();
    let parsing = tokio::task::spawn_blocking(move || {
        let reader = ChannelReader {
            rx: &mut rx,
            current: Bytes::new(),
        };
        decode_and_parse(
            reader,
            content_type.as_deref(),
            format,
            &defaults,
            max_bytes,
            force,
            &flag,
        )
    });
    let mut cut_off = None;
    loop {
        match body.chunk().await {
            Ok(Some(chunk)) => {
                if tx.send(Ok(chunk)).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                cut_off = Some(e);
                let _ = tx.send(Err(io::Error::other(e.as_str()))).await;
                break;
            }
        }
    }
    drop(tx);
    let parsed = parsing
        .await
        .map_err(|e| (SyncResult::FetchError, e.to_string()))?;
    finish(parsed, &exceeded, cut_off).map(|entries| Some((entries, body.validators.clone())))
}

fn fetch_failure(e: FetchError) -> Failure {
    let result = match e {
        FetchError::Timeout => SyncResult::Timeout,
        FetchError::TooLarge => SyncResult::TooLarge,
        _ => SyncResult::FetchError,
    };
    (result, e.to_string())
}

/// The parse's result, unless the download was cut off or the body outgrew its cap.
fn finish(
    parsed: Result<FeedEntries, Failure>,
    exceeded: &AtomicBool,
    cut_off: Option<FetchError>,
) -> Result<FeedEntries, Failure> {
    if let Some(e) = cut_off {
        return Err(fetch_failure(e));
    }
    if exceeded.load(Ordering::Relaxed) {
        return Err(fetch_failure(FetchError::TooLarge));
    }
    parsed
}

/// Bytes the HTML check looks at.
const HEAD: usize = 512;

/// On a blocking thread: gunzips when the body starts with gzip's magic bytes (whatever the headers
/// said), caps the decompressed size, refuses HTML and an empty body unless `force`, then parses as it
/// reads.
fn decode_and_parse(
    raw: impl Read,
    content_type: Option<&str>,
    format: crate::config::FeedFormat,
    defaults: &FeedDefaults,
    max_bytes: u64,
    force: bool,
    exceeded: &AtomicBool,
) -> Result<FeedEntries, Failure> {
    let read_error = |e: io::Error| (SyncResult::FetchError, format!("reading the body: {e}"));
    let mut raw = BufReader::with_capacity(64 * 1024, raw);
    let gzip = raw
        .fill_buf()
        .map_err(read_error)?
        .starts_with(&[0x1f, 0x8b]);
    let decoded: Box<dyn Read> = if gzip {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut capped = Capped {
        inner: decoded,
        left: max_bytes,
        exceeded,
    };
    let mut head = Vec::with_capacity(HEAD);
    (&mut capped)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(read_error)?;
    if !force && head.iter().all(u8::is_ascii_whitespace) {
        return Err((SyncResult::Empty, "the body is empty".into()));
    }
    if !force && looks_like_html(content_type, &head) {
        return Err((SyncResult::Html, "the feed answered an HTML page".into()));
    }
    let entries = parse(format, Cursor::new(head).chain(capped), defaults)
        .map_err(|e| (SyncResult::Malformed, e.0))?;
    Ok(entries)
}

/// Fails the read once more than `left` bytes came out, and says so in `exceeded`.
struct Capped<'a, R> {
    inner: R,
    left: u64,
    exceeded: &'a AtomicBool,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(io::Error::other("larger than the feed's max_mb"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The body's chunks, as the download hands them over, read as one stream.
struct ChannelReader<'a> {
    rx: &'a mut mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::config::FeedFormat;

    fn defaults() -> FeedDefaults {
        FeedDefaults {
            source: "f".into(),
            category: "c".into(),
            verified: false,
        }
    }

    fn run(body: &[u8], content_type: Option<&str>, max: u64) -> Result<FeedEntries, Failure> {
        let flag = AtomicBool::new(false);
        let parsed = decode_and_parse(
            body,
            content_type,
            FeedFormat::Domains,
            &defaults(),
            max,
            false,
            &flag,
        );
        finish(parsed, &flag, None)
    }

    #[test]
    fn gzip_is_known_by_its_magic_bytes_and_capped_after_decompression() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(b"evil.example\nbad.example\n").unwrap();
        let body = gz.finish().unwrap();
        assert_eq!(
            run(&body, Some("application/octet-stream"), 1024)
                .unwrap()
                .len(),
            2
        );
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&b"a".repeat(100_000)).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 1_000);
        assert_eq!(
            run(&bomb, None, 10_000).unwrap_err().0,
            SyncResult::TooLarge
        );
    }

    #[test]
    fn html_and_empty_bodies_are_refused() {
        assert_eq!(run(b"  \n", None, 100).unwrap_err().0, SyncResult::Empty);
        assert_eq!(
            run(b"<!doctype html><p>log in", Some("text/plain"), 100)
                .unwrap_err()
                .0,
            SyncResult::Html
        );
        assert_eq!(
            run(b"evil.example", Some("text/html"), 100).unwrap_err().0,
            SyncResult::Html
        );
    }
}
