//! The `[links]` section: following short links to where they lead, and the optional domain-age lookup.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::net::host_rules;
use super::{ConfigError, HostRule, invalid};

/// The most redirects a setting may allow: a longer chain is a sign in itself, never worth the wait.
const MAX_HOPS_LIMIT: usize = 10;

#[derive(Debug, Clone)]
pub struct LinksSettings {
    /// Follow links on shorteners (and unknown links in a message that already has scam signs).
    pub expand: bool,
    /// Shortener hosts beside the built-in list (`host` or `host:port`).
    pub extra_shorteners: Vec<HostRule>,
    /// Redirects followed at most per link.
    pub max_hops: usize,
    /// The whole walk of one link: every lookup, connection and redirect.
    pub timeout: Duration,
    /// Links followed at most in one message.
    pub max_per_message: usize,
    /// Requests to one host in any minute, across all users.
    pub per_host_per_minute: u32,
    /// How long a hop's answer is reused.
    pub cache_ttl: Duration,
    /// Look up each domain's registration date by RDAP.
    pub rdap: bool,
    /// The IANA RDAP bootstrap file for DNS.
    pub rdap_bootstrap_url: Url,
    /// One RDAP request (the bootstrap or one answer).
    pub rdap_timeout: Duration,
    /// A domain registered this many days ago or fewer is reported as new.
    pub new_domain_days: u32,
}

impl Default for LinksSettings {
    fn default() -> Self {
        LinksSettings {
            expand: true,
            extra_shorteners: Vec::new(),
            max_hops: 5,
            timeout: Duration::from_secs(4),
            max_per_message: 3,
            per_host_per_minute: 30,
            cache_ttl: Duration::from_secs(3600),
            rdap: false,
            rdap_bootstrap_url: Url::parse("https://data.iana.org/rdap/dns.json")
                .expect("the IANA bootstrap URL is valid"),
            rdap_timeout: Duration::from_secs(2),
            new_domain_days: 30,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RawLinks {
    expand: bool,
    extra_shorteners: String,
    max_hops: usize,
    timeout_ms: u64,
    max_per_message: usize,
    per_host_per_minute: u32,
    cache_ttl_secs: u64,
    rdap: bool,
    rdap_bootstrap_url: String,
    rdap_timeout_ms: u64,
    new_domain_days: u32,
}

impl RawLinks {
    pub(super) fn parse(self) -> Result<LinksSettings, ConfigError> {
        if !(1..=MAX_HOPS_LIMIT).contains(&self.max_hops) {
            return Err(invalid(
                "links.max_hops",
                format!("must be from 1 to {MAX_HOPS_LIMIT}"),
            ));
        }
        for (key, value) in [
            ("links.timeout_ms", self.timeout_ms),
            ("links.rdap_timeout_ms", self.rdap_timeout_ms),
            ("links.per_host_per_minute", self.per_host_per_minute.into()),
            ("links.new_domain_days", self.new_domain_days.into()),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        let bootstrap = self.rdap_bootstrap_url.trim();
        let rdap_bootstrap_url = Url::parse(bootstrap)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                invalid(
                    "links.rdap_bootstrap_url",
                    format!("`{bootstrap}`: must be an http(s) URL"),
                )
            })?;
        Ok(LinksSettings {
            expand: self.expand,
            extra_shorteners: host_rules("links.extra_shorteners", &self.extra_shorteners)?,
            max_hops: self.max_hops,
            timeout: Duration::from_millis(self.timeout_ms),
            max_per_message: self.max_per_message,
            per_host_per_minute: self.per_host_per_minute,
            cache_ttl: Duration::from_secs(self.cache_ttl_secs),
            rdap: self.rdap,
            rdap_bootstrap_url,
            rdap_timeout: Duration::from_millis(self.rdap_timeout_ms),
            new_domain_days: self.new_domain_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawLinks {
        RawLinks {
            expand: true,
            extra_shorteners: String::new(),
            max_hops: 5,
            timeout_ms: 4000,
            max_per_message: 3,
            per_host_per_minute: 30,
            cache_ttl_secs: 3600,
            rdap: false,
            rdap_bootstrap_url: "https://data.iana.org/rdap/dns.json".into(),
            rdap_timeout_ms: 2000,
            new_domain_days: 30,
        }
    }

    #[test]
    fn the_raw_defaults_are_the_typed_defaults() {
        let parsed = raw().parse().unwrap();
        let default = LinksSettings::default();
        assert_eq!(parsed.max_hops, default.max_hops);
        assert_eq!(parsed.timeout, default.timeout);
        assert_eq!(parsed.rdap_bootstrap_url, default.rdap_bootstrap_url);
        assert_eq!(parsed.cache_ttl, default.cache_ttl);
        assert!(parsed.extra_shorteners.is_empty());
    }

    #[test]
    fn extra_shorteners_parse_like_the_allow_list() {
        let mut r = raw();
        r.extra_shorteners = " go.example.vn, 127.0.0.1:8080 ,,".into();
        let rules: Vec<String> = r
            .parse()
            .unwrap()
            .extra_shorteners
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(rules, ["go.example.vn", "127.0.0.1:8080"]);
        let mut r = raw();
        r.extra_shorteners = "go.example.vn:http".into();
        let err = r.parse().unwrap_err().to_string();
        assert!(err.contains("links.extra_shorteners"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        type Change = fn(&mut RawLinks);
        let cases: [(Change, &str); 5] = [
            (|r| r.max_hops = 0, "links.max_hops"),
            (|r| r.max_hops = 11, "links.max_hops"),
            (|r| r.timeout_ms = 0, "links.timeout_ms"),
            (|r| r.per_host_per_minute = 0, "links.per_host_per_minute"),
            (
                |r| r.rdap_bootstrap_url = "ftp://x/dns.json".into(),
                "links.rdap_bootstrap_url",
            ),
        ];
        for (change, key) in cases {
            let mut r = raw();
            change(&mut r);
            let err = r.parse().unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }
}
