//! Typed settings: the compiled-in `config/default.toml`, an optional file named by `TRADESPHERE_CONFIG`,
//! `TRADESPHERE__SECTION__KEY` variables, then the well-known names (`DATABASE_URL`, `ZALO_*`, `OPENAI_*` …).
//! Raw values are parsed once into types here, so the rest of the code never re-validates them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::Deserialize;

/// The defaults, also shipped as `config/default.toml` for reading.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

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
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// A separate listener for the admin API and `/metrics` (`TRADESPHERE_ADMIN_LISTEN`). When set, those routes
    /// are served only there and the public listener answers 404 for them.
    pub admin_listen: Option<SocketAddr>,
    pub body_limit_bytes: usize,
    pub admin_token: Option<SecretString>,
    /// Admin API requests per minute per caller (peer IP, IPv6 by /64), bad bearers included.
    pub admin_rate_per_minute: NonZeroU32,
    /// Requests a caller may make at once before the per-minute pace applies.
    pub admin_rate_burst: NonZeroU32,
    /// Deadline for reading a whole request body (webhook and admin); past it, 408.
    pub body_read_timeout: Duration,
    /// Deadline for receiving a request's headers (HTTP/1); past it, the connection is closed.
    pub header_read_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// May carry a password, hence secret; [`DatabaseSettings::redacted_url`] is what logs show.
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Encrypts the stored OAuth tokens when set (`TRADESPHERE_TOKEN_KEY`).
    pub token_key: Option<TokenKey>,
}

/// The key that seals the stored OAuth tokens: exactly [`TokenKey::LEN`] bytes, given as standard base64
/// with or without padding.
#[derive(Clone)]
pub struct TokenKey(SecretSlice<u8>);

/// Standard base64 alphabet that accepts keys with or without padding.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a token encryption key was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid token encryption key: {0}; expected 32 bytes, base64")]
pub struct InvalidTokenKey(String);

impl TokenKey {
    /// Key length in bytes (AES-256).
    pub const LEN: usize = 32;

    /// Decodes standard base64, padded or not, of exactly [`TokenKey::LEN`] bytes.
    pub fn from_base64(key: &str) -> Result<Self, InvalidTokenKey> {
        let bytes = KEY_ENGINE
            .decode(key.trim())
            .map_err(|_| InvalidTokenKey("not valid base64".to_owned()))?;
        if bytes.len() != Self::LEN {
            return Err(InvalidTokenKey(format!("decoded to {} bytes", bytes.len())));
        }
        Ok(Self(SecretSlice::from(bytes)))
    }

    /// The raw key bytes, always [`TokenKey::LEN`] of them.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl DatabaseSettings {
    pub fn is_sqlite(&self) -> bool {
        self.url.expose_secret().starts_with("sqlite:")
    }

    /// The URL without credentials or query, e.g. `postgres://db.internal:5432/tradesphere`.
    pub fn redacted_url(&self) -> String {
        let raw = self.url.expose_secret();
        match url::Url::parse(raw) {
            Ok(u) if u.has_host() => format!(
                "{}://{}{}{}",
                u.scheme(),
                u.host_str().unwrap_or_default(),
                u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                u.path()
            ),
            // Never echo an unparseable URL: it may hold a password.
            _ if raw.starts_with("sqlite:") => {
                raw.split('?').next().unwrap_or_default().to_string()
            }
            _ => "<unparseable database url>".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct ZaloSettings {
    pub app_id: String,
    pub app_secret: Option<SecretString>,
    pub oa_secret_key: Option<SecretString>,
    pub access_token: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
    pub bootstrap_token_lifetime: Duration,
    pub api_url: url::Url,
    pub oauth_url: url::Url,
    /// Where Zalo sends the OA admin back after consent: `https://…/api/v1/zalo/oauth/callback`.
    pub redirect_uri: Option<url::Url>,
}

impl LlmSettings {
    /// The longest one answer may take, queueing and retries included; after it, a templated answer.
    pub fn deadline(&self) -> Duration {
        self.timeout * (self.max_retries + 2)
    }
}

/// Total time of one OAuth token request. It lives here because `token.lease_secs` is checked against it
/// when the settings load.
pub const OAUTH_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The token keeper's schedule and limits.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub refresh_margin: Duration,
    pub refresh_jitter: Duration,
    pub check_interval: Duration,
    pub retry_min: Duration,
    pub retry_max: Duration,
    pub lease: Duration,
    pub refresh_token_lifetime: Duration,
    pub oauth_state_ttl: Duration,
}

/// How replies leave the service. `Auto` is resolved at start, once the database tells whether a token exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundMode {
    Auto,
    Zalo,
    Console,
}

#[derive(Debug, Clone)]
pub struct OutboundSettings {
    pub mode: OutboundMode,
    pub rate_per_minute: NonZeroU32,
    pub max_message_chars: usize,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub retry_base: Duration,
}

#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub api_key: Option<SecretString>,
    pub base_url: url::Url,
    pub model: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_tokens: u32,
    pub temperature: f32,
    pub history_messages: usize,
    pub history_token_budget: usize,
    pub max_concurrency: usize,
    pub system_prompt: String,
    pub max_retries: u32,
    pub retry_base: Duration,
    pub debounce: Duration,
    pub max_answer_chars: usize,
    pub budget: BudgetSettings,
    pub breaker: BreakerSettings,
}

