//! The verdict on one message: every entity's reasons and level, the text's reasons, and the level they add
//! up to. Pure: the caller brings the findings (entities with their report verdicts) and the text.
//!
//! The rules, in order:
//! - an entity's reasons are its reports and its shape (look-alike domain, risky TLD, shortener, premium
//!   number…); its level is theirs alone;
//! - pressure to act and calls to action only count next to a strong scenario or an entity with signs of
//!   its own (a shortener, a chat link): "liên hệ ngay" is ordinary on its own; a strong scenario with a
//!   number or link that is not a brand's own, nor the reader's own, is itself a call to action;
//! - a scenario is strong with one phrase of 3 points, or two different phrases of 2 ("cho em mượn" and
//!   "không gọi được"); an office moving the talk to a private chat, and a fee asked before a promised
//!   job, prize, loan or refund, weigh 3 (`signals`);
//! - scenario words that ask nothing of the reader (no call to action, no pressure, no number or link, no
//!   fee demanded) count a point less: they tell a story about a scam more often than they are one;
//! - a sender writing as a warner ("không bao giờ yêu cầu", "cảnh giác", "kẻ gian", "số dư"), or pointing
//!   only at a brand's official site (not a platform anyone publishes on), and giving no personal mobile to
//!   call, gets a third of its scenario words' weight, never enough to warn, and its calls to action
//!   dropped, unless an entity warns: bank advisories quote the very phrases scams use;
//! - the message's level is the strongest of its entities' levels and of all counted reasons together.

use super::EntityKind;
use super::extract::is_service_number;
use super::link::{BrandCategory, official_brand};
use super::reason::{Level, Reason, ReasonKind, Weight, level_of};
use super::signals::{Scenario, TextSignals};
use super::text::{folded_words, last_words};
use super::verdict::{Finding, Verdict};

/// Scenarios whose words are the scam even in a warner's voice ("bị lừa đảo? chúng tôi lấy lại tiền").
const UNDISCOUNTED: &[Scenario] = &[Scenario::RecoveryScam, Scenario::Gambling];

/// The most a warner's, or weak, scenario words add up to: less than a caution.
const WARNER_CAP: u32 = super::reason::CAUTION_SCORE - 1;

/// The reason a report verdict gives, quoting the entity as written.
#[must_use]
pub fn reported_reason(text: &str, finding: &Finding) -> Option<Reason> {
    let entity = &finding.entity;
    let report = finding.warning_report()?;
    let (label, weight) = match finding.verdict {
        Verdict::Verified => ("đã được xác minh là lừa đảo".to_string(), Weight::Decisive),
        Verdict::Reported => (
            format!("đã bị báo cáo lừa đảo {} lần, gần đây", report.report_count),
            Weight::Decisive,
        ),
        Verdict::LowConfidence if report.report_count > 1 => (
            format!(
                "có {} báo cáo lừa đảo nhưng đã cũ, chưa xác minh",
                report.report_count
            ),
            Weight::Points(3),
        ),
        Verdict::LowConfidence => (
            "có 1 báo cáo lừa đảo, chưa xác minh".to_string(),
            Weight::Points(3),
        ),
        Verdict::NoReports => return None,
    };
    let span = if text.get(entity.span.clone()) == Some(entity.raw.as_str()) {
        entity.span.clone()
    } else {
        0..0
    };
    let mut reason = Reason::new(ReasonKind::Reported, label, text, span, weight);
    reason.evidence.clone_from(&entity.raw);
    Some(reason)
}

/// The reasons a report verdict gives: one per outside feed that lists the entity, naming it ("URLhaus
/// (abuse.ch) liệt kê là trang phát tán mã độc, ngày 05/12/2026"), and the aggregated one when other
/// sources (user reports, imports) list it too. All weigh what the verdict weighs.
#[must_use]
pub fn reported_reasons(text: &str, finding: &Finding) -> Vec<Reason> {
    let Some(aggregated) = reported_reason(text, finding) else {
        return Vec::new();
    };
    let Some(report) = finding.warning_report() else {
        return vec![aggregated];
    };
    let mut reasons: Vec<Reason> = report
        .attributions
        .iter()
        .map(|feed| {
            let category = if feed.category.is_empty() {
                "trang lừa đảo"
            } else {
                feed.category.as_str()
            };
            let mut label = format!("{} liệt kê là {category}", feed.title);
            if let Some(at) = feed.last_reported {
                label.push_str(&format!(", ngày {}", super::report::vietnam_date(at)));
            }
            let mut reason = aggregated.clone();
            reason.label = label.into();
            reason.source = Some(feed.source.clone());
            reason
        })
        .collect();
    if reasons.len() < report.sources.len() {
        reasons.push(aggregated);
    }
    reasons
}

