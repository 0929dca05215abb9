//! The in-memory report index the scam actor checks entities against, kept in sync with the
//! `scam_reports` table by applying changed rows (no IO here: the actor feeds it rows from the store).
//!
//! Keys are packed to keep millions of reports small: phone and account digits as integers (an account's
//! length is kept too, so leading zeros still matter), domains as strings, held inside the key when short.
//! One key has one entry per source, held inside the table when it is the only one; an entry's numbers
//! are 32-bit (counts clamped, dates as seconds since 1970, good until 2106).

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use rustc_hash::FxHashMap;

use super::entity::EntityKind;
use super::report::{Attribution, ReportSummary};

/// One row of the report table, as the store hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub kind: EntityKind,
    pub value: String,
    pub source: String,
    pub bank_bin: Option<String>,
    pub category: String,
    pub report_count: i64,
    pub first_reported: DateTime<Utc>,
    pub last_reported: DateTime<Utc>,
    pub verified: bool,
    /// Only `active` rows count; any other status removes the row from the index.
    pub active: bool,
}

/// Domains up to this long are held inside the key, without an allocation of their own.
const INLINE_DOMAIN: usize = 22;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Phone(u64),
    /// (digit count, value): "00123456" and "123456" are different accounts.
    Account(u8, u64),
    /// (length, bytes zero-padded): a domain of at most [`INLINE_DOMAIN`] bytes.
    ShortDomain(u8, [u8; INLINE_DOMAIN]),
    LongDomain(Box<str>),
}

impl Key {
    fn new(kind: EntityKind, value: &str) -> Option<Self> {
        match kind {
            EntityKind::Phone => {
                let digits = value.strip_prefix('+').unwrap_or(value);
                digits_u64(digits).map(Key::Phone)
            }
            EntityKind::BankAccount => {
                let len = u8::try_from(value.len()).ok()?;
                digits_u64(value).map(|n| Key::Account(len, n))
            }
            EntityKind::Domain if value.len() <= INLINE_DOMAIN => {
                let mut bytes = [0u8; INLINE_DOMAIN];
                bytes[..value.len()].copy_from_slice(value.as_bytes());
                Some(Key::ShortDomain(value.len() as u8, bytes))
            }
            EntityKind::Domain => Some(Key::LongDomain(value.into())),
        }
    }
}