/// The language model's cost limits. Every 0 means "nothing allowed", not "unlimited".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSettings {
    /// Requests one user may start in any 60-second window.
    pub user_requests_per_minute: u32,
    /// Tokens one user may use per day.
    pub user_tokens_per_day: u64,
    /// Tokens all users together may use per day.
    pub global_tokens_per_day: u64,
}

/// How eagerly the language model's circuit breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures (while closed) that open the breaker. 0 behaves like 1.
    pub failure_threshold: u32,
    /// How long the breaker stays open before a probe is allowed.
    pub cooldown: Duration,
}

#[derive(Debug, Clone)]
pub struct HandoffSettings {
    pub pause: Duration,
}

#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Zalo users (OA admins who follow the OA) who get firing alerts from `POST /api/v1/alerts`.
    pub zalo_user_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ScamSettings {
    /// How often the in-memory report index picks up rows changed by other processes.
    pub index_refresh: Duration,
    /// The list `scam sync` downloads (one domain per line, or chongluadao's JSON); `None` = sync off.
    pub sync_url: Option<url::Url>,
    pub sync_interval: Duration,
    pub sync_source: String,
    pub sync_category: String,
}

#[derive(Debug, Clone)]
pub struct ConversationSettings {
    pub idle_timeout: Duration,
    /// Live conversation actors at most: past it, the least recently used idle ones are stopped early.
    pub max_live: usize,
    pub max_attempts: u32,
    /// Messages one user may send within `rate_window` before the rest are recorded unanswered.
    pub max_messages_per_window: u32,
    pub rate_window: Duration,
}

#[derive(Debug, Clone)]
pub struct IntakeSettings {
    pub redispatch_after: Duration,
    pub sweep_interval: Duration,
    pub max_in_flight: usize,
}

