//! What following a message's links found, as the check reads it: where each link led (its chain of
//! hops, and why the walk ended) and when the domains met were registered. The network side is
//! `crate::links`; this file only turns its findings into reasons, purely.
//!
//! A hop's host is not in the user's text, so its reasons quote the host itself with an empty span, as a
//! report found under another key does.

use std::net::IpAddr;
use std::ops::Range;

use chrono::{DateTime, Utc};
use url::Url;

use super::reason::{Reason, ReasonKind, Weight};
use super::{Entity, EntityKind};

/// A domain this young or younger counts more: throwaway scam sites live days, not weeks.
const VERY_NEW_DAYS: i64 = 7;
const VERY_NEW_POINTS: u8 = 3;
const NEW_POINTS: u8 = 2;

/// Why the walk of one link ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainEnd {
    /// An answer that is not a redirect: the last hop is where the link leads.
    Reached,
    /// The last hop could not be reached (no such name, refused, broke off).
    Unreachable,
    /// The time for the whole walk ran out.
    Timeout,
    /// More redirects than allowed; the last hop was named but not visited.
    TooManyHops,
    /// A redirect back to a hop already met; not visited again.
    Loop,
    /// The last hop is on an address that is never contacted (private, loopback, cloud metadata).
    ForbiddenAddress,
    /// The last hop is plain http (or another scheme): never contacted, judged by its name alone.
    NotHttps,
    /// The host of the last hop had been asked enough for now; not visited.
    Throttled,
    /// A link or `Location` that is not a valid URL.
    BadUrl,
}

impl ChainEnd {
    pub const ALL: [ChainEnd; 9] = [
        ChainEnd::Reached,
        ChainEnd::Unreachable,
        ChainEnd::Timeout,
        ChainEnd::TooManyHops,
        ChainEnd::Loop,
        ChainEnd::ForbiddenAddress,
        ChainEnd::NotHttps,
        ChainEnd::Throttled,
        ChainEnd::BadUrl,
    ];

    /// Stable identifier (JSON, the `result` label of `tradesphere_link_expansions_total`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ChainEnd::Reached => "reached",
            ChainEnd::Unreachable => "unreachable",
            ChainEnd::Timeout => "timeout",
            ChainEnd::TooManyHops => "too_many_hops",
            ChainEnd::Loop => "loop",
            ChainEnd::ForbiddenAddress => "forbidden_address",
            ChainEnd::NotHttps => "not_https",
            ChainEnd::Throttled => "throttled",
            ChainEnd::BadUrl => "bad_url",
        }
    }
}

/// How one RDAP lookup of a domain's registration date went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RdapResult {
    /// The registry gave a registration date.
    Registered,
    /// The registry answered without one.
    NoDate,
    /// The bootstrap names no RDAP server for the domain's TLD.
    NoService,
    /// The bootstrap or the registry could not be read in time.
    Failed,
}

impl RdapResult {
    pub const ALL: [RdapResult; 4] = [
        RdapResult::Registered,
        RdapResult::NoDate,
        RdapResult::NoService,
        RdapResult::Failed,
    ];

    /// Stable identifier (the `result` label of `tradesphere_rdap_lookups_total`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RdapResult::Registered => "registered",
            RdapResult::NoDate => "no_date",
            RdapResult::NoService => "no_service",
            RdapResult::Failed => "failed",
        }
    }
}

/// Where one link of the message led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChain {
    /// The link's span in the checked text (its entity's span).
    pub span: Range<usize>,
    /// The link as written there.
    pub raw: String,
    /// Every URL met, the link itself first. Unless `end` is [`ChainEnd::Reached`], the last one was named
    /// (by the link or a `Location`) but gave no answer.
    pub hops: Vec<Url>,
    pub end: ChainEnd,
}

impl LinkChain {
    /// Redirects met: the hops after the link itself.
    #[must_use]
    pub fn redirects(&self) -> usize {
        self.hops.len().saturating_sub(1)
    }

    /// Whether this chain starts at `entity`.
    #[must_use]
    pub fn starts_at(&self, entity: &Entity) -> bool {
        self.span == entity.span && self.raw == entity.raw
    }
}

/// When a registrable domain was registered, by RDAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainAge {
    pub domain: String,
    pub registered: DateTime<Utc>,
}

