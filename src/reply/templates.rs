//! Vietnamese reply texts. Every user-facing string is NFC with full diacritics.
//!
//! Replies show entity values to the user who sent them; callers must still
//! never log a reply built by [`scam_reply`], since it contains those values.

use std::fmt::Write as _;

use crate::scam::check::CheckOutcome;
use crate::scam::verdict::Verdict;
use crate::scam::{EntityKind, Finding, ReportSummary, vietnam_date};

/// Usage guide, sent for `/help` and its variants.
pub const HELP: &str = "\
📘 HƯỚNG DẪN SỬ DỤNG

Mình là trợ lý chống lừa đảo. Mình giúp bạn kiểm tra:
• Số điện thoại
• Số tài khoản ngân hàng, ví điện tử
• Đường link, trang web

Cách dùng: dán (hoặc chuyển tiếp) nguyên văn tin nhắn đáng ngờ vào đây. Mình sẽ tự tìm số điện thoại, số tài khoản và đường link trong tin nhắn rồi đối chiếu với các báo cáo lừa đảo đã có.

Lưu ý: \"chưa có báo cáo\" không có nghĩa là an toàn. Kẻ gian thường xuyên đổi số và tạo trang web mới.

Lệnh: /help để xem lại hướng dẫn này.

🔐 Luôn nhớ:
• Không bao giờ cung cấp mã OTP, mật khẩu cho bất kỳ ai, kể cả người xưng là ngân hàng hay công an.
• Không chuyển tiền cho người lạ; hãy xác minh qua kênh chính thức trước.

🆘 Nếu nghi ngờ mình bị lừa:
• Gọi ngay tổng đài ngân hàng của bạn (số in trên thẻ) để yêu cầu khóa tài khoản hoặc phong tỏa giao dịch.
• Trình báo cơ quan công an gần nhất hoặc gọi 113.
• Tra cứu tài khoản, trang web lừa đảo và gửi báo cáo tại tinnhiemmang.vn (Cục An toàn thông tin) và chongluadao.vn.";

/// Sent when a user follows the Official Account.
pub const WELCOME: &str = "\
Chào bạn! 👋 Mình là trợ lý chống lừa đảo. Hãy dán tin nhắn đáng ngờ vào đây, mình sẽ kiểm tra số điện thoại, số tài khoản và đường link trong đó giúp bạn.

Gõ /help để xem hướng dẫn.";

/// Sent for images, stickers, files, locations and other non-text messages.
pub const UNSUPPORTED_MEDIA: &str = "\
Xin lỗi, hiện mình chỉ đọc được tin nhắn chữ, chưa xem được hình ảnh, nhãn dán, tệp hay vị trí. Bạn hãy gõ hoặc dán nội dung tin nhắn, số điện thoại, số tài khoản hoặc đường link cần kiểm tra nhé.";

/// Sent once when a user exceeds the per-user inbound rate limit; the messages after it get no answer.
pub const RATE_LIMITED: &str = "\
Bạn đang gửi quá nhiều tin nhắn trong thời gian ngắn, nên các tin tiếp theo trong ít phút tới sẽ chưa được trả lời. Bạn vui lòng chờ một lát rồi gửi lại câu hỏi nhé.";

/// Answer when a per-user or global LLM limit is reached. Scam checks are free and keep working.
pub const LIMITED_ANSWER: &str = "\
Hiện mình đang nhận rất nhiều tin nhắn nên chưa trả lời chi tiết được ngay. Bạn vui lòng thử lại sau ít phút nhé.

Trong lúc chờ, mình vẫn kiểm tra được số điện thoại, số tài khoản ngân hàng và đường link: chỉ cần dán nguyên văn \
tin nhắn đáng ngờ vào đây.

🔐 Nhớ: không chuyển tiền, không cung cấp mã OTP hay mật khẩu cho người lạ.";

pub const ERROR_APOLOGY: &str = "\
Xin lỗi, hệ thống đang gặp sự cố nên mình chưa xử lý được tin nhắn của bạn. Bạn vui lòng thử lại sau ít phút nhé. 🙏";

