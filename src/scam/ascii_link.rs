//! The parts of a link found by the extractor's domain pattern, parsed by hand when the link is ASCII
//! (nearly every one): taking the regex's capture groups runs a backtracker over an automaton made large
//! by its Unicode classes, which cost more than everything else done with a link. Pure.
//!
//! The pattern (case-insensitive; `dot` is `.`, `[.]`, `(.)`, `{.}`, `[dot]` or `(dot)`):
//!
//! ```text
//! (?P<scheme> (?: h(?:tt|xx)ps? | ftp ) (?: :// | \[://\] | \[:\]// ) )?
//! (?P<host> (?: label dot )+ (?P<tld> xn--[a-z0-9\-]+ | [a-z]{2,24} ) )
//! (?: :[0-9]{1,5} )?
//! (?: [/?\#] [^\s<>"]* )?
//! ```
//!
//! where a label is letters, digits and inner dashes. On ASCII text the regex's priorities give one
//! parse: the scheme when the link starts with one; labels run to the next dot (a shorter label would
//! not be followed by one); as many `label dot` pairs as still leave a TLD after them; `xn--…` before
//! plain letters; the longest port and path.
//!
//! Links whose host is an IP literal (`http://103.21.44.9/login`, `103.21.44.9:8080/x`,
//! `hxxp://103[.]21[.]44[.]9/`) have no TLD, so the pattern never sees them: [`ip_links`] finds them.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::scan::position_from;
use super::text::is_whitespace_byte;

/// The capture groups of one match, as byte ranges of the match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkParts {
    pub host: Range<usize>,
    pub tld: Range<usize>,
    pub has_scheme: bool,
}

const DOTS: [&[u8]; 6] = [b".", b"[.]", b"(.)", b"{.}", b"[dot]", b"(dot)"];
const SCHEME_NAMES: [&[u8]; 5] = [b"https", b"http", b"hxxps", b"hxxp", b"ftp"];
const SCHEME_SEPARATORS: [&[u8]; 3] = [b"://", b"[://]", b"[:]//"];
const MAX_TLD_LETTERS: usize = 24;
const MAX_PORT_DIGITS: usize = 5;

/// The groups of `link`, a whole ASCII match of the domain pattern; `None` if the parse does not
/// span exactly `link` (then the caller asks the regex).
pub(crate) fn parse(link: &str) -> Option<LinkParts> {
    let bytes = link.as_bytes();
    if !link.is_ascii() {
        return None;
    }
    let host_start = scheme_len(bytes);
    // Walk the `label dot` pairs; the last pair end that a TLD can follow is where the TLD is.
    let mut at = host_start;
    let mut tld = None;
    while let Some(pair_end) = label_and_dot(bytes, at) {
        if let Some(tld_end) = tld_at(bytes, pair_end) {
            tld = Some(pair_end..tld_end);
        }
        at = pair_end;
    }
    let tld = tld?;
    let end = path_end(bytes, port_end(bytes, tld.end));
    (end == bytes.len()).then_some(LinkParts {
        host: host_start..tld.end,
        tld,
        has_scheme: host_start > 0,
    })
}

fn starts_with_ignore_case(bytes: &[u8], at: usize, literal: &[u8]) -> bool {
    bytes
        .get(at..at + literal.len())
        .is_some_and(|b| b.eq_ignore_ascii_case(literal))
}

/// Length of the scheme at the start (`https://`, `hxxp[://]`…), 0 when there is none.
fn scheme_len(bytes: &[u8]) -> usize {
    // Longer names first: `https` must not stop at `http` (its `s` is optional, taken when present).
    let Some(name) = SCHEME_NAMES
        .iter()
        .find(|name| starts_with_ignore_case(bytes, 0, name))
    else {
        return 0;
    };
    SCHEME_SEPARATORS
        .iter()
        .find(|sep| bytes[name.len()..].starts_with(sep))
        .map_or(0, |sep| name.len() + sep.len())
}

