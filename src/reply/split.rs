//! Splits a long reply into several messages that each fit a length limit.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::char::is_combining_mark;

/// A paragraph or line break that would leave a part shorter than this share
/// of the limit is skipped in favour of a finer break that fills the message
/// better; otherwise a short heading could become a message of its own.
const MIN_FILL_PERCENT: usize = 30;

/// A blank line, possibly holding spaces.
static PARAGRAPH_BREAK_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\n[^\S\n]*\n").expect("paragraph pattern is valid"));

/// Sentence-ending punctuation, optional closing quotes or brackets, then whitespace.
static SENTENCE_END_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"[.!?…]+["'”’)\]»]*\s"#).expect("sentence pattern is valid"));

/// Splits `text` into trimmed, non-empty parts of at most `max_chars` Unicode
/// scalar values each (counted after NFC, and the parts are NFC too).
///
/// Cuts prefer, in order: paragraph breaks, line breaks, sentence ends
/// (`.`, `!`, `?`, `…` followed by whitespace), any whitespace, and only then a
/// hard cut between two characters. Only whitespace at the cut points is
/// dropped, so the parts keep all other content in order. Text that fits is
/// returned as one part; empty or whitespace-only text as no part. A
/// `max_chars` of 0 is treated as 1.
#[must_use]
pub fn split_message(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(1);
    let text = crate::domain::nfc(text);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some(limit) = byte_index_of_char(rest, max_chars) else {
            parts.push(rest.to_string());
            break;
        };
        let cut = find_cut(rest, limit, max_chars);
        let part = rest[..cut].trim_end();
        if !part.is_empty() {
            parts.push(part.to_string());
        }
        rest = rest[cut..].trim_start();
    }
    parts
}

/// Byte offset of the char numbered `n` (0-based), or `None` if `text` has no more than `n` chars.
fn byte_index_of_char(text: &str, n: usize) -> Option<usize> {
    text.char_indices().nth(n).map(|(i, _)| i)
}

/// Where to cut `rest`, which is longer than `max_chars`. `limit` is the byte
/// offset of char number `max_chars`: cutting there or earlier keeps the part
/// within the limit. `rest` starts with a non-whitespace char, so every cut
/// returned is past it and the part is never empty.
fn find_cut(rest: &str, limit: usize, max_chars: usize) -> usize {
    let min_fill_chars = (max_chars * MIN_FILL_PERCENT / 100).max(1);
    let min_fill = byte_index_of_char(rest, min_fill_chars)
        .unwrap_or(limit)
        .min(limit);
    // The char at `limit` may itself be the break (e.g. a space right after a full part).
    let window_end = limit + rest[limit..].chars().next().map_or(0, char::len_utf8);
    let window = &rest[..window_end];
    let well_filled = |cut: &usize| (min_fill..=limit).contains(cut);

    let paragraph = PARAGRAPH_BREAK_RE
        .find_iter(window)
        .map(|m| m.start())
        .filter(well_filled)
        .last();
    let line = || {
        window
            .rmatch_indices('\n')
            .map(|(i, _)| i)
            .find(well_filled)
    };
    let sentence = || {
        SENTENCE_END_RE
            .find_iter(window)
            .filter_map(|m| {
                m.as_str()
                    .chars()
                    .next_back()
                    .map(|ws| m.end() - ws.len_utf8())
            })
            .filter(well_filled)
            .last()
    };
    let whitespace = || {
        window
            .char_indices()
            .rev()
            .find(|&(i, c)| i > 0 && c.is_whitespace())
            .map(|(i, _)| i)
    };
    paragraph
        .or_else(line)
        .or_else(sentence)
        .or_else(whitespace)
        .unwrap_or_else(|| hard_cut(rest, limit))
}

