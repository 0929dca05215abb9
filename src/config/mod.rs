//! Typed settings: the compiled-in `config/default.toml`, an optional file named by `TRADESPHERE_CONFIG`,
//! `TRADESPHERE__SECTION__KEY` variables, then the well-known names (`DATABASE_URL`, `ZALO_*`, `OPENAI_*` …).
//! Raw values are parsed once into types here, so the rest of the code never re-validates them.
//!
//! Each section file holds its settings types, the raw shape serde reads, and the `parse` that checks and
//! converts one into the other. This module imports nothing else from the crate: every other module may
//! depend on it.

mod campaigns;
mod cluster;
mod feeds;
mod image;
mod links;
mod llm;
mod net;
mod runtime;
mod server;
mod zalo;

use std::collections::HashMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

pub use campaigns::CampaignSettings;
pub use cluster::ClusterSettings;
pub use feeds::{FeedFormat, FeedSettings};
pub use image::ImageSettings;
pub use links::LinksSettings;
pub use llm::{BreakerSettings, BudgetSettings, LlmSettings};
pub use net::{HostRule, InvalidHostRule, NetSettings};
pub use runtime::{
    AlertSettings, ConversationSettings, HandoffSettings, IntakeSettings, ScamSettings,
    SupervisorSettings,
};
pub use server::{
    DatabaseSettings, InvalidTokenKey, LogFormat, LogSettings, ServerSettings, TokenKey,
};
pub use zalo::{
    OAUTH_REQUEST_TIMEOUT, OutboundMode, OutboundSettings, TokenSettings, ZaloSettings,
};

/// The defaults, also shipped as `config/default.toml` for reading.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// Environment names honoured directly, mapped to their config keys.
const DIRECT_ENV: &[(&str, &str)] = &[
    ("DATABASE_URL", "database.url"),
    ("TRADESPHERE_LISTEN", "server.listen"),
    ("TRADESPHERE_ADMIN_LISTEN", "server.admin_listen"),
    ("TRADESPHERE_OUTBOUND", "outbound.mode"),
    ("TRADESPHERE_LOG_FORMAT", "log.format"),
    ("ADMIN_TOKEN", "server.admin_token"),
    ("ZALO_APP_ID", "zalo.app_id"),
    ("ZALO_APP_SECRET", "zalo.app_secret"),
    ("ZALO_OA_SECRET_KEY", "zalo.oa_secret_key"),
    ("ZALO_ACCESS_TOKEN", "zalo.access_token"),
    ("ZALO_REFRESH_TOKEN", "zalo.refresh_token"),
    ("ZALO_API_URL", "zalo.api_url"),
    ("ZALO_OAUTH_URL", "zalo.oauth_url"),
    ("OPENAI_API_KEY", "llm.api_key"),
    ("OPENAI_BASE_URL", "llm.base_url"),
    ("OPENAI_MODEL", "llm.model"),
    ("ZALO_REDIRECT_URI", "zalo.redirect_uri"),
    ("TRADESPHERE_TOKEN_KEY", "database.token_encryption_key"),
    ("SCAM_SYNC_URL", "scam.sync_url"),
    ("ALERT_ZALO_USER_IDS", "alerts.zalo_user_ids"),
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Source(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub zalo: ZaloSettings,
    pub outbound: OutboundSettings,
    pub llm: LlmSettings,
    pub conversation: ConversationSettings,
    pub intake: IntakeSettings,
    pub supervisor: SupervisorSettings,
    pub token: TokenSettings,
    pub handoff: HandoffSettings,
    pub scam: ScamSettings,
    pub alerts: AlertSettings,
    pub net: NetSettings,
    pub image: ImageSettings,
    pub links: LinksSettings,
    pub campaigns: CampaignSettings,
    pub cluster: ClusterSettings,
}

/// The TOML as serde reads it, one raw struct per section, before checks and conversions.
#[derive(Deserialize)]
struct Raw {
    server: server::RawServer,
    database: server::RawDatabase,
    log: server::RawLog,
    zalo: zalo::RawZalo,
    outbound: zalo::RawOutbound,
    llm: llm::RawLlm,
    conversation: runtime::RawConversation,
    intake: runtime::RawIntake,
    supervisor: runtime::RawSupervisor,
    token: zalo::RawToken,
    handoff: runtime::RawHandoff,
    scam: runtime::RawScam,
    alerts: runtime::RawAlerts,
    net: net::RawNet,
    image: image::RawImage,
    links: links::RawLinks,
    campaigns: campaigns::RawCampaigns,
    cluster: cluster::RawCluster,
}

impl Settings {
    /// Loads from the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env_map(std::env::vars().collect())
    }

    /// Loads with `env` standing in for the process environment (tests and the `chat` command use this).
    pub fn from_env_map(env: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = env.get("TRADESPHERE_CONFIG").filter(|p| !p.is_empty()) {
            builder = builder.add_source(
                config::File::from(PathBuf::from(path))
                    .format(config::FileFormat::Toml)
                    .required(true),
            );
        }
        builder = builder.add_source(
            config::Environment::with_prefix("TRADESPHERE")
                .prefix_separator("__")
                .separator("__")
                .source(Some(env.clone().into_iter().collect())),
        );
        for (name, key) in DIRECT_ENV {
            if let Some(value) = env.get(*name) {
                builder = builder.set_override(*key, value.clone())?;
            }
        }
        let raw: Raw = builder.build()?.try_deserialize()?;
        Self::parse(raw)
    }

    /// Checks and converts section by section; the first invalid key is the error.
    fn parse(raw: Raw) -> Result<Self, ConfigError> {
        let cluster = raw.cluster.parse()?;
        let mut database = raw.database.parse()?;
        database.application_name = Some(format!("tradesphere/{}", cluster.member_name));
        Ok(Settings {
            server: raw.server.parse()?,
            database,
            log: raw.log.parse()?,
            outbound: raw.outbound.parse()?,
            zalo: raw.zalo.parse()?,
            llm: raw.llm.parse()?,
            conversation: raw.conversation.parse()?,
            intake: raw.intake.parse()?,
            supervisor: raw.supervisor.parse()?,
            token: raw.token.parse()?,
            handoff: raw.handoff.parse(),
            alerts: raw.alerts.parse(),
            scam: raw.scam.parse()?,
            net: raw.net.parse()?,
            image: raw.image.parse()?,
            links: raw.links.parse()?,
            campaigns: raw.campaigns.parse()?,
            cluster,
        })
    }
}

