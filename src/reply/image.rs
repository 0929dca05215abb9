//! Replies about an image a user sent: first what was read from it, quoting the lines that matter, then
//! the verdict; or, when nothing could be read, why and what to do instead. Pure.

use crate::media::ImageReading;
use crate::net::FetchError;
use crate::scam::check::CheckOutcome;

use super::verdict;

/// Lines of the picture's text quoted back at most.
const QUOTED_LINES: usize = 4;
/// A quoted line longer than this is cut, on a char boundary.
const LINE_CHARS: usize = 110;

/// Over the user's daily image budget.
pub const IMAGE_BUDGET: &str = "\
Hôm nay bạn đã gửi nhiều ảnh, mình tạm dừng đọc ảnh đến ngày mai. Bạn vẫn có thể gõ hoặc dán nội dung tin nhắn, \
số điện thoại, số tài khoản hay đường link cần kiểm tra, mình sẽ xem ngay.";

/// What to tell a user whose image was read and checked: what was read, then the verdict.
#[must_use]
pub fn image_reply(reading: &ImageReading, check: &CheckOutcome) -> String {
    format!(
        "{}\n\n{}",
        read_back(reading, check),
        verdict::scam_reply(check)
    )
}

/// "Mình đọc được trong ảnh: …": the QR codes, then the lines holding what the check found (or the first
/// lines when it found nothing), quoted as read.
#[must_use]
pub fn read_back(reading: &ImageReading, check: &CheckOutcome) -> String {
    let mut out = String::from("📷 Mình đọc được trong ảnh:");
    for payload in &reading.qr {
        if !crate::scam::vietqr::find_payloads(payload).is_empty() {
            out.push_str("\n• Một mã QR chuyển khoản (VietQR).");
        } else {
            out.push_str(&format!("\n• Một mã QR: “{}”", cut(payload.trim())));
        }
    }
    if let Some(text) = reading.ocr_text() {
        for line in key_lines(text, check) {
            out.push_str(&format!("\n• “{}”", cut(line)));
        }
    }
    out
}

/// The lines of `text` that hold an entity or a reason's evidence, in order; the first lines when none do.
fn key_lines<'a>(text: &'a str, check: &CheckOutcome) -> Vec<&'a str> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        // Three letters or digits at least: OCR reads stray marks in icons and codes as single letters.
        .filter(|l| l.chars().filter(|c| c.is_alphanumeric()).count() >= 3)
        .collect();
    let evidence: Vec<&str> = check
        .findings
        .iter()
        .map(|f| f.entity.raw.as_str())
        .chain(check.reasons.iter().map(|r| r.evidence.as_str()))
        .filter(|e| !e.trim().is_empty())
        .collect();
    let holding: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| {
            evidence
                .iter()
                .any(|e| line.contains(e) || e.contains(line))
        })
        .take(QUOTED_LINES)
        .collect();
    if holding.is_empty() {
        lines.into_iter().take(QUOTED_LINES).collect()
    } else {
        holding
    }
}

fn cut(line: &str) -> String {
    if line.chars().count() <= LINE_CHARS {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(LINE_CHARS).collect();
    cut.push('…');
    cut
}

/// Why an image could not be read, and what to do instead.
#[must_use]
pub fn unreadable(error: FetchError) -> &'static str {
    match error {
        FetchError::TooLarge | FetchError::TooManyPixels => {
            "Ảnh này quá lớn nên mình chưa đọc được. Bạn hãy chụp màn hình phần tin nhắn cần kiểm tra rồi gửi lại, \
             hoặc gõ, dán nội dung, số điện thoại, số tài khoản hay đường link vào đây nhé."
        }
        FetchError::NotImage | FetchError::BadImage => {
            "Mình không mở được tệp này như một bức ảnh (có thể ảnh bị lỗi hoặc không phải ảnh). Bạn hãy chụp \
             lại màn hình rồi gửi, hoặc gõ, dán nội dung cần kiểm tra vào đây nhé."
        }
        FetchError::Timeout
        | FetchError::Unreachable
        | FetchError::HttpStatus
        | FetchError::TooManyRedirects => {
            "Mình chưa tải được ảnh bạn gửi, có thể do đường truyền. Bạn gửi lại ảnh giúp mình sau ít phút, \
             hoặc gõ, dán nội dung cần kiểm tra vào đây nhé."
        }
        FetchError::BadUrl | FetchError::ForbiddenScheme | FetchError::ForbiddenAddress => {
            "Mình không tải được ảnh từ địa chỉ này vì lý do bảo mật. Bạn hãy gửi ảnh trực tiếp trong khung chat, \
             hoặc gõ, dán nội dung cần kiểm tra vào đây nhé."
        }
    }
}

