//! The `[[scam.feeds]]` tables: outside scam lists downloaded on a schedule. The old single-list keys
//! (`scam.sync_url` and friends) still work: they become one more feed.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, invalid, secret};

/// How a feed's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedFormat {
    /// One domain or URL per line (`#` comments), or chongluadao's JSON `[{"url": …}]`.
    Domains,
    /// A hosts file: `0.0.0.0 evil.example`.
    Hosts,
    /// abuse.ch URLhaus CSV (`csv_recent`, `csv_online`, the country feeds).
    UrlhausCsv,
    /// OpenPhish's community feed: one URL per line.
    OpenphishTxt,
    /// PhishTank's `online-valid.csv`.
    PhishtankCsv,
    /// PhishTank's `online-valid.json`.
    PhishtankJson,
    /// Our own import CSV (`kind,value,category,report_count,source`).
    Csv,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 7] = [
        FeedFormat::Domains,
        FeedFormat::Hosts,
        FeedFormat::UrlhausCsv,
        FeedFormat::OpenphishTxt,
        FeedFormat::PhishtankCsv,
        FeedFormat::PhishtankJson,
        FeedFormat::Csv,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Domains => "domains",
            FeedFormat::Hosts => "hosts",
            FeedFormat::UrlhausCsv => "urlhaus_csv",
            FeedFormat::OpenphishTxt => "openphish_txt",
            FeedFormat::PhishtankCsv => "phishtank_csv",
            FeedFormat::PhishtankJson => "phishtank_json",
            FeedFormat::Csv => "csv",
        }
    }
}

/// One configured feed.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// Short and unique: the stored source of its entries, the `feed` metric label, `scam sync --feed`.
    pub name: String,
    /// How users are told who lists an entry ("URLhaus (abuse.ch)").
    pub title: String,
    /// `https://…`, or `file:///…` for a local file. `{api_key}` in it is replaced by `api_key`.
    pub url: url::Url,
    pub format: FeedFormat,
    /// Stored with entries whose row does not say (Vietnamese, shown to users).
    pub category: String,
    pub refresh: Duration,
    pub enabled: bool,
    pub api_key: Option<SecretString>,
    /// The feed is moderated: its entries count as verified.
    pub verified: bool,
    /// The largest body accepted, after decompression.
    pub max_bytes: u64,
    /// The whole download, body included.
    pub timeout: Duration,
}

impl FeedSettings {
    /// The URL as it may be shown or logged: scheme, host and path, without the key or the query.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        let path = self.url.path().replace("%7Bapi_key%7D", "{api_key}");
        format!(
            "{}://{}{}",
            self.url.scheme(),
            self.url.host_str().unwrap_or(""),
            path
        )
    }
}

#[derive(Deserialize)]
pub(super) struct RawFeed {
    name: String,
    url: String,
    format: FeedFormat,
    #[serde(default)]
    title: String,
    #[serde(default)]
    category: String,
    #[serde(default = "default_refresh")]
    refresh_minutes: u64,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    verified: bool,
    #[serde(default = "default_max_mb")]
    max_mb: u64,
    #[serde(default = "default_timeout")]
    timeout_secs: u64,
}

fn default_refresh() -> u64 {
    60
}

fn default_max_mb() -> u64 {
    64
}

fn default_timeout() -> u64 {
    120
}

/// The old single-list keys, turned into a feed when `sync_url` is set.
pub(super) struct LegacyList {
    pub url: Option<url::Url>,
    pub interval: Duration,
    pub source: String,
    pub category: String,
}

/// Checks every feed; names must be unique, short and label-safe. `enable`/`disable` name feeds to switch
/// on or off without copying the shipped tables (`scam.enable_feeds`, `scam.disable_feeds`).
pub(super) fn parse_feeds(
    raw: Vec<RawFeed>,
    legacy: LegacyList,
    enable: &str,
    disable: &str,
) -> Result<Vec<FeedSettings>, ConfigError> {
    let mut feeds: Vec<FeedSettings> = Vec::new();
    for feed in raw {
        let parsed = feed.parse()?;
        feeds.push(parsed);
    }
    if let Some(url) = legacy.url
        && !feeds.iter().any(|f| f.name == legacy.source)
    {
        feeds.push(FeedSettings {
            title: legacy.source.clone(),
            name: legacy.source,
            url,
            format: FeedFormat::Domains,
            category: legacy.category,
            refresh: legacy.interval,
            enabled: true,
            api_key: None,
            verified: true,
            max_bytes: default_max_mb() * 1024 * 1024,
            timeout: Duration::from_secs(default_timeout()),
        });
    }
    for (i, feed) in feeds.iter().enumerate() {
        if feeds[..i].iter().any(|f| f.name == feed.name) {
            return Err(invalid(
                "scam.feeds",
                format!("two feeds are named `{}`", feed.name),
            ));
        }
    }
    for (list, on) in [(enable, true), (disable, false)] {
        for name in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let key = if on {
                "scam.enable_feeds"
            } else {
                "scam.disable_feeds"
            };
            let feed = feeds
                .iter_mut()
                .find(|f| f.name == name)
                .ok_or_else(|| invalid(key, format!("no feed is named `{name}`")))?;
            feed.enabled = on;
        }
    }
    for feed in feeds.iter().filter(|f| f.enabled) {
        if feed.url.as_str().contains("%7Bapi_key%7D") && feed.api_key.is_none() {
            return Err(invalid(
                "scam.feeds",
                format!("feed `{}` needs its api_key", feed.name),
            ));
        }
    }
    Ok(feeds)
}

