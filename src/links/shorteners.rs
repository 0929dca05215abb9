//! Which links are on a shortener: the built-in list (`scam::link`'s, the one the shortener reason uses)
//! and the operator's `links.extra_shorteners`. Pure.

use url::{Host, Url};

use crate::config::HostRule;
use crate::scam::link::is_shortener_host;

/// Whether `url` is on a shortener: a listed registrable domain (any subdomain, any port), or a host (and
/// port, when the rule names one) of `extra`.
#[must_use]
pub fn is_shortener(url: &Url, extra: &[HostRule]) -> bool {
    if extra.iter().any(|rule| rule.matches(url)) {
        return true;
    }
    match url.host() {
        Some(Host::Domain(name)) => is_shortener_host(name.trim_end_matches('.')),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn rules(list: &[&str]) -> Vec<HostRule> {
        list.iter().map(|r| r.parse().unwrap()).collect()
    }

    #[test]
    fn the_built_in_list_covers_the_usual_shorteners() {
        for link in [
            "https://bit.ly/3abc",
            "https://t.ly/x",
            "https://shorturl.at/abc",
            "https://tinyurl.com/y",
            "https://is.gd/z",
            "https://cutt.ly/q",
            "https://rb.gy/w",
            "https://s.id/e",
            "https://goo.su/r",
            "https://t.co/t",
            "https://www.bit.ly/3abc",
            "https://BIT.LY./3abc",
        ] {
            assert!(is_shortener(&url(link), &[]), "{link}");
        }
        for link in [
            "https://shp.ee/abc",
            "https://bit.ly.example.com/x",
            "https://vietcombank.com.vn/",
            "https://1.2.3.4/x",
        ] {
            assert!(!is_shortener(&url(link), &[]), "{link}");
        }
    }

    #[test]
    fn extra_shorteners_match_host_and_port_exactly() {
        let extra = rules(&["go.example.vn", "127.0.0.1:8080"]);
        assert!(is_shortener(&url("https://go.example.vn/a"), &extra));
        assert!(!is_shortener(&url("https://x.go.example.vn/a"), &extra));
        assert!(is_shortener(&url("http://127.0.0.1:8080/a"), &extra));
        assert!(!is_shortener(&url("http://127.0.0.1:8081/a"), &extra));
        assert!(!is_shortener(&url("https://go.example.vn/a"), &[]));
    }
}