/// Texts that ask for [`HELP`], compared after NFC, lowercasing and whitespace collapsing.
const HELP_COMMANDS: &[&str] = &[
    "/help",
    "help",
    "hướng dẫn",
    "huong dan",
    "/start",
    "trợ giúp",
    "tro giup",
];

/// Sent when a message was checked but contained nothing to look up.
pub const NOTHING_FOUND: &str = "\
Mình chưa thấy số điện thoại, số tài khoản hay đường link nào trong tin nhắn này. Bạn hãy dán nguyên văn tin nhắn đáng ngờ (có số điện thoại, số tài khoản hoặc đường link) để mình kiểm tra nhé.";

const NO_REPORT_IS_NOT_SAFE: &str = "\
ℹ️ Lưu ý: không có báo cáo ≠ an toàn. Kẻ gian thường xuyên đổi số điện thoại, tài khoản và đường link mới.";

/// Where users can look things up and report officially (NCSC, Cục An toàn thông tin), and how to report to us.
const REPORT_LINKS: &str = "\
🔗 Tra cứu thêm và báo cáo chính thức: https://tinnhiemmang.vn (tài khoản: https://tinnhiemmang.vn/tra-cuu-tai-khoan). Muốn báo cáo cho mình, hãy nhắn: báo cáo <số điện thoại, số tài khoản hoặc link> <mô tả ngắn>.";

const CLOSING_ADVICE: &str = "\
🔐 Không chuyển tiền, không cung cấp mã OTP hay mật khẩu cho người lạ. Hãy xác minh qua kênh chính thức (tổng đài in trên thẻ ngân hàng, website hoặc ứng dụng chính thức) trước khi làm theo bất kỳ yêu cầu nào.";

const GENERAL_ADVICE: &str = "\
🔐 Nhớ nhé: không chuyển tiền, không cung cấp mã OTP, mật khẩu cho người lạ. Cẩn thận với lời mời \"việc nhẹ lương cao\", tin trúng thưởng, hay người xưng là công an, ngân hàng, điện lực yêu cầu chuyển tiền hoặc cài ứng dụng lạ.

🆘 Nếu lỡ chuyển tiền: gọi ngay tổng đài ngân hàng (số in trên thẻ) để phong tỏa giao dịch, trình báo công an gần nhất hoặc gọi 113, và báo cáo tại tinnhiemmang.vn hoặc chongluadao.vn.

Gõ /help để xem hướng dẫn.";

/// Openings for [`fallback_answer`]; one is picked by a hash of the user's text.
const FALLBACK_OPENINGS: &[&str] = &[
    "Cảm ơn bạn đã nhắn tin! Hiện mình chưa trả lời chi tiết được câu hỏi này, nhưng mình có thể kiểm tra số điện thoại, số tài khoản ngân hàng và đường link giúp bạn: chỉ cần dán nguyên văn tin nhắn đáng ngờ vào đây.",
    "Mình đã nhận được tin nhắn của bạn. Lúc này mình chưa tư vấn chi tiết được, nhưng nếu bạn dán số điện thoại, số tài khoản hoặc đường link đáng ngờ vào đây, mình sẽ kiểm tra xem đã có ai báo cáo lừa đảo chưa.",
    "Chào bạn, mình là trợ lý chống lừa đảo. Mình chưa trả lời được câu hỏi này ngay, nhưng mình kiểm tra được số điện thoại, số tài khoản và đường link: bạn hãy gửi nguyên văn tin nhắn hoặc thông tin cần kiểm tra nhé.",
];

/// True for `/help`, `help`, `hướng dẫn`, `huong dan`, `/start`, `trợ giúp`
/// (and `tro giup`), ignoring case, Unicode normalisation form, surrounding
/// and repeated whitespace, and trailing `!`, `?` or `.`.
#[must_use]
pub fn is_help_command(text: &str) -> bool {
    let lowered = text.to_lowercase();
    let lowered = crate::domain::nfc(&lowered);
    let collapsed = lowered.split_whitespace().collect::<Vec<_>>().join(" ");
    let command = collapsed.trim_end_matches(['!', '?', '.']).trim_end();
    HELP_COMMANDS.contains(&command)
}

