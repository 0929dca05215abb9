//! What the report index knows about one entity, and how report dates are shown.

use chrono::{DateTime, Utc};

/// Reports about one `(kind, value)`, aggregated over every source that lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    pub report_count: i64,
    /// Category of the strongest source (verified first, then most reports).
    pub category: String,
    /// True when any source is moderated or official.
    pub verified: bool,
    pub first_reported: Option<DateTime<Utc>>,
    pub last_reported: Option<DateTime<Utc>>,
    /// The sources that list it, strongest first.
    pub sources: Vec<String>,
    /// NAPAS BIN recorded with an account report, when known.
    pub bank_bin: Option<String>,
    /// The outside feeds among `sources`, strongest first, each as users are told about it.
    pub attributions: Vec<Attribution>,
}

/// One outside feed's listing of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The feed's name (its stored source).
    pub source: String,
    /// How users are told who lists it ("URLhaus (abuse.ch)").
    pub title: String,
    pub category: String,
    pub verified: bool,
    /// The date the feed gives (or when it was first seen in the feed).
    pub last_reported: Option<DateTime<Utc>>,
}

/// `dd/mm/yyyy` in Vietnam time (UTC+7, no daylight saving): how dates are shown to users and the model.
pub fn vietnam_date(date: DateTime<Utc>) -> String {
    const VIETNAM_UTC_OFFSET_SECONDS: i32 = 7 * 3600;
    match chrono::FixedOffset::east_opt(VIETNAM_UTC_OFFSET_SECONDS) {
        Some(offset) => date.with_timezone(&offset).format("%d/%m/%Y").to_string(),
        None => date.format("%d/%m/%Y").to_string(),
    }
}
