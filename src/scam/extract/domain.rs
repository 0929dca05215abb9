//! Domains in links, bare `name.tld` words and defanged spellings (`evil[.]com`, `hxxps://`), as
//! lowercase ASCII hosts.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::scam::ascii_link::{self, LinkParts};
use crate::scam::entity::{Entity, EntityKind};
use crate::scam::scan::position_from;
use crate::scam::text::normalize_text;

/// TLDs accepted for a bare `name.tld` written without scheme, `www.` or
/// defanging. Chat text often omits the space after a full stop ("rồi.Anh"),
/// so a bare match needs a TLD that is actually common; with a URL signal any
/// alphabetic TLD is accepted. Several cheap TLDs popular with scammers are here.
const COMMON_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "vn", "io", "co", "me", "app", "dev", "xyz", "top",
    "online", "site", "shop", "store", "club", "live", "vip", "pro", "tech", "link", "click",
    "icu", "cfd", "sbs", "cc", "tk", "ml", "ga", "cf", "gq", "ws", "asia", "mobi", "tv", "us",
    "uk", "cn", "ru", "ly", "gl", "gg", "one", "fun", "life", "world", "today", "cloud", "space",
    "website", "win", "bet", "games", "bio", "work", "ink", "buzz", "rest", "bond", "lat", "lol",
    "pw", "su", "nl", "de", "fr", "jp", "kr", "sg", "th", "kh", "id", "ph", "tw", "hk", "au", "ca",
    "eu", "ai", "gov", "edu", "name", "news", "zone", "plus", "cyou", "quest", "help", "support",
    "services", "finance", "money", "cash", "loan", "loans", "credit", "tel",
];

/// Endings that look like a TLD but are file names ("hoadon.pdf", "app.apk").
/// `.zip` and `.mov` are real TLDs but far more often file names in chat.
const FILE_EXTENSIONS: &[&str] = &[
    "txt", "jpg", "jpeg", "png", "gif", "webp", "heic", "bmp", "svg", "pdf", "doc", "docx", "xls",
    "xlsx", "ppt", "pptx", "csv", "zip", "rar", "7z", "apk", "ipa", "exe", "msi", "dmg", "mp3",
    "mp4", "mov", "avi", "mkv", "wav", "html", "htm", "php", "js", "json", "xml",
];

/// Dot and its defanged spellings: `.`, `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`.
const DOMAIN_DOT: &str = r"(?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\))";

static DOMAIN_RE: LazyLock<Regex> = LazyLock::new(|| {
    let dot = DOMAIN_DOT;
    // Unbounded repetition keeps the Unicode classes small; label length is not
    // policed because lookups only need a stable key. (`ascii_link` parses ASCII matches by hand.)
    let label = r"[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}\-]*[\p{L}\p{N}\p{M}])?";
    let pattern = format!(
        r"(?xi)
        (?P<scheme> (?: h(?:tt|xx)ps? | ftp ) (?: :// | \[://\] | \[:\]// ) )?
        (?P<host> (?: {label} {dot} )+ (?P<tld> xn--[a-z0-9\-]+ | [a-z]{{2,24}} ) )
        (?: :[0-9]{{1,5}} )?
        (?: [/?\#] [^\s<>\x22]* )?"
    );
    Regex::new(&pattern).expect("domain pattern is valid")
});

static DEFANGED_DOT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)").expect("defanged dot pattern is valid")
});

/// Characters stripped from the end of a URL span: sentence punctuation and closing quotes.
const URL_TRAILING_PUNCTUATION: &[char] = &[
    '.', ',', ';', ':', '!', '?', ')', ']', '}', '>', '\'', '"', '…', '»', '“', '”', '’',
];

/// A dot or an opening bracket (of a defanged dot), written as separate compares (not `matches!`) so the
/// scan for it compiles to vector compares.
fn dot_or_bracket(b: u8) -> bool {
    (b == b'.') | (b == b'[') | (b == b'(') | (b == b'{')
}

/// Cheap pre-check: every domain has a dot (or a defanged one) followed by a letter of its next label or
/// TLD; a link to an IP address has a first octet before a dot, or `://[`.
pub(super) fn may_hold_a_domain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut brackets = false;
    let mut from = 0;
    while let Some(at) = position_from(bytes, from, dot_or_bracket) {
        if bytes[at] != b'.' {
            brackets = true;
        } else if bytes.get(at + 1).is_some_and(u8::is_ascii_alphabetic) {
            return true;
        }
        if ascii_link::ip_link_hint_at(bytes, at) {
            return true;
        }
        from = at + 1;
    }
    brackets && DEFANGED_DOT_RE.is_match(text)
}

