//! One message checked: every entity with its verdict, plus the scam-phrase signals. Pure: the caller
//! brings the report index and the time.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::assess::{message_level, reported_reasons};
use super::extract::{extract, number_reasons};
use super::followed::{Followed, LinkChain, followed_reasons, join};
use super::index::ReportIndex;
use super::link::link_reasons;
use super::mention::{brands_named, chat_link_reason, named_brand_reason};
use super::reason::{Level, Reason, level_of};
use super::signals::{NAMED_SCENARIO, Signal, text_signals_in};
use super::verdict::{Verdict, verdict};
use super::words::Words;
use super::{Entity, EntityKind, Finding, vietnam_date};

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOutcome {
    /// Every entity, with its report verdict, reasons and level.
    pub findings: Vec<Finding>,
    /// The scam scenarios the words suggest.
    pub signals: Vec<Signal>,
    /// The message's verdict.
    pub level: Level,
    /// Why: the entities' reasons and the text's, each counted toward `level`.
    pub reasons: Vec<Reason>,
    /// Where the links that were followed led (empty unless the caller followed them).
    pub links: Vec<LinkChain>,
}

impl CheckOutcome {
    /// True when there is a verdict to tell: an entity was checked, or a reason found.
    #[must_use]
    pub fn found_anything(&self) -> bool {
        !self.findings.is_empty() || !self.reasons.is_empty()
    }

    /// Several checks as one (a burst of messages): every finding and reason, each scenario once, the
    /// strongest level.
    #[must_use]
    pub fn merged<'a>(checks: impl IntoIterator<Item = &'a CheckOutcome>) -> CheckOutcome {
        let mut merged = CheckOutcome::default();
        for check in checks {
            merged.findings.extend(check.findings.iter().cloned());
            merged.reasons.extend(check.reasons.iter().cloned());
            for signal in &check.signals {
                if !merged.signals.iter().any(|s| s.scenario == signal.scenario) {
                    merged.signals.push(signal.clone());
                }
            }
            merged.level = merged.level.max(check.level);
            merged.links.extend(check.links.iter().cloned());
        }
        merged
    }
}

/// A message with no entity: its text signals alone.
#[must_use]
pub fn check_text(text: &str) -> CheckOutcome {
    assessed(text, Vec::new())
}

/// Extracts every entity from `text`, looks each up under all its keys, and keeps the strongest verdict.
#[must_use]
pub fn check(index: &ReportIndex, text: &str, now: DateTime<Utc>) -> CheckOutcome {
    check_extracted(index, text, extract(text), now)
}

/// As [`check`], for `entities` already extracted from `text`.
#[must_use]
pub fn check_extracted(
    index: &ReportIndex,
    text: &str,
    entities: Vec<Entity>,
    now: DateTime<Utc>,
) -> CheckOutcome {
    let findings = entities
        .into_iter()
        .map(|entity| {
            let keys = entity.lookup_keys();
            let under_review = keys
                .iter()
                .any(|(kind, value)| index.is_under_review(*kind, value));
            let mut best: Option<(Verdict, super::ReportSummary, (EntityKind, String))> = None;
            for key in keys {
                let Some(report) = index.lookup(key.0, &key.1) else {
                    continue;
                };
                let found = verdict(&report, now);
                // Strictly stronger only: on a tie the entity's own key (listed first) stays.
                if best.as_ref().is_none_or(|(v, _, _)| found > *v) {
                    best = Some((found, report, key));
                }
            }
            match best {
                Some((verdict, report, key)) => {
                    let own_key = key.0 == entity.kind && key.1 == entity.value;
                    Finding {
                        verdict,
                        report: Some(report),
                        matched: (!own_key).then_some(key),
                        under_review,
                        ..Finding::unreported(entity)
                    }
                }
                None => Finding {
                    under_review,
                    ..Finding::unreported(entity)
                },
            }
        })
        .collect();
    assessed(text, findings)
}

