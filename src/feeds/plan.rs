//! When each feed syncs next, and what a sync remembers about it. Pure: time comes in as `now`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::guard::SyncResult;

/// What is kept about one feed between syncs (the `scam_feeds` table).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedState {
    pub name: String,
    /// Shown to users as the source of its entries.
    pub title: String,
    /// The validators of the last snapshot stored, sent back as `If-None-Match` / `If-Modified-Since`.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_result: Option<SyncResult>,
    /// Active entries after the last stored snapshot.
    pub entries: i64,
    /// Malformed rows skipped in the last snapshot read.
    pub bad_rows: i64,
    /// Failed syncs since the last success.
    pub failures: i32,
}

/// The first retry after a failure; each further failure doubles it, up to the feed's own period.
pub const RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// When the feed is due: at once if never tried; its period after a success; after a failure, a backoff
/// from [`RETRY_AFTER`] that doubles per failure and never exceeds the period.
#[must_use]
pub fn next_run(state: Option<&FeedState>, refresh: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    let Some(state) = state else {
        return now;
    };
    let Some(last) = state.last_attempt else {
        return now;
    };
    let wait = if state.failures <= 0 {
        refresh
    } else {
        let doubling = u32::try_from(state.failures - 1)
            .unwrap_or(u32::MAX)
            .min(16);
        RETRY_AFTER.saturating_mul(1 << doubling).min(refresh)
    };
    last + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

/// The validators to send: none when forced, so the feed answers with its whole body.
#[must_use]
pub fn validators(state: Option<&FeedState>, force: bool) -> (Option<String>, Option<String>) {
    match state {
        Some(state) if !force => (state.etag.clone(), state.last_modified.clone()),
        _ => (None, None),
    }
}

/// The state after a sync at `now` that ended with `result`; `stored` carries a new snapshot's validators
/// and entry count.
#[must_use]
pub fn after_sync(
    previous: Option<&FeedState>,
    name: &str,
    title: &str,
    result: SyncResult,
    stored: Option<Stored>,
    now: DateTime<Utc>,
) -> FeedState {
    let mut state = previous.cloned().unwrap_or_default();
    state.name = name.to_string();
    state.title = title.to_string();
    state.last_attempt = Some(now);
    state.last_result = Some(result);
    if result.is_success() {
        state.last_success = Some(now);
        state.failures = 0;
    } else {
        state.failures = state.failures.saturating_add(1);
    }
    if let Some(stored) = stored {
        state.etag = stored.etag;
        state.last_modified = stored.last_modified;
        state.entries = stored.entries;
        state.bad_rows = stored.bad_rows;
    }
    state
}

/// What a stored snapshot leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub entries: i64,
    pub bad_rows: i64,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, minute, 0).unwrap()
    }

    #[test]
    fn a_new_feed_is_due_at_once_then_every_period_and_sooner_after_a_failure() {
        let hour = Duration::from_secs(3600);
        assert_eq!(next_run(None, hour, at(0)), at(0));
        let ok = after_sync(None, "f", "F", SyncResult::Ok, None, at(0));
        assert_eq!(
            next_run(Some(&ok), hour, at(1)),
            at(0) + chrono::Duration::hours(1)
        );
        let failed = after_sync(Some(&ok), "f", "F", SyncResult::Timeout, None, at(10));
        assert_eq!(failed.failures, 1);
        assert_eq!(failed.last_success, Some(at(0)));
        assert_eq!(next_run(Some(&failed), hour, at(10)), at(15));
        let twice = after_sync(Some(&failed), "f", "F", SyncResult::Timeout, None, at(15));
        assert_eq!(next_run(Some(&twice), hour, at(15)), at(25));
        let mut many = twice.clone();
        many.failures = 30;
        assert_eq!(
            next_run(Some(&many), hour, at(15)),
            at(15) + chrono::Duration::hours(1)
        );
    }

    #[test]
    fn a_stored_snapshot_keeps_its_validators_and_a_refusal_keeps_the_old_ones() {
        let stored = Stored {
            etag: Some("\"v1\"".into()),
            last_modified: Some("Mon, 07 Dec 2026 10:00:00 GMT".into()),
            entries: 12,
            bad_rows: 1,
        };
        let ok = after_sync(None, "f", "F", SyncResult::Ok, Some(stored), at(0));
        assert_eq!(validators(Some(&ok), false).0.as_deref(), Some("\"v1\""));
        assert_eq!(validators(Some(&ok), true), (None, None));
        let refused = after_sync(Some(&ok), "f", "F", SyncResult::Shrink, None, at(5));
        assert_eq!(refused.entries, 12);
        assert_eq!(refused.etag.as_deref(), Some("\"v1\""));
        assert_eq!(refused.last_result, Some(SyncResult::Shrink));
        let same = after_sync(
            Some(&refused),
            "f",
            "F",
            SyncResult::NotModified,
            None,
            at(9),
        );
        assert_eq!(same.failures, 0);
        assert_eq!(same.last_success, Some(at(9)));
    }
}