/// The message's level and counted reasons, given findings whose `reasons` and `level` are set.
#[must_use]
pub fn message_level(
    text: &str,
    findings: &[Finding],
    signals: TextSignals,
) -> (Level, Vec<Reason>) {
    let entity_level = findings
        .iter()
        .map(|f| f.level)
        .max()
        .unwrap_or(Level::NoSigns);
    let entity_warns = entity_level.warns();
    let official = |f: &Finding| {
        f.reasons
            .iter()
            .any(|r| r.kind == ReasonKind::OfficialDomain)
    };
    // A brand's own site, unless anyone can publish on it (t.me/…, facebook.com/…).
    let official_site = |f: &Finding| {
        official(f)
            && official_brand(&f.entity.value).is_some_and(|b| b.category != BrandCategory::Social)
    };
    let official_only = !entity_warns && findings.iter().any(official_site);
    // An entity with something said against it, even short of a warning (a shortener, a chat link).
    let entity_signs = findings
        .iter()
        .any(|f| f.reasons.iter().any(|r| r.weight.points() >= ENTITY_SIGN));
    // One warning word may be the scam's own ("bị lừa đảo? chúng tôi lấy lại tiền"); two are a warner.
    let warner = signals.advisory >= 2
        || (signals.advisory == 1
            && !signals
                .signals
                .iter()
                .any(|s| UNDISCOUNTED.contains(&s.scenario)));
    // Read once per finding: the two questions below both ask it.
    let not_the_readers: Vec<bool> = findings
        .iter()
        .map(|f| !names_the_reader(text, f))
        .collect();
    // Somewhere to act on: a number or link that is not a brand's own, nor a hotline.
    let contact = findings
        .iter()
        .zip(&not_the_readers)
        .find(|&(f, &not_readers)| not_readers && !official(f) && !is_service_number(&f.entity))
        .map(|(f, _)| f);
    // A warner points to hotlines and sites, never to a personal mobile to call.
    let personal = findings
        .iter()
        .zip(&not_the_readers)
        .any(|(f, &not_readers)| {
            not_readers && f.entity.kind == EntityKind::Phone && f.entity.carrier.is_some()
        });
    let discounted = !entity_warns && !personal && (warner || official_only);
    let has = |kind: ReasonKind| signals.reasons.iter().any(|r| r.kind == kind);
    // Money asked for up front is itself an ask, whoever is to be paid.
    let demands_a_fee = signals.reasons.iter().any(|r| {
        r.scenario == Some(Scenario::AdvanceFee) && r.weight.points() >= u32::from(STRONG_FEE)
    });
    let asks = has(ReasonKind::CallToAction)
        || has(ReasonKind::Urgency)
        || contact.is_some()
        || demands_a_fee;
    let strong = u32::from(signals.strongest) >= STRONG_SCENARIO;
    let mut reasons: Vec<Reason> = Vec::with_capacity(
        findings.iter().map(|f| f.reasons.len()).sum::<usize>() + signals.reasons.len() + 1,
    );
    reasons.extend(findings.iter().flat_map(|f| f.reasons.iter().cloned()));
    let mut discounted_points = 0;
    // Weak scenario words (none strong) together never warn without an entity that has signs too.
    let capped = discounted || !(strong || entity_signs);
    for mut reason in signals.reasons {
        match reason.kind {
            ReasonKind::Urgency | ReasonKind::CallToAction if capped => continue,
            ReasonKind::Scenario if capped => {
                // A warner lists many scenarios: a third of each. Weak words keep theirs, less one when
                // nothing is asked. Never enough together to warn.
                let points = if discounted {
                    reason.weight.points() / 3
                } else {
                    reason.weight.points().saturating_sub(u32::from(!asks))
                }
                .min(WARNER_CAP - discounted_points);
                if points == 0 {
                    continue;
                }
                discounted_points += points;
                reason.weight = Weight::Points(u8::try_from(points).unwrap_or(u8::MAX));
            }
            ReasonKind::Scenario if !asks => {
                // Scam words that ask nothing of the reader: a story about a scam, a real draw result.
                let points = reason.weight.points().saturating_sub(1);
                if points == 0 {
                    continue;
                }
                reason.weight = Weight::Points(u8::try_from(points).unwrap_or(u8::MAX));
            }
            _ => {}
        }
        reasons.push(reason);
    }
    if strong
        && !discounted
        // A weak "liên hệ" already counted does not stand for the number it points to.
        && !reasons
            .iter()
            .any(|r| {
                r.kind == ReasonKind::CallToAction && r.weight.points() >= u32::from(CONTACT_POINTS)
            })
        && let Some(contact) = contact
    {
        reasons.push(Reason::new(
            ReasonKind::CallToAction,
            "kèm số điện thoại, số tài khoản hoặc đường link lạ để bạn liên hệ, chuyển tiền",
            text,
            contact.entity.span.clone(),
            Weight::Points(CONTACT_POINTS),
        ));
    }
    let level = level_of(&reasons).max(entity_level);
    (level, reasons)
}