/// `[.]`, `(.)`, `{.}`, `[dot]` or `(dot)`, in any case.
fn has_defanged_dot(text: &str) -> bool {
    // Each starts with one of these brackets; most text has none, and then the regex is not run.
    text.bytes().any(|b| matches!(b, b'[' | b'(' | b'{')) && DEFANGED_DOT_RE.is_match(text)
}

/// One domain, from a bare domain, a URL (possibly defanged) or a `*.` wildcard.
pub(super) fn normalize_domain(raw: &str) -> Option<String> {
    let text = normalize_text(raw);
    let text = text.trim();
    let text = text.strip_prefix("*.").unwrap_or(text);
    let first = find_domains(text, TldPolicy::Explicit).into_iter().next()?;
    let rest = &text[first.span.end..];
    let whole_input = first.span.start == 0
        && rest
            .chars()
            .all(|c| c.is_whitespace() || URL_TRAILING_PUNCTUATION.contains(&c));
    whole_input.then_some(first.value)
}

/// Which TLDs a match may end in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TldPolicy {
    /// Free text: a bare `name.tld` needs a TLD from [`COMMON_TLDS`].
    InText,
    /// The caller says the value is a domain: any alphabetic TLD.
    Explicit,
}

/// Every domain in `text`, in order, links to an IP address included (their value is the address).
pub(super) fn find_domains(text: &str, policy: TldPolicy) -> Vec<Entity> {
    let mut found: Vec<Entity> = domain_matches(text)
        .into_iter()
        .filter_map(|found| domain_at(text, policy, found))
        .collect();
    let ip_links: Vec<Entity> = ascii_link::ip_links(text)
        .into_iter()
        .map(|link| ip_entity(text, link))
        .collect();
    if !ip_links.is_empty() {
        // A name in an IP link's path ("…/login-acb.com") is part of that link.
        found.retain(|d| !ip_links.iter().any(|ip| overlaps(&d.span, &ip.span)));
        found.extend(ip_links);
        found.sort_by_key(|e| e.span.start);
    }
    found
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// The domain entity of a link to an IP address.
fn ip_entity(text: &str, link: ascii_link::IpLink) -> Entity {
    let end = link.whole.start
        + text[link.whole.clone()]
            .trim_end_matches(URL_TRAILING_PUNCTUATION)
            .len();
    Entity {
        kind: EntityKind::Domain,
        value: link.value,
        raw: String::new(),
        span: link.whole.start..end.max(link.host.end),
        bank_bin: None,
        bank_name: None,
        carrier: None,
    }
}

/// One match of [`DOMAIN_RE`], as byte ranges of the text searched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DomainMatch {
    whole: Range<usize>,
    host: Range<usize>,
    tld: Range<usize>,
    has_scheme: bool,
}

/// Every match of [`DOMAIN_RE`] in `text`, in order: what `captures_iter` on the whole text gives, for
/// less work.
fn domain_matches(text: &str) -> Vec<DomainMatch> {
    let mut matches = Vec::new();
    // A match never spans whitespace and always has a TLD after a dot, plain or defanged, so only words
    // with such a dot are searched. Capture groups come from the match alone (where the highest-priority
    // match is the match itself): parsed by hand when it is ASCII, by the regex otherwise.
    for word in words_with_a_dot(text) {
        for found in DOMAIN_RE.find_iter(&text[word.clone()]) {
            let start = word.start + found.start();
            let parts = ascii_link::parse(found.as_str()).or_else(|| {
                let caps = DOMAIN_RE.captures(found.as_str())?;
                Some(LinkParts {
                    host: caps.name("host")?.range(),
                    tld: caps.name("tld")?.range(),
                    has_scheme: caps.name("scheme").is_some(),
                })
            });
            if let Some(parts) = parts {
                matches.push(DomainMatch {
                    whole: start..start + found.len(),
                    host: start + parts.host.start..start + parts.host.end,
                    tld: start + parts.tld.start..start + parts.tld.end,
                    has_scheme: parts.has_scheme,
                });
            }
        }
    }
    matches
}

