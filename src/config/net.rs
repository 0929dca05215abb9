//! The `[net]` section: which hosts the guarded fetcher may reach outside its usual rules.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use url::{Host, Url};

use super::{ConfigError, invalid};

#[derive(Debug, Clone, Default)]
pub struct NetSettings {
    /// Hosts exempt from the public-address rule that may also use plain http (tests, on-prem CDNs).
    pub allow_hosts: Vec<HostRule>,
}

impl NetSettings {
    /// Whether `url`'s host (and port, when the rule names one) is allow-listed.
    pub fn allows(&self, url: &Url) -> bool {
        self.allow_hosts.iter().any(|rule| rule.matches(url))
    }
}

/// One `net.allow_hosts` entry: a host name or IP address, and optionally a port. Without a port the rule
/// covers every port of that host. Names match exactly: a rule does not cover subdomains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    host: Host<String>,
    port: Option<u16>,
}

impl HostRule {
    pub fn host(&self) -> &Host<String> {
        &self.host
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Whether the rule covers `url`'s host and effective port (the scheme's default when none is written).
    pub fn matches(&self, url: &Url) -> bool {
        let Some(host) = url.host() else {
            return false;
        };
        let port_ok = self
            .port
            .is_none_or(|p| url.port_or_known_default() == Some(p));
        port_ok && same_host(&self.host, &host)
    }
}

/// A trailing dot names the same DNS host, so `cdn.local.` and `cdn.local` are one.
fn same_host(rule: &Host<String>, host: &Host<&str>) -> bool {
    match (rule, host) {
        (Host::Domain(a), Host::Domain(b)) => a.trim_end_matches('.') == b.trim_end_matches('.'),
        (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
        (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
        _ => false,
    }
}

/// Why an allow-list entry was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidHostRule {
    #[error("empty entry")]
    Empty,
    #[error("`{0}`: write an IPv6 address in brackets, e.g. `[::1]:8080`")]
    BareIpv6(String),
    #[error("`{0}`: the port must be a number from 1 to 65535")]
    Port(String),
    #[error("`{0}`: not a host name or IP address ({1})")]
    Host(String, String),
}

impl FromStr for HostRule {
    type Err = InvalidHostRule;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(InvalidHostRule::Empty);
        }
        let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
            let Some((addr, after)) = rest.split_once(']') else {
                return Err(InvalidHostRule::Host(entry.into(), "no closing `]`".into()));
            };
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').unwrap_or(after)),
            };
            (&entry[..addr.len() + 2], port)
        } else {
            match entry.matches(':').count() {
                0 => (entry, None),
                1 => entry.split_once(':').map(|(h, p)| (h, Some(p))).unwrap(),
                _ => return Err(InvalidHostRule::BareIpv6(entry.into())),
            }
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
                _ => return Err(InvalidHostRule::Port(entry.into())),
            },
        };
        let host =
            Host::parse(host).map_err(|e| InvalidHostRule::Host(entry.into(), e.to_string()))?;
        Ok(HostRule { host, port })
    }
}

impl fmt::Display for HostRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RawNet {
    allow_hosts: String,
}

impl RawNet {
    pub(super) fn parse(self) -> Result<NetSettings, ConfigError> {
        let allow_hosts = host_rules("net.allow_hosts", &self.allow_hosts)?;
        Ok(NetSettings { allow_hosts })
    }
}

/// A list of `host` or `host:port` entries separated by commas or spaces; a bad entry names `key`.
pub(super) fn host_rules(key: &'static str, list: &str) -> Result<Vec<HostRule>, ConfigError> {
    list.split([',', ' '])
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| entry.parse().map_err(|e| invalid(key, e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn rule(s: &str) -> HostRule {
        s.parse().unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn entries_parse_into_host_and_optional_port() {
        assert_eq!(
            rule("cdn.local").host(),
            &Host::Domain("cdn.local".to_string())
        );
        assert_eq!(rule("cdn.local").port(), None);
        assert_eq!(
            rule("CDN.Local:8080").host(),
            &Host::Domain("cdn.local".to_string())
        );
        assert_eq!(rule("CDN.Local:8080").port(), Some(8080));
        assert_eq!(
            rule("127.0.0.1:9000").host(),
            &Host::<String>::Ipv4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            rule("[::1]").host(),
            &Host::<String>::Ipv6(Ipv6Addr::LOCALHOST)
        );
        assert_eq!(rule("[::1]:443").port(), Some(443));
        assert_eq!(rule(" [::1]:443 ").to_string(), "[::1]:443");
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let err = |s: &str| s.parse::<HostRule>().unwrap_err();
        assert_eq!(err(""), InvalidHostRule::Empty);
        assert_eq!(err("::1"), InvalidHostRule::BareIpv6("::1".into()));
        for port in [
            "cdn:0",
            "cdn:99999",
            "cdn:",
            "cdn:+80",
            "cdn:http",
            "[::1]x",
        ] {
            assert_eq!(err(port), InvalidHostRule::Port(port.into()), "{port}");
        }
        assert!(matches!(err("a b"), InvalidHostRule::Host(..)));
        assert!(matches!(err("[::1"), InvalidHostRule::Host(..)));
        assert!(matches!(err("[nope]:80"), InvalidHostRule::Host(..)));
    }

    #[test]
    fn a_rule_matches_its_host_and_port_only() {
        let any_port = rule("cdn.local");
        assert!(any_port.matches(&url("http://cdn.local:8080/a.png")));
        assert!(any_port.matches(&url("https://CDN.LOCAL./a.png")));
        assert!(!any_port.matches(&url("https://img.cdn.local/a.png")));
        assert!(!any_port.matches(&url("https://cdn.local.evil.example/")));

        let one_port = rule("127.0.0.1:8080");
        assert!(one_port.matches(&url("http://127.0.0.1:8080/")));
        assert!(!one_port.matches(&url("http://127.0.0.1:8081/")));
        assert!(!one_port.matches(&url("http://127.0.0.2:8080/")));
        assert!(!one_port.matches(&url("http://localhost:8080/")));

        let default_port = rule("cdn.local:443");
        assert!(default_port.matches(&url("https://cdn.local/")));
        assert!(!default_port.matches(&url("http://cdn.local/")));

        assert!(rule("[::1]:80").matches(&url("http://[::1]/")));
        assert!(!rule("[::1]:80").matches(&url("http://127.0.0.1/")));
    }

    #[test]
    fn the_list_is_comma_separated_and_a_bad_entry_names_the_key() {
        let raw = |s: &str| RawNet {
            allow_hosts: s.into(),
        };
        let net = raw(" cdn.local, 127.0.0.1:8080 ,,").parse().unwrap();
        assert_eq!(
            net.allow_hosts,
            vec![rule("cdn.local"), rule("127.0.0.1:8080")]
        );
        assert!(net.allows(&url("http://127.0.0.1:8080/x")));
        assert!(!net.allows(&url("http://127.0.0.1:8081/x")));
        assert!(raw("").parse().unwrap().allow_hosts.is_empty());
        let err = raw("cdn.local,cdn:http").parse().unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration key `net.allow_hosts`: `cdn:http`: the port must be a number from 1 to 65535"
        );
    }
}