/// Points at which an advance-fee reason is a demand for money, not a word about fees.
const STRONG_FEE: u8 = 3;

/// Points of the call to action that a strong scenario's number or link is.
const CONTACT_POINTS: u8 = 2;

/// Points at which an entity's own reason is a sign worth reading the words for (a premium number is not).
const ENTITY_SIGN: u32 = 2;

/// A phrase weight at which a scenario is more than everyday words, and pressure and calls to action count.
const STRONG_SCENARIO: u32 = 3;

/// Words right before a number that make it the reader's own ("thuê bao 0912…", "TK 0071…"): a carrier
/// congratulating a subscriber, a bank reporting a balance.
const READER_CUES: &[&str] = &["tb", "bao", "cua ban", "cua qk", "tk", "tai khoan", "the"];

/// True when the number is introduced as the reader's own subscriber number or account.
fn names_the_reader(text: &str, finding: &Finding) -> bool {
    if finding.entity.kind == EntityKind::Domain {
        return false;
    }
    let words = folded_words(last_words(text, finding.entity.span.start, 3));
    let words = words.trim_end();
    READER_CUES.iter().any(|cue| {
        words
            .strip_suffix(cue)
            .is_some_and(|before| before.ends_with(' '))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::signals::text_signals;
    use crate::scam::{Entity, EntityKind, ReportSummary};

    fn finding(reasons: Vec<Reason>) -> Finding {
        let mut f = Finding::unreported(Entity::written_as(EntityKind::Domain, "x.top"));
        f.level = level_of(&reasons);
        f.reasons = reasons;
        f
    }

    fn level(text: &str, findings: &[Finding]) -> Level {
        message_level(text, findings, text_signals(text)).0
    }

    #[test]
    fn calls_to_action_alone_are_ordinary() {
        assert_eq!(
            level("Liên hệ ngay để được tư vấn, gấp nhé", &[]),
            Level::NoSigns
        );
        let (_, reasons) = message_level("liên hệ ngay", &[], text_signals("liên hệ ngay"));
        assert!(reasons.is_empty());
    }

    #[test]
    fn a_scenario_with_pressure_and_a_call_to_action_is_danger() {
        assert_eq!(
            level(
                "Tài khoản của quý khách sẽ bị khóa trong 24h, vui lòng truy cập để xác minh",
                &[]
            ),
            Level::Danger
        );
        assert_eq!(level("Tuyển CTV làm tại nhà", &[]), Level::Caution);
    }

    #[test]
    fn a_warner_voice_is_discounted_unless_an_entity_warns() {
        let advisory = "Vietcombank không bao giờ yêu cầu cập nhật sinh trắc học qua đường link. Cảnh giác kẻ gian giả danh công an, lệnh bắt tạm giam.";
        let (found, reasons) = message_level(advisory, &[], text_signals(advisory));
        assert_eq!(found, Level::NoSigns, "{reasons:?}");
        let risky = finding(vec![Reason::new(
            ReasonKind::RiskyTld,
            "đuôi lạ",
            "x.top",
            0..5,
            Weight::Points(3),
        )]);
        assert_eq!(level(advisory, &[risky]), Level::Danger);
    }

    #[test]
    fn a_recovery_offer_in_a_warner_voice_still_counts() {
        assert!(
            level(
                "Bạn bị lừa đảo? Dịch vụ lấy lại tiền bị lừa, liên hệ ngay",
                &[]
            )
            .warns()
        );
    }

    #[test]
    fn the_reported_reason_quotes_the_entity_and_is_decisive_when_recent() {
        let text = "gọi 0912 345 678";
        let mut entity = Entity::written_as(EntityKind::Phone, "+84912345678");
        entity.raw = "0912 345 678".into();
        entity.span = 4..text.len();
        let finding = Finding {
            verdict: Verdict::Reported,
            report: Some(ReportSummary {
                report_count: 3,
                category: String::new(),
                verified: false,
                first_reported: None,
                last_reported: None,
                sources: vec![],
                bank_bin: None,
                attributions: vec![],
            }),
            ..Finding::unreported(entity)
        };
        let reason = reported_reason(text, &finding).unwrap();
        assert_eq!(reason.evidence, "0912 345 678");
        assert_eq!(reason.weight, Weight::Decisive);
    }

    #[test]
    fn each_feed_that_lists_an_entity_is_a_reason_naming_it() {
        use chrono::TimeZone;

        use crate::scam::Attribution;
        let text = "vào evil.example nhé";
        let mut entity = Entity::written_as(EntityKind::Domain, "evil.example");
        entity.raw = "evil.example".into();
        entity.span = 4..16;
        let feed = |source: &str, title: &str| Attribution {
            source: source.into(),
            title: title.into(),
            category: "trang phát tán mã độc".into(),
            verified: true,
            last_reported: chrono::Utc.with_ymd_and_hms(2026, 12, 5, 1, 0, 0).single(),
        };
        let mut report = ReportSummary {
            report_count: 2,
            category: String::new(),
            verified: true,
            first_reported: None,
            last_reported: None,
            sources: vec!["urlhaus_recent".into(), "openphish".into()],
            bank_bin: None,
            attributions: vec![
                feed("urlhaus_recent", "URLhaus (abuse.ch)"),
                feed("openphish", "OpenPhish"),
            ],
        };
        let finding = Finding {
            verdict: Verdict::Verified,
            report: Some(report.clone()),
            ..Finding::unreported(entity.clone())
        };
        let reasons = reported_reasons(text, &finding);
        assert_eq!(reasons.len(), 2);
        assert_eq!(
            reasons[0].label,
            "URLhaus (abuse.ch) liệt kê là trang phát tán mã độc, ngày 05/12/2026"
        );
        assert_eq!(reasons[0].source.as_deref(), Some("urlhaus_recent"));
        assert_eq!(reasons[1].source.as_deref(), Some("openphish"));
        assert!(
            reasons
                .iter()
                .all(|r| r.weight == Weight::Decisive && r.evidence == "evil.example")
        );
        // A user report besides the feeds keeps the aggregated reason.
        report.sources.push("user_reports".into());
        let finding = Finding {
            verdict: Verdict::Verified,
            report: Some(report),
            ..Finding::unreported(entity)
        };
        let reasons = reported_reasons(text, &finding);
        assert_eq!(reasons.len(), 3);
        assert_eq!(reasons[2].label, "đã được xác minh là lừa đảo");
        assert_eq!(reasons[2].source, None);
    }

    /// Everyday notices that name a scenario's words but are about the reader's own number or account.
    #[test]
    fn notices_about_the_readers_own_number_or_account_stay_quiet() {
        use crate::scam::check::check;
        use crate::scam::index::ReportIndex;
        let now = chrono::Utc::now();
        for text in [
            "TK 0071000123456 +1,250,000VND luc 07-12-2026 10:15. SD: 5,300,000VND. ND: HOAN TIEN DON HANG 2512",
            "Viettel: Chuc mung TB 0912345678 trung thuong 1 the cao 50.000d chuong trinh Nap the may man.",
            "MobiFone: Tang 50% gia tri the nap dau tien trong thang cho thue bao tra truoc. Chi tiet LH 9090.",
        ] {
            let outcome = check(&ReportIndex::new(), text, now);
            assert_eq!(
                outcome.level,
                Level::NoSigns,
                "{text}: {:?}",
                outcome.reasons
            );
        }
    }
}