/// The words (whitespace-free stretches, as byte ranges) of `text` where a TLD may follow a dot: those
/// with a dot followed by a letter (perhaps a non-ASCII one, as `(?i)[a-z]` also matches `K`, the Kelvin
/// sign), or with a defanged dot. Prices such as `1.500.000đ` are not looked at.
fn words_with_a_dot(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut from = 0;
    while let Some(at) = position_from(bytes, from, dot_or_bracket) {
        let word = word_around(text, from, at);
        let candidate = &text[word.clone()];
        let dot_then_letter = candidate
            .as_bytes()
            .windows(2)
            .any(|pair| pair[0] == b'.' && (pair[1].is_ascii_alphabetic() || !pair[1].is_ascii()));
        if dot_then_letter || has_defanged_dot(candidate) {
            words.push(word.clone());
        }
        from = word.end;
    }
    words
}

/// The whitespace-free stretch of `text` around the non-whitespace byte `at`, starting no earlier than
/// `from`.
fn word_around(text: &str, from: usize, at: usize) -> Range<usize> {
    let start = text[from..at]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(from, |(i, c)| from + i + c.len_utf8());
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(text.len(), |(i, _)| at + i);
    start..end
}

/// The domain entity for one match of [`DOMAIN_RE`], unless the context or the TLD says it is not one.
fn domain_at(text: &str, policy: TldPolicy, found: DomainMatch) -> Option<Entity> {
    let DomainMatch {
        whole,
        host,
        tld,
        has_scheme,
    } = found;
    let tld_text = &text[tld];
    let is_tld = |listed: &&str| listed.eq_ignore_ascii_case(tld_text);

    let mut back = text[..whole.start].chars().rev();
    let before = back.next();
    let mut after_host = text[host.end..].chars();
    // Part of a bigger token, or either side of an e-mail address
    // ("nguyen.vn.a@x.com" must not yield "nguyen.vn").
    let embedded = before.is_some_and(|c| is_host_char(c) || matches!(c, '@' | '.' | '_'))
        || match after_host.next() {
            Some('.') => after_host.next().is_some_and(is_host_char),
            Some(c) => is_host_char(c) || matches!(c, '@' | '_'),
            None => false,
        };
    if embedded || FILE_EXTENSIONS.iter().any(is_tld) {
        return None;
    }

    let host_text = &text[host.clone()];
    // Only `W` and `w` lowercase to `w`, so comparing bytes is comparing the lowercased host.
    let has_url_signal = has_scheme
        || has_defanged_dot(host_text)
        || host_text
            .get(..3)
            .is_some_and(|head| head.eq_ignore_ascii_case("www"));
    if !has_url_signal && is_word_join(text, &whole, &host, tld_text, before, back.next()) {
        return None;
    }
    let tld_accepted = policy == TldPolicy::Explicit
        || has_url_signal
        || tld_text
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case("xn--"))
        || COMMON_TLDS.iter().any(is_tld);
    if !tld_accepted {
        return None;
    }

    let value = normalize_host(host_text)?;
    let end = whole.start
        + text[whole.clone()]
            .trim_end_matches(URL_TRAILING_PUNCTUATION)
            .len();
    Some(Entity {
        kind: EntityKind::Domain,
        value,
        raw: String::new(),
        span: whole.start..end.max(host.end),
        bank_bin: None,
        bank_name: None,
        carrier: None,
    })
}

/// TLDs that are also unaccented Vietnamese words ("có", "mẹ", "ai", "để"), so `xong.Co` is a sentence
/// run into the next one.
const WORD_TLDS: &[&str] = &["co", "me", "ai", "de"];

