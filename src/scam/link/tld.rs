//! The risky-TLD table (`data/risky_tlds.toml`, each TLD with the public ranking it comes from) and
//! the public link shorteners (`data/shorteners.txt`). Parsed once.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rustc_hash::FxHashSet;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskyTlds {
    /// Source id → URL: the citations, checked by the tests.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests only"))]
    sources: BTreeMap<String, String>,
    /// TLD → source id.
    tlds: BTreeMap<String, String>,
}

static RISKY_TLDS: LazyLock<RiskyTlds> = LazyLock::new(|| {
    toml::from_str(include_str!("../data/risky_tlds.toml"))
        .expect("src/scam/data/risky_tlds.toml is valid")
});

static SHORTENERS: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| shortener_lines().collect());

fn shortener_lines() -> impl Iterator<Item = &'static str> {
    include_str!("../data/shorteners.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Whether `tld` (lowercase, no dot) is mostly used for abuse.
#[must_use]
pub(super) fn is_risky_tld(tld: &str) -> bool {
    RISKY_TLDS.tlds.contains_key(tld)
}

/// Whether `registrable` (a lowercase registrable domain) is a public link shortener.
#[must_use]
pub(super) fn is_shortener(registrable: &str) -> bool {
    SHORTENERS.contains(registrable)
}

/// Whether `host` (lowercase ASCII, IDN labels in punycode) is on a public link shortener: its registrable
/// domain is listed, so `www.bit.ly` is one too.
#[must_use]
pub fn is_shortener_host(host: &str) -> bool {
    super::host::registrable_domain(host).is_some_and(is_shortener)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::link::host::registrable_domain;
    use crate::scam::link::official_brand;

    #[test]
    fn every_risky_tld_cites_a_public_source() {
        let table = &*RISKY_TLDS;
        for (tld, source) in &table.tlds {
            let url = table
                .sources
                .get(source)
                .unwrap_or_else(|| panic!("{tld}: {source}"));
            assert!(url.starts_with("https://"), "{source}: {url}");
            assert!(tld.bytes().all(|b| b.is_ascii_lowercase()), "{tld}");
        }
        for id in table.sources.keys() {
            assert!(
                table.tlds.values().any(|s| s == id),
                "{id} is cited by no TLD"
            );
        }
    }

    #[test]
    fn the_required_tlds_are_risky() {
        for tld in [
            "top", "icu", "vip", "cc", "life", "click", "xyz", "sbs", "cfd", "buzz", "shop",
            "cyou", "bond", "live", "online", "site", "tk", "ml", "ga", "cf", "gq", "monster",
            "rest", "lol",
        ] {
            assert!(is_risky_tld(tld), "{tld}");
        }
        for tld in ["com", "vn", "net", "org", "gov", "edu", "io", "me", "co"] {
            assert!(!is_risky_tld(tld), "{tld}");
        }
    }

    #[test]
    fn shorteners_are_registrable_public_and_cited() {
        let text = include_str!("../data/shorteners.txt");
        assert!(text.lines().any(|l| l.starts_with("# Source: ")));
        for host in shortener_lines() {
            assert_eq!(registrable_domain(host), Some(host), "{host}");
            assert!(
                official_brand(host).is_none(),
                "{host} is a brand's own short host"
            );
        }
        for host in [
            "bit.ly",
            "tinyurl.com",
            "t.ly",
            "shorturl.at",
            "cutt.ly",
            "rb.gy",
            "is.gd",
        ] {
            assert!(is_shortener(host), "{host}");
        }
        assert!(!is_shortener("shp.ee"), "Shopee's own");
        assert!(is_shortener_host("www.bit.ly") && is_shortener_host("goo.su"));
        assert!(!is_shortener_host("bit.ly.example.com") && !is_shortener_host("1.2.3.4"));
        assert!(!is_shortener("zalo.me"));
    }
}
