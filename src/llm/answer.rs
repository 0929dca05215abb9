//! Answer hygiene. Pure: no IO.
//!
//! What the model wrote is cleaned for Zalo's plain-text bubbles by [`sanitize_answer`]: no
//! Markdown, no links other than those in the facts, bounded length.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::scam::{EntityKind, extract, normalize_value};

/// Stands in for a link the model was not allowed to repeat.
pub const HIDDEN_LINK: &str = "[liên kết đã ẩn]";

/// Zalo shows plain text: strips Markdown (bold, italic, inline code, code fences, headings,
/// block quotes, horizontal rules), turns list markers into `• ` and links `[text](url)` into
/// `text (url)`, collapses runs of blank lines and trims. Table pipes are left alone.
/// Returns None when nothing readable is left.
#[must_use]
pub fn clean_answer(raw: &str) -> Option<String> {
    let raw = raw.replace("\r\n", "\n");
    let raw = crate::domain::nfc(&raw);
    let mut lines: Vec<String> = Vec::new();
    let mut in_fence = false;
    for line in raw.lines() {
        let line = line.trim_end();
        if FENCE_RE.is_match(line) {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            lines.push(line.replace('`', ""));
            continue;
        }
        if RULE_RE.is_match(line) {
            continue;
        }
        let line = HEADING_RE.replace(line, "");
        let line = QUOTE_RE.replace(&line, "");
        let line = LIST_RE.replace(&line, "${indent}• ");
        lines.push(clean_inline(&line).trim_end().to_string());
    }

    let mut text = String::new();
    let mut blank_run = 0;
    for line in &lines {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
            text.push('\n');
        } else {
            blank_run = 0;
            text.push_str(line);
            text.push('\n');
        }
    }
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Plain text for Zalo: `clean_answer` (Markdown stripped) plus: URLs not present in `allowed_urls` removed (replaced by "[liên kết đã ẩn]"), length capped at `max_chars` (cut at a sentence/word boundary, ending with "…"). None when nothing readable is left.
///
/// Links are found with the same heuristics as entity extraction
/// ([`crate::scam::extract::extract`]): URLs with a scheme, `www.` names, defanged names and
/// bare names with a common TLD; any `http(s)://` URL whose host cannot be read (an IP
/// address, say) is hidden too. A link is allowed when its normalised host equals the
/// normalised form of an entry of `allowed_urls`. `max_chars` counts characters, the
/// ellipsis included.
#[must_use]
pub fn sanitize_answer(raw: &str, allowed_urls: &[String], max_chars: usize) -> Option<String> {
    let cleaned = clean_answer(raw)?;
    let allowed: HashSet<String> = allowed_urls
        .iter()
        .filter_map(|u| allowed_host(u))
        .collect();
    let text = hide_foreign_links(&cleaned, &allowed);
    let text = cap_length(&text, max_chars)?;
    is_readable(&text).then_some(text)
}

// ------------------------------------------------------------------ Markdown

static FENCE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:```|~~~)").expect("fence pattern is valid"));
static RULE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})$")
        .expect("rule pattern is valid")
});
static HEADING_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s{0,3}#{1,6}(?:\s+|$)").expect("heading pattern is valid"));
static QUOTE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:>\s?)+").expect("quote pattern is valid"));
static LIST_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?P<indent>\s*)[*+\-]\s+").expect("list pattern is valid"));
/// `[text](url)` and `![alt](url)`, with an optional `<…>` around the url and a title.
static LINK_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"!?\[([^\]\n]*)\]\(\s*<?([^()\s<>]+)>?(?:\s+"[^"\n]*")?\s*\)"#)
        .expect("link pattern is valid")
});
static AUTOLINK_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<((?:https?|ftp)://[^>\s]+)>").expect("autolink pattern is valid")
});
static CODE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`+([^`\n]+?)`+").expect("code pattern is valid"));
static BOLD_STAR_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\*\*([^\s*](?:[^\n]*?[^\s*])?)\*\*").expect("bold pattern is valid")
});
static BOLD_UNDERSCORE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"__([^\s_](?:[^\n]*?[^\s_])?)__").expect("bold pattern is valid"));
static ITALIC_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\*([^\s*](?:[^*\n]*?[^\s*])?)\*").expect("italic pattern is valid")
});

