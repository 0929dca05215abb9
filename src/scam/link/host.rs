//! One host as the signals see it: its labels, public suffix and registrable domain (from the public
//! suffix list, so `com.vn`, `gov.vn`, `co.uk` and private suffixes such as `github.io` count as
//! suffixes), and where it sits in the text as written.

use std::borrow::Cow;
use std::net::IpAddr;
use std::ops::Range;

/// The registrable domain of a lowercase host: `login.vcb-xacthuc.com.vn` → `vcb-xacthuc.com.vn`.
/// `None` for an IP address or a bare public suffix.
#[must_use]
pub(super) fn registrable_domain(host: &str) -> Option<&str> {
    if ip_literal(host).is_some() {
        return None;
    }
    psl::domain_str(host)
}

/// The host as an IP address, when it is one (IPv6 with or without its brackets).
#[must_use]
pub(super) fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// A domain host split for the signals.
pub(super) struct Host<'a> {
    /// Lowercase ASCII, IDN labels in punycode (the entity's value).
    pub ascii: &'a str,
    /// The same host with IDN labels decoded.
    pub unicode: Cow<'a, str>,
    /// The registrable domain, if the public suffix list gives one.
    pub registrable: Option<&'a str>,
    /// How many trailing labels are the public suffix.
    pub suffix_labels: usize,
}

impl<'a> Host<'a> {
    pub fn new(ascii: &'a str) -> Host<'a> {
        let unicode = if ascii.split('.').any(is_punycode_label) {
            Cow::Owned(idna::domain_to_unicode(ascii).0)
        } else {
            Cow::Borrowed(ascii)
        };
        let registrable = registrable_domain(ascii);
        // The registrable domain is the suffix and one label: one lookup gives both.
        let suffix_labels = match registrable {
            Some(r) => r.split('.').count() - 1,
            None => psl::suffix_str(ascii).map_or(1, |s| s.split('.').count()),
        };
        Host {
            ascii,
            unicode,
            registrable,
            suffix_labels,
        }
    }

    /// The labels left of the public suffix, as decoded: where a brand name would be.
    pub fn named_labels(&self) -> impl Iterator<Item = &str> {
        let count = self.unicode.split('.').count();
        self.unicode
            .split('.')
            .take(count.saturating_sub(self.suffix_labels))
    }

    /// The label just left of the public suffix, as ASCII (`vietinbanks` in `vietinbanks.cc`).
    pub fn registrable_label(&self) -> Option<&str> {
        self.registrable?.split('.').next()
    }

    /// The last label (`top` in `a.b.top`).
    pub fn tld(&self) -> &str {
        self.ascii.rsplit('.').next().unwrap_or(self.ascii)
    }

    /// Whether some label is written in other letters than lowercase ASCII ones.
    pub fn has_idn_label(&self) -> bool {
        !self.unicode.is_ascii() || self.ascii.split('.').any(is_punycode_label)
    }

    /// Whether the state owns the host: only state bodies can register under `gov.vn`.
    pub fn is_state_owned(&self) -> bool {
        self.registrable.is_some_and(|r| r.ends_with(".gov.vn"))
    }
}

/// `xn--…`, in any case.
pub(super) fn is_punycode_label(label: &str) -> bool {
    label
        .get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case("xn--"))
}

/// Scheme separators, plain and defanged.
const SCHEME_SEPARATORS: [&str; 3] = ["://", "[://]", "[:]//"];

/// The byte range of the host inside `span` of `text` (a link as written: scheme, host, port, path),
/// and where the rest (port, path, query) starts. The whole span when no host can be told apart.
#[must_use]
pub(super) fn written_host(text: &str, span: &Range<usize>) -> (Range<usize>, usize) {
    let Some(written) = text.get(span.clone()) else {
        return (span.clone(), span.end);
    };
    // A scheme is letters at the very start (a `://` later on is in the path or query).
    let scheme_len = written.bytes().take_while(u8::is_ascii_alphabetic).count();
    let start = SCHEME_SEPARATORS
        .iter()
        .find(|sep| written[scheme_len..].starts_with(**sep))
        .map_or(0, |sep| scheme_len + sep.len());
    let rest = &written[start..];
    let len = if rest.starts_with('[') && !rest.starts_with("[.]") {
        // A bracketed IPv6 literal.
        rest.find(']').map_or(rest.len(), |at| at + 1)
    } else {
        rest.find(['/', '?', '#', ':']).unwrap_or(rest.len())
    };
    if len == 0 {
        return (span.clone(), span.end);
    }
    let host = span.start + start..span.start + start + len;
    (host.clone(), host.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        for (host, registrable) in [
            ("online.mbbank.com.vn", Some("mbbank.com.vn")),
            ("dichvucong.gov.vn", Some("dichvucong.gov.vn")),
            ("thuedientu.gdt.gov.vn", Some("gdt.gov.vn")),
            ("a.b.example.co.uk", Some("example.co.uk")),
            ("vietcombank.com.vn-xacthuc.top", Some("vn-xacthuc.top")),
            ("evil.github.io", Some("evil.github.io")),
            ("shp.ee", Some("shp.ee")),
            ("com.vn", None),
            ("103.21.44.9", None),
        ] {
            assert_eq!(registrable_domain(host), registrable, "{host}");
        }
    }

    #[test]
    fn ip_literals() {
        assert!(ip_literal("103.21.44.9").is_some());
        assert!(ip_literal("[2001:db8::1]").is_some());
        assert!(ip_literal("2001:db8::1").is_some());
        assert!(ip_literal("1.2.3").is_none());
        assert!(ip_literal("example.com").is_none());
    }

    #[test]
    fn named_labels_leave_out_the_suffix() {
        let host = Host::new("vietcombank.com.vn-xacthuc.top");
        assert_eq!(
            host.named_labels().collect::<Vec<_>>(),
            ["vietcombank", "com", "vn-xacthuc"]
        );
        assert_eq!(host.registrable_label(), Some("vn-xacthuc"));
        assert_eq!(host.tld(), "top");
        let host = Host::new("login.vcb.com.vn");
        assert_eq!(host.named_labels().collect::<Vec<_>>(), ["login", "vcb"]);
        assert!(Host::new("a.hanoi.gov.vn").is_state_owned());
        assert!(!Host::new("gov.vn.evil.top").is_state_owned());
    }

    #[test]
    fn idn_labels_are_decoded() {
        let host = Host::new("xn--vietcombnk-z4a.com");
        assert_eq!(host.unicode, "vietcombánk.com");
    }

    #[test]
    fn the_host_as_written() {
        fn host(text: &str) -> (&str, &str) {
            let (range, rest) = written_host(text, &(0..text.len()));
            (&text[range], &text[rest..])
        }
        assert_eq!(host("https://a.b.com/x?y"), ("a.b.com", "/x?y"));
        assert_eq!(
            host("hxxp[://]evil[.]com:8080/p"),
            ("evil[.]com", ":8080/p")
        );
        assert_eq!(host("bit.ly/abc"), ("bit.ly", "/abc"));
        assert_eq!(host("http://[2001:db8::1]/x"), ("[2001:db8::1]", "/x"));
        assert_eq!(host("103.21.44.9:8080/x"), ("103.21.44.9", ":8080/x"));
        assert_eq!(host("vietcombаnk.com"), ("vietcombаnk.com", ""));
        assert_eq!(
            host("a.top/r?u=https://b.com"),
            ("a.top", "/r?u=https://b.com")
        );
    }
}