/// Everything following the links of one message found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Followed {
    pub chains: Vec<LinkChain>,
    pub registered: Vec<DomainAge>,
    /// A domain registered this many days ago or fewer is new.
    pub new_domain_days: u32,
}

/// The registrable domain of a lowercase host (`a.b.vcb-xacthuc.com.vn` → `vcb-xacthuc.com.vn`); `None`
/// for an IP address or a bare public suffix.
#[must_use]
pub fn registrable_domain(host: &str) -> Option<&str> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return None;
    }
    psl::domain_str(host.trim_end_matches('.'))
}

/// [`ReasonKind::NewDomain`] for a domain registered `registered`, if within `max_days` of `now`. A date
/// in the future (a registry's clock) counts as today.
#[must_use]
pub fn new_domain_reason(
    registered: DateTime<Utc>,
    now: DateTime<Utc>,
    max_days: u32,
    text: &str,
    span: Range<usize>,
) -> Option<Reason> {
    let days = (now - registered).num_days().max(0);
    if days > i64::from(max_days) {
        return None;
    }
    let label = if days == 0 {
        "tên miền mới đăng ký hôm nay".to_string()
    } else {
        format!("tên miền mới đăng ký {days} ngày")
    };
    let points = if days <= VERY_NEW_DAYS {
        VERY_NEW_POINTS
    } else {
        NEW_POINTS
    };
    Some(Reason::new(
        ReasonKind::NewDomain,
        label,
        text,
        span,
        Weight::Points(points),
    ))
}

/// The reasons following adds to each domain entity of `entities` (found in `text`), by the entity's
/// span: its own domain's age, then for each hop after the link the reasons `hop_reasons` gives for the
/// hop's URL (the domain checks and report lookups) and the hop's age, each quoting the hop's host.
pub fn followed_reasons(
    followed: &Followed,
    text: &str,
    entities: &[Entity],
    now: DateTime<Utc>,
    hop_reasons: impl Fn(&Url) -> Vec<Reason>,
) -> Vec<(Range<usize>, Vec<Reason>)> {
    let age = |host: &str, text: &str, span: Range<usize>| {
        let domain = registrable_domain(host)?;
        let found = followed.registered.iter().find(|a| a.domain == domain)?;
        new_domain_reason(found.registered, now, followed.new_domain_days, text, span)
    };
    let mut out = Vec::new();
    for entity in entities.iter().filter(|e| e.kind == EntityKind::Domain) {
        let mut reasons: Vec<Reason> = age(&entity.value, text, entity.span.clone())
            .into_iter()
            .collect();
        for chain in followed.chains.iter().filter(|c| c.starts_at(entity)) {
            for hop in chain.hops.iter().skip(1) {
                let Some(host) = hop.host_str() else {
                    continue;
                };
                let quoted = |mut reason: Reason| {
                    reason.span = 0..0;
                    host.clone_into(&mut reason.evidence);
                    reason
                };
                let found = hop_reasons(hop).into_iter().chain(age(host, "", 0..0));
                join(&mut reasons, found.map(quoted));
            }
        }
        if !reasons.is_empty() {
            out.push((entity.span.clone(), reasons));
        }
    }
    out
}

