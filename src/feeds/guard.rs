//! What may not replace a feed's entries: an HTML page (a login wall, an error page, a parked domain), an
//! empty snapshot, or one that drops more than half of what the feed listed. `--force` overrides. Pure.

/// Why a snapshot was refused, or how a sync ended: the `result` label of the sync counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncResult {
    /// A new snapshot was stored.
    Ok,
    /// The feed answered 304: nothing changed since the last sync.
    NotModified,
    /// The feed answered an HTML page.
    Html,
    /// The body was empty, or no row in it was an entry.
    Empty,
    /// The snapshot would drop more than half of the feed's entries.
    Shrink,
    /// The body could not be read as the feed's format.
    Malformed,
    /// The body was larger than the feed's cap.
    TooLarge,
    /// The download took longer than the feed's deadline.
    Timeout,
    /// The feed could not be fetched (unreachable, refused address, an error status).
    FetchError,
    /// The database refused the write.
    StoreError,
}

impl SyncResult {
    pub const ALL: [SyncResult; 10] = [
        SyncResult::Ok,
        SyncResult::NotModified,
        SyncResult::Html,
        SyncResult::Empty,
        SyncResult::Shrink,
        SyncResult::Malformed,
        SyncResult::TooLarge,
        SyncResult::Timeout,
        SyncResult::FetchError,
        SyncResult::StoreError,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SyncResult::Ok => "ok",
            SyncResult::NotModified => "not_modified",
            SyncResult::Html => "html",
            SyncResult::Empty => "empty",
            SyncResult::Shrink => "shrink",
            SyncResult::Malformed => "malformed",
            SyncResult::TooLarge => "too_large",
            SyncResult::Timeout => "timeout",
            SyncResult::FetchError => "fetch_error",
            SyncResult::StoreError => "store_error",
        }
    }

    /// Parses a stored label (the feed's last result).
    #[must_use]
    pub fn parse(label: &str) -> Option<SyncResult> {
        Self::ALL.into_iter().find(|r| r.as_str() == label)
    }

    /// The feed is as fresh as its source: a new snapshot, or the source said nothing changed.
    #[must_use]
    pub fn is_success(self) -> bool {
        matches!(self, SyncResult::Ok | SyncResult::NotModified)
    }

    /// A refusal `--force` overrides.
    #[must_use]
    pub fn forcible(self) -> bool {
        matches!(
            self,
            SyncResult::Html | SyncResult::Empty | SyncResult::Shrink
        )
    }
}

/// Whether a body is an HTML page: its declared type, or its first bytes, whatever the type claims.
#[must_use]
pub fn looks_like_html(content_type: Option<&str>, head: &[u8]) -> bool {
    if content_type.is_some_and(|t| t.to_ascii_lowercase().contains("text/html")) {
        return true;
    }
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF))
        .unwrap_or(head.len());
    let head: Vec<u8> = head[start..]
        .iter()
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    ["<!doctype html", "<html", "<head", "<body", "<?xml", "<!--"]
        .iter()
        .any(|tag| head.starts_with(tag.as_bytes()))
}

/// Whether a parsed snapshot may replace the feed's `previous` active entries, `dropped` of which it no
/// longer lists.
pub fn check_snapshot(
    previous: usize,
    entries: usize,
    dropped: usize,
    force: bool,
) -> Result<(), SyncResult> {
    if force {
        return Ok(());
    }
    if entries == 0 {
        return Err(SyncResult::Empty);
    }
    if previous > 0 && dropped * 2 > previous {
        return Err(SyncResult::Shrink);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn html_is_known_by_its_type_or_its_first_bytes() {
        assert!(looks_like_html(
            Some("text/html; charset=utf-8"),
            b"evil.example"
        ));
        assert!(looks_like_html(None, b"\n  <!DOCTYPE html><html>"));
        assert!(looks_like_html(Some("text/plain"), b"<HTML><body>login"));
        assert!(!looks_like_html(Some("text/csv"), b"# id,dateadded,url"));
        assert!(!looks_like_html(None, b"[{\"url\":\"x\"}]"));
    }

    #[test]
    fn snapshots_that_would_wipe_a_feed_are_refused_unless_forced() {
        assert_eq!(check_snapshot(10, 0, 10, false), Err(SyncResult::Empty));
        assert_eq!(check_snapshot(0, 0, 0, false), Err(SyncResult::Empty));
        assert_eq!(check_snapshot(10, 4, 6, false), Err(SyncResult::Shrink));
        // As many entries as before, but all different: still more than half dropped.
        assert_eq!(check_snapshot(10, 10, 10, false), Err(SyncResult::Shrink));
        assert_eq!(check_snapshot(10, 5, 5, false), Ok(()));
        assert_eq!(check_snapshot(0, 3, 0, false), Ok(()));
        assert_eq!(check_snapshot(10, 0, 10, true), Ok(()));
    }

    #[test]
    fn labels_are_distinct_and_round_trip() {
        let labels: HashSet<&str> = SyncResult::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), SyncResult::ALL.len());
        for r in SyncResult::ALL {
            assert_eq!(SyncResult::parse(r.as_str()), Some(r));
        }
        assert!(SyncResult::NotModified.is_success() && !SyncResult::Shrink.is_success());
        assert!(SyncResult::Shrink.forcible() && !SyncResult::Timeout.forcible());
    }
}