fn clean_inline(line: &str) -> String {
    let line = LINK_RE.replace_all(line, |caps: &Captures<'_>| {
        let text = caps[1].trim();
        let url = &caps[2];
        if text.is_empty() || text == url {
            url.to_string()
        } else {
            format!("{text} ({url})")
        }
    });
    let line = AUTOLINK_RE.replace_all(&line, "$1");
    let line = CODE_RE.replace_all(&line, "$1");
    let line = BOLD_STAR_RE.replace_all(&line, "$1");
    let line = strip_unglued(&line, &BOLD_UNDERSCORE_RE);
    let line = strip_unglued(&line, &ITALIC_RE);
    line.replace("**", "").replace('`', "")
}

/// Replaces each match by its first group unless it is glued to a letter or digit on either
/// side (`5*3*2`, `snake__case__name` stay as written).
fn strip_unglued(line: &str, re: &Regex) -> String {
    re.replace_all(line, |caps: &Captures<'_>| {
        let whole = caps.get_match();
        let glued = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        if glued(line[..whole.start()].chars().next_back())
            || glued(line[whole.end()..].chars().next())
        {
            whole.as_str().to_string()
        } else {
            caps[1].to_string()
        }
    })
    .into_owned()
}

// ------------------------------------------------------------------ output hygiene

/// `http(s)://`, `ftp://` and defanged `hxxp(s)://` URLs, whatever their host.
static SCHEME_URL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:h(?:tt|xx)ps?|ftp)://[^\s<>"]+"#).expect("url pattern is valid")
});

/// Characters that end a sentence or a clause rather than a URL.
const URL_TRAILING_PUNCTUATION: &[char] = &[
    '.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"', '…', '»', '“', '”', '’',
];

fn allowed_host(url: &str) -> Option<String> {
    normalize_value(EntityKind::Domain, url).or_else(|| {
        let host = url.trim().to_lowercase();
        (!host.is_empty()).then_some(host)
    })
}

fn hide_foreign_links(text: &str, allowed: &HashSet<String>) -> String {
    let mut text = extract::normalize_text(text);
    // `extract` reports each distinct domain once, so repeat until no foreign one is left.
    // Every pass replaces at least one link by the placeholder, which holds none; the bound
    // is a backstop only.
    for _ in 0..=text.len() {
        let mut spans: Vec<Range<usize>> = extract::extract(&text)
            .into_iter()
            .filter(|e| e.kind == EntityKind::Domain && !allowed.contains(&e.value))
            .map(|e| e.span)
            .collect();
        spans.sort_by_key(|span| std::cmp::Reverse(span.start));
        let mut replaced = false;
        for span in spans {
            if text.get(span.clone()).is_some() {
                text.replace_range(span, HIDDEN_LINK);
                replaced = true;
            }
        }
        if !replaced {
            break;
        }
    }
    // URLs with a scheme but no readable host (an IP address, say) are not entities.
    SCHEME_URL_RE
        .replace_all(&text, |caps: &Captures<'_>| {
            let url = caps[0].trim_end_matches(URL_TRAILING_PUNCTUATION);
            let trailing = &caps[0][url.len()..];
            let keep =
                normalize_value(EntityKind::Domain, url).is_some_and(|h| allowed.contains(&h));
            if keep {
                caps[0].to_string()
            } else {
                format!("{HIDDEN_LINK}{trailing}")
            }
        })
        .into_owned()
}

/// Something besides placeholders, punctuation and whitespace.
fn is_readable(text: &str) -> bool {
    text.replace(HIDDEN_LINK, "")
        .chars()
        .any(char::is_alphanumeric)
}