/// Cuts at `limit`, moved back so a combining mark stays with its base letter
/// (NFC leaves some marks uncomposed), but never back to the very start.
fn hard_cut(rest: &str, limit: usize) -> usize {
    let mut cut = limit;
    while let Some(c) = rest[cut..].chars().next() {
        let previous = rest[..cut].char_indices().next_back().map(|(i, _)| i);
        match previous {
            Some(prev) if prev > 0 && is_combining_mark(c) => cut = prev,
            _ => break,
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    fn non_whitespace(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn assert_invariants(text: &str, max: usize) {
        let parts = split_message(text, max);
        let nfc: String = text.nfc().collect();
        for part in &parts {
            assert!(!part.is_empty(), "empty part at max {max}");
            assert_eq!(part.trim(), part, "untrimmed part at max {max}");
            assert!(
                chars(part) <= max.max(1),
                "part of {} chars > {max}: {part:?}",
                chars(part)
            );
        }
        assert_eq!(
            non_whitespace(&parts.concat()),
            non_whitespace(&nfc),
            "content changed at max {max}"
        );
        if !nfc.trim().is_empty() && chars(nfc.trim()) <= max {
            assert_eq!(parts, vec![nfc.trim().to_string()]);
        }
    }

    const LONG_VIETNAMESE: &str = "⚠️ CẢNH BÁO: số tài khoản bạn gửi đã bị báo cáo lừa đảo!\n\n\
        Kẻ gian thường giả danh công an, ngân hàng hoặc nhân viên điện lực. Họ yêu cầu bạn chuyển tiền \
        để \"xác minh\" hoặc cài ứng dụng lạ… Đừng làm theo! Hãy gọi tổng đài in trên thẻ ngân hàng.\n\
        • Không cung cấp mã OTP cho bất kỳ ai.\n\
        • Không bấm vào đường link lạ.\n\n\
        Nếu đã lỡ chuyển tiền, hãy liên hệ ngay ngân hàng để yêu cầu phong tỏa và trình báo cơ quan công an gần nhất. \
        Việc nhẹ lương cao, trúng thưởng, vay vốn không cần thế chấp: đều là những kịch bản lừa đảo quen thuộc?   \
        Hãy cẩn thận với mọi yêu cầu chuyển khoản trước.";

    #[test]
    fn short_text_is_one_trimmed_part() {
        assert_eq!(split_message("  Xin chào!  ", 100), vec!["Xin chào!"]);
        assert_eq!(split_message("abc", 3), vec!["abc"]);
    }

    #[test]
    fn empty_or_blank_text_gives_no_parts() {
        assert!(split_message("", 10).is_empty());
        assert!(split_message(" \n\t \n ", 10).is_empty());
    }

    #[test]
    fn length_is_counted_after_nfc() {
        // 10 × "ế" in NFD is 30 scalar values but 10 after NFC.
        let decomposed = "e\u{0302}\u{0301}".repeat(10);
        assert_eq!(split_message(&decomposed, 10), vec!["ế".repeat(10)]);
    }

    #[test]
    fn prefers_paragraph_break() {
        let text = "Đoạn một có câu. Và câu nữa.\n\nĐoạn hai. Còn tiếp.";
        assert_eq!(
            split_message(text, 40),
            vec!["Đoạn một có câu. Và câu nữa.", "Đoạn hai. Còn tiếp."]
        );
    }

    #[test]
    fn paragraph_break_with_spaces_on_the_blank_line() {
        assert_eq!(
            split_message("Một hai ba.\n   \nBốn năm sáu.", 15),
            vec!["Một hai ba.", "Bốn năm sáu."]
        );
    }

    #[test]
    fn prefers_line_break_over_sentence_end() {
        let text = "Dòng một. Vẫn dòng một\nDòng hai rất dài hơn";
        assert_eq!(
            split_message(text, 30),
            vec!["Dòng một. Vẫn dòng một", "Dòng hai rất dài hơn"]
        );
    }

    #[test]
    fn prefers_sentence_end_over_plain_space() {
        let text = "Câu thứ nhất rồi. Câu thứ hai khá dài đấy";
        assert_eq!(
            split_message(text, 30),
            vec!["Câu thứ nhất rồi.", "Câu thứ hai khá dài đấy"]
        );
        assert_eq!(
            split_message("Thật sao? Không thể nào tin được", 25),
            vec!["Thật sao?", "Không thể nào tin được"]
        );
        assert_eq!(
            split_message("Chờ chút… Mình kiểm tra đây nhé", 25),
            vec!["Chờ chút…", "Mình kiểm tra đây nhé"]
        );
        assert_eq!(
            split_message("Anh nói \"thôi.\" Rồi đi mất luôn", 20),
            vec!["Anh nói \"thôi.\"", "Rồi đi mất luôn"]
        );
    }

    #[test]
    fn dot_inside_a_token_is_not_a_sentence_end() {
        // "0912.345.678" must not be cut at its dots.
        let parts = split_message("Gọi số 0912.345.678 ngay", 20);
        assert_eq!(parts, vec!["Gọi số 0912.345.678", "ngay"]);
    }

    #[test]
    fn falls_back_to_whitespace() {
        assert_eq!(
            split_message("một hai ba bốn năm", 8),
            vec!["một hai", "ba bốn", "năm"]
        );
    }

    #[test]
    fn space_right_after_a_full_part_is_used() {
        assert_eq!(split_message("abcde fgh", 5), vec!["abcde", "fgh"]);
    }

    #[test]
    fn hard_cut_as_last_resort() {
        let link = format!("https://example.com/{}", "a".repeat(30));
        let parts = split_message(&link, 20);
        assert_eq!(
            parts,
            vec!["https://example.com/", "aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaa"]
        );
    }

    #[test]
    fn hard_cut_does_not_separate_a_combining_mark() {
        // U+0323 after "x" has no precomposed form, so it stays a separate scalar after NFC.
        let text = "abcx\u{0323}yz";
        let parts = split_message(text, 4);
        assert_eq!(parts, vec!["abc", "x\u{0323}yz"]);
    }

    #[test]
    fn short_heading_does_not_become_its_own_message() {
        let text = "Chú ý:\nMột hai ba bốn năm sáu bảy tám chín mười";
        let parts = split_message(text, 30);
        assert_eq!(parts[0], "Chú ý:\nMột hai ba bốn năm sáu");
    }

    #[test]
    fn zero_limit_is_treated_as_one() {
        assert_eq!(split_message("ab c", 0), vec!["a", "b", "c"]);
    }

    #[test]
    fn invariants_hold_for_every_limit_on_long_vietnamese_text() {
        for max in 1..=chars(LONG_VIETNAMESE) + 5 {
            assert_invariants(LONG_VIETNAMESE, max);
        }
    }

    #[test]
    fn invariants_hold_on_decomposed_text_and_odd_whitespace() {
        let decomposed: String = LONG_VIETNAMESE.nfd().collect();
        let odd = format!("\n\n  {}\r\n\r\n\t{}  \n", decomposed, "x".repeat(57));
        for max in [1, 2, 3, 7, 16, 50, 120, 999] {
            assert_invariants(&odd, max);
        }
    }

    #[test]
    fn realistic_limit_splits_into_few_parts() {
        let text = [LONG_VIETNAMESE; 5].join("\n\n");
        let parts = split_message(&text, 2000);
        assert!(parts.len() >= chars(&text).div_ceil(2000));
        assert!(parts.len() <= chars(&text).div_ceil(2000) + 1);
        assert!(parts.iter().all(|p| chars(p) <= 2000));
        // Every cut fell on a paragraph break, so only those breaks were dropped.
        assert_eq!(parts.join("\n\n"), text);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;

    /// Text built from what the splitter reacts to: words, every kind of break, sentence ends, combining
    /// marks, decomposed letters, wide characters.
    fn reply_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[a-zA-Zà-ỹ0-9]{1,12}",
            3 => Just(" ".to_string()),
            1 => Just("\n".to_string()),
            1 => Just("\n\n".to_string()),
            1 => Just("\n \t\n".to_string()),
            1 => Just("\r\n".to_string()),
            1 => "[.!?…]{1,3}[\"'”’)»]?",
            1 => Just("\u{00A0}".to_string()),
            1 => Just("e\u{0302}\u{0301}".to_string()),
            1 => Just("x\u{0323}".to_string()),
            1 => Just("\u{0301}".to_string()),
            1 => Just("⚠️".to_string()),
            1 => any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
    }

    fn non_whitespace(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        #[test]
        fn parts_fit_and_keep_the_content(
            text in prop_oneof![3 => reply_text(), 1 => any::<String>()],
            max in 0usize..80,
        ) {
            let parts = split_message(&text, max);
            let nfc: String = text.nfc().collect();
            for part in &parts {
                prop_assert!(!part.is_empty());
                prop_assert_eq!(part.trim(), part.as_str());
                prop_assert!(part.chars().count() <= max.max(1), "{:?} over {}", part, max);
                prop_assert!(part.nfc().eq(part.chars()), "{:?} is not NFC", part);
                // A part is a fixed point: split again, it comes back whole.
                prop_assert_eq!(&split_message(part, max), std::slice::from_ref(part));
            }
            prop_assert_eq!(non_whitespace(&parts.concat()), non_whitespace(&nfc));
            let whole = nfc.trim();
            if whole.is_empty() {
                prop_assert!(parts.is_empty());
            } else if whole.chars().count() <= max.max(1) {
                prop_assert_eq!(parts, vec![whole.to_string()]);
            }
        }
    }
}
