//! The reply that tells a user the verdict on what they sent, written for a 60-year-old on a phone: the
//! level first (🚨 / ⚠️ / ℹ️), then why, each reason with its evidence quoted, then each entity as they
//! wrote it, then what to do next. Pure.
//!
//! A model may add an explanation between the verdict and the next steps ([`with_explanation`]); it never
//! replaces them, and sentences of it that contradict the verdict are dropped. Replies quote the user's
//! numbers as written: never log them.

use std::fmt::Write as _;

use crate::scam::check::CheckOutcome;
use crate::scam::text::folded_words;
use crate::scam::vietqr;
use crate::scam::{EntityKind, Finding, Level, Reason, ReasonKind, ReportSummary, vietnam_date};

/// Sent when a message was checked but held nothing to look up and no sign.
pub const NOTHING_FOUND: &str = "\
Mình chưa thấy số điện thoại, số tài khoản hay đường link nào trong tin nhắn này. Bạn hãy dán nguyên văn tin nhắn đáng ngờ (có số điện thoại, số tài khoản hoặc đường link) để mình kiểm tra nhé.";

const DANGER_HEADLINE: &str = "🚨 NGUY HIỂM: tin nhắn này rất giống lừa đảo.";
const CAUTION_HEADLINE: &str = "⚠️ CẦN CẢNH GIÁC: tin nhắn này có dấu hiệu lừa đảo.";
const NO_SIGNS_HEADLINE: &str = "ℹ️ CHƯA THẤY DẤU HIỆU LỪA ĐẢO trong những gì mình kiểm tra được. Điều này không có nghĩa là chắc chắn không có gì đáng lo: kẻ gian thường xuyên đổi số, đổi tài khoản và tạo trang web mới.";

const DANGER_STEPS: &str = "\
👉 Bạn nên làm gì:
• Đừng bấm vào đường link, đừng gọi lại hay kết bạn với số trong tin nhắn.
• Tuyệt đối không chuyển tiền, không đọc mã OTP, không cài ứng dụng theo hướng dẫn của họ.
• Muốn hỏi lại cho chắc, hãy tự gọi tổng đài chính thức (số in sau thẻ ngân hàng hoặc trên trang web chính thức), hoặc hỏi con cháu, người thân.
• Nếu lỡ chuyển tiền hay lỡ đưa mã OTP: gọi ngay tổng đài ngân hàng để khóa tài khoản, rồi báo công an (gọi 113).";

const CAUTION_STEPS: &str = "\
👉 Bạn nên làm gì:
• Khoan làm theo tin nhắn: chưa bấm link, chưa chuyển tiền, không đọc mã OTP cho ai.
• Tự kiểm tra lại qua kênh chính thức: gọi tổng đài in sau thẻ ngân hàng, hoặc vào trang web, ứng dụng chính thức mà bạn vẫn dùng.
• Nếu thấy lạ, hỏi con cháu hoặc người thân trước khi làm gì.";

const NO_SIGNS_STEPS: &str = "\
👉 Nếu người gửi đòi chuyển tiền, đòi mã OTP, mật khẩu hay giục cài ứng dụng, hãy dừng lại và gọi tổng đài chính thức để hỏi trước.";

/// Where to look up and report officially (NCSC), and how to report to us.
const REPORT_LINKS: &str = "\
🔗 Tra cứu và báo cáo chính thức: https://tinnhiemmang.vn. Muốn báo cáo cho mình, nhắn: báo cáo <số điện thoại, số tài khoản hoặc link> <mô tả ngắn>.";

/// The full templated reply: the verdict, then what to do next.
#[must_use]
pub fn scam_reply(outcome: &CheckOutcome) -> String {
    if !has_verdict(outcome) {
        return NOTHING_FOUND.to_string();
    }
    format!(
        "{}\n\n{}",
        verdict_block(outcome),
        next_steps(outcome.level)
    )
}

