//! The verdict on one entity, from its reports and the date. Pure.
//!
//! Order, strongest first (after TheCheat's rules):
//! 1. **verified**: a moderated or official source lists it (an admin-verified report, the chongluadao list);
//! 2. **reported**: at least [`RECENT_REPORTS_FOR_WARNING`] reports, the latest within [`RECENT_WINDOW_DAYS`];
//! 3. **low confidence**: a single report older than [`SINGLE_REPORT_GRACE_DAYS`] (the grace lets a wrongly
//!    reported number be disputed), or several reports whose latest is older than the recent window;
//! 4. **no reports**: nothing, a single report still in its grace period, or reports that decayed: the latest
//!    is older than [`DECAY_DAYS`].
//!
//! Users' own reports reach the index only once [`super::trust`] lets them warn (two independent reporters,
//! or a moderator's verification), so one user's report never counts as "reported" here.
//!
//! No verdict says "safe": "no reports" only means nobody has reported it yet.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::entity::{Entity, EntityKind};
use super::reason::{Level, Reason};
use super::report::ReportSummary;

pub const RECENT_REPORTS_FOR_WARNING: i64 = 2;
pub const RECENT_WINDOW_DAYS: i64 = 90;
pub const SINGLE_REPORT_GRACE_DAYS: i64 = 3;
pub const DECAY_DAYS: i64 = 365;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    // Declared weakest first so that `max()` picks the strongest.
    NoReports,
    LowConfidence,
    Reported,
    Verified,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::Verified,
        Verdict::Reported,
        Verdict::LowConfidence,
        Verdict::NoReports,
    ];

    /// Stable identifier (JSON, metric label).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Reported => "reported",
            Verdict::LowConfidence => "low_confidence",
            Verdict::NoReports => "no_reports",
        }
    }

    /// True when the reply should warn about the entity.
    #[must_use]
    pub fn warns(self) -> bool {
        self != Verdict::NoReports
    }
}

/// The verdict for one report summary at `now`.
#[must_use]
pub fn verdict(report: &ReportSummary, now: DateTime<Utc>) -> Verdict {
    if report.verified {
        return Verdict::Verified;
    }
    if report.report_count <= 0 {
        return Verdict::NoReports;
    }
    let age = |at: Option<DateTime<Utc>>| at.map_or(Duration::MAX, |at| now - at);
    let since_last = age(report.last_reported);
    let since_first = age(report.first_reported.or(report.last_reported));
    if since_last > Duration::days(DECAY_DAYS) {
        return Verdict::NoReports;
    }
    if report.report_count >= RECENT_REPORTS_FOR_WARNING
        && since_last <= Duration::days(RECENT_WINDOW_DAYS)
    {
        return Verdict::Reported;
    }
    if report.report_count >= RECENT_REPORTS_FOR_WARNING
        || since_first >= Duration::days(SINGLE_REPORT_GRACE_DAYS)
    {
        return Verdict::LowConfidence;
    }
    Verdict::NoReports
}

/// An extracted entity together with what the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub entity: Entity,
    pub verdict: Verdict,
    /// The reports behind the verdict (of the lookup key that decided it).
    pub report: Option<ReportSummary>,
    /// The key the reports are filed under when it is not the entity itself: a parent domain, or the
    /// phone/account twin of a mobile number.
    pub matched: Option<(EntityKind, String)>,
    /// Why the entity looks the way it does: its reports and its shape.
    pub reasons: Vec<Reason>,
    /// What `reasons` add up to.
    pub level: Level,
    /// Its owner appealed the reports and no moderator has decided yet.
    pub under_review: bool,
}

impl Finding {
    /// An entity nobody has reported, before its shape is looked at.
    pub fn unreported(entity: Entity) -> Self {
        Finding {
            entity,
            verdict: Verdict::NoReports,
            report: None,
            matched: None,
            reasons: Vec::new(),
            level: Level::NoSigns,
            under_review: false,
        }
    }

    /// The report when it is worth warning about (any verdict above "no reports").
    pub fn warning_report(&self) -> Option<&ReportSummary> {
        self.report
            .as_ref()
            .filter(|_| self.verdict != Verdict::NoReports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(
        count: i64,
        verified: bool,
        first_days_ago: i64,
        last_days_ago: i64,
    ) -> (ReportSummary, DateTime<Utc>) {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        (
            ReportSummary {
                report_count: count,
                category: "lừa đảo".into(),
                verified,
                first_reported: Some(now - Duration::days(first_days_ago)),
                last_reported: Some(now - Duration::days(last_days_ago)),
                sources: vec!["test".into()],
                bank_bin: None,
                attributions: Vec::new(),
            },
            now,
        )
    }

    fn v(count: i64, verified: bool, first: i64, last: i64) -> Verdict {
        let (report, now) = summary(count, verified, first, last);
        verdict(&report, now)
    }

    #[test]
    fn verified_source_wins_even_when_old() {
        assert_eq!(v(1, true, 900, 900), Verdict::Verified);
        assert_eq!(v(0, true, 0, 0), Verdict::Verified);
    }

    #[test]
    fn two_recent_reports_warn() {
        assert_eq!(v(2, false, 10, 1), Verdict::Reported);
        assert_eq!(v(7, false, 200, 90), Verdict::Reported);
    }

    #[test]
    fn several_reports_decay_to_low_confidence_then_nothing() {
        assert_eq!(v(5, false, 200, 91), Verdict::LowConfidence);
        assert_eq!(v(5, false, 400, 365), Verdict::LowConfidence);
        assert_eq!(v(5, false, 400, 366), Verdict::NoReports);
    }

    #[test]
    fn a_single_report_waits_out_its_grace_period() {
        assert_eq!(v(1, false, 0, 0), Verdict::NoReports);
        assert_eq!(v(1, false, 2, 2), Verdict::NoReports);
        assert_eq!(v(1, false, 3, 3), Verdict::LowConfidence);
        assert_eq!(v(1, false, 100, 100), Verdict::LowConfidence);
        assert_eq!(v(1, false, 400, 400), Verdict::NoReports);
    }

    #[test]
    fn zero_reports_unverified_is_nothing() {
        assert_eq!(v(0, false, 10, 10), Verdict::NoReports);
    }

    #[test]
    fn order_is_strongest_last_for_max() {
        assert_eq!(
            [
                Verdict::LowConfidence,
                Verdict::Verified,
                Verdict::NoReports
            ]
            .into_iter()
            .max(),
            Some(Verdict::Verified)
        );
    }
}