/// Nothing legible in the image (no QR code, no text); `ocr` is whether text could have been read.
#[must_use]
pub fn nothing_read(ocr: bool) -> &'static str {
    if ocr {
        "Mình không đọc được chữ hay mã QR nào trong ảnh này. Bạn hãy chụp rõ hơn, phóng to phần tin nhắn, \
         hoặc gõ, dán nội dung, số điện thoại, số tài khoản hay đường link cần kiểm tra vào đây nhé."
    } else {
        "Mình không thấy mã QR nào trong ảnh này, và hiện mình chưa đọc được chữ trong ảnh. Bạn hãy gõ hoặc dán \
         nội dung tin nhắn, số điện thoại, số tài khoản hay đường link cần kiểm tra vào đây nhé."
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::media::OcrOutcome;
    use crate::scam::check::check;
    use crate::scam::index::ReportIndex;

    fn read(qr: &[&str], text: &str) -> (ImageReading, CheckOutcome) {
        let reading = ImageReading {
            sha256: "0".repeat(64),
            qr: qr.iter().map(|s| s.to_string()).collect(),
            ocr: OcrOutcome::Text(text.to_string()),
        };
        let outcome = check(&ReportIndex::new(), &reading.text(), Utc::now());
        (reading, outcome)
    }

    #[test]
    fn the_reply_quotes_the_lines_that_matter_then_gives_the_verdict() {
        let text = "Tin nhắn\nHôm qua 20:15\nVietcombank thông báo tài khoản bị khóa\nXác minh tại vietcombank-xacminh.top ngay\nOK";
        let (reading, outcome) = read(&[], text);
        let reply = image_reply(&reading, &outcome);
        assert!(reply.starts_with("📷 Mình đọc được trong ảnh:"), "{reply}");
        assert!(
            reply.contains("“Xác minh tại vietcombank-xacminh.top ngay”"),
            "{reply}"
        );
        assert!(!reply.contains("“Hôm qua 20:15”"), "{reply}");
        let verdict_at = reply
            .find('🚨')
            .or_else(|| reply.find('⚠'))
            .expect("a warning");
        assert!(verdict_at > reply.find("vietcombank-xacminh.top").unwrap());
        assert!(!reply.to_lowercase().contains("an toàn"));
    }

    #[test]
    fn without_findings_the_first_lines_are_quoted_and_long_lines_cut() {
        let long = "a".repeat(300);
        let (reading, outcome) = read(&[], &format!("Chào bạn\n{long}\n\n---\nHẹn gặp lại"));
        let back = read_back(&reading, &outcome);
        assert!(back.contains("“Chào bạn”"), "{back}");
        assert!(back.contains('…'));
        assert!(!back.contains("---"));
        assert!(back.lines().count() <= 1 + QUOTED_LINES);
    }

    #[test]
    fn qr_codes_are_named_and_a_vietqr_one_is_not_dumped_raw() {
        let (reading, outcome) = read(&["https://bit.ly/abc"], "");
        let back = read_back(&reading, &outcome);
        assert!(back.contains("Một mã QR: “https://bit.ly/abc”"), "{back}");
    }

    #[test]
    fn every_failure_has_a_polite_reply_without_the_word_safe() {
        for error in FetchError::ALL {
            let text = unreadable(error);
            assert!(text.contains("nhé"), "{error:?}");
            assert!(!text.to_lowercase().contains("an toàn"), "{error:?}");
        }
        for text in [nothing_read(true), nothing_read(false), IMAGE_BUDGET] {
            assert!(!text.to_lowercase().contains("an toàn"));
            assert!(unicode_normalization::is_nfc(text));
        }
    }
}