/// An empty value means "not configured".
fn secret(value: String) -> Option<SecretString> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| SecretString::from(trimmed.to_string()))
}

/// A base URL without a trailing slash, so `format!("{base}/path")` is always right.
fn base_url(key: &'static str, value: &str) -> Result<url::Url, ConfigError> {
    let trimmed = value.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|e| invalid(key, format!("`{trimmed}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(key, "must be an http(s) URL"));
    }
    Ok(parsed)
}

/// An optional URL setting: empty means unset.
fn optional_url(key: &'static str, value: &str) -> Result<Option<url::Url>, ConfigError> {
    match value.trim() {
        "" => Ok(None),
        uri => url::Url::parse(uri)
            .map(Some)
            .map_err(|e| invalid(key, format!("`{uri}`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use secrecy::ExposeSecret;

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_env_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_need_no_credentials() {
        let s = load(&[]).unwrap();
        assert_eq!(s.server.listen.to_string(), "0.0.0.0:8080");
        assert!(s.database.is_sqlite());
        assert_eq!(s.outbound.mode, OutboundMode::Auto);
        assert!(s.llm.api_key.is_none());
        assert!(s.zalo.oa_secret_key.is_none());
        assert_eq!(s.server.body_limit_bytes, 64 * 1024);
        assert!(s.llm.system_prompt.contains("lừa đảo"));
    }

    #[test]
    fn direct_names_and_section_overrides_apply() {
        let s = load(&[
            ("TRADESPHERE_LISTEN", "127.0.0.1:9999"),
            ("DATABASE_URL", "postgres://u:p@db:5432/app"),
            ("OPENAI_API_KEY", "sk-test"),
            ("TRADESPHERE__LLM__TIMEOUT_SECS", "7"),
            ("TRADESPHERE_OUTBOUND", "console"),
        ])
        .unwrap();
        assert_eq!(s.server.listen.port(), 9999);
        assert_eq!(s.database.redacted_url(), "postgres://db:5432/app");
        assert_eq!(s.llm.timeout, Duration::from_secs(7));
        assert_eq!(s.outbound.mode, OutboundMode::Console);
        assert_eq!(s.llm.api_key.unwrap().expose_secret(), "sk-test");
    }

    #[test]
    fn image_settings_default_and_refuse_bad_values() {
        let s = load(&[]).unwrap();
        assert!(s.image.max_concurrency >= 1);
        assert_eq!(s.image.ocr_deadline, Duration::from_secs(8));
        assert_eq!(s.image.ocr_languages, "vie");
        assert!(s.image.tessdata_dir.is_none());
        let s = load(&[
            ("TRADESPHERE__IMAGE__MAX_CONCURRENCY", "3"),
            ("TRADESPHERE__IMAGE__OCR", "false"),
        ])
        .unwrap();
        assert_eq!(s.image.max_concurrency, 3);
        assert!(!s.image.ocr);
        let err = load(&[("TRADESPHERE__IMAGE__OCR_LANGUAGES", "vie; rm")]).unwrap_err();
        assert!(err.to_string().contains("image.ocr_languages"), "{err}");
    }

    #[test]
    fn invalid_values_name_the_key() {
        let err = load(&[("TRADESPHERE_LISTEN", "not-an-address")]).unwrap_err();
        assert!(err.to_string().contains("server.listen"), "{err}");
        let err = load(&[("TRADESPHERE_OUTBOUND", "carrier-pigeon")]).unwrap_err();
        assert!(err.to_string().contains("outbound.mode"), "{err}");
        let err = load(&[("TRADESPHERE__LLM__TIMEOUT_SECS", "soon")]).unwrap_err();
        assert!(err.to_string().contains("timeout_secs"), "{err}");
        let err = load(&[("ZALO_API_URL", "ftp://x")]).unwrap_err();
        assert!(err.to_string().contains("zalo.api_url"), "{err}");
    }

    #[test]
    fn unparseable_database_urls_are_never_echoed() {
        let s = load(&[("DATABASE_URL", "postgres://user:ab/cd@db:5432/app")]).unwrap();
        assert!(!s.database.redacted_url().contains("ab/cd"));
        let s = load(&[("ADMIN_TOKEN", "0042")]).unwrap();
        assert_eq!(
            s.server.admin_token.unwrap().expose_secret(),
            "0042",
            "no numeric coercion"
        );
    }

    #[test]
    fn server_hardening_settings_parse_and_validate() {
        let s = load(&[]).unwrap();
        assert!(s.server.admin_listen.is_none());
        assert_eq!(s.server.admin_rate_per_minute.get(), 120);
        assert_eq!(s.server.body_read_timeout, Duration::from_secs(10));
        let s = load(&[
            ("TRADESPHERE_ADMIN_LISTEN", "127.0.0.1:9091"),
            ("TRADESPHERE__SERVER__ADMIN_RATE_PER_MINUTE", "30"),
            ("TRADESPHERE__SERVER__BODY_READ_TIMEOUT_SECS", "2"),
        ])
        .unwrap();
        assert_eq!(s.server.admin_listen.unwrap().port(), 9091);
        assert_eq!(s.server.admin_rate_per_minute.get(), 30);
        assert_eq!(s.server.body_read_timeout, Duration::from_secs(2));
        for (key, value, named) in [
            ("TRADESPHERE_ADMIN_LISTEN", "nowhere", "server.admin_listen"),
            (
                "TRADESPHERE_ADMIN_LISTEN",
                "0.0.0.0:8080",
                "server.admin_listen",
            ),
            (
                "TRADESPHERE__SERVER__ADMIN_RATE_PER_MINUTE",
                "0",
                "server.admin_rate_per_minute",
            ),
            (
                "TRADESPHERE__SERVER__ADMIN_RATE_BURST",
                "0",
                "server.admin_rate_burst",
            ),
            (
                "TRADESPHERE__SERVER__BODY_READ_TIMEOUT_SECS",
                "0",
                "server.body_read_timeout_secs",
            ),
            (
                "TRADESPHERE__SERVER__HEADER_READ_TIMEOUT_SECS",
                "0",
                "server.header_read_timeout_secs",
            ),
        ] {
            let err = load(&[(key, value)]).unwrap_err();
            assert!(err.to_string().contains(named), "{key}={value}: {err}");
        }
    }

    #[test]
    fn the_fetch_allow_list_comes_from_the_environment() {
        assert!(load(&[]).unwrap().net.allow_hosts.is_empty());
        let s = load(&[(
            "TRADESPHERE__NET__ALLOW_HOSTS",
            "127.0.0.1:8080,cdn.internal",
        )])
        .unwrap();
        let rules: Vec<String> = s.net.allow_hosts.iter().map(|r| r.to_string()).collect();
        assert_eq!(rules, ["127.0.0.1:8080", "cdn.internal"]);
        let err = load(&[("TRADESPHERE__NET__ALLOW_HOSTS", "::1")]).unwrap_err();
        assert!(err.to_string().contains("net.allow_hosts"), "{err}");
    }

    #[test]
    fn link_settings_come_from_the_environment() {
        let s = load(&[]).unwrap();
        assert!(s.links.expand);
        assert!(!s.links.rdap);
        assert_eq!(s.links.max_hops, 5);
        assert_eq!(s.links.timeout, Duration::from_secs(4));
        let s = load(&[
            ("TRADESPHERE__LINKS__EXPAND", "false"),
            (
                "TRADESPHERE__LINKS__EXTRA_SHORTENERS",
                "go.example.vn,127.0.0.1:9000",
            ),
        ])
        .unwrap();
        assert!(!s.links.expand);
        let rules: Vec<String> = s
            .links
            .extra_shorteners
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(rules, ["go.example.vn", "127.0.0.1:9000"]);
        let err = load(&[("TRADESPHERE__LINKS__EXTRA_SHORTENERS", "::1")]).unwrap_err();
        assert!(err.to_string().contains("links.extra_shorteners"), "{err}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = load(&[("ZALO_OA_SECRET_KEY", "super-secret-value")]).unwrap();
        assert!(!format!("{s:?}").contains("super-secret-value"));
    }

    #[test]
    fn config_file_layers_on_top() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extra.toml");
        std::fs::write(&path, "[llm]\nmodel = \"llama3\"\n").unwrap();
        let s = load(&[("TRADESPHERE_CONFIG", path.to_str().unwrap())]).unwrap();
        assert_eq!(s.llm.model, "llama3");
    }

    #[test]
    fn the_lease_must_outlast_one_oauth_request() {
        let min = OAUTH_REQUEST_TIMEOUT.as_secs() + 15;
        let short = (min - 1).to_string();
        let err = load(&[("TRADESPHERE__TOKEN__LEASE_SECS", short.as_str())]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("configuration key `token.lease_secs`: must be at least {min}")
        );
        let enough = min.to_string();
        let s = load(&[("TRADESPHERE__TOKEN__LEASE_SECS", enough.as_str())]).unwrap();
        assert_eq!(s.token.lease, Duration::from_secs(min));
    }

    #[test]
    fn the_token_key_is_decoded_at_load() {
        let err = load(&[("TRADESPHERE_TOKEN_KEY", "not base64!")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration key `database.token_encryption_key`: invalid token encryption key: \
             not valid base64; expected 32 bytes, base64"
        );
        let err = load(&[("TRADESPHERE_TOKEN_KEY", "AAAA")]).unwrap_err();
        assert!(err.to_string().contains("decoded to 3 bytes"), "{err}");
        let key = "A".repeat(43);
        let s = load(&[("TRADESPHERE_TOKEN_KEY", key.as_str())]).unwrap();
        assert_eq!(
            s.database.token_key.unwrap().expose_bytes().len(),
            TokenKey::LEN
        );
        assert!(load(&[]).unwrap().database.token_key.is_none());
    }
}