/// A bare `name.tld` that is two words run together rather than a domain: the second half of a
/// slash-joined phrase with nothing after it (`10tr/thang.co`, `500k/ngay.com`), or a sentence end
/// glued to a capitalised word that is also a TLD (`xong.Co`).
fn is_word_join(
    text: &str,
    whole: &Range<usize>,
    host: &Range<usize>,
    tld: &str,
    before: Option<char>,
    before_that: Option<char>,
) -> bool {
    let nothing_after = whole.end == host.end;
    let slash_joined = before == Some('/') && before_that.is_some_and(char::is_alphanumeric);
    if slash_joined && nothing_after {
        return true;
    }
    let mut tld_chars = tld.chars();
    let capitalised = tld_chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && tld_chars.all(|c| c.is_ascii_lowercase());
    let first_label = text[host.clone()].split('.').next().unwrap_or_default();
    let two_labels = text[host.clone()].matches('.').count() == 1;
    capitalised
        && two_labels
        && nothing_after
        && !first_label.chars().any(char::is_uppercase)
        && WORD_TLDS.iter().any(|w| w.eq_ignore_ascii_case(tld))
}

fn is_host_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-'
}

/// Lowercase, defanged dots restored, no trailing dot, no leading `www.`.
fn normalize_host(host: &str) -> Option<String> {
    let host = if has_defanged_dot(host) {
        DEFANGED_DOT_RE.replace_all(host, ".").to_lowercase()
    } else {
        host.to_lowercase()
    };
    let host = host.trim_end_matches('.');
    let without_www = host
        .split_once('.')
        .filter(|(first, rest)| is_www_label(first) && rest.contains('.'))
        .map_or(host, |(_, rest)| rest);
    if without_www.is_empty() {
        return None;
    }
    if without_www.is_ascii() {
        return Some(without_www.to_string());
    }
    // IDN: the ASCII (punycode) form is the one lists and lookups use.
    idna::domain_to_ascii(without_www)
        .ok()
        .filter(|ascii| !ascii.is_empty())
}

/// The host and each parent domain down to the registrable one (public suffix list):
/// `login.vcb-xacthuc.com.vn` → `[login.vcb-xacthuc.com.vn, vcb-xacthuc.com.vn]`. An IP address has
/// no parents.
#[must_use]
pub fn domain_and_parents(host: &str) -> Vec<String> {
    let mut names = vec![host.to_string()];
    if host.parse::<std::net::IpAddr>().is_ok() {
        return names;
    }
    let Some(registrable) = psl::domain_str(host) else {
        return names;
    };
    let mut rest = host;
    while rest.len() > registrable.len() {
        match rest.split_once('.') {
            Some((_, parent)) if parent.len() >= registrable.len() => {
                names.push(parent.to_string());
                rest = parent;
            }
            _ => break,
        }
    }
    names
}

