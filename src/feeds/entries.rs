//! What a feed's parse collects: its entries (one per entity, however many rows name it) and the rows it
//! skipped, each with its line number. Pure.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use crate::scam::import::{BadLine, NewReport};
use crate::scam::link::official_brand;
use crate::scam::{EntityKind, normalize_value};

/// Bad rows kept with their line number; past this many only the count grows.
pub const BAD_LINES_KEPT: usize = 100;

/// What every entry of a feed is stored as, unless its row says otherwise.
#[derive(Debug, Clone)]
pub struct FeedDefaults {
    /// The feed's name: the stored source of its entries.
    pub source: String,
    pub category: String,
    pub verified: bool,
}

/// One feed's snapshot as parsed.
#[derive(Debug, Default)]
pub struct FeedEntries {
    pub records: Vec<NewReport>,
    seen: FxHashMap<(EntityKind, String), usize>,
    /// Malformed rows: the first [`BAD_LINES_KEPT`] with their line, all counted in `bad_rows`.
    pub bad_lines: Vec<BadLine>,
    pub bad_rows: u64,
    /// Well-formed rows left out on purpose: a URL on a shared platform (a code host, a cloud drive, a
    /// brand's own site), where the domain is not the culprit.
    pub shared_host_rows: u64,
}

impl FeedEntries {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn bad(&mut self, line: u64, reason: impl Into<String>) {
        self.bad_rows += 1;
        if self.bad_lines.len() < BAD_LINES_KEPT {
            self.bad_lines.push(BadLine {
                line,
                reason: reason.into(),
            });
        }
    }

    /// Adds a report; a second row about the same entity counts one more report and widens its dates.
    pub fn push(&mut self, record: NewReport) {
        let key = (record.kind, record.value.clone());
        match self.seen.get(&key) {
            Some(&at) => {
                let kept = &mut self.records[at];
                kept.report_count = kept.report_count.saturating_add(record.report_count.max(1));
                kept.first_reported = earliest(kept.first_reported, record.first_reported);
                kept.last_reported = kept.last_reported.max(record.last_reported);
                kept.verified |= record.verified;
            }
            None => {
                self.seen.insert(key, self.records.len());
                self.records.push(record);
            }
        }
    }

    /// A domain entry from a URL or host written in a feed row at `line`, dated `at` when the feed says.
    pub fn push_link(
        &mut self,
        defaults: &FeedDefaults,
        line: u64,
        raw: &str,
        at: Option<DateTime<Utc>>,
        category: Option<&str>,
    ) {
        match link_value(raw) {
            Link::Domain(value) => self.push(NewReport {
                kind: EntityKind::Domain,
                value,
                category: category
                    .filter(|c| !c.is_empty())
                    .unwrap_or(&defaults.category)
                    .to_string(),
                source: defaults.source.clone(),
                report_count: 1,
                verified: defaults.verified,
                bank_bin: None,
                first_reported: at,
                last_reported: at,
            }),
            Link::Shared => self.shared_host_rows += 1,
            Link::Invalid => self.bad(line, format!("not a URL or domain: {}", printable(raw))),
        }
    }

    /// Line numbers of the kept bad rows, for a log line.
    #[must_use]
    pub fn bad_line_numbers(&self) -> Vec<u64> {
        self.bad_lines.iter().map(|b| b.line).collect()
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

enum Link {
    Domain(String),
    Shared,
    Invalid,
}

/// Platforms anyone can upload to: a malicious file there says nothing about the domain.
const SHARED_HOSTS: &[&str] = &[
    "github.com",
    "raw.githubusercontent.com",
    "objects.githubusercontent.com",
    "gist.githubusercontent.com",
    "gitlab.com",
    "bitbucket.org",
    "drive.google.com",
    "docs.google.com",
    "storage.googleapis.com",
    "sites.google.com",
    "dropbox.com",
    "www.dropbox.com",
    "dl.dropboxusercontent.com",
    "onedrive.live.com",
    "1drv.ms",
    "cdn.discordapp.com",
    "mediafire.com",
    "www.mediafire.com",
    "pastebin.com",
    "archive.org",
    "transfer.sh",
];

fn link_value(raw: &str) -> Link {
    let raw = without_path(raw.trim());
    let Some(value) = normalize_value(EntityKind::Domain, raw) else {
        return Link::Invalid;
    };
    if SHARED_HOSTS.contains(&value.as_str()) || official_brand(&value).is_some() {
        Link::Shared
    } else {
        Link::Domain(value)
    }
}

/// `scheme://authority` of a URL: only the host is kept, and normalising a long path costs time at a
/// million rows.
fn without_path(raw: &str) -> &str {
    let Some(at) = raw.find("://") else {
        return raw;
    };
    let start = at + 3;
    match raw[start..].find(['/', '?', '#', '\\']) {
        Some(end) => &raw[..start + end],
        None => raw,
    }
}

/// A value quoted in a skipped-row message: one line, at most 60 characters.
#[must_use]
pub fn printable(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn defaults() -> FeedDefaults {
        FeedDefaults {
            source: "urlhaus_recent".into(),
            category: "trang phát tán mã độc".into(),
            verified: true,
        }
    }

    #[test]
    fn urls_on_one_domain_are_one_entry_with_their_count_and_dates() {
        let mut entries = FeedEntries::new();
        let day = |d| Utc.with_ymd_and_hms(2026, 12, d, 0, 0, 0).single();
        entries.push_link(&defaults(), 2, "http://evil.example/a.exe", day(3), None);
        entries.push_link(&defaults(), 3, "https://EVIL.example/b", day(1), None);
        entries.push_link(&defaults(), 4, "http://103.1.2.3:8080/bin.sh", day(2), None);
        assert_eq!(entries.len(), 2);
        let evil = &entries.records[0];
        assert_eq!(evil.value, "evil.example");
        assert_eq!(evil.report_count, 2);
        assert_eq!(evil.first_reported, day(1));
        assert_eq!(evil.last_reported, day(3));
        assert_eq!(entries.records[1].value, "103.1.2.3");
    }

    #[test]
    fn only_the_authority_of_a_url_is_read() {
        assert_eq!(
            without_path("https://evil.example/a/b?c#d"),
            "https://evil.example"
        );
        assert_eq!(without_path("http://1.2.3.4:8080?x"), "http://1.2.3.4:8080");
        assert_eq!(without_path("evil.example/a"), "evil.example/a");
        assert_eq!(without_path("https://evil.example"), "https://evil.example");
    }

    #[test]
    fn shared_platforms_are_left_out_and_garbage_is_counted_by_line() {
        let mut entries = FeedEntries::new();
        entries.push_link(
            &defaults(),
            2,
            "https://github.com/x/y/raw/a.exe",
            None,
            None,
        );
        entries.push_link(&defaults(), 3, "not a url at all", None, None);
        assert!(entries.is_empty());
        assert_eq!(entries.shared_host_rows, 1);
        assert_eq!(entries.bad_rows, 1);
        assert_eq!(entries.bad_line_numbers(), vec![3]);
        for i in 0..(BAD_LINES_KEPT as u64 + 5) {
            entries.bad(i, "x");
        }
        assert_eq!(entries.bad_lines.len(), BAD_LINES_KEPT);
        assert_eq!(entries.bad_rows, BAD_LINES_KEPT as u64 + 6);
    }
}