/// As [`check_extracted`], with what following the message's links found: each hop's domain checks and
/// reports, and the new-domain reasons, join the finding of the link they came from, and the chains are
/// kept for the reply.
#[must_use]
pub fn check_followed(
    index: &ReportIndex,
    text: &str,
    entities: Vec<Entity>,
    followed: &Followed,
    now: DateTime<Utc>,
) -> CheckOutcome {
    let hop_reasons = |hop: &url::Url| {
        let hop = hop.as_str();
        let found = check_extracted(index, hop, extract(hop), now).findings;
        let domain = found
            .into_iter()
            .find(|f| f.entity.kind == EntityKind::Domain);
        domain.map(|f| f.reasons).unwrap_or_default()
    };
    let extra = followed_reasons(followed, text, &entities, now, hop_reasons);
    let checked = check_extracted(index, text, entities, now);
    let mut outcome = assessed_with(text, checked.findings, &extra);
    outcome.links.clone_from(&followed.chains);
    outcome
}

/// Gives each finding its reasons and level, then the message its own.
fn assessed(text: &str, findings: Vec<Finding>) -> CheckOutcome {
    assessed_with(text, findings, &[])
}

/// As [`assessed`], adding `extra` reasons to the finding at each span.
fn assessed_with(
    text: &str,
    mut findings: Vec<Finding>,
    extra: &[(std::ops::Range<usize>, Vec<Reason>)],
) -> CheckOutcome {
    let words = Words::new(text);
    let named = if findings.is_empty() {
        Vec::new()
    } else {
        brands_named(&words)
    };
    for finding in &mut findings {
        let entity = &finding.entity;
        let mut reasons: Vec<Reason> = reported_reasons(text, finding);
        reasons.extend(shape_reasons(text, entity));
        reasons.extend(named_brand_reason(text, &words, &named, entity));
        reasons.extend(chat_link_reason(text, entity));
        for (_, more) in extra.iter().filter(|(span, _)| *span == entity.span) {
            join(&mut reasons, more.iter().cloned());
        }
        finding.level = level_of(&reasons);
        finding.reasons = reasons;
    }
    let signals = text_signals_in(text, &words);
    let mut scenarios = signals.signals.clone();
    let (level, reasons) = message_level(text, &findings, signals);
    // The scenarios the verdict counted: weak words dropped by `assess` are not worth naming.
    scenarios.retain(|s| {
        reasons
            .iter()
            .any(|r| r.scenario == Some(s.scenario) && r.weight.points() >= NAMED_SCENARIO)
    });
    CheckOutcome {
        findings,
        signals: scenarios,
        level,
        reasons,
        links: Vec::new(),
    }
}

/// What an entity's shape says, whoever reported it: the link checks for a domain, the number checks for a
/// phone.
fn shape_reasons(text: &str, entity: &Entity) -> Vec<Reason> {
    match entity.kind {
        EntityKind::Domain => link_reasons(text, entity),
        EntityKind::Phone | EntityKind::BankAccount => number_reasons(text, entity),
    }
}

/// The JSON shape of a check, shared by `tradesphere scam check --json` and `GET /api/v1/scam/check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// `danger`, `caution` or `no_signs`; never "safe".
    pub level: Level,
    /// Every reason counted toward `level`: the entities' and the text's.
    pub reasons: Vec<ReasonReport>,
    pub entities: Vec<EntityReport>,
    pub signals: Vec<SignalReport>,
    /// Where the links that were followed led.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkReport>,
}

/// One link followed, as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    /// As written in the text.
    pub raw: String,
    /// Every URL met, the link first.
    pub hops: Vec<String>,
    /// Why the walk ended (`reached`, `unreachable`, `too_many_hops`, …).
    pub end: &'static str,
}