#[derive(Debug, Clone)]
pub struct SupervisorSettings {
    pub max_restarts: u32,
    pub window: Duration,
    pub backoff_base: Duration,
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

// ===== Raw shape of the TOML, before parsing =====

#[derive(Deserialize)]
struct Raw {
    server: RawServer,
    database: RawDatabase,
    log: RawLog,
    zalo: RawZalo,
    outbound: RawOutbound,
    llm: RawLlm,
    conversation: RawConversation,
    intake: RawIntake,
    supervisor: RawSupervisor,
    token: RawToken,
    handoff: RawHandoff,
    scam: RawScam,
    alerts: RawAlerts,
}

#[derive(Deserialize)]
struct RawAlerts {
    zalo_user_ids: String,
}

#[derive(Deserialize)]
struct RawScam {
    index_refresh_secs: u64,
    sync_url: String,
    sync_interval_hours: u64,
    sync_source: String,
    sync_category: String,
}

#[derive(Deserialize)]
struct RawToken {
    refresh_margin_secs: u64,
    refresh_jitter_secs: u64,
    check_interval_ms: u64,
    retry_min_secs: u64,
    retry_max_secs: u64,
    lease_secs: u64,
    refresh_token_lifetime_days: u64,
    oauth_state_ttl_secs: u64,
}

#[derive(Deserialize)]
struct RawServer {
    listen: String,
    admin_listen: String,
    body_limit_bytes: usize,
    admin_token: String,
    admin_rate_per_minute: u32,
    admin_rate_burst: u32,
    body_read_timeout_secs: u64,
    header_read_timeout_secs: u64,
}

#[derive(Deserialize)]
struct RawDatabase {
    url: String,
    max_connections: u32,
    acquire_timeout_secs: u64,
    token_encryption_key: String,
}

#[derive(Deserialize)]
struct RawLog {
    format: String,
}

#[derive(Deserialize)]
struct RawZalo {
    app_id: String,
    app_secret: String,
    oa_secret_key: String,
    access_token: String,
    refresh_token: String,
    bootstrap_token_lifetime_secs: u64,
    api_url: String,
    oauth_url: String,
    redirect_uri: String,
}

#[derive(Deserialize)]
struct RawOutbound {
    mode: String,
    rate_per_minute: u32,
    max_message_chars: usize,
    request_timeout_secs: u64,
    max_retries: u32,
    retry_base_ms: u64,
}

#[derive(Deserialize)]
struct RawLlm {
    api_key: String,
    base_url: String,
    model: String,
    timeout_secs: u64,
    connect_timeout_secs: u64,
    max_tokens: u32,
    temperature: f32,
    history_messages: usize,
    history_token_budget: usize,
    max_concurrency: usize,
    system_prompt: String,
    max_retries: u32,
    retry_base_ms: u64,
    debounce_ms: u64,
    max_answer_chars: usize,
    user_requests_per_minute: u32,
    user_tokens_per_day: u64,
    global_tokens_per_day: u64,
    breaker_failure_threshold: u32,
    breaker_cooldown_secs: u64,
}

#[derive(Deserialize)]
struct RawHandoff {
    pause_minutes: u64,
}

#[derive(Deserialize)]
struct RawConversation {
    idle_timeout_secs: u64,
    max_live: usize,
    max_attempts: u32,
    max_messages_per_window: u32,
    rate_window_secs: u64,
}

#[derive(Deserialize)]
struct RawIntake {
    redispatch_after_secs: u64,
    sweep_interval_secs: u64,
    max_in_flight: usize,
}

#[derive(Deserialize)]
struct RawSupervisor {
    max_restarts: u32,
    window_secs: u64,
    backoff_base_ms: u64,
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