fn is_label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// A label at `at` followed by a dot: the offset after the dot.
fn label_and_dot(bytes: &[u8], at: usize) -> Option<usize> {
    if !bytes.get(at)?.is_ascii_alphanumeric() {
        return None;
    }
    let run_end = at
        + bytes[at..]
            .iter()
            .position(|&b| !is_label_char(b))
            .unwrap_or(bytes.len() - at);
    // A label ends on a letter or digit; anything shorter than the run is followed by a label char.
    if bytes[run_end - 1] == b'-' {
        return None;
    }
    DOTS.iter()
        .find(|dot| starts_with_ignore_case(bytes, run_end, dot))
        .map(|dot| run_end + dot.len())
}

/// The TLD at `at`: `xn--` and at least one letter, digit or dash (as many as there are), else 2 to 24
/// letters (as many as there are, up to 24). Its end.
fn tld_at(bytes: &[u8], at: usize) -> Option<usize> {
    let run = |from: usize, accept: fn(u8) -> bool| {
        bytes[from.min(bytes.len())..]
            .iter()
            .take_while(|&&b| accept(b))
            .count()
    };
    if starts_with_ignore_case(bytes, at, b"xn--") {
        let rest = run(at + 4, is_label_char);
        if rest > 0 {
            return Some(at + 4 + rest);
        }
    }
    let letters = run(at, |b| b.is_ascii_alphabetic()).min(MAX_TLD_LETTERS);
    (letters >= 2).then_some(at + letters)
}

/// After an optional `:port` (1 to 5 digits, as many as there are).
fn port_end(bytes: &[u8], at: usize) -> usize {
    if bytes.get(at) != Some(&b':') {
        return at;
    }
    let digits = bytes[at + 1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .take(MAX_PORT_DIGITS)
        .count();
    if digits == 0 { at } else { at + 1 + digits }
}

/// After an optional path, query or fragment: `/`, `?` or `#` and everything up to whitespace, `<`, `>`
/// or `"`.
fn path_end(bytes: &[u8], at: usize) -> usize {
    if !matches!(bytes.get(at), Some(b'/' | b'?' | b'#')) {
        return at;
    }
    at + 1
        + bytes[at + 1..]
            .iter()
            .take_while(|&&b| !(is_whitespace_byte(b) || matches!(b, b'<' | b'>' | b'"')))
            .count()
}

/// A link to an IP address: `whole` is the link (scheme, host, port and path; trailing sentence
/// punctuation included, as for a domain match), `host` the address as written, `value` its canonical
/// form (`103.21.44.9`, `2001:db8::1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IpLink {
    pub whole: Range<usize>,
    pub host: Range<usize>,
    pub value: String,
}

/// Whether the dot or bracket at `at` may be part of a link to an IP address: the end of a first
/// octet (digits before a dot, plain or bracketed) with a digit after the dot, or `://[`. The
/// extractor's pre-check asks this of every dot and bracket it passes.
pub(crate) fn ip_link_hint_at(bytes: &[u8], at: usize) -> bool {
    match bytes.get(at) {
        Some(b'.') => first_octet_start(bytes, at).is_some() && digit_after_dot(bytes, at),
        Some(b'[') => at >= 3 && &bytes[at - 3..at] == b"://",
        _ => false,
    }
}

/// Every link in `text` whose host is an IPv4 address (dots plain or bracketed: `.`, `[.]`, `(.)`,
/// `{.}`) or, after a scheme, a bracketed IPv6 one. A bare dotted quad is not a link (it may be a
/// version or a server named in chat): a scheme, a port or a path must come with it, and a path of
/// digits only (`10.0.0.0/24`) needs a scheme. Found from the dots, so prices cost little.
pub(crate) fn ip_links(text: &str) -> Vec<IpLink> {
    let bytes = text.as_bytes();
    let mut links: Vec<IpLink> = Vec::new();
    let mut from = 0;
    while let Some(at) = position_from(bytes, from, |b| (b == b'.') | (b == b'[')) {
        from = at + 1;
        let host_start = if bytes[at] == b'.' {
            first_octet_start(bytes, at)
        } else {
            (at >= 3 && &bytes[at - 3..at] == b"://").then_some(at)
        };
        let Some(host_start) = host_start else {
            continue;
        };
        if links.last().is_some_and(|link| host_start < link.whole.end) {
            continue;
        }
        if let Some(link) = ip_link_with_host_at(bytes, host_start) {
            from = from.max(link.whole.end);
            links.push(link);
        }
    }
    links
}

