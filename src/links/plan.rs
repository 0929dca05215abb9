//! Which links of a checked message are followed, at which URL, and which domains get an RDAP lookup.
//! Pure.
//!
//! Followed: links on a shortener, then (only in a message that already has scam signs) links on an
//! unknown host, that is neither a brand's own nor already reported. At most `links.max_per_message`.
//!
//! Plain http. Links are written `http://…` or with no scheme at all; they are followed over https. The
//! guarded fetcher speaks https only to public hosts, so an answer cannot be altered on the way, and every
//! public shortener serves https (most send http to it anyway). A host that has no https is reported as
//! unreachable and still judged by its name. Only a host in `net.allow_hosts` (tests, on-prem services)
//! keeps a written `http://`. A redirect to plain http is not contacted: the walk ends there, and that host
//! is judged by the name its `Location` gave.

use std::ops::Range;

use url::Url;

use super::shorteners::is_shortener;
use crate::config::{LinksSettings, NetSettings};
use crate::scam::check::CheckOutcome;
use crate::scam::followed::{LinkChain, registrable_domain};
use crate::scam::{Entity, EntityKind, Finding, ReasonKind};

/// RDAP lookups at most for one message: each may cost a round trip to a registry.
pub const MAX_RDAP_PER_MESSAGE: usize = 4;

/// Why a link is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It is on a shortener.
    Shortener,
    /// It is on an unknown host, in a message with scam signs.
    Suspicious,
}

/// One link to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The link's entity span in the text, and the link as written.
    pub span: Range<usize>,
    pub raw: String,
    /// Where the walk starts.
    pub url: Url,
    pub why: Why,
}

/// The links of `outcome` (checked from `text`) worth following, shorteners first.
#[must_use]
pub fn links_to_follow(
    text: &str,
    outcome: &CheckOutcome,
    links: &LinksSettings,
    net: &NetSettings,
) -> Vec<Planned> {
    let signs = outcome.level.warns() || !outcome.signals.is_empty();
    let mut planned: Vec<Planned> = Vec::new();
    for finding in &outcome.findings {
        let entity = &finding.entity;
        let Some(url) = link_url(text, entity, net) else {
            continue;
        };
        let why = if is_shortener(&url, &links.extra_shorteners) {
            Why::Shortener
        } else if signs && unknown(finding) {
            Why::Suspicious
        } else {
            continue;
        };
        if planned.iter().any(|p| p.url == url) {
            continue;
        }
        planned.push(Planned {
            span: entity.span.clone(),
            raw: entity.raw.clone(),
            url,
            why,
        });
    }
    // Stable: shorteners first, each group in the order written.
    planned.sort_by_key(|p| p.why != Why::Shortener);
    planned.truncate(links.max_per_message);
    planned
}

/// Neither a brand's own domain nor already reported: following it may tell something new.
fn unknown(finding: &Finding) -> bool {
    !finding.verdict.warns()
        && !finding
            .reasons
            .iter()
            .any(|r| r.kind == ReasonKind::OfficialDomain)
}

/// The URL a domain entity is followed at: the link as written, defanging undone, over https unless the
/// host is allow-listed and the link says http. `None` when it does not read as a URL of that host.
#[must_use]
pub fn link_url(text: &str, entity: &Entity, net: &NetSettings) -> Option<Url> {
    if entity.kind != EntityKind::Domain {
        return None;
    }
    let written = refanged(text.get(entity.span.clone())?);
    let (http, rest) = match written.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (false, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (true, rest),
        Some(_) => return None,
        None => (false, written.as_str()),
    };
    let mut url = Url::parse(&format!("https://{rest}")).ok()?;
    let host = url.host_str()?.trim_end_matches('.');
    if host.strip_prefix("www.").unwrap_or(host) != entity.value
        && host.trim_start_matches('[').trim_end_matches(']') != entity.value
    {
        return None;
    }
    url.set_fragment(None);
    // Credentials in a link are never sent on.
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    if http {
        let mut plain = url.clone();
        plain.set_scheme("http").ok()?;
        if net.allows(&plain) {
            return Some(plain);
        }
    }
    Some(url)
}

/// A link with its defanging undone: `hxxps://evil[.]com` → `https://evil.com`.
fn refanged(written: &str) -> String {
    let mut link = written.trim().to_string();
    for (fanged, plain) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[://]", "://"),
        ("[:]//", "://"),
    ] {
        link = link.replace(fanged, plain);
    }
    for (fanged, plain) in [("hxxps://", "https://"), ("hxxp://", "http://")] {
        if link
            .get(..fanged.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(fanged))
        {
            link.replace_range(..fanged.len(), plain);
        }
    }
    link
}