/// Adds each of `extra` not already said (same kind and words): a second shortener in a chain, or the same
/// age twice, is one reason.
pub fn join(reasons: &mut Vec<Reason>, extra: impl IntoIterator<Item = Reason>) {
    for reason in extra {
        if !reasons
            .iter()
            .any(|r| r.kind == reason.kind && r.label == reason.label)
        {
            reasons.push(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::scam::extract::extract;
    use crate::scam::link::link_reasons;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// The pure link reasons of the hop's URL, as the check gives them (report lookups left out).
    fn shape(hop: &Url) -> Vec<Reason> {
        let text = hop.as_str();
        extract(text)
            .iter()
            .filter(|e| e.kind == EntityKind::Domain)
            .flat_map(|e| link_reasons(text, e))
            .collect()
    }

    #[test]
    fn labels_are_distinct_snake_case() {
        let labels: std::collections::HashSet<&str> = ChainEnd::ALL
            .iter()
            .map(|e| e.as_str())
            .chain(RdapResult::ALL.iter().map(|r| r.as_str()))
            .collect();
        assert_eq!(labels.len(), ChainEnd::ALL.len() + RdapResult::ALL.len());
        assert!(
            labels
                .iter()
                .all(|l| l.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
    }

    #[test]
    fn a_domain_is_new_within_the_days_and_newer_counts_more() {
        let reason = |days: i64| {
            new_domain_reason(now() - chrono::Duration::days(days), now(), 30, "", 0..0)
        };
        let r = reason(3).unwrap();
        assert_eq!(r.kind, ReasonKind::NewDomain);
        assert_eq!(r.label, "tên miền mới đăng ký 3 ngày");
        assert_eq!(r.weight, Weight::Points(3));
        assert_eq!(reason(20).unwrap().weight, Weight::Points(2));
        assert_eq!(reason(30).unwrap().label, "tên miền mới đăng ký 30 ngày");
        assert!(reason(31).is_none());
        assert!(reason(4000).is_none());
        assert_eq!(reason(0).unwrap().label, "tên miền mới đăng ký hôm nay");
        assert_eq!(reason(-2).unwrap().label, "tên miền mới đăng ký hôm nay");
    }

    #[test]
    fn registrable_domains_leave_out_ip_addresses() {
        assert_eq!(
            registrable_domain("login.vcb-xacthuc.top"),
            Some("vcb-xacthuc.top")
        );
        assert_eq!(
            registrable_domain("shop.example.com.vn."),
            Some("example.com.vn")
        );
        assert_eq!(registrable_domain("127.0.0.1"), None);
        assert_eq!(registrable_domain("[::1]"), None);
        assert_eq!(registrable_domain("com.vn"), None);
    }

    #[test]
    fn each_hop_adds_its_reasons_quoting_its_host_once() {
        let text = "Nhận quà tại bit.ly/3abc nhé";
        let entities = extract(text);
        let link = entities
            .iter()
            .find(|e| e.kind == EntityKind::Domain)
            .unwrap();
        let followed = Followed {
            chains: vec![LinkChain {
                span: link.span.clone(),
                raw: link.raw.clone(),
                hops: vec![
                    url("https://bit.ly/3abc"),
                    url("https://t.co/x"),
                    url("https://tinyurl.com/y"),
                    url("https://vietcombank-xacminh.top/dang-nhap"),
                ],
                end: ChainEnd::Unreachable,
            }],
            registered: vec![DomainAge {
                domain: "vietcombank-xacminh.top".into(),
                registered: now() - chrono::Duration::days(2),
            }],
            new_domain_days: 30,
        };
        let extra = followed_reasons(&followed, text, &entities, now(), shape);
        assert_eq!(extra.len(), 1);
        assert_eq!(extra[0].0, link.span);
        let reasons = &extra[0].1;
        let kinds: Vec<ReasonKind> = reasons.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                ReasonKind::Shortener,
                ReasonKind::BrandImpersonation,
                ReasonKind::RiskyTld,
                ReasonKind::LoginPath,
                ReasonKind::NewDomain
            ],
            "the second shortener is not said twice"
        );
        assert_eq!(reasons[0].evidence, "t.co");
        assert!(reasons.iter().all(|r| r.span == (0..0)));
        assert_eq!(reasons[1].evidence, "vietcombank-xacminh.top");
        assert_eq!(reasons[4].label, "tên miền mới đăng ký 2 ngày");
    }

    #[test]
    fn a_domain_in_the_text_gets_its_own_age_and_other_links_nothing() {
        let text = "vào vcb-moi.com hoặc bit.ly/x";
        let entities = extract(text);
        let followed = Followed {
            chains: Vec::new(),
            registered: vec![DomainAge {
                domain: "vcb-moi.com".into(),
                registered: now() - chrono::Duration::days(10),
            }],
            new_domain_days: 30,
        };
        let extra = followed_reasons(&followed, text, &entities, now(), shape);
        assert_eq!(extra.len(), 1);
        let reason = &extra[0].1[0];
        assert_eq!(reason.kind, ReasonKind::NewDomain);
        assert_eq!(reason.evidence, "vcb-moi.com");
        assert_eq!(&text[reason.span.clone()], "vcb-moi.com");
    }
}