/// At most `max_chars` characters. A longer text is cut at the last sentence end in the
/// second half of the allowance, else at the last word boundary, and gets an ellipsis.
fn cap_length(text: &str, max_chars: usize) -> Option<String> {
    if text.chars().count() <= max_chars {
        return Some(text.to_string());
    }
    // Room for " …".
    let budget = max_chars.checked_sub(2).filter(|b| *b > 0)?;
    let limit = text
        .char_indices()
        .nth(budget)
        .map_or(text.len(), |(i, _)| i);

    let mut sentence_end = None;
    let mut word_end = text[limit..]
        .starts_with(char::is_whitespace)
        .then_some(limit);
    for (i, c) in text[..limit].char_indices() {
        let end = i + c.len_utf8();
        if matches!(c, '.' | '!' | '?')
            && text[end..].chars().next().is_none_or(char::is_whitespace)
        {
            sentence_end = Some(end);
        } else if c == '\n' {
            sentence_end = Some(i);
        }
        if c.is_whitespace() && word_end.is_none_or(|w| w < limit) {
            word_end = Some(i);
        }
    }

    let mut cut = match (sentence_end, word_end) {
        (Some(s), _) if text[..s].chars().count() >= budget / 2 => s,
        (_, Some(w)) => w,
        // One unbroken token: cut through it unless it may be a link, which a cut could turn
        // into a different (unchecked) address.
        (_, None) if text[..limit].contains(['.', '/', ':', '@']) => return None,
        (_, None) => limit,
    };
    // Never split the placeholder.
    for (start, _) in text.match_indices(HIDDEN_LINK) {
        if start < cut && cut < start + HIDDEN_LINK.len() {
            cut = start;
        }
    }

    let head = text[..cut]
        .trim_end()
        .trim_end_matches([',', ';', ':', '-', '(', '•', '–', '—'])
        .trim_end();
    if head.is_empty() {
        return None;
    }
    Some(if head.ends_with(['.', '!', '?']) {
        format!("{head} …")
    } else {
        format!("{head}…")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_string()).collect()
    }

    #[test]
    fn sanitize_hides_foreign_links_but_keeps_allowed_domains() {
        let allowed = strings(&["vcb-xacminh.com"]);
        let answer = "Trang vcb-xacminh.com và https://www.vcb-xacminh.com/login đã bị báo cáo. \
                      Hãy vào https://evil.example.net/x?y=1, evil.example.net hoặc lua-dao[.]xyz \
                      hay http://10.0.0.1/otp. Lặp lại: evil.example.net.";
        let clean = sanitize_answer(answer, &allowed, 1000).expect("readable");
        assert_eq!(
            clean,
            "Trang vcb-xacminh.com và https://www.vcb-xacminh.com/login đã bị báo cáo. \
             Hãy vào [liên kết đã ẩn], [liên kết đã ẩn] hoặc [liên kết đã ẩn] \
             hay [liên kết đã ẩn]. Lặp lại: [liên kết đã ẩn]."
        );
        // With nothing allowed, the facts' domain goes too.
        let none = sanitize_answer("Xem vcb-xacminh.com nhé", &[], 1000);
        assert_eq!(none.as_deref(), Some("Xem [liên kết đã ẩn] nhé"));
        // Words with dots that are not links survive.
        assert_eq!(
            sanitize_answer("Gọi 113 ở TP.HCM, v.v.", &[], 1000).as_deref(),
            Some("Gọi 113 ở TP.HCM, v.v.")
        );
    }

    #[test]
    fn markdown_links_go_through_the_allow_list() {
        let allowed = strings(&["vcb-xacminh.com"]);
        let answer = "[Trang giả](https://vcb-xacminh.com/a) và [bấm vào đây](https://evil.com)";
        assert_eq!(
            sanitize_answer(answer, &allowed, 1000).as_deref(),
            Some("Trang giả (https://vcb-xacminh.com/a) và bấm vào đây ([liên kết đã ẩn])")
        );
    }

    #[test]
    fn nothing_readable_is_none() {
        assert_eq!(sanitize_answer("https://evil.com", &[], 100), None);
        assert_eq!(sanitize_answer("**  **\n```\n```", &[], 100), None);
        assert_eq!(sanitize_answer("", &[], 100), None);
        assert_eq!(sanitize_answer("Một câu trả lời dài.", &[], 0), None);
    }

    #[test]
    fn sanitize_caps_length_at_a_boundary() {
        let answer = "Số này đã bị báo cáo lừa đảo. Bạn không nên chuyển tiền cho bất kỳ ai \
                      qua điện thoại, kể cả người xưng là công an.";
        assert_eq!(
            sanitize_answer(answer, &[], 200).as_deref(),
            Some(answer),
            "short enough: untouched"
        );

        let capped = sanitize_answer(answer, &[], 60).expect("readable");
        assert!(capped.chars().count() <= 60, "{capped}");
        assert_eq!(capped, "Số này đã bị báo cáo lừa đảo. …");

        // No sentence end in the second half: cut at a word.
        let capped = sanitize_answer(answer, &[], 80).expect("readable");
        assert!(capped.chars().count() <= 80, "{capped}");
        assert!(capped.chars().count() > 60, "{capped}");
        assert!(capped.ends_with('…'));
        let head = capped.trim_end_matches('…');
        assert!(answer.starts_with(head), "{capped}");
        assert!(
            answer[head.len()..].starts_with(' '),
            "cut mid-word: {capped}"
        );

        for max in 3..answer.chars().count() {
            let capped = sanitize_answer(answer, &[], max).expect("readable");
            assert!(capped.chars().count() <= max, "{max}: {capped}");
            assert!(capped.ends_with('…'), "{max}: {capped}");
        }
    }

    #[test]
    fn capping_never_splits_the_placeholder_or_a_link() {
        let answer = "Đừng vào https://evil.com/dang-nhap vì đó là trang giả mạo ngân hàng.";
        let capped = sanitize_answer(answer, &[], 20).expect("readable");
        assert_eq!(capped, "Đừng vào…");
        assert_eq!(
            sanitize_answer(
                "https://ok.vn/aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                &strings(&["ok.vn"]),
                10
            ),
            None
        );
    }

    #[test]
    fn markdown_is_stripped() {
        assert_eq!(
            clean_answer("## Lưu ý\n**Không** chuyển tiền.\n```\ncode\n```").as_deref(),
            Some("Lưu ý\nKhông chuyển tiền.\ncode")
        );
        assert_eq!(clean_answer("  \n ``` \n"), None);
    }

    #[test]
    fn markdown_cases() {
        for (raw, expected) in [
            ("**đậm** và __đậm__", "đậm và đậm"),
            ("*nghiêng* và ***cả hai***", "nghiêng và cả hai"),
            ("Dùng `mã` này", "Dùng mã này"),
            ("```rust\nlet x = 1;\n```", "let x = 1;"),
            ("# Tiêu đề\n### Mục nhỏ", "Tiêu đề\nMục nhỏ"),
            ("* một\n- hai\n  + ba", "• một\n• hai\n  • ba"),
            ("* **Cảnh báo**: đừng gửi OTP", "• Cảnh báo: đừng gửi OTP"),
            (
                "[Cục An toàn thông tin](https://ais.gov.vn)",
                "Cục An toàn thông tin (https://ais.gov.vn)",
            ),
            ("[https://a.vn](https://a.vn)", "https://a.vn"),
            ("![ảnh](https://a.vn/x.png)", "ảnh (https://a.vn/x.png)"),
            ("Xem <https://a.vn>", "Xem https://a.vn"),
            ("> trích dẫn", "trích dẫn"),
            ("trên\n---\ndưới", "trên\ndưới"),
            ("a\n\n\n\nb", "a\n\nb"),
            (
                "| a | b |\n|---|---|\n| 1 | 2 |",
                "| a | b |\n|---|---|\n| 1 | 2 |",
            ),
            ("5*3*2 = 30 và 2 * 3 = 6", "5*3*2 = 30 và 2 * 3 = 6"),
            ("biến snake__case__name", "biến snake__case__name"),
            ("#hashtag giữ nguyên", "#hashtag giữ nguyên"),
            ("**chưa đóng", "chưa đóng"),
            (
                "Số 1. Gọi 113\r\nSố 2. Gọi 114",
                "Số 1. Gọi 113\nSố 2. Gọi 114",
            ),
        ] {
            assert_eq!(clean_answer(raw).as_deref(), Some(expected), "{raw:?}");
        }
        assert_eq!(
            clean_answer("cho\u{0300}").as_deref(),
            Some("chò"),
            "output is NFC"
        );
    }
}
