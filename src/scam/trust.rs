//! Which user reports warn others, and how far one reporter's word counts. Pure.
//!
//! A user report warns only when at least two independent reporters (distinct Zalo users) stand behind
//! it, or a moderator verified it. One reporter cannot warn alone however often they write, and a
//! reporter whose reports moderators rejected counts less, then not at all:
//!
//! | rejected minus verified reports | weight | counts as          |
//! |---------------------------------|--------|--------------------|
//! | 0 or fewer                      | full   | one reporter       |
//! | 1                               | half   | half a reporter    |
//! | 2 or more                       | none   | nobody             |
//!
//! Confirmed reports earn the trust back: a reporter with more verified than rejected reports is full.
//! Reports of a reporter who counts for nothing still reach the moderators' queue.

/// Reports one reporter may file per Vietnam day; over it nothing is filed and the user is told why.
pub const MAX_REPORTS_PER_DAY: u64 = 10;
/// The reporter points that warn: two reporters at full weight.
pub const WARNING_POINTS: u32 = 2 * ReporterWeight::Full.points();

/// How far one reporter's word counts toward the warning threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReporterWeight {
    None,
    Half,
    Full,
}

impl ReporterWeight {
    pub const ALL: [ReporterWeight; 3] = [Self::Full, Self::Half, Self::None];

    /// Points toward [`WARNING_POINTS`], in half reporters.
    #[must_use]
    pub const fn points(self) -> u32 {
        match self {
            Self::None => 0,
            Self::Half => 1,
            Self::Full => 2,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Half => "half",
            Self::Full => "full",
        }
    }
}

/// A reporter's record with the moderators, over all their reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackRecord {
    pub verified: u64,
    pub rejected: u64,
}

/// The weight of a reporter with this record.
#[must_use]
pub fn weight(record: TrackRecord) -> ReporterWeight {
    match record.rejected.saturating_sub(record.verified) {
        0 => ReporterWeight::Full,
        1 => ReporterWeight::Half,
        _ => ReporterWeight::None,
    }
}

/// One independent reporter of one entity, whose report there is pending or verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityReporter {
    /// A moderator verified this reporter's report of the entity.
    pub verified: bool,
    pub weight: ReporterWeight,
}

/// What the entity's user reports publish to the report index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Reporters who count: verified, or of some weight.
    pub report_count: i64,
    /// A moderator verified a report of it.
    pub verified: bool,
}

/// The entity's user reports as the index should see them: `None` while they must not warn anyone.
#[must_use]
pub fn published(reporters: &[EntityReporter]) -> Option<Published> {
    let verified = reporters.iter().any(|r| r.verified);
    let points: u32 = reporters.iter().map(|r| r.weight.points()).sum();
    if !verified && points < WARNING_POINTS {
        return None;
    }
    let counted = reporters
        .iter()
        .filter(|r| r.verified || r.weight != ReporterWeight::None)
        .count();
    Some(Published {
        report_count: i64::try_from(counted).unwrap_or(i64::MAX),
        verified,
    })
}

/// How many of `requested` new reports a reporter who filed `filed_today` today may still file.
#[must_use]
pub fn reports_admitted(filed_today: u64, requested: usize) -> usize {
    let left = MAX_REPORTS_PER_DAY.saturating_sub(filed_today);
    usize::try_from(left).map_or(requested, |left| left.min(requested))
}

/// A moderator's decision, as audited and as told to the person it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModerationAction {
    VerifyReport,
    RejectReport,
    AcceptAppeal,
    RejectAppeal,
}

impl ModerationAction {
    pub const ALL: [ModerationAction; 4] = [
        Self::VerifyReport,
        Self::RejectReport,
        Self::AcceptAppeal,
        Self::RejectAppeal,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyReport => "report_verify",
            Self::RejectReport => "report_reject",
            Self::AcceptAppeal => "appeal_accept",
            Self::RejectAppeal => "appeal_reject",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    Pending,
    Accepted,
    Rejected,
}

impl AppealStatus {
    pub const ALL: [AppealStatus; 3] = [Self::Pending, Self::Accepted, Self::Rejected];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What became of a user report, as counted by `tradesphere_scam_user_reports_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportResult {
    Created,
    Duplicate,
    /// Over the reporter's daily cap: not filed.
    OverCap,
    Verified,
    Rejected,
}

impl ReportResult {
    pub const ALL: [ReportResult; 5] = [
        Self::Created,
        Self::Duplicate,
        Self::OverCap,
        Self::Verified,
        Self::Rejected,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Duplicate => "duplicate",
            Self::OverCap => "over_cap",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reporter(weight: ReporterWeight) -> EntityReporter {
        EntityReporter {
            verified: false,
            weight,
        }
    }

    const FULL: ReporterWeight = ReporterWeight::Full;
    const HALF: ReporterWeight = ReporterWeight::Half;
    const NONE: ReporterWeight = ReporterWeight::None;

    #[test]
    fn one_reporter_never_warns_two_do() {
        assert_eq!(published(&[]), None);
        assert_eq!(published(&[reporter(FULL)]), None);
        assert_eq!(
            published(&[reporter(FULL), reporter(FULL)]),
            Some(Published {
                report_count: 2,
                verified: false
            })
        );
    }

    #[test]
    fn a_moderator_verification_warns_alone() {
        let verified = EntityReporter {
            verified: true,
            weight: NONE,
        };
        assert_eq!(
            published(&[verified]),
            Some(Published {
                report_count: 1,
                verified: true
            })
        );
    }

    #[test]
    fn half_weights_add_up_and_nobodies_do_not() {
        assert_eq!(published(&[reporter(FULL), reporter(HALF)]), None);
        assert_eq!(
            published(&[reporter(FULL), reporter(HALF), reporter(HALF)]).map(|p| p.report_count),
            Some(3)
        );
        assert_eq!(
            published(&[reporter(FULL), reporter(NONE), reporter(NONE)]),
            None
        );
        assert_eq!(
            published(&[reporter(FULL), reporter(FULL), reporter(NONE)]).map(|p| p.report_count),
            Some(2),
            "a reporter who counts for nothing is not counted either"
        );
    }

    #[test]
    fn rejected_reports_lower_the_weight_and_verified_ones_earn_it_back() {
        let w = |verified, rejected| weight(TrackRecord { verified, rejected });
        assert_eq!(w(0, 0), FULL);
        assert_eq!(w(0, 1), HALF);
        assert_eq!(w(0, 2), NONE);
        assert_eq!(w(0, 9), NONE);
        assert_eq!(w(1, 2), HALF);
        assert_eq!(w(3, 2), FULL);
        assert_eq!(w(5, 0), FULL);
    }

    #[test]
    fn ten_reports_a_day_and_not_one_more() {
        assert_eq!(reports_admitted(0, 3), 3);
        assert_eq!(reports_admitted(9, 1), 1);
        assert_eq!(reports_admitted(9, 3), 1);
        assert_eq!(reports_admitted(10, 1), 0);
        assert_eq!(reports_admitted(25, 1), 0);
        assert_eq!(reports_admitted(0, 12), 10);
    }

    #[test]
    fn labels_are_distinct_and_parse_back() {
        let labels: std::collections::HashSet<_> =
            ReporterWeight::ALL.iter().map(|w| w.as_str()).collect();
        assert_eq!(labels.len(), 3);
        for action in ModerationAction::ALL {
            assert_eq!(ModerationAction::parse(action.as_str()), Some(action));
        }
        for status in AppealStatus::ALL {
            assert_eq!(AppealStatus::parse(status.as_str()), Some(status));
        }
    }
}