/// The verdict, then the model's `explanation` (what of it does not contradict the verdict), then what to
/// do next.
#[must_use]
pub fn with_explanation(outcome: &CheckOutcome, explanation: &str) -> String {
    if !has_verdict(outcome) {
        return explanation.to_string();
    }
    match consistent_part(explanation, outcome.level) {
        Some(extra) => format!(
            "{}\n\n{extra}\n\n{}",
            verdict_block(outcome),
            next_steps(outcome.level)
        ),
        None => scam_reply(outcome),
    }
}

/// True when a check has a verdict worth telling: an entity was checked, or the text warns.
#[must_use]
pub fn has_verdict(outcome: &CheckOutcome) -> bool {
    !outcome.findings.is_empty() || outcome.level.warns()
}

/// The headline, the message's own reasons, and one line per entity.
#[must_use]
pub fn verdict_block(outcome: &CheckOutcome) -> String {
    let mut block = headline(outcome.level).to_string();
    // Entity reasons are told on the entity's own line; the rest here.
    let own: Vec<&Reason> = outcome
        .reasons
        .iter()
        .filter(|r| !is_entity_reason(r.kind))
        .collect();
    if outcome.level.warns() && !own.is_empty() {
        block.push_str("\n\nVì sao:");
        for reason in own {
            let _ = write!(
                block,
                "\n• {}: “{}”",
                capitalised(&reason.label),
                reason.evidence.trim()
            );
        }
    }
    if !outcome.findings.is_empty() {
        block.push_str(if outcome.findings.len() == 1 {
            "\n\nThông tin mình đã kiểm tra:"
        } else {
            "\n\nCác thông tin mình đã kiểm tra:"
        });
        for finding in &outcome.findings {
            block.push('\n');
            block.push_str(&finding_line(finding));
            let chains = outcome
                .links
                .iter()
                .filter(|c| c.starts_at(&finding.entity));
            for line in chains.filter_map(super::chain::chain_line) {
                block.push('\n');
                block.push_str(&line);
            }
        }
    }
    block
}

fn headline(level: Level) -> &'static str {
    match level {
        Level::Danger => DANGER_HEADLINE,
        Level::Caution => CAUTION_HEADLINE,
        Level::NoSigns => NO_SIGNS_HEADLINE,
    }
}

/// What to do next for `level`, with where to report.
#[must_use]
pub fn next_steps(level: Level) -> String {
    let steps = match level {
        Level::Danger => DANGER_STEPS,
        Level::Caution => CAUTION_STEPS,
        Level::NoSigns => NO_SIGNS_STEPS,
    };
    format!("{steps}\n\n{REPORT_LINKS}")
}

/// Reasons that belong to one entity (its reports and its shape), told on the entity's line.
fn is_entity_reason(kind: ReasonKind) -> bool {
    !matches!(
        kind,
        ReasonKind::Scenario
            | ReasonKind::Urgency
            | ReasonKind::CallToAction
            | ReasonKind::Obfuscation
    )
}

fn icon(level: Level) -> &'static str {
    match level {
        Level::Danger => "🚨",
        Level::Caution => "⚠️",
        Level::NoSigns => "ℹ️",
    }
}

/// `🚨 Trang web vietcombank-xacminh[.]com: tên miền giả mạo Vietcombank…; chưa có ai báo cáo.`
fn finding_line(finding: &Finding) -> String {
    let entity = &finding.entity;
    // A VietQR payload is a long code to a reader: show the account it names.
    let raw = if vietqr::find_payloads(&entity.raw).is_empty() {
        entity.raw.trim()
    } else {
        entity.value.as_str()
    };
    let mut subject = format!("{} {raw}", entity.kind.label_vi());
    if let Some(name) = entity.bank_name.or_else(|| {
        entity
            .bank_bin
            .as_deref()
            .and_then(crate::scam::banks::by_bin)
            .map(|b| b.short_name)
    }) {
        let _ = write!(subject, " ({name})");
    } else if let Some(carrier) = entity.carrier {
        let _ = write!(subject, " (mạng {carrier})");
    }
    let mut parts: Vec<String> = Vec::new();
    for reason in &finding.reasons {
        let mut part = reason.label.to_string();
        // A report on a host the link led to quotes that host; the entity's own quotes the entity.
        let own = reason.evidence == entity.raw;
        if reason.kind == ReasonKind::Reported && own {
            if let Some(report) = finding.warning_report() {
                part.push_str(&report_details(report));
            }
            part.push_str(&matched_note(finding));
        } else if !reason.evidence.trim().is_empty() && reason.evidence.trim() != raw {
            let _ = write!(part, " (“{}”)", super::chain::shown_evidence(reason));
        }
        parts.push(part);
    }
    if !finding
        .reasons
        .iter()
        .any(|r| r.kind == ReasonKind::Reported)
    {
        parts.push("chưa có ai báo cáo".to_string());
    }
    if finding.under_review {
        parts.push(super::moderation::UNDER_REVIEW.to_string());
    }
    format!("{} {subject}: {}.", icon(finding.level), parts.join("; "))
}