    fn parse(raw: Raw) -> Result<Self, ConfigError> {
        let listen = raw
            .server
            .listen
            .parse()
            .map_err(|e| invalid("server.listen", format!("`{}`: {e}", raw.server.listen)))?;
        if raw.server.body_limit_bytes < 1024 {
            return Err(invalid("server.body_limit_bytes", "must be at least 1024"));
        }
        let admin_listen: Option<SocketAddr> = match raw.server.admin_listen.trim() {
            "" => None,
            value => Some(
                value
                    .parse()
                    .map_err(|e| invalid("server.admin_listen", format!("`{value}`: {e}")))?,
            ),
        };
        if admin_listen.is_some_and(|admin| admin == listen && admin.port() != 0) {
            return Err(invalid(
                "server.admin_listen",
                "must differ from server.listen (leave it empty to serve everything on one listener)",
            ));
        }
        let admin_rate_per_minute = NonZeroU32::new(raw.server.admin_rate_per_minute)
            .ok_or_else(|| invalid("server.admin_rate_per_minute", "must be at least 1"))?;
        let admin_rate_burst = NonZeroU32::new(raw.server.admin_rate_burst)
            .ok_or_else(|| invalid("server.admin_rate_burst", "must be at least 1"))?;
        if raw.server.body_read_timeout_secs == 0 {
            return Err(invalid(
                "server.body_read_timeout_secs",
                "must be at least 1",
            ));
        }
        if raw.server.header_read_timeout_secs == 0 {
            return Err(invalid(
                "server.header_read_timeout_secs",
                "must be at least 1",
            ));
        }
        let db_url = raw.database.url.trim().to_string();
        if !(db_url.starts_with("sqlite:")
            || db_url.starts_with("postgres://")
            || db_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if raw.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        let format = match raw.log.format.trim().to_ascii_lowercase().as_str() {
            "text" | "" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log.format",
                    format!("`{other}`: expected text or json"),
                ));
            }
        };
        let mode = match raw.outbound.mode.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => OutboundMode::Auto,
            "zalo" => OutboundMode::Zalo,
            "console" => OutboundMode::Console,
            other => {
                return Err(invalid(
                    "outbound.mode",
                    format!("`{other}`: expected zalo or console"),
                ));
            }
        };
        let rate_per_minute = NonZeroU32::new(raw.outbound.rate_per_minute)
            .ok_or_else(|| invalid("outbound.rate_per_minute", "must be at least 1"))?;
        if raw.outbound.max_message_chars < 100 {
            return Err(invalid(
                "outbound.max_message_chars",
                "must be at least 100",
            ));
        }
        let app_id = raw.zalo.app_id.trim().to_string();
        if !app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid("zalo.app_id", "must be the numeric app id"));
        }
        if !(0.0..=2.0).contains(&raw.llm.temperature) {
            return Err(invalid("llm.temperature", "must be between 0 and 2"));
        }
        if raw.llm.max_concurrency == 0 {
            return Err(invalid("llm.max_concurrency", "must be at least 1"));
        }
        if raw.llm.model.trim().is_empty() {
            return Err(invalid("llm.model", "must not be empty"));
        }
        if raw.conversation.max_live == 0 {
            return Err(invalid("conversation.max_live", "must be at least 1"));
        }
        if raw.conversation.max_attempts == 0 {
            return Err(invalid("conversation.max_attempts", "must be at least 1"));
        }
        if raw.conversation.max_messages_per_window == 0 {
            return Err(invalid(
                "conversation.max_messages_per_window",
                "must be at least 1",
            ));
        }
        if raw.conversation.rate_window_secs == 0 {
            return Err(invalid(
                "conversation.rate_window_secs",
                "must be at least 1",
            ));
        }
        if raw.intake.max_in_flight == 0 {
            return Err(invalid("intake.max_in_flight", "must be at least 1"));
        }
        if raw.intake.sweep_interval_secs == 0 {
            return Err(invalid("intake.sweep_interval_secs", "must be at least 1"));
        }
        if raw.supervisor.window_secs == 0 {
            return Err(invalid("supervisor.window_secs", "must be at least 1"));
        }
        if raw.token.retry_min_secs < 1 {
            return Err(invalid(
                "token.retry_min_secs",
                "must be at least 1 (never hammer Zalo)",
            ));
        }
        if raw.token.retry_max_secs < raw.token.retry_min_secs {
            return Err(invalid(
                "token.retry_max_secs",
                "must be at least token.retry_min_secs",
            ));
        }
        // The lease must outlast one OAuth request, or a slow refresh could be taken over mid-flight.
        let min_lease = OAUTH_REQUEST_TIMEOUT.as_secs() + 15;
        if raw.token.lease_secs < min_lease {
            return Err(invalid(
                "token.lease_secs",
                format!("must be at least {min_lease}"),
            ));
        }
        if raw.token.check_interval_ms < 10 {
            return Err(invalid("token.check_interval_ms", "must be at least 10"));
        }
        let token_key = match secret(raw.database.token_encryption_key) {
            Some(key) => Some(
                TokenKey::from_base64(key.expose_secret())
                    .map_err(|e| invalid("database.token_encryption_key", e))?,
            ),
            None => None,
        };
        let redirect_uri = optional_url("zalo.redirect_uri", &raw.zalo.redirect_uri)?;
        Ok(Settings {
            server: ServerSettings {
                listen,
                admin_listen,
                body_limit_bytes: raw.server.body_limit_bytes,
                admin_token: secret(raw.server.admin_token),
                admin_rate_per_minute,
                admin_rate_burst,
                body_read_timeout: Duration::from_secs(raw.server.body_read_timeout_secs),
                header_read_timeout: Duration::from_secs(raw.server.header_read_timeout_secs),
            },
            database: DatabaseSettings {
                url: SecretString::from(db_url),
                max_connections: raw.database.max_connections,
                acquire_timeout: Duration::from_secs(raw.database.acquire_timeout_secs.max(1)),
                token_key,
            },
            log: LogSettings { format },
            zalo: ZaloSettings {
                app_id,
                app_secret: secret(raw.zalo.app_secret),
                oa_secret_key: secret(raw.zalo.oa_secret_key),
                access_token: secret(raw.zalo.access_token),
                refresh_token: secret(raw.zalo.refresh_token),
                bootstrap_token_lifetime: Duration::from_secs(
                    raw.zalo.bootstrap_token_lifetime_secs,
                ),
                api_url: base_url("zalo.api_url", &raw.zalo.api_url)?,
                oauth_url: base_url("zalo.oauth_url", &raw.zalo.oauth_url)?,
                redirect_uri,
            },
            outbound: OutboundSettings {
                mode,
                rate_per_minute,
                max_message_chars: raw.outbound.max_message_chars,
                request_timeout: Duration::from_secs(raw.outbound.request_timeout_secs.max(1)),
                max_retries: raw.outbound.max_retries,
                retry_base: Duration::from_millis(raw.outbound.retry_base_ms),
            },
            llm: LlmSettings {
                api_key: secret(raw.llm.api_key),
                base_url: base_url("llm.base_url", &raw.llm.base_url)?,
                model: raw.llm.model.trim().to_string(),
                timeout: Duration::from_secs(raw.llm.timeout_secs.max(1)),
                connect_timeout: Duration::from_secs(raw.llm.connect_timeout_secs.max(1)),
                max_tokens: raw.llm.max_tokens,
                temperature: raw.llm.temperature,
                history_messages: raw.llm.history_messages,
                history_token_budget: raw.llm.history_token_budget,
                max_concurrency: raw.llm.max_concurrency,
                system_prompt: raw.llm.system_prompt.trim().to_string(),
                max_retries: raw.llm.max_retries,
                retry_base: Duration::from_millis(raw.llm.retry_base_ms),
                debounce: Duration::from_millis(raw.llm.debounce_ms),
                max_answer_chars: raw.llm.max_answer_chars.max(100),
                budget: BudgetSettings {
                    user_requests_per_minute: raw.llm.user_requests_per_minute,
                    user_tokens_per_day: raw.llm.user_tokens_per_day,
                    global_tokens_per_day: raw.llm.global_tokens_per_day,
                },
                breaker: BreakerSettings {
                    failure_threshold: raw.llm.breaker_failure_threshold.max(1),
                    cooldown: Duration::from_secs(raw.llm.breaker_cooldown_secs),
                },
            },
            handoff: HandoffSettings {
                pause: Duration::from_secs(raw.handoff.pause_minutes * 60),
            },
            alerts: AlertSettings {
                zalo_user_ids: raw
                    .alerts
                    .zalo_user_ids
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            scam: ScamSettings {
                index_refresh: Duration::from_secs(raw.scam.index_refresh_secs),
                sync_url: optional_url("scam.sync_url", &raw.scam.sync_url)?,
                sync_interval: Duration::from_secs(raw.scam.sync_interval_hours.max(1) * 3600),
                sync_source: raw.scam.sync_source,
                sync_category: raw.scam.sync_category,
            },
            conversation: ConversationSettings {
                idle_timeout: Duration::from_secs(raw.conversation.idle_timeout_secs.max(1)),
                max_live: raw.conversation.max_live,
                max_attempts: raw.conversation.max_attempts,
                max_messages_per_window: raw.conversation.max_messages_per_window,
                rate_window: Duration::from_secs(raw.conversation.rate_window_secs),
            },
            intake: IntakeSettings {
                redispatch_after: Duration::from_secs(raw.intake.redispatch_after_secs),
                sweep_interval: Duration::from_secs(raw.intake.sweep_interval_secs),
                max_in_flight: raw.intake.max_in_flight,
            },
            supervisor: SupervisorSettings {
                max_restarts: raw.supervisor.max_restarts,
                window: Duration::from_secs(raw.supervisor.window_secs),
                backoff_base: Duration::from_millis(raw.supervisor.backoff_base_ms),
            },
            token: TokenSettings {
                refresh_margin: Duration::from_secs(raw.token.refresh_margin_secs),
                refresh_jitter: Duration::from_secs(raw.token.refresh_jitter_secs),
                check_interval: Duration::from_millis(raw.token.check_interval_ms),
                retry_min: Duration::from_secs(raw.token.retry_min_secs),
                retry_max: Duration::from_secs(raw.token.retry_max_secs),
                lease: Duration::from_secs(raw.token.lease_secs),
                refresh_token_lifetime: Duration::from_secs(
                    raw.token.refresh_token_lifetime_days * 86_400,
                ),
                oauth_state_ttl: Duration::from_secs(raw.token.oauth_state_ttl_secs.max(1)),
            },
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

#[cfg(test)]
mod tests {
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
}