impl RawFeed {
    fn parse(self) -> Result<FeedSettings, ConfigError> {
        let name = self.name.trim().to_string();
        let label_safe = !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !label_safe {
            return Err(invalid(
                "scam.feeds.name",
                format!("`{name}`: 1 to 40 of a-z, 0-9, `_`, `-`, `.`"),
            ));
        }
        let url = url::Url::parse(self.url.trim())
            .map_err(|e| invalid("scam.feeds.url", format!("feed `{name}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https" | "file") {
            return Err(invalid(
                "scam.feeds.url",
                format!("feed `{name}`: http(s) or file URLs only"),
            ));
        }
        if self.refresh_minutes == 0 || self.max_mb == 0 || self.timeout_secs == 0 {
            return Err(invalid(
                "scam.feeds",
                format!(
                    "feed `{name}`: refresh_minutes, max_mb and timeout_secs must be at least 1"
                ),
            ));
        }
        let title = match self.title.trim() {
            "" => name.clone(),
            title => title.to_string(),
        };
        Ok(FeedSettings {
            title,
            url,
            format: self.format,
            category: self.category.trim().to_string(),
            refresh: Duration::from_secs(self.refresh_minutes * 60),
            enabled: self.enabled,
            api_key: secret(self.api_key),
            verified: self.verified,
            max_bytes: self.max_mb * 1024 * 1024,
            timeout: Duration::from_secs(self.timeout_secs),
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &str, url: &str) -> RawFeed {
        RawFeed {
            name: name.into(),
            url: url.into(),
            format: FeedFormat::Domains,
            title: String::new(),
            category: String::new(),
            refresh_minutes: 60,
            enabled: false,
            api_key: String::new(),
            verified: false,
            max_mb: 1,
            timeout_secs: 1,
        }
    }

    fn no_legacy() -> LegacyList {
        LegacyList {
            url: None,
            interval: Duration::from_secs(3600),
            source: "chongluadao".into(),
            category: "x".into(),
        }
    }

    #[test]
    fn the_old_list_becomes_a_feed_and_switches_apply() {
        let legacy = LegacyList {
            url: Some(url::Url::parse("https://lists.example/d.txt").unwrap()),
            ..no_legacy()
        };
        let feeds = parse_feeds(vec![raw("a", "https://a.example/x")], legacy, "a", "").unwrap();
        assert_eq!(feeds.len(), 2);
        assert!(feeds[0].enabled);
        assert_eq!(feeds[1].name, "chongluadao");
        assert!(feeds[1].enabled && feeds[1].verified);
        let feeds = parse_feeds(vec![raw("a", "https://a.example/x")], no_legacy(), "", "a");
        assert!(!feeds.unwrap()[0].enabled);
    }

    #[test]
    fn bad_feeds_are_refused_with_their_key() {
        for (feeds, enable, key) in [
            (
                vec![raw("has space", "https://a.example")],
                "",
                "scam.feeds.name",
            ),
            (vec![raw("a", "ftp://a.example")], "", "scam.feeds.url"),
            (
                vec![raw("a", "https://a.example"), raw("a", "https://b.example")],
                "",
                "scam.feeds",
            ),
            (
                vec![raw("a", "https://a.example")],
                "b",
                "scam.enable_feeds",
            ),
            (
                vec![raw("a", "https://a.example/{api_key}/x")],
                "a",
                "scam.feeds",
            ),
        ] {
            let err = parse_feeds(feeds, no_legacy(), enable, "").unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn the_shipped_feeds_load_with_only_the_free_ones_on() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/config/feeds.toml");
        let settings = super::super::Settings::from_env_map(
            [("TRADESPHERE_CONFIG".to_string(), file.to_string())].into(),
        )
        .unwrap();
        let feeds = &settings.scam.feeds;
        let on: Vec<&str> = feeds
            .iter()
            .filter(|f| f.enabled)
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(on, ["urlhaus_recent", "urlhaus_online", "urlhaus_vn"]);
        assert_eq!(feeds.len(), 7);
        let formats: std::collections::HashSet<FeedFormat> =
            feeds.iter().map(|f| f.format).collect();
        assert!(formats.len() >= 5);
        // PhishTank needs its key before it can be switched on.
        let err = super::super::Settings::from_env_map(
            [
                ("TRADESPHERE_CONFIG".to_string(), file.to_string()),
                (
                    "TRADESPHERE__SCAM__ENABLE_FEEDS".to_string(),
                    "phishtank".to_string(),
                ),
            ]
            .into(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("api_key"), "{err}");
    }

    #[test]
    fn the_key_never_shows_in_the_redacted_url() {
        let mut feed = raw("pt", "https://data.example/data/{api_key}/online.csv?k=1")
            .parse()
            .unwrap();
        feed.api_key = secret("s3cret".into());
        assert_eq!(
            feed.redacted_url(),
            "https://data.example/data/{api_key}/online.csv"
        );
        assert_eq!(FeedFormat::ALL.len(), 7);
    }
}