/// Up to 19 digits always fit in a `u64`.
fn digits_u64(digits: &str) -> Option<u64> {
    (!digits.is_empty() && digits.len() <= 19 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// `bank_bin` when no BIN is recorded.
const NO_BIN: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceEntry {
    source: u32,
    category: u32,
    bank_bin: u32,
    report_count: u32,
    first_reported: u32,
    last_reported: u32,
    verified: bool,
}

impl SourceEntry {
    fn rank(&self) -> (bool, u32, u32) {
        (self.verified, self.report_count, self.last_reported)
    }
}

/// Seconds since 1970 in 32 bits.
fn seconds(at: DateTime<Utc>) -> u32 {
    u32::try_from(at.timestamp().max(0)).unwrap_or(u32::MAX)
}

/// One key's entries: most keys have a single source, held without an allocation.
#[derive(Debug, Clone)]
enum Sources {
    One(SourceEntry),
    Many(Vec<SourceEntry>),
}

impl Sources {
    fn as_slice(&self) -> &[SourceEntry] {
        match self {
            Sources::One(entry) => std::slice::from_ref(entry),
            Sources::Many(list) => list,
        }
    }

    fn upsert(&mut self, entry: SourceEntry) {
        match self {
            Sources::One(one) if one.source == entry.source => *one = entry,
            Sources::One(one) => *self = Sources::Many(vec![one.clone(), entry]),
            Sources::Many(list) => match list.iter_mut().find(|e| e.source == entry.source) {
                Some(existing) => *existing = entry,
                None => list.push(entry),
            },
        }
    }

    /// Removes `source`'s entry; true when none is left.
    fn remove(&mut self, source: u32) -> bool {
        match self {
            Sources::One(one) => one.source == source,
            Sources::Many(list) => {
                list.retain(|e| e.source != source);
                if let [only] = list.as_slice() {
                    *self = Sources::One(only.clone());
                }
                list_is_empty(self)
            }
        }
    }
}

fn list_is_empty(sources: &Sources) -> bool {
    matches!(sources, Sources::Many(list) if list.is_empty())
}

/// Reports per key, per source.
#[derive(Debug, Default)]
pub struct ReportIndex {
    entries: FxHashMap<Key, Sources>,
    /// Interned source and category names (few distinct values, millions of rows).
    names: Vec<String>,
    name_ids: HashMap<String, u32>,
    /// Titles of the sources that are outside feeds, by interned source name.
    titles: FxHashMap<u32, String>,
    counts: [usize; 3],
    /// Keys whose owner's appeal waits for a moderator.
    under_review: rustc_hash::FxHashSet<Key>,
}

impl ReportIndex {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds, replaces or (for an inactive row) removes one source's report on one key.
    pub fn apply(&mut self, row: &ReportRow) {
        let Some(key) = Key::new(row.kind, &row.value) else {
            return;
        };
        let source = self.intern(&row.source);
        let kind_slot = kind_slot(row.kind);
        if !row.active {
            if let Some(list) = self.entries.get_mut(&key)
                && list.remove(source)
            {
                self.entries.remove(&key);
                self.counts[kind_slot] -= 1;
            }
            return;
        }
        let entry = SourceEntry {
            source,
            category: self.intern(&row.category),
            bank_bin: row
                .bank_bin
                .as_deref()
                .and_then(|b| b.parse().ok())
                .unwrap_or(NO_BIN),
            report_count: u32::try_from(row.report_count.max(0)).unwrap_or(u32::MAX),
            first_reported: seconds(row.first_reported),
            last_reported: seconds(row.last_reported),
            verified: row.verified,
        };
        match self.entries.get_mut(&key) {
            Some(list) => list.upsert(entry),
            None => {
                self.entries.insert(key, Sources::One(entry));
                self.counts[kind_slot] += 1;
            }
        }
    }

    /// Marks `source` as an outside feed that users are told about as `title`.
    pub fn set_source_title(&mut self, source: &str, title: &str) {
        let id = self.intern(source);
        self.titles.insert(id, title.to_string());
    }

    /// Reports about `(kind, value)` over all sources, or `None` when nobody lists it.
    #[must_use]
    pub fn lookup(&self, kind: EntityKind, value: &str) -> Option<ReportSummary> {
        let key = Key::new(kind, value)?;
        let list = self.entries.get(&key)?.as_slice();
        let strongest = list.iter().max_by_key(|e| e.rank())?;
        let mut ordered: Vec<&SourceEntry> = list.iter().collect();
        ordered.sort_by_key(|e| std::cmp::Reverse(e.rank()));
        let timestamp = |secs: u32| Utc.timestamp_opt(i64::from(secs), 0).single();
        Some(ReportSummary {
            report_count: list.iter().map(|e| i64::from(e.report_count)).sum(),
            category: self.name(strongest.category).to_string(),
            verified: list.iter().any(|e| e.verified),
            first_reported: list
                .iter()
                .map(|e| e.first_reported)
                .min()
                .and_then(timestamp),
            last_reported: list
                .iter()
                .map(|e| e.last_reported)
                .max()
                .and_then(timestamp),
            sources: ordered
                .iter()
                .map(|e| self.name(e.source).to_string())
                .collect(),
            bank_bin: ordered
                .iter()
                .map(|e| e.bank_bin)
                .find(|bin| *bin != NO_BIN)
                .map(|bin| format!("{bin:06}")),
            attributions: ordered
                .iter()
                .filter_map(|e| {
                    Some(Attribution {
                        source: self.name(e.source).to_string(),
                        title: self.titles.get(&e.source)?.clone(),
                        category: self.name(e.category).to_string(),
                        verified: e.verified,
                        last_reported: timestamp(e.last_reported),
                    })
                })
                .collect(),
        })
    }

    /// Replaces the keys under review (their owner appealed; no moderator decided yet).
    pub fn set_under_review<'a>(&mut self, keys: impl IntoIterator<Item = (EntityKind, &'a str)>) {
        self.under_review = keys
            .into_iter()
            .filter_map(|(kind, value)| Key::new(kind, value))
            .collect();
    }

    /// True while an appeal about `(kind, value)` waits for a moderator.
    #[must_use]
    pub fn is_under_review(&self, kind: EntityKind, value: &str) -> bool {
        !self.under_review.is_empty()
            && Key::new(kind, value).is_some_and(|key| self.under_review.contains(&key))
    }

    /// Distinct keys listed, per kind.
    #[must_use]
    pub fn len(&self, kind: EntityKind) -> usize {
        self.counts[kind_slot(kind)]
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.name_ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

fn kind_slot(kind: EntityKind) -> usize {
    match kind {
        EntityKind::Phone => 0,
        EntityKind::BankAccount => 1,
        EntityKind::Domain => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: EntityKind, value: &str, source: &str, count: i64, verified: bool) -> ReportRow {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        ReportRow {
            kind,
            value: value.into(),
            source: source.into(),
            bank_bin: None,
            category: format!("{source} category"),
            report_count: count,
            first_reported: at,
            last_reported: at,
            verified,
            active: true,
        }
    }

    #[test]
    fn sources_are_aggregated_strongest_first() {
        let mut index = ReportIndex::new();
        index.apply(&row(
            EntityKind::Phone,
            "+84912345678",
            "community",
            3,
            false,
        ));
        index.apply(&row(EntityKind::Phone, "+84912345678", "official", 1, true));
        let summary = index.lookup(EntityKind::Phone, "+84912345678").unwrap();
        assert_eq!(summary.report_count, 4);
        assert!(summary.verified);
        assert_eq!(summary.category, "official category");
        assert_eq!(summary.sources, vec!["official", "community"]);
        assert_eq!(index.len(EntityKind::Phone), 1);
    }

    #[test]
    fn feeds_are_attributed_by_their_title() {
        let mut index = ReportIndex::new();
        index.apply(&row(
            EntityKind::Domain,
            "evil.example",
            "urlhaus_recent",
            1,
            true,
        ));
        index.apply(&row(
            EntityKind::Domain,
            "evil.example",
            "user_reports",
            2,
            false,
        ));
        index.apply(&row(
            EntityKind::Domain,
            "evil.example",
            "openphish",
            1,
            true,
        ));
        index.set_source_title("urlhaus_recent", "URLhaus (abuse.ch)");
        index.set_source_title("openphish", "OpenPhish");
        let summary = index.lookup(EntityKind::Domain, "evil.example").unwrap();
        let titles: Vec<&str> = summary
            .attributions
            .iter()
            .map(|a| a.title.as_str())
            .collect();
        assert_eq!(titles.len(), 2);
        assert!(titles.contains(&"URLhaus (abuse.ch)") && titles.contains(&"OpenPhish"));
        assert_eq!(summary.sources.len(), 3);
        assert_eq!(
            summary.attributions[0].category,
            format!("{} category", summary.attributions[0].source)
        );
    }

    #[test]
    fn appealed_keys_are_under_review_until_replaced() {
        let mut index = ReportIndex::new();
        assert!(!index.is_under_review(EntityKind::Phone, "+84912345678"));
        index.set_under_review([(EntityKind::Phone, "+84912345678")]);
        assert!(index.is_under_review(EntityKind::Phone, "+84912345678"));
        assert!(!index.is_under_review(EntityKind::BankAccount, "84912345678"));
        index.set_under_review([]);
        assert!(!index.is_under_review(EntityKind::Phone, "+84912345678"));
    }

    #[test]
    fn leading_zeros_distinguish_accounts() {
        let mut index = ReportIndex::new();
        index.apply(&row(EntityKind::BankAccount, "0012345678", "s", 1, false));
        assert!(
            index
                .lookup(EntityKind::BankAccount, "0012345678")
                .is_some()
        );
        assert!(index.lookup(EntityKind::BankAccount, "12345678").is_none());
        assert!(index.lookup(EntityKind::BankAccount, "012345678").is_none());
    }

    #[test]
    fn replacing_and_removing_rows() {
        let mut index = ReportIndex::new();
        index.apply(&row(EntityKind::Domain, "evil.com", "s", 1, false));
        index.apply(&row(EntityKind::Domain, "evil.com", "s", 5, false));
        assert_eq!(
            index
                .lookup(EntityKind::Domain, "evil.com")
                .unwrap()
                .report_count,
            5
        );
        let mut gone = row(EntityKind::Domain, "evil.com", "s", 5, false);
        gone.active = false;
        index.apply(&gone);
        assert!(index.lookup(EntityKind::Domain, "evil.com").is_none());
        assert_eq!(index.len(EntityKind::Domain), 0);
        assert!(index.is_empty());
    }

    #[test]
    fn a_key_with_several_sources_loses_them_one_by_one() {
        let mut index = ReportIndex::new();
        let long = "a-very-long-scam-domain-name-for-phishing.example";
        for value in ["exactly-22-bytes.co.uk", long] {
            assert!(value.len() >= INLINE_DOMAIN);
            index.apply(&row(EntityKind::Domain, value, "a", 1, false));
            index.apply(&row(EntityKind::Domain, value, "b", 2, false));
            assert_eq!(
                index
                    .lookup(EntityKind::Domain, value)
                    .unwrap()
                    .report_count,
                3
            );
            let mut gone = row(EntityKind::Domain, value, "a", 1, false);
            gone.active = false;
            index.apply(&gone);
            let left = index.lookup(EntityKind::Domain, value).unwrap();
            assert_eq!(left.sources, vec!["b"]);
            gone.source = "b".into();
            index.apply(&gone);
            assert!(index.lookup(EntityKind::Domain, value).is_none());
        }
        assert!(
            index
                .lookup(EntityKind::Domain, "exactly-22-bytes.co.u")
                .is_none()
        );
        assert!(index.is_empty());
    }

    #[test]
    fn a_table_slot_stays_small() {
        // Keys and single-source entries live in the table itself: millions of them must stay compact.
        assert!(std::mem::size_of::<Key>() <= 24);
        assert!(std::mem::size_of::<Sources>() <= 32);
    }

    #[test]
    fn bins_keep_their_leading_digits() {
        let mut index = ReportIndex::new();
        let mut r = row(EntityKind::BankAccount, "190366888888", "s", 1, false);
        r.bank_bin = Some("970407".into());
        index.apply(&r);
        assert_eq!(
            index
                .lookup(EntityKind::BankAccount, "190366888888")
                .unwrap()
                .bank_bin
                .as_deref(),
            Some("970407")
        );
    }
}