/// The registrable domains worth an RDAP lookup: the message's own links and every host its links led
/// to, but never a brand's own domain or a shortener (whose age says nothing of where it leads), each
/// once, at most [`MAX_RDAP_PER_MESSAGE`].
#[must_use]
pub fn domains_to_date(outcome: &CheckOutcome, chains: &[LinkChain]) -> Vec<String> {
    let own = outcome
        .findings
        .iter()
        .filter(|f| f.entity.kind == EntityKind::Domain && unknown(f))
        .map(|f| f.entity.value.clone());
    let met = chains
        .iter()
        .flat_map(|c| c.hops.iter().skip(1))
        .filter_map(|hop| hop.host_str().map(str::to_string));
    let mut domains: Vec<String> = Vec::new();
    for host in own.chain(met) {
        let Some(domain) = registrable_domain(&host) else {
            continue;
        };
        if crate::scam::link::is_shortener_host(domain)
            || crate::scam::link::official_brand(domain).is_some()
            || domains.iter().any(|d| d == domain)
        {
            continue;
        }
        domains.push(domain.to_string());
    }
    domains.truncate(MAX_RDAP_PER_MESSAGE);
    domains
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::scam::check::check;
    use crate::scam::followed::ChainEnd;
    use crate::scam::index::ReportIndex;

    fn net(allow: &[&str]) -> NetSettings {
        NetSettings {
            allow_hosts: allow.iter().map(|r| r.parse().unwrap()).collect(),
        }
    }

    fn planned(text: &str, links: &LinksSettings, net: &NetSettings) -> Vec<(String, Why)> {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let outcome = check(&ReportIndex::new(), text, now);
        links_to_follow(text, &outcome, links, net)
            .into_iter()
            .map(|p| (p.url.to_string(), p.why))
            .collect()
    }

    #[test]
    fn shorteners_are_followed_over_https_whatever_was_written() {
        let links = LinksSettings::default();
        for (text, url) in [
            ("xem bit.ly/3abcDEF nhé", "https://bit.ly/3abcDEF"),
            ("xem http://bit.ly/3abcDEF nhé", "https://bit.ly/3abcDEF"),
            ("xem HTTPS://Bit.ly/3abcDEF#top", "https://bit.ly/3abcDEF"),
            ("xem hxxp://bit[.]ly/3abc", "https://bit.ly/3abc"),
        ] {
            assert_eq!(
                planned(text, &links, &net(&[])),
                [(url.to_string(), Why::Shortener)],
                "{text}"
            );
        }
    }

    #[test]
    fn an_allow_listed_host_keeps_plain_http() {
        let links = LinksSettings {
            extra_shorteners: vec!["127.0.0.1:8080".parse().unwrap()],
            ..LinksSettings::default()
        };
        let text = "xem http://127.0.0.1:8080/abc";
        assert_eq!(
            planned(text, &links, &net(&["127.0.0.1:8080"])),
            [("http://127.0.0.1:8080/abc".to_string(), Why::Shortener)]
        );
        // Not allow-listed: https, which the fetcher then refuses for a loopback address.
        assert_eq!(
            planned(text, &links, &net(&[]))[0].0,
            "https://127.0.0.1:8080/abc"
        );
    }

    #[test]
    fn unknown_links_are_followed_only_with_scam_signs() {
        let links = LinksSettings::default();
        assert!(planned("bài viết hay: https://example.com/a", &links, &net(&[])).is_empty());
        let scam =
            "Tài khoản của bạn bị khóa, xác minh ngay tại https://example.com/a kẻo mất tiền";
        assert_eq!(
            planned(scam, &links, &net(&[])),
            [("https://example.com/a".to_string(), Why::Suspicious)]
        );
        // A brand's own site is never followed.
        let official =
            "Tài khoản của bạn bị khóa, xác minh ngay tại https://vietcombank.com.vn kẻo mất tiền";
        assert!(planned(official, &links, &net(&[])).is_empty());
    }

    #[test]
    fn shorteners_come_first_each_once_and_within_the_limit() {
        let links = LinksSettings {
            max_per_message: 2,
            ..LinksSettings::default()
        };
        let text = "Tài khoản bị khóa, xác minh ngay tại https://example.com/a hoặc bit.ly/a, bit.ly/a, tinyurl.com/b";
        assert_eq!(
            planned(text, &links, &net(&[])),
            [
                ("https://bit.ly/a".to_string(), Why::Shortener),
                ("https://tinyurl.com/b".to_string(), Why::Shortener)
            ]
        );
    }

    #[test]
    fn a_link_is_read_as_written_or_not_at_all() {
        let net = net(&[]);
        let entity = |text: &str, value: &str| Entity {
            kind: EntityKind::Domain,
            value: value.into(),
            raw: text.into(),
            span: 0..text.len(),
            bank_bin: None,
            bank_name: None,
            carrier: None,
        };
        let url = |text: &str, value: &str| {
            link_url(text, &entity(text, value), &net).map(|u| u.to_string())
        };
        assert_eq!(
            url("www.bit.ly/x", "bit.ly").unwrap(),
            "https://www.bit.ly/x"
        );
        assert_eq!(url("bit(.)ly/x", "bit.ly").unwrap(), "https://bit.ly/x");
        assert_eq!(
            url("https://user:pw@tinyurl.com/y?x=1", "tinyurl.com").unwrap(),
            "https://tinyurl.com/y?x=1",
            "credentials are never sent on"
        );
        assert_eq!(url("ftp://bit.ly/x", "bit.ly"), None);
        assert_eq!(url("bit.ly/x", "tinyurl.com"), None, "another host");
        assert_eq!(
            url("[2001:db8::1]/x", "2001:db8::1").unwrap(),
            "https://[2001:db8::1]/x"
        );
    }

    #[test]
    fn domains_to_date_skip_brands_and_shorteners_and_repeat_none() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let text = "vào shop-moi.com, a.shop-moi.com, vietcombank.com.vn hoặc bit.ly/x";
        let outcome = check(&ReportIndex::new(), text, now);
        let chain = LinkChain {
            span: 0..0,
            raw: String::new(),
            hops: vec![
                Url::parse("https://bit.ly/x").unwrap(),
                Url::parse("https://t.co/y").unwrap(),
                Url::parse("https://login.vcb-xacminh.top/").unwrap(),
                Url::parse("https://127.0.0.1/").unwrap(),
            ],
            end: ChainEnd::Reached,
        };
        assert_eq!(
            domains_to_date(&outcome, &[chain]),
            ["shop-moi.com", "vcb-xacminh.top"]
        );
    }
}