fn report_details(report: &ReportSummary) -> String {
    let mut details = String::new();
    let category = report.category.trim();
    if !category.is_empty() {
        let _ = write!(details, "; loại: {category}");
    }
    if let Some(date) = report.last_reported {
        let _ = write!(details, "; báo cáo gần nhất: {}", vietnam_date(date));
    }
    details
}

/// Says under which key the reports were found when it is not the entity itself.
fn matched_note(finding: &Finding) -> String {
    let Some((kind, value)) = &finding.matched else {
        return String::new();
    };
    match (finding.entity.kind, kind) {
        (EntityKind::Domain, EntityKind::Domain) => format!(" (theo tên miền gốc {value})"),
        (EntityKind::Phone, EntityKind::BankAccount) => {
            " (số này bị báo cáo dưới dạng số tài khoản)".to_string()
        }
        (EntityKind::BankAccount, EntityKind::Phone) => {
            " (số này bị báo cáo dưới dạng số điện thoại)".to_string()
        }
        _ => String::new(),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Words (folded) by which a sentence calls something safe or harmless.
const REASSURANCES: &[&str] = &[
    " an toan ",
    " khong phai lua dao ",
    " khong phai la lua dao ",
    " khong co dau hieu lua dao ",
    " khong co gi dang lo ",
    " dang tin cay ",
    " uy tin ",
    " yen tam ",
    " hop phap ",
    " khong sao ",
    " binh thuong ",
    " chinh thuc ",
];

/// Words before a reassurance that make it a warning ("không có nghĩa là an toàn", "chưa chắc an toàn").
const DOUBTS: &[&str] = &[
    " khong co nghia ",
    " chua chac ",
    " khong chac ",
    " khong dam bao ",
    " khong the khang dinh ",
];

/// The explanation without the sentences that would contradict `level`: a reassurance is never allowed
/// when the verdict warns, and "safe" never at all. `None` when nothing is left.
fn consistent_part(explanation: &str, level: Level) -> Option<String> {
    let mut kept = String::new();
    for sentence in sentences(explanation) {
        let words = folded_words(sentence);
        let reassures = REASSURANCES.iter().any(|r| words.contains(r))
            && !DOUBTS.iter().any(|d| words.contains(d));
        let says_safe = words.contains(" an toan ") && !DOUBTS.iter().any(|d| words.contains(d));
        if (level.warns() && reassures) || says_safe {
            continue;
        }
        kept.push_str(sentence);
    }
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_string())
}

/// Sentences with their trailing punctuation and whitespace, so joining them gives the text back.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let ends = matches!(c, '.' | '!' | '?' | '\n');
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        if ends && next_is_space {
            let mut end = at + c.len_utf8();
            while let Some(&(i, n)) = chars.peek() {
                if !n.is_whitespace() {
                    break;
                }
                end = i + n.len_utf8();
                chars.next();
            }
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use unicode_normalization::UnicodeNormalization;

    use super::*;
    use crate::scam::check::{check, check_text};
    use crate::scam::index::{ReportIndex, ReportRow};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap()
    }

    fn reported(kind: EntityKind, value: &str, count: i64, verified: bool) -> ReportIndex {
        let mut index = ReportIndex::new();
        index.apply(&ReportRow {
            kind,
            value: value.into(),
            source: "test".into(),
            bank_bin: None,
            category: "giả danh ngân hàng".into(),
            report_count: count,
            first_reported: now() - Duration::days(10),
            last_reported: now() - Duration::days(1),
            verified,
            active: true,
        });
        index
    }

    fn is_nfc(s: &str) -> bool {
        s.nfc().collect::<String>() == s
    }

    fn never_says_safe(reply: &str) {
        let words = folded_words(reply);
        for (at, _) in words.match_indices(" an toan ") {
            assert!(
                DOUBTS
                    .iter()
                    .any(|d| words[..at + 1].ends_with(d) || words[..at].contains(d.trim())),
                "says safe: {reply}"
            );
        }
    }

    #[test]
    fn a_followed_link_shows_where_it_leads_under_its_own_line() {
        use crate::scam::check::check_followed;
        use crate::scam::extract::extract;
        use crate::scam::followed::{ChainEnd, Followed, LinkChain};
        let text = "Xem ảnh tại bit.ly/3abc";
        let entities = extract(text);
        let followed = Followed {
            chains: vec![LinkChain {
                span: entities[0].span.clone(),
                raw: entities[0].raw.clone(),
                hops: vec![
                    url::Url::parse("https://bit.ly/3abc").unwrap(),
                    url::Url::parse("https://vietcombank-xacminh.top/dang-nhap").unwrap(),
                ],
                end: ChainEnd::Unreachable,
            }],
            ..Followed::default()
        };
        let outcome = check_followed(&ReportIndex::new(), text, entities, &followed, now());
        let reply = scam_reply(&outcome);
        assert!(reply.starts_with("🚨"), "{reply}");
        assert!(
            reply.contains("tên miền giả mạo Vietcombank (trang chính thức là vietcombank.com.vn) (“vietcombank-xacminh[.]top”)"),
            "{reply}"
        );
        assert!(
            reply.contains("\n↪ bit.ly/3abc dẫn tới vietcombank-xacminh[.]top/dang-nhap (không mở được trang này)."),
            "{reply}"
        );
        assert!(
            !reply.contains("vietcombank-xacminh.top"),
            "never a tappable host: {reply}"
        );
        assert!(is_nfc(&reply));
        never_says_safe(&reply);
    }

    #[test]
    fn a_report_on_where_a_link_leads_names_that_host() {
        use crate::scam::check::check_followed;
        use crate::scam::extract::extract;
        use crate::scam::followed::{ChainEnd, Followed, LinkChain};
        let text = "Xem ảnh tại bit.ly/3abc";
        let entities = extract(text);
        let followed = Followed {
            chains: vec![LinkChain {
                span: entities[0].span.clone(),
                raw: entities[0].raw.clone(),
                hops: vec![
                    url::Url::parse("https://bit.ly/3abc").unwrap(),
                    url::Url::parse("https://qua-tang.com/").unwrap(),
                ],
                end: ChainEnd::Reached,
            }],
            ..Followed::default()
        };
        let index = reported(EntityKind::Domain, "qua-tang.com", 4, false);
        let reply = scam_reply(&check_followed(&index, text, entities, &followed, now()));
        assert!(
            reply.contains("đã bị báo cáo lừa đảo 4 lần, gần đây (“qua-tang[.]com”)"),
            "{reply}"
        );
        assert!(
            !reply.contains("loại: giả danh"),
            "the link's own report details only: {reply}"
        );
    }

    #[test]
    fn the_three_levels_look_different_and_end_with_what_to_do() {
        let danger = scam_reply(&check(
            &reported(EntityKind::Phone, "+84912345678", 3, false),
            "gọi 0912 345 678",
            now(),
        ));
        let caution = scam_reply(&check_text("Tuyển CTV làm tại nhà"));
        let calm = scam_reply(&check(&ReportIndex::new(), "gọi 0912 345 678", now()));
        assert!(danger.starts_with("🚨"), "{danger}");
        assert!(caution.starts_with("⚠️"), "{caution}");
        assert!(calm.starts_with("ℹ️"), "{calm}");
        for reply in [&danger, &caution, &calm] {
            assert!(reply.contains("👉"), "{reply}");
            assert!(reply.trim_end().ends_with(REPORT_LINKS), "{reply}");
            assert!(is_nfc(reply));
            never_says_safe(reply);
        }
    }

    #[test]
    fn each_reason_quotes_its_evidence() {
        let text = "Tài khoản của quý khách sẽ bị khóa, truy cập ngay để xác minh";
        let reply = scam_reply(&check_text(text));
        assert!(reply.contains("Vì sao:"), "{reply}");
        assert!(
            reply.contains("“Tài khoản của quý khách sẽ bị khóa”"),
            "{reply}"
        );
        assert!(reply.contains("“truy cập”"), "{reply}");
    }

    #[test]
    fn an_entity_is_shown_as_written_with_its_report() {
        let outcome = check(
            &reported(EntityKind::BankAccount, "190366888888", 3, true),
            "STK 1903 6688 8888 Techcombank",
            now(),
        );
        let reply = scam_reply(&outcome);
        assert!(reply.starts_with(DANGER_HEADLINE), "{reply}");
        assert!(
            reply.contains("🚨 Số tài khoản 1903 6688 8888 (Techcombank): đã được xác minh là lừa đảo; loại: giả danh ngân hàng; báo cáo gần nhất: 06/12/2026."),
            "{reply}"
        );
    }

    #[test]
    fn an_unreported_entity_says_nobody_reported_it() {
        let reply = scam_reply(&check(&ReportIndex::new(), "gọi 0912 345 678", now()));
        assert!(
            reply.contains("ℹ️ Số điện thoại 0912 345 678 (mạng Vinaphone): chưa có ai báo cáo."),
            "{reply}"
        );
    }

    #[test]
    fn nothing_to_tell_asks_for_details() {
        assert_eq!(scam_reply(&CheckOutcome::default()), NOTHING_FOUND);
    }

    #[test]
    fn a_model_explains_after_the_verdict_and_cannot_reassure() {
        let outcome = check_text("Tài khoản của quý khách sẽ bị khóa, truy cập ngay để xác minh");
        let reply = with_explanation(
            &outcome,
            "Đây là tin nhắn an toàn. Ngân hàng thật không gửi link như vậy. Bạn cứ yên tâm!",
        );
        assert!(
            reply.starts_with(CAUTION_HEADLINE) || reply.starts_with(DANGER_HEADLINE),
            "{reply}"
        );
        assert!(
            reply.contains("Ngân hàng thật không gửi link như vậy."),
            "{reply}"
        );
        assert!(!reply.contains("an toàn."), "{reply}");
        assert!(!reply.contains("yên tâm"), "{reply}");
        let verdict = reply.find("Vì sao").unwrap();
        let model = reply.find("Ngân hàng thật").unwrap();
        let steps = reply.find("👉").unwrap();
        assert!(verdict < model && model < steps);
        // A model that only contradicts leaves the templated verdict.
        assert_eq!(
            with_explanation(&outcome, "Tin này an toàn, không phải lừa đảo."),
            scam_reply(&outcome)
        );
    }

    #[test]
    fn without_a_verdict_the_model_answers_alone() {
        assert_eq!(
            with_explanation(&check_text("chào bạn"), "Chào bạn!"),
            "Chào bạn!"
        );
    }

    #[test]
    fn doubts_are_not_reassurances() {
        assert_eq!(
            consistent_part("Chưa có báo cáo không có nghĩa là an toàn.", Level::Caution)
                .as_deref(),
            Some("Chưa có báo cáo không có nghĩa là an toàn.")
        );
        assert_eq!(sentences("A. B!\nC"), vec!["A. ", "B!\n", "C"]);
    }
}
