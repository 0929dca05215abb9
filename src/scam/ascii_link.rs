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

use std::ops::Range;

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
}