/// The reply to a checked message: a summary line, one line per entity with its verdict (the value exactly as
/// the user wrote it, nothing masked), the scam signals found, a reminder that no report does not mean safe,
/// where to look up and report officially, and closing advice. Never says "safe".
#[must_use]
pub fn scam_reply(outcome: &CheckOutcome) -> String {
    let findings = &outcome.findings;
    if findings.is_empty() && outcome.signals.is_empty() {
        return NOTHING_FOUND.to_string();
    }
    let warned = findings.iter().filter(|f| f.verdict.warns()).count();
    let total = findings.len();

    let mut reply = if warned == 0 && outcome.signals.is_empty() {
        format!("🔎 Mình đã kiểm tra {total} thông tin: chưa có báo cáo lừa đảo nào.")
    } else if warned == 0 {
        "🚩 CẢNH GIÁC: tin nhắn có dấu hiệu lừa đảo!".to_string()
    } else if total == 1 {
        "⚠️ CẢNH BÁO: thông tin bạn gửi đã bị báo cáo lừa đảo!".to_string()
    } else {
        format!("⚠️ CẢNH BÁO: {warned}/{total} thông tin bạn gửi đã bị báo cáo lừa đảo!")
    };
    reply.push('\n');

    for finding in findings {
        reply.push('\n');
        reply.push_str(&finding_line(finding));
    }
    if !outcome.signals.is_empty() {
        let labels: Vec<&str> = outcome
            .signals
            .iter()
            .map(|s| s.scenario.label_vi())
            .collect();
        let _ = write!(
            reply,
            "{}🚩 Dấu hiệu lừa đảo thường gặp trong tin nhắn: {}.",
            if findings.is_empty() { "\n" } else { "\n\n" },
            labels.join("; ")
        );
    }
    if warned < total || total == 0 {
        reply.push_str("\n\n");
        reply.push_str(NO_REPORT_IS_NOT_SAFE);
    }
    reply.push_str("\n\n");
    reply.push_str(REPORT_LINKS);
    reply.push_str("\n\n");
    reply.push_str(CLOSING_ADVICE);
    reply
}

/// `⚠️ Số tài khoản 1903 6688 8888 (Techcombank): đã bị báo cáo 3 lần; …`
fn finding_line(finding: &Finding) -> String {
    let entity = &finding.entity;
    let mut subject = format!("{} {}", entity.kind.label_vi(), entity.raw.trim());
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
    let report = finding.warning_report();
    let (icon, verdict_text) = match (finding.verdict, report) {
        (Verdict::Verified, Some(report)) => ("⛔", verified_text(report)),
        (Verdict::Reported, Some(report)) => (
            "⚠️",
            format!("đã bị báo cáo lừa đảo {} lần, gần đây", report.report_count),
        ),
        (Verdict::LowConfidence, Some(report)) => (
            "❗",
            if report.report_count > 1 {
                format!(
                    "có {} báo cáo lừa đảo nhưng đã cũ, chưa xác minh",
                    report.report_count
                )
            } else {
                "có 1 báo cáo lừa đảo, chưa xác minh".to_string()
            },
        ),
        _ => return format!("• {subject}: chưa có báo cáo."),
    };
    let mut line = format!("{icon} {subject}: {verdict_text}");
    if let Some(report) = report {
        line.push_str(&report_details(report));
    }
    if let Some((kind, value)) = &finding.matched {
        let via = match (entity.kind, kind) {
            (EntityKind::Domain, EntityKind::Domain) => format!(" (theo tên miền gốc {value})"),
            (EntityKind::Phone, EntityKind::BankAccount) => {
                " (số này bị báo cáo dưới dạng số tài khoản)".to_string()
            }
            (EntityKind::BankAccount, EntityKind::Phone) => {
                " (số này bị báo cáo dưới dạng số điện thoại)".to_string()
            }
            _ => String::new(),
        };
        line.push_str(&via);
    }
    line.push('.');
    line
}

fn verified_text(report: &ReportSummary) -> String {
    let mut text = "đã được xác minh là lừa đảo".to_string();
    if report.report_count > 1 {
        let _ = write!(text, " ({} báo cáo)", report.report_count);
    }
    text
}