/// One reason, as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonReport {
    pub kind: &'static str,
    /// The scam scenario, for `kind = "scenario"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<&'static str>,
    /// What it means, in Vietnamese.
    pub label: String,
    /// The exact substring of the text it fired on.
    pub evidence: String,
    /// Byte offsets of `evidence` in the UTF-8 text (both 0 when it is not a substring of it).
    pub start: usize,
    pub end: usize,
    /// Points toward caution (3) and danger (6); `null` for a reason that is danger by itself.
    pub points: Option<u32>,
    /// The feed that lists the entity, for a `reported` reason from an outside feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl From<&Reason> for ReasonReport {
    fn from(reason: &Reason) -> Self {
        ReasonReport {
            kind: reason.kind.as_str(),
            scenario: reason.scenario.map(super::signals::Scenario::as_str),
            label: reason.label.to_string(),
            evidence: reason.evidence.clone(),
            start: reason.span.start,
            end: reason.span.end,
            points: (reason.weight != super::reason::Weight::Decisive)
                .then(|| reason.weight.points()),
            source: reason.source.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EntityReport {
    pub kind: &'static str,
    /// Normalised: `+84912345678`, digits only, lowercase ASCII domain.
    pub value: String,
    /// As written in the text.
    pub raw: String,
    /// Byte offsets of `raw` in the UTF-8 text.
    pub start: usize,
    pub end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<BankReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<&'static str>,
    /// The report database's verdict.
    pub verdict: Verdict,
    /// What this entity's own reasons add up to.
    pub level: Level,
    /// Its reports and what its shape says.
    pub reasons: Vec<ReasonReport>,
    /// Reports behind the verdict (0 when none).
    pub reports: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// `dd/mm/yyyy`, Vietnam time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reported: Option<String>,
    /// The key the reports are filed under when it is not the entity itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<MatchedKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BankReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatchedKey {
    pub kind: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignalReport {
    pub scenario: &'static str,
    pub label: &'static str,
    pub phrase: &'static str,
}

impl From<&CheckOutcome> for CheckReport {
    fn from(outcome: &CheckOutcome) -> Self {
        let entities = outcome
            .findings
            .iter()
            .map(|finding| {
                let entity = &finding.entity;
                let report = finding.report.as_ref().filter(|_| finding.verdict.warns());
                let bank_bin = entity
                    .bank_bin
                    .clone()
                    .or_else(|| report.and_then(|r| r.bank_bin.clone()));
                let bank_name = entity.bank_name.or_else(|| {
                    bank_bin
                        .as_deref()
                        .and_then(super::banks::by_bin)
                        .map(|b| b.short_name)
                });
                EntityReport {
                    kind: entity.kind.as_str(),
                    value: entity.value.clone(),
                    raw: entity.raw.clone(),
                    start: entity.span.start,
                    end: entity.span.end,
                    bank: (bank_bin.is_some() || bank_name.is_some()).then_some(BankReport {
                        bin: bank_bin,
                        name: bank_name,
                    }),
                    carrier: entity.carrier,
                    verdict: finding.verdict,
                    level: finding.level,
                    reasons: finding.reasons.iter().map(ReasonReport::from).collect(),
                    reports: report.map_or(0, |r| r.report_count),
                    category: report.map(|r| r.category.clone()).filter(|c| !c.is_empty()),
                    sources: report.map(|r| r.sources.clone()).unwrap_or_default(),
                    last_reported: report.and_then(|r| r.last_reported).map(vietnam_date),
                    matched: finding.matched.as_ref().filter(|_| report.is_some()).map(
                        |(kind, value)| MatchedKey {
                            kind: kind.as_str(),
                            value: value.clone(),
                        },
                    ),
                }
            })
            .collect();
        let signals = outcome
            .signals
            .iter()
            .map(|signal| SignalReport {
                scenario: signal.scenario.as_str(),
                label: signal.scenario.label_vi(),
                phrase: signal.phrase,
            })
            .collect();
        CheckReport {
            level: outcome.level,
            reasons: outcome.reasons.iter().map(ReasonReport::from).collect(),
            entities,
            signals,
            links: outcome
                .links
                .iter()
                .map(|chain| LinkReport {
                    raw: chain.raw.clone(),
                    hops: chain.hops.iter().map(ToString::to_string).collect(),
                    end: chain.end.as_str(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::index::ReportRow;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn row(kind: EntityKind, value: &str, count: i64, verified: bool, days_ago: i64) -> ReportRow {
        let at = now() - chrono::Duration::days(days_ago);
        ReportRow {
            kind,
            value: value.into(),
            source: "test".into(),
            bank_bin: None,
            category: "lừa đảo".into(),
            report_count: count,
            first_reported: at,
            last_reported: at,
            verified,
            active: true,
        }
    }

    #[test]
    fn a_weak_call_to_action_does_not_hide_the_number_it_points_to() {
        let text = "Quý khách bị phạt nguội 4.000.000đ. Liên hệ 0784 912 035 để nộp phạt";
        let outcome = check(&ReportIndex::new(), text, now());
        let calls: Vec<(u32, &str)> = outcome
            .reasons
            .iter()
            .filter(|r| r.kind == crate::scam::ReasonKind::CallToAction)
            .map(|r| (r.weight.points(), r.evidence.as_str()))
            .collect();
        assert!(calls.contains(&(2, "0784 912 035")), "{calls:?}");
    }

    #[test]
    fn the_issue_example_is_checked_entity_by_entity() {
        let mut index = ReportIndex::new();
        index.apply(&row(EntityKind::BankAccount, "190366888888", 3, false, 5));
        index.apply(&row(
            EntityKind::Domain,
            "vietcombank-xacminh.com",
            1,
            true,
            100,
        ));
        let text = "chị ơi chuyển khoản vào STK 1903 6688 8888 Techcombank, gọi 0912.345.678 hoặc vào vietcombank-xacminh[.]com";
        let outcome = check(&index, text, now());
        let report = CheckReport::from(&outcome);
        let json = serde_json::to_value(&report).unwrap();
        let entities = json["entities"].as_array().unwrap();
        assert_eq!(entities.len(), 3, "{json}");
        assert_eq!(entities[0]["kind"], "bank_account");
        assert_eq!(entities[0]["value"], "190366888888");
        assert_eq!(entities[0]["raw"], "1903 6688 8888");
        assert_eq!(entities[0]["bank"]["bin"], "970407");
        assert_eq!(entities[0]["verdict"], "reported");
        assert_eq!(entities[0]["reports"], 3);
        assert_eq!(entities[1]["kind"], "phone");
        assert_eq!(entities[1]["value"], "+84912345678");
        assert_eq!(entities[1]["raw"], "0912.345.678");
        assert_eq!(entities[1]["verdict"], "no_reports");
        assert_eq!(entities[2]["value"], "vietcombank-xacminh.com");
        assert_eq!(entities[2]["raw"], "vietcombank-xacminh[.]com");
        assert_eq!(entities[2]["verdict"], "verified");
        let start = entities[1]["start"].as_u64().unwrap() as usize;
        let end = entities[1]["end"].as_u64().unwrap() as usize;
        assert_eq!(&text[start..end], "0912.345.678");
    }

    #[test]
    fn a_phone_is_also_looked_up_as_an_account_and_a_host_under_its_parent() {
        let mut index = ReportIndex::new();
        index.apply(&row(EntityKind::BankAccount, "0912345678", 2, false, 1));
        index.apply(&row(EntityKind::Domain, "vcb-xacthuc.com", 1, true, 1));
        let outcome = check(
            &index,
            "gọi 0912345678 hoặc vào https://login.vcb-xacthuc.com/otp",
            now(),
        );
        assert_eq!(outcome.findings[0].entity.kind, EntityKind::Phone);
        assert_eq!(outcome.findings[0].verdict, Verdict::Reported);
        assert_eq!(
            outcome.findings[0].matched,
            Some((EntityKind::BankAccount, "0912345678".to_string()))
        );
        assert_eq!(outcome.findings[1].entity.value, "login.vcb-xacthuc.com");
        assert_eq!(outcome.findings[1].verdict, Verdict::Verified);
        assert_eq!(
            outcome.findings[1].matched,
            Some((EntityKind::Domain, "vcb-xacthuc.com".to_string()))
        );
    }

    #[test]
    fn checking_extracted_entities_finds_what_checking_the_text_finds() {
        let mut index = ReportIndex::new();
        index.apply(&row(EntityKind::BankAccount, "0912345678", 2, false, 1));
        let text = "gọi 0912345678, việc nhẹ lương cao";
        assert_eq!(
            check_extracted(&index, text, extract(text), now()),
            check(&index, text, now())
        );
    }

    #[test]
    fn signals_are_reported_even_without_entities() {
        let outcome = check(
            &ReportIndex::new(),
            "Tuyển CTV việc nhẹ lương cao, hoa hồng 20%",
            now(),
        );
        assert!(outcome.findings.is_empty());
        let report = CheckReport::from(&outcome);
        assert_eq!(report.signals[0].scenario, "easy_job");
    }

    #[test]
    fn a_followed_link_carries_its_hops_reasons_and_its_chain() {
        use crate::scam::ReasonKind;
        use crate::scam::followed::{ChainEnd, DomainAge};
        let mut index = ReportIndex::new();
        index.apply(&row(EntityKind::Domain, "qua-tang-tri-an.com", 2, false, 3));
        let text = "Xem ảnh tại bit.ly/3abc";
        let entities = extract(text);
        let link = entities[0].clone();
        let followed = Followed {
            chains: vec![LinkChain {
                span: link.span.clone(),
                raw: link.raw.clone(),
                hops: vec![
                    url::Url::parse("https://bit.ly/3abc").unwrap(),
                    url::Url::parse("https://www.qua-tang-tri-an.com/nhan").unwrap(),
                ],
                end: ChainEnd::Reached,
            }],
            registered: vec![DomainAge {
                domain: "qua-tang-tri-an.com".into(),
                registered: now() - chrono::Duration::days(5),
            }],
            new_domain_days: 30,
        };
        let plain = check_extracted(&index, text, entities.clone(), now());
        let outcome = check_followed(&index, text, entities, &followed, now());
        assert_eq!(plain.level, Level::NoSigns, "a shortener alone");
        assert_eq!(outcome.level, Level::Danger, "{outcome:?}");
        let kinds: Vec<ReasonKind> = outcome.findings[0].reasons.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                ReasonKind::Shortener,
                ReasonKind::Reported,
                ReasonKind::NewDomain
            ]
        );
        let reported = &outcome.findings[0].reasons[1];
        assert_eq!(reported.evidence, "www.qua-tang-tri-an.com");
        assert_eq!(reported.span, 0..0);
        assert_eq!(outcome.links, followed.chains);
        let json = serde_json::to_value(CheckReport::from(&outcome)).unwrap();
        assert_eq!(json["links"][0]["raw"], "bit.ly/3abc");
        assert_eq!(json["links"][0]["end"], "reached");
        assert_eq!(
            json["links"][0]["hops"][1],
            "https://www.qua-tang-tri-an.com/nhan"
        );
        assert!(
            serde_json::to_value(CheckReport::from(&plain)).unwrap()["links"].is_null(),
            "no links key when nothing was followed"
        );
        assert_eq!(
            check_followed(&index, text, extract(text), &Followed::default(), now()),
            plain
        );
    }

    proptest::proptest! {
        /// Any text, however broken: the check never panics, and every reason quotes the text it points at.
        #[test]
        fn every_reason_quotes_its_span(text in proptest::prelude::any::<String>()) {
            let outcome = check(&ReportIndex::new(), &text, now());
            let reasons = outcome.reasons.iter().chain(outcome.findings.iter().flat_map(|f| &f.reasons));
            for reason in reasons {
                if !reason.span.is_empty() {
                    proptest::prop_assert_eq!(text.get(reason.span.clone()), Some(reason.evidence.as_str()));
                }
            }
        }

        #[test]
        fn scam_shaped_text_keeps_spans_too(
            text in "(Vietcombank|BHXH|tr0 c4p|t r u n g|N'ha'n T,ien|bit\\.ly/x|0912 345 678|vcb-xacminh\\.top|[ .,!а-я])*"
        ) {
            let outcome = check(&ReportIndex::new(), &text, now());
            for reason in &outcome.reasons {
                if !reason.span.is_empty() {
                    proptest::prop_assert_eq!(text.get(reason.span.clone()), Some(reason.evidence.as_str()));
                }
            }
        }
    }
}