/// `www`, `www2`, `www3`…
fn is_www_label(label: &str) -> bool {
    label
        .strip_prefix("www")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::extract::extract;
    use crate::scam::extract::test_support::domains;
    use proptest::prelude::*;

    #[test]
    fn urls_and_bare_domains() {
        for (text, expected) in [
            ("vào https://abc.xyz/c nhé", "abc.xyz"),
            ("vào http://Example.COM", "example.com"),
            ("vào www.example.vn", "example.vn"),
            ("vào WWW.Example.Vn/abc", "example.vn"),
            ("vào example.com.vn/path?x=1", "example.com.vn"),
            ("link: sub.domain.example.org", "sub.domain.example.org"),
            ("https://example.com:8443/login", "example.com"),
            ("rút gọn bit.ly/3abcDEF", "bit.ly"),
            ("nhóm t.me/+abcdef", "t.me"),
            ("https://xn--80ak6aa92e.com/", "xn--80ak6aa92e.com"),
            ("xn--80ak6aa92e.co", "xn--80ak6aa92e.co"),
            ("www2.example.net", "example.net"),
            ("www.vn", "www.vn"),
        ] {
            assert_eq!(domains(text), vec![expected], "{text:?}");
        }
    }

    #[test]
    fn any_alphabetic_tld_with_a_url_signal() {
        assert_eq!(
            domains("https://login.example.rarelyusedtld/x"),
            vec!["login.example.rarelyusedtld"]
        );
        assert_eq!(domains("www.example.abcd"), vec!["example.abcd"]);
        assert_eq!(domains("example[.]abcd"), vec!["example.abcd"]);
        // Bare and not a common TLD: more likely a missing space after a full stop.
        assert!(domains("example.abcd").is_empty());
    }

    #[test]
    fn defanged_urls() {
        for (text, expected) in [
            ("hxxp://evil[.]com/login", "evil.com"),
            ("hxxps://evil.com", "evil.com"),
            ("hxxps[://]evil[.]site", "evil.site"),
            ("example[.]com", "example.com"),
            ("example(.)com", "example.com"),
            ("example{.}com", "example.com"),
            ("example[dot]com", "example.com"),
            ("sub[.]example[.]com[.]vn", "sub.example.com.vn"),
        ] {
            assert_eq!(domains(text), vec![expected], "{text:?}");
        }
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_the_link() {
        let raw = "Xem example.com. Hoặc (https://evil.vn/a/b), hoặc “www.scam.net”!";
        let text = normalize_text(raw);
        let found = extract(raw);
        assert_eq!(
            found.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(),
            vec!["example.com", "evil.vn", "scam.net"]
        );
        let written: Vec<&str> = found.iter().map(|e| &text[e.span.clone()]).collect();
        assert_eq!(
            written,
            vec!["example.com", "https://evil.vn/a/b", "www.scam.net"]
        );
    }

    #[test]
    fn file_names_are_not_domains() {
        for text in [
            "gửi file.txt",
            "ảnh anh.jpg",
            "hoadon.PDF",
            "baocao.docx",
            "tải app.apk",
            "data.zip",
            "IMG_1234.png",
        ] {
            assert!(domains(text).is_empty(), "{text:?}");
        }
        // …but the host of a link to such a file is.
        assert_eq!(domains("tải https://evil.com/app.apk"), vec!["evil.com"]);
    }

    #[test]
    fn email_addresses_are_not_domains() {
        assert!(domains("mail a@b.com nhé").is_empty());
        assert!(domains("nguyen.vn.a@company.com").is_empty());
        assert!(domains("liên hệ support.vn@gmail.com").is_empty());
        assert!(domains("nguyen.van.a@company.com.vn").is_empty());
    }

    #[test]
    fn abbreviations_and_missing_spaces_are_not_domains() {
        for text in [
            "TP.HCM",
            "v.v.",
            "Ms.Linh",
            "xong rồi.Anh gửi nhé",
            "ok.em",
            "1.5tr",
            "3.14",
            "Q.1",
            "192.168.1.1",
        ] {
            assert!(
                domains(text).is_empty(),
                "{text:?} gave {:?}",
                domains(text)
            );
        }
    }

    #[test]
    fn unicode_hosts_become_punycode() {
        // A Cyrillic 'а' homograph gets its own punycode form, so it never matches the real bank.
        let homograph = domains("https://Vietcomb\u{0410}nk.com");
        assert_eq!(homograph.len(), 1);
        assert!(homograph[0].starts_with("xn--"), "{homograph:?}");
        assert_eq!(
            domains("vào vietcombánk.com nhé"),
            vec!["xn--vietcombnk-z4a.com"]
        );
    }

    #[test]
    fn parents_down_to_the_registrable_domain() {
        assert_eq!(
            domain_and_parents("a.login.vcb-xacthuc.com.vn"),
            vec![
                "a.login.vcb-xacthuc.com.vn",
                "login.vcb-xacthuc.com.vn",
                "vcb-xacthuc.com.vn"
            ]
        );
        assert_eq!(domain_and_parents("evil.github.io"), vec!["evil.github.io"]);
        assert_eq!(domain_and_parents("example.com"), vec!["example.com"]);
    }

    #[test]
    fn links_to_an_ip_address_are_domains() {
        for (text, expected, written) in [
            (
                "vào http://103.21.44.9/login-acb nhé",
                "103.21.44.9",
                "http://103.21.44.9/login-acb",
            ),
            ("103.21.44.9:8080/x", "103.21.44.9", "103.21.44.9:8080/x"),
            (
                "hxxp://103[.]21[.]44[.]9/.",
                "103.21.44.9",
                "hxxp://103[.]21[.]44[.]9/",
            ),
            (
                "http://103.21.44.9/a/login-acb.com",
                "103.21.44.9",
                "http://103.21.44.9/a/login-acb.com",
            ),
        ] {
            let found: Vec<Entity> = extract(text)
                .into_iter()
                .filter(|e| e.kind == EntityKind::Domain)
                .collect();
            assert_eq!(found.len(), 1, "{text:?}: {found:?}");
            assert_eq!(found[0].value, expected, "{text:?}");
            assert_eq!(found[0].raw, written, "{text:?}");
        }
        assert_eq!(domain_and_parents("103.21.44.9"), vec!["103.21.44.9"]);
        assert_eq!(
            crate::scam::normalize_value(EntityKind::Domain, "http://103.21.44.9/x").as_deref(),
            Some("103.21.44.9")
        );
    }

    #[test]
    fn an_ip_link_is_not_a_bank_account_or_a_phone() {
        let found = extract("Đăng nhập http://103.21.44.9/login-acb để nhận tiền từ ACB");
        assert!(
            found.iter().all(|e| e.kind == EntityKind::Domain),
            "{found:?}"
        );
        let found = extract("STK ACB: http://113.161.212.123:8080/acb");
        assert!(
            found.iter().all(|e| e.kind == EntityKind::Domain),
            "{found:?}"
        );
    }

    #[test]
    fn a_bare_address_is_not_a_link() {
        assert!(domains("server 10.0.12.5, ai cần thì ping").is_empty());
        assert!(domains("bản 2.4.0.1").is_empty());
        assert!(domains("mạng 10.0.0.0/24").is_empty());
    }

    #[test]
    fn words_run_together_are_not_domains() {
        for text in [
            "lương 10tr/thang.co thưởng",
            "500k/ngay.com",
            "Lương 15tr/tháng.Co bảo hiểm",
            "làm xong rồi.Co ai cần không",
            "ok nhe.Me dặn rồi",
            "con/chau.vn",
        ] {
            assert!(
                domains(text).is_empty(),
                "{text:?} gave {:?}",
                domains(text)
            );
        }
        // A slash before a real link, a path after the name, or a name that is capitalised too.
        assert_eq!(domains("link:/evil.com"), vec!["evil.com"]);
        assert_eq!(domains("https//evil.com"), vec!["evil.com"]);
        assert_eq!(domains("xem 10tr/thang.co/abc"), vec!["thang.co"]);
        assert_eq!(domains("Vào Shopee.Co nhé"), vec!["shopee.co"]);
        assert_eq!(domains("vào abc.co nhé"), vec!["abc.co"]);
        assert_eq!(domains("vào shopee.Vn nhé"), vec!["shopee.vn"]);
    }

    #[test]
    fn host_glued_to_letters_is_ignored() {
        assert!(domains("example.comnhé").is_empty());
    }

    /// Text built from the pieces links are made of.
    fn linky_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z0-9]{1,6}",
            "[A-Zà-ỹ\u{0300}-\u{0303}]{1,3}",
            Just(".".to_string()),
            Just("-".to_string()),
            Just("[.]".to_string()),
            Just("(dot)".to_string()),
            Just("[DoT]".to_string()),
            Just("{.}".to_string()),
            Just("hxxps://".to_string()),
            Just("HTTP[://]".to_string()),
            Just("ftp[:]//".to_string()),
            Just("www.".to_string()),
            Just("xn--".to_string()),
            Just(".com".to_string()),
            Just(".vn".to_string()),
            Just(":8080".to_string()),
            Just("/a?b=1#c".to_string()),
            Just("@".to_string()),
            Just("\u{212A}".to_string()),
            Just("\u{17F}".to_string()),
            Just(" ".to_string()),
            Just("\u{3000}".to_string()),
            Just("\n".to_string()),
            Just("\"".to_string()),
            any::<char>().prop_map(|c| c.to_string()),
        ];
        proptest::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn domain_matches_are_those_of_a_whole_text_capture_search(text in linky_text()) {
            let expected: Vec<DomainMatch> = DOMAIN_RE
                .captures_iter(&text)
                .map(|caps| DomainMatch {
                    whole: caps.get_match().range(),
                    host: caps.name("host").unwrap().range(),
                    tld: caps.name("tld").unwrap().range(),
                    has_scheme: caps.name("scheme").is_some(),
                })
                .collect();
            prop_assert_eq!(domain_matches(&text), expected);
        }
    }
}