/// Sent for "báo cáo" without a phone number, account or link.
pub const REPORT_USAGE: &str = "\
Để báo cáo lừa đảo, bạn hãy nhắn theo mẫu: báo cáo <số điện thoại, số tài khoản hoặc đường link> <mô tả ngắn>. Ví dụ: báo cáo 0912 345 678 giả danh công an đòi chuyển tiền.";

/// The answer to a user's report: thanks, what happens next, and the official channel.
#[must_use]
pub fn report_received(filed: &[(String, bool)]) -> String {
    let mut reply = String::from("🙏 Cảm ơn bạn đã báo cáo!");
    for (raw, new) in filed {
        let _ = write!(
            reply,
            "\n• {}: {}",
            raw.trim(),
            if *new {
                "đã ghi nhận, đang chờ quản trị viên xác minh."
            } else {
                "bạn đã báo cáo trước đó, báo cáo đang được xem xét."
            }
        );
    }
    reply.push_str("\n\nSau khi được xác minh, mình sẽ dùng báo cáo này để cảnh báo những người dùng khác. Bạn cũng nên báo cáo chính thức tại https://tinnhiemmang.vn để cơ quan chức năng xử lý.");
    reply
}

/// Templated answer for when the language model is not configured or fails.
/// Deterministic: the same text always gets the same answer.
#[must_use]
pub fn fallback_answer(user_text: &str) -> String {
    let normalized = crate::domain::nfc(user_text.trim());
    let variants = FALLBACK_OPENINGS.len() as u64;
    let index = usize::try_from(fnv1a(normalized.as_bytes()) % variants).unwrap_or(0);
    let opening = FALLBACK_OPENINGS
        .get(index)
        .copied()
        .unwrap_or(FALLBACK_OPENINGS[0]);
    format!("{opening}\n\n{GENERAL_ADVICE}")
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

/// 64-bit FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::Entity;
    use crate::scam::EntityKind;
    use chrono::TimeZone;
    use chrono::{DateTime, Utc};
    use unicode_normalization::UnicodeNormalization;

    fn is_nfc(s: &str) -> bool {
        s.nfc().collect::<String>() == s
    }

    fn finding(
        kind: EntityKind,
        raw: &str,
        verdict: Verdict,
        report: Option<ReportSummary>,
    ) -> Finding {
        Finding {
            entity: Entity {
                kind,
                value: raw.to_string(),
                raw: raw.to_string(),
                span: 0..raw.len(),
                bank_bin: None,
                bank_name: None,
                carrier: None,
            },
            verdict,
            report,
            matched: None,
        }
    }

    fn outcome(findings: Vec<Finding>) -> CheckOutcome {
        CheckOutcome {
            findings,
            signals: Vec::new(),
        }
    }

    fn report(
        count: i64,
        category: &str,
        verified: bool,
        last: Option<DateTime<Utc>>,
    ) -> ReportSummary {
        ReportSummary {
            report_count: count,
            category: category.to_string(),
            verified,
            first_reported: last,
            last_reported: last,
            sources: vec!["test".into()],
            bank_bin: None,
        }
    }

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("valid test date")
    }

    #[test]
    fn constants_are_nfc_and_non_empty() {
        for text in [
            HELP,
            WELCOME,
            UNSUPPORTED_MEDIA,
            RATE_LIMITED,
            ERROR_APOLOGY,
            NOTHING_FOUND,
            NO_REPORT_IS_NOT_SAFE,
            CLOSING_ADVICE,
            GENERAL_ADVICE,
            LIMITED_ANSWER,
        ]
        .into_iter()
        .chain(FALLBACK_OPENINGS.iter().copied())
        {
            assert!(!text.trim().is_empty());
            assert!(is_nfc(text), "not NFC: {text}");
        }
        for command in HELP_COMMANDS {
            assert!(is_nfc(command));
        }
    }

    #[test]
    fn help_covers_what_the_bot_does_and_where_to_report() {
        for needle in [
            "số điện thoại",
            "số tài khoản",
            "đường link",
            "/help",
            "OTP",
            "113",
            "tinnhiemmang.vn",
            "chongluadao.vn",
            "dán",
        ] {
            assert!(HELP.contains(needle), "HELP lacks {needle:?}");
        }
    }

    #[test]
    fn welcome_points_to_help() {
        assert!(WELCOME.contains("/help"));
        assert!(WELCOME.chars().count() < HELP.chars().count() / 2);
    }

    #[test]
    fn media_and_error_texts_say_what_to_do() {
        assert!(UNSUPPORTED_MEDIA.contains("hình ảnh"));
        assert!(UNSUPPORTED_MEDIA.contains("đường link"));
        assert!(ERROR_APOLOGY.starts_with("Xin lỗi"));
        assert!(ERROR_APOLOGY.contains("thử lại"));
    }

    #[test]
    fn help_command_variants() {
        for text in [
            "/help",
            "help",
            "HELP",
            "  /Help  ",
            "hướng dẫn",
            "Hướng Dẫn",
            "HƯỚNG DẪN",
            "hướng   dẫn",
            "\thướng dẫn\n",
            "hu\u{031B}o\u{031B}\u{0301}ng da\u{0302}\u{0303}n",
            "huong dan",
            "Huong Dan",
            "/start",
            "/START",
            "trợ giúp",
            "Trợ Giúp",
            "tro giup",
            "help!",
            "hướng dẫn?",
        ] {
            assert!(is_help_command(text), "{text:?}");
        }
    }

    #[test]
    fn non_help_texts() {
        for text in [
            "",
            "   ",
            "help me",
            "/helpme",
            "hướng dẫn chuyển tiền",
            "cứu",
            "hướngdẫn",
            "/ help",
            "start",
        ] {
            assert!(!is_help_command(text), "{text:?}");
        }
    }

    #[test]
    fn reply_without_findings_asks_for_details() {
        let reply = scam_reply(&CheckOutcome::default());
        assert_eq!(reply, NOTHING_FOUND);
        assert!(!reply.contains("⚠️"));
    }

    #[test]
    fn reply_when_nothing_is_reported_never_says_safe() {
        let reply = scam_reply(&outcome(vec![
            finding(EntityKind::Phone, "0912 345 678", Verdict::NoReports, None),
            finding(
                EntityKind::Domain,
                "example.vn",
                Verdict::NoReports,
                Some(report(1, "", false, None)),
            ),
        ]));
        assert!(
            reply.starts_with("🔎 Mình đã kiểm tra 2 thông tin: chưa có báo cáo"),
            "{reply}"
        );
        assert!(!reply.contains("⚠️"), "{reply}");
        assert!(reply.contains("• Số điện thoại 0912 345 678: chưa có báo cáo."));
        assert!(reply.contains("• Trang web example.vn: chưa có báo cáo."));
        assert!(reply.contains("không có báo cáo ≠ an toàn"));
        assert!(reply.contains("https://tinnhiemmang.vn"));
        assert!(!reply.contains(" là an toàn"), "{reply}");
        assert!(reply.ends_with(CLOSING_ADVICE));
        assert!(is_nfc(&reply));
    }

    #[test]
    fn reply_for_a_verified_account_shows_it_as_written_with_its_bank() {
        let mut found = finding(
            EntityKind::BankAccount,
            "1903 6688 8888",
            Verdict::Verified,
            Some(report(
                3,
                "giả danh ngân hàng",
                true,
                Some(utc(2024, 5, 12, 3)),
            )),
        );
        found.entity.bank_name = Some("Techcombank");
        let reply = scam_reply(&outcome(vec![found]));
        let lines: Vec<&str> = reply.lines().collect();
        assert_eq!(
            lines[0],
            "⚠️ CẢNH BÁO: thông tin bạn gửi đã bị báo cáo lừa đảo!"
        );
        assert_eq!(
            lines[2],
            "⛔ Số tài khoản 1903 6688 8888 (Techcombank): đã được xác minh là lừa đảo (3 báo cáo); loại: giả danh ngân hàng; báo cáo gần nhất: 12/05/2024."
        );
        // Everything was reported, so the "no report" reminder is not needed.
        assert!(!reply.contains("≠"));
        assert!(reply.contains("OTP"));
        assert!(reply.ends_with(CLOSING_ADVICE));
    }

    #[test]
    fn reply_mixes_verdicts_in_order() {
        let mut via_parent = finding(
            EntityKind::Domain,
            "login.vcb-xacminh.com",
            Verdict::LowConfidence,
            Some(report(1, "lừa đảo", false, None)),
        );
        via_parent.matched = Some((EntityKind::Domain, "vcb-xacminh.com".into()));
        let reply = scam_reply(&outcome(vec![
            finding(
                EntityKind::Phone,
                "0912.345.678",
                Verdict::Reported,
                Some(report(4, "", false, None)),
            ),
            finding(
                EntityKind::BankAccount,
                "0912345678",
                Verdict::NoReports,
                None,
            ),
            via_parent,
        ]));
        assert!(reply.starts_with("⚠️ CẢNH BÁO: 2/3 thông tin"), "{reply}");
        assert!(
            reply.contains("⚠️ Số điện thoại 0912.345.678: đã bị báo cáo lừa đảo 4 lần, gần đây."),
            "{reply}"
        );
        assert!(reply.contains("• Số tài khoản 0912345678: chưa có báo cáo."));
        assert!(reply.contains("❗ Trang web login.vcb-xacminh.com: có 1 báo cáo lừa đảo, chưa xác minh; loại: lừa đảo (theo tên miền gốc vcb-xacminh.com)."), "{reply}");
        assert!(reply.contains("không có báo cáo ≠ an toàn"));
        let phone = reply.find("0912.345.678").expect("phone listed");
        let domain = reply.find("login.vcb-xacminh.com").expect("domain listed");
        assert!(phone < domain);
    }

    #[test]
    fn signals_alone_warn_without_claiming_a_report() {
        let reply = scam_reply(&CheckOutcome {
            findings: vec![],
            signals: crate::scam::signals::find_signals(
                "Đọc mã OTP cho chị, bên công an thông báo",
            ),
        });
        assert!(reply.starts_with("🚩 CẢNH GIÁC"), "{reply}");
        assert!(reply.contains("đòi mã OTP"), "{reply}");
        assert!(reply.contains("giả danh công an"), "{reply}");
        assert!(!reply.contains("đã bị báo cáo"));
        assert!(is_nfc(&reply));
    }

    #[test]
    fn report_dates_are_shown_in_vietnam_time() {
        // 20:00 UTC on 12 May is 03:00 on 13 May in Vietnam.
        let reply = scam_reply(&outcome(vec![finding(
            EntityKind::Phone,
            "0912345678",
            Verdict::Reported,
            Some(report(2, "", false, Some(utc(2024, 5, 12, 20)))),
        )]));
        assert!(reply.contains("báo cáo gần nhất: 13/05/2024."), "{reply}");
        assert!(!reply.contains("loại:"));
    }

    #[test]
    fn fallback_is_deterministic_and_varies() {
        let texts = [
            "xin chào",
            "làm sao để vay tiền?",
            "bạn là ai",
            "cho mình hỏi",
            "alo",
            "ok",
            "cảm ơn",
        ];
        let answers: Vec<String> = texts.iter().map(|t| fallback_answer(t)).collect();
        for (text, answer) in texts.iter().zip(&answers) {
            assert_eq!(&fallback_answer(text), answer);
            assert!(answer.contains("OTP"));
            assert!(answer.contains("/help"));
            assert!(answer.contains("số tài khoản"));
            assert!(is_nfc(answer));
        }
        let distinct: std::collections::HashSet<&String> = answers.iter().collect();
        assert!(distinct.len() >= 2, "all texts got the same variant");
    }

    #[test]
    fn fallback_ignores_normalisation_form_and_padding() {
        assert_eq!(fallback_answer("  xin chào "), fallback_answer("xin chào"));
        assert_eq!(fallback_answer("cho\u{0300}"), fallback_answer("chò"));
    }

    #[test]
    fn fallback_does_not_echo_the_user_text() {
        let answer = fallback_answer("STK 190366888888 có lừa đảo không?");
        assert!(!answer.contains("190366888888"));
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
