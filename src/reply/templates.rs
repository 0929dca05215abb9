//! Vietnamese reply texts. Every user-facing string is NFC with full diacritics. The verdict on a checked
//! message is in `verdict`.

use std::fmt::Write as _;

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

/// Sent for stickers, GIFs, audio, video, files, locations and other messages that are neither text nor a
/// picture.
pub const UNSUPPORTED_MEDIA: &str = "\
Xin lỗi, mình chỉ đọc được tin nhắn chữ và ảnh chụp (ảnh màn hình, ảnh mã QR), chưa xem được nhãn dán, ảnh động, âm thanh, video, tệp hay vị trí. Bạn hãy gửi ảnh chụp màn hình, hoặc gõ, dán nội dung tin nhắn, số điện thoại, số tài khoản hoặc đường link cần kiểm tra nhé.";

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

/// Sent when a user asks to stop campaigns ("dừng nhận tin"); scam checks go on as before.
pub const ALERTS_STOPPED: &str = "\
Đã dừng gửi tin cảnh báo lừa đảo cho bạn. Bạn vẫn gửi tin nhắn đáng ngờ vào đây để mình kiểm tra như bình thường.

Muốn nhận lại tin cảnh báo, bạn nhắn /start.";

/// Put before [`HELP`] when a user sends /start: they get campaigns (again).
pub const ALERTS_STARTED: &str = "\
🔔 Bạn sẽ nhận tin cảnh báo các kiểu lừa đảo mới. Muốn dừng, bạn nhắn \"dừng nhận tin\".";

/// Closes every campaign message, so each one says how to stop them.
pub const CAMPAIGN_FOOTER: &str =
    "\n\nKhông muốn nhận tin cảnh báo này nữa? Bạn nhắn \"dừng nhận tin\".";

/// Texts that ask for [`HELP`], compared after NFC, lowercasing and whitespace collapsing. ("/start" also
/// shows it, after turning campaigns back on: `campaigns::subscription`.)
const HELP_COMMANDS: &[&str] = &[
    "/help",
    "help",
    "hướng dẫn",
    "huong dan",
    "trợ giúp",
    "tro giup",
];

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

/// True for `/help`, `help`, `hướng dẫn`, `huong dan`, `trợ giúp`
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
    reply.push_str("\n\nKhi có thêm người khác cũng báo cáo, hoặc khi quản trị viên xác minh, mình sẽ dùng báo cáo này để cảnh báo những người dùng khác. Bạn cũng nên báo cáo chính thức tại https://tinnhiemmang.vn để cơ quan chức năng xử lý.");
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
    use unicode_normalization::UnicodeNormalization;

    fn is_nfc(s: &str) -> bool {
        s.nfc().collect::<String>() == s
    }

    #[test]
    fn constants_are_nfc_and_non_empty() {
        for text in [
            HELP,
            WELCOME,
            UNSUPPORTED_MEDIA,
            RATE_LIMITED,
            ERROR_APOLOGY,
            GENERAL_ADVICE,
            LIMITED_ANSWER,
            ALERTS_STOPPED,
            ALERTS_STARTED,
            CAMPAIGN_FOOTER,
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
        assert!(UNSUPPORTED_MEDIA.contains("ảnh chụp màn hình"));
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
