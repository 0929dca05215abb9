//! Vietnamese reply texts. Every user-facing string is NFC with full diacritics.
//!
//! Replies show entity values to the user who sent them; callers must still
//! never log a reply built by [`scam_reply`], since it contains those values.

use std::fmt::Write as _;

use unicode_normalization::UnicodeNormalization;

use crate::scam::{Finding, ReportSummary, vietnam_date};

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

/// Sent when handling a message failed unexpectedly.
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
const NOTHING_FOUND: &str = "\
Mình chưa thấy số điện thoại, số tài khoản hay đường link nào trong tin nhắn này. Bạn hãy dán nguyên văn tin nhắn đáng ngờ (có số điện thoại, số tài khoản hoặc đường link) để mình kiểm tra nhé.";

const NO_REPORT_IS_NOT_SAFE: &str = "\
ℹ️ Lưu ý: không có báo cáo ≠ an toàn. Kẻ gian thường xuyên đổi số điện thoại, tài khoản và đường link mới.";

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
    let lowered: String = text.to_lowercase().nfc().collect();
    let collapsed = lowered.split_whitespace().collect::<Vec<_>>().join(" ");
    let command = collapsed.trim_end_matches(['!', '?', '.']).trim_end();
    HELP_COMMANDS.contains(&command)
}

/// The reply to a checked message: a summary line (⚠️ when anything was
/// reported), one verdict per entity, a reminder that no report does not mean
/// safe, and closing advice. Values are shown unmasked, as the user sent them.
#[must_use]
pub fn scam_reply(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return NOTHING_FOUND.to_string();
    }
    let reported = findings
        .iter()
        .filter(|f| f.warning_report().is_some())
        .count();
    let total = findings.len();

    let mut reply = if reported == 0 {
        format!("🔎 Mình đã kiểm tra {total} thông tin: chưa có báo cáo lừa đảo nào.")
    } else if total == 1 {
        "⚠️ CẢNH BÁO: thông tin bạn gửi đã bị báo cáo lừa đảo!".to_string()
    } else {
        format!("⚠️ CẢNH BÁO: {reported}/{total} thông tin bạn gửi đã bị báo cáo lừa đảo!")
    };
    reply.push('\n');

    for finding in findings {
        let label = finding.entity.kind.label_vi();
        let value = &finding.entity.value;
        match finding.warning_report() {
            Some(report) => {
                let _ = write!(reply, "\n⚠️ {label} {value}: {}", describe_report(report));
            }
            None => {
                let _ = write!(reply, "\n• {label} {value}: chưa có báo cáo.");
            }
        }
    }

    if reported < total {
        reply.push_str("\n\n");
        reply.push_str(NO_REPORT_IS_NOT_SAFE);
    }
    reply.push_str("\n\n");
    reply.push_str(CLOSING_ADVICE);
    reply
}

/// Templated answer for when the language model is not configured or fails.
/// Deterministic: the same text always gets the same answer.
#[must_use]
pub fn fallback_answer(user_text: &str) -> String {
    let normalized: String = user_text.trim().nfc().collect();
    let variants = FALLBACK_OPENINGS.len() as u64;
    let index = usize::try_from(fnv1a(normalized.as_bytes()) % variants).unwrap_or(0);
    let opening = FALLBACK_OPENINGS
        .get(index)
        .copied()
        .unwrap_or(FALLBACK_OPENINGS[0]);
    format!("{opening}\n\n{GENERAL_ADVICE}")
}