/// Where the first octet ends at the dot at `dot` (`103.`, `103[.]`) starts, if it is a first octet:
/// one to three digits, not after another dot.
fn first_octet_start(bytes: &[u8], dot: usize) -> Option<usize> {
    let end = match dot.checked_sub(1).map(|i| bytes[i]) {
        Some(b) if b.is_ascii_digit() => dot,
        Some(b'[' | b'(' | b'{') if dot >= 2 && bytes[dot - 2].is_ascii_digit() => dot - 1,
        _ => return None,
    };
    let digits = bytes[..end]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let start = end - digits;
    let after_another_dot = start
        .checked_sub(1)
        .is_some_and(|i| matches!(bytes[i], b'.' | b']' | b')' | b'}'));
    ((1..=3).contains(&digits) && !after_another_dot).then_some(start)
}

fn digit_after_dot(bytes: &[u8], dot: usize) -> bool {
    let next = if matches!(bytes.get(dot + 1), Some(b']' | b')' | b'}')) {
        dot + 2
    } else {
        dot + 1
    };
    bytes.get(next).is_some_and(u8::is_ascii_digit)
}

/// What may come right before a link: not a letter, digit or anything that joins it to a bigger
/// token (`v1.2.3.4`, `x@1.2.3.4`, `/1.2.3.4` inside a path).
fn may_precede_a_link(b: u8) -> bool {
    !(b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'/' | b'@' | b'-' | b'_' | b':' | b'=' | b'?' | b'&' | b'%' | b'#'
        ))
}

/// The scheme (`http://`, `hxxp[://]`…) that ends right at `host_start`, as its start.
fn scheme_before(bytes: &[u8], host_start: usize) -> Option<usize> {
    let head = &bytes[..host_start];
    let sep = SCHEME_SEPARATORS.iter().find(|sep| head.ends_with(sep))?;
    let name_end = host_start - sep.len();
    let letters = head[..name_end]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let start = name_end - letters;
    (scheme_len(&bytes[start..]) == host_start - start).then_some(start)
}

/// The IP link whose host starts at `host_start`, if the text there is one.
fn ip_link_with_host_at(bytes: &[u8], host_start: usize) -> Option<IpLink> {
    let scheme_start = scheme_before(bytes, host_start);
    let start = scheme_start.unwrap_or(host_start);
    if start > 0 && !may_precede_a_link(bytes[start - 1]) {
        return None;
    }
    let (host_end, value) = if bytes[host_start] == b'[' {
        scheme_start?;
        ipv6_at(bytes, host_start)?
    } else {
        ipv4_at(bytes, host_start)?
    };
    // The address must end there: `1.2.3.4.5` and `1.2.3.4a` are something else.
    let joined = match bytes.get(host_end) {
        Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'@') => true,
        Some(b'.') => bytes
            .get(host_end + 1)
            .is_some_and(u8::is_ascii_alphanumeric),
        _ => false,
    };
    if joined {
        return None;
    }
    let after_port = port_end(bytes, host_end);
    let end = path_end(bytes, after_port);
    let path = &bytes[after_port..end];
    let digits_only_path = path.len() > 1 && path[1..].iter().all(u8::is_ascii_digit);
    let is_link =
        scheme_start.is_some() || after_port > host_end || (!path.is_empty() && !digits_only_path);
    is_link.then_some(IpLink {
        whole: start..end,
        host: host_start..host_end,
        value,
    })
}

/// An IPv4 address at `at` (dots plain or defanged, octets without leading zeros): its end and
/// canonical form.
fn ipv4_at(bytes: &[u8], at: usize) -> Option<(usize, String)> {
    let mut octets = [0u8; 4];
    let mut pos = at;
    for (i, octet) in octets.iter_mut().enumerate() {
        if i > 0 {
            let dot = DOTS
                .iter()
                .find(|dot| starts_with_ignore_case(bytes, pos, dot))?;
            pos += dot.len();
        }
        let digits = bytes[pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if !(1..=3).contains(&digits) || (digits > 1 && bytes[pos] == b'0') {
            return None;
        }
        let written = std::str::from_utf8(&bytes[pos..pos + digits]).ok()?;
        *octet = written.parse().ok()?;
        pos += digits;
    }
    Some((pos, Ipv4Addr::from(octets).to_string()))
}

/// A bracketed IPv6 address at `at`: its end (after `]`) and canonical form.
fn ipv6_at(bytes: &[u8], at: usize) -> Option<(usize, String)> {
    let len = bytes[at + 1..]
        .iter()
        .take_while(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
        .count();
    let close = at + 1 + len;
    if bytes.get(close) != Some(&b']') {
        return None;
    }
    let written = std::str::from_utf8(&bytes[at + 1..close]).ok()?;
    let address: Ipv6Addr = written.parse().ok()?;
    Some((close + 1, address.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(link: &str) -> Option<(&str, &str, bool)> {
        parse(link).map(|p| (&link[p.host], &link[p.tld], p.has_scheme))
    }

    #[test]
    fn parses_links() {
        assert_eq!(
            parts("https://login.Example.com.vn:8443/a?b#c"),
            Some(("login.Example.com.vn", "vn", true))
        );
        assert_eq!(
            parts("hxxp[://]evil[.]xn--p1ai"),
            Some(("evil[.]xn--p1ai", "xn--p1ai", true))
        );
        assert_eq!(parts("a-b(dot)co"), Some(("a-b(dot)co", "co", false)));
        // The TLD is the last pair end a TLD can follow: here `c1` cannot be one.
        assert_eq!(parts("ab.cd"), Some(("ab.cd", "cd", false)));
        assert_eq!(parts("ab.cd.c1"), None, "not a whole match");
        assert_eq!(parts("xn--.ab"), None, "a label does not end in a dash");
    }

    fn ip_values(text: &str) -> Vec<(&str, String)> {
        ip_links(text)
            .into_iter()
            .map(|link| (&text[link.whole], link.value))
            .collect()
    }

    #[test]
    fn ip_links_with_a_scheme_port_or_path() {
        for (text, link, value) in [
            (
                "vào http://103.21.44.9/login-acb nhé",
                "http://103.21.44.9/login-acb",
                "103.21.44.9",
            ),
            ("103.21.44.9:8080/x", "103.21.44.9:8080/x", "103.21.44.9"),
            (
                "hxxp://103[.]21[.]44[.]9/",
                "hxxp://103[.]21[.]44[.]9/",
                "103.21.44.9",
            ),
            ("HTTPS://10.0.0.1", "HTTPS://10.0.0.1", "10.0.0.1"),
            ("(103.21.44.9/abc)", "103.21.44.9/abc)", "103.21.44.9"),
            (
                "http://[2001:DB8::1]:443/x",
                "http://[2001:DB8::1]:443/x",
                "2001:db8::1",
            ),
            ("http://1.2.3.4/24", "http://1.2.3.4/24", "1.2.3.4"),
        ] {
            assert_eq!(ip_values(text), vec![(link, value.to_string())], "{text:?}");
        }
    }

    #[test]
    fn bare_addresses_versions_and_prices_are_not_links() {
        for text in [
            "server 10.0.12.5, ai cần thì ping",
            "bản 2.4.0.1 mới",
            "giá 1.500.000.000đ/tháng",
            "1.000.000.000/tháng",
            "mạng 10.0.0.0/24",
            "v1.2.3.4/x",
            "a.1.2.3.4/x",
            "1.2.3.4.5/x",
            "256.1.1.1/x",
            "01.2.3.4/x",
            "https://evil.com/1.2.3.4/x",
            "1.2.3/x",
            "10:30 ngày 12/05",
        ] {
            assert!(
                ip_values(text).is_empty(),
                "{text:?}: {:?}",
                ip_values(text)
            );
        }
    }

    #[test]
    fn the_pre_check_lets_every_ip_link_through() {
        let may_hold_an_ip_link =
            |text: &str| (0..text.len()).any(|at| ip_link_hint_at(text.as_bytes(), at));
        for text in [
            "http://103.21.44.9/x",
            "103.21.44.9:8080",
            "hxxp://103[.]21[.]44[.]9/",
            "http://[2001:db8::1]/",
        ] {
            assert!(may_hold_an_ip_link(text), "{text}");
        }
        // A loose hint: prices pass it, text with no digit before a dot does not.
        assert!(!may_hold_an_ip_link(
            "giá 1500k, hẹn 10:30 ngày 12/05, xem abc.com"
        ));
    }
}