fn describe_report(report: &ReportSummary) -> String {
    let mut details = Vec::new();
    details.push(if report.report_count > 0 {
        format!("đã bị báo cáo {} lần", report.report_count)
    } else {
        "có trong danh sách cảnh báo".to_string()
    });
    let category = report.category.trim();
    if !category.is_empty() {
        details.push(format!("loại: {category}"));
    }
    details.push(
        if report.verified {
            "nguồn đã xác minh"
        } else {
            "báo cáo từ cộng đồng, chưa xác minh"
        }
        .to_string(),
    );
    if let Some(date) = report.last_reported {
        details.push(format!("báo cáo gần nhất: {}", vietnam_date(date)));
    }
    let mut text = details.join("; ");
    text.push('.');
    text
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

    fn is_nfc(s: &str) -> bool {
        s.nfc().collect::<String>() == s
    }

    fn finding(kind: EntityKind, value: &str, report: Option<ReportSummary>) -> Finding {
        Finding {
            entity: Entity {
                kind,
                value: value.to_string(),
                span: 0..value.len(),
            },
            report,
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
            last_reported: last,
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
        let reply = scam_reply(&[]);
        assert_eq!(reply, NOTHING_FOUND);
        assert!(!reply.contains("⚠️"));
    }

    #[test]
    fn reply_when_nothing_is_reported() {
        let reply = scam_reply(&[
            finding(EntityKind::Phone, "+84912345678", None),
            finding(
                EntityKind::Domain,
                "example.vn",
                Some(report(0, "", false, None)),
            ),
        ]);
        assert!(
            reply.starts_with("🔎 Mình đã kiểm tra 2 thông tin: chưa có báo cáo"),
            "{reply}"
        );
        assert!(!reply.contains("⚠️"), "{reply}");
        assert!(reply.contains("• Số điện thoại +84912345678: chưa có báo cáo."));
        assert!(reply.contains("• Trang web example.vn: chưa có báo cáo."));
        assert!(reply.contains("không có báo cáo ≠ an toàn"));
        assert!(reply.ends_with(CLOSING_ADVICE));
        assert!(is_nfc(&reply));
    }

    #[test]
    fn reply_for_a_reported_account() {
        let reply = scam_reply(&[finding(
            EntityKind::BankAccount,
            "190366888888",
            Some(report(
                3,
                "giả danh ngân hàng",
                true,
                Some(utc(2024, 5, 12, 3)),
            )),
        )]);
        let lines: Vec<&str> = reply.lines().collect();
        assert_eq!(
            lines[0],
            "⚠️ CẢNH BÁO: thông tin bạn gửi đã bị báo cáo lừa đảo!"
        );
        assert_eq!(
            lines[2],
            "⚠️ Số tài khoản 190366888888: đã bị báo cáo 3 lần; loại: giả danh ngân hàng; nguồn đã xác minh; báo cáo gần nhất: 12/05/2024."
        );
        // Everything was reported, so the "no report" reminder is not needed.
        assert!(!reply.contains("≠"));
        assert!(reply.contains("OTP"));
        assert!(reply.ends_with(CLOSING_ADVICE));
    }

    #[test]
    fn reply_mixes_reported_and_unreported() {
        let reply = scam_reply(&[
            finding(
                EntityKind::Phone,
                "+84912345678",
                Some(report(1, "", false, None)),
            ),
            finding(EntityKind::BankAccount, "0912345678", None),
            finding(
                EntityKind::Domain,
                "vietcombank-xacminh.com",
                Some(report(0, "lừa đảo", true, None)),
            ),
        ]);
        assert!(reply.starts_with("⚠️ CẢNH BÁO: 2/3 thông tin"), "{reply}");
        assert!(reply.contains("⚠️ Số điện thoại +84912345678: đã bị báo cáo 1 lần; báo cáo từ cộng đồng, chưa xác minh."));
        assert!(reply.contains("• Số tài khoản 0912345678: chưa có báo cáo."));
        assert!(reply.contains("⚠️ Trang web vietcombank-xacminh.com: có trong danh sách cảnh báo; loại: lừa đảo; nguồn đã xác minh."));
        assert!(reply.contains("không có báo cáo ≠ an toàn"));
        // Entities keep the order they were given in.
        let phone = reply.find("+84912345678").expect("phone listed");
        let domain = reply
            .find("vietcombank-xacminh.com")
            .expect("domain listed");
        assert!(phone < domain);
    }

    #[test]
    fn negative_count_without_verification_counts_as_unreported() {
        let reply = scam_reply(&[finding(
            EntityKind::Phone,
            "+84912345678",
            Some(report(-1, "x", false, None)),
        )]);
        assert!(reply.contains("chưa có báo cáo."));
        assert!(!reply.contains("⚠️"));
    }

    #[test]
    fn report_dates_are_shown_in_vietnam_time() {
        // 20:00 UTC on 12 May is 03:00 on 13 May in Vietnam.
        let reply = scam_reply(&[finding(
            EntityKind::Phone,
            "+84912345678",
            Some(report(2, "", false, Some(utc(2024, 5, 12, 20)))),
        )]);
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
