//! The `[server]`, `[database]` and `[log]` sections.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::Deserialize;

use super::{ConfigError, invalid, secret};

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
    /// Signs the moderation console's session cookies; `None`: a random key per process (sessions end with
    /// it, and each instance has its own).
    pub console_session_key: Option<SecretString>,
    /// Mark the console's cookie `Secure` even without `X-Forwarded-Proto: https` (TLS ends before us).
    pub console_secure_cookie: bool,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// May carry a password, hence secret; [`DatabaseSettings::redacted_url`] is what logs show.
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Encrypts the stored OAuth tokens when set (`TRADESPHERE_TOKEN_KEY`).
    pub token_key: Option<TokenKey>,
    /// PostgreSQL's `application_name` for every connection (`tradesphere/<member>`), so an operator can
    /// find one replica's sessions.
    pub application_name: Option<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
}

#[derive(Deserialize)]
pub(super) struct RawServer {
    listen: String,
    admin_listen: String,
    body_limit_bytes: usize,
    admin_token: String,
    admin_rate_per_minute: u32,
    admin_rate_burst: u32,
    body_read_timeout_secs: u64,
    header_read_timeout_secs: u64,
    console_session_key: String,
    console_secure_cookie: bool,
}

#[derive(Deserialize)]
pub(super) struct RawDatabase {
    url: String,
    max_connections: u32,
    acquire_timeout_secs: u64,
    token_encryption_key: String,
}

#[derive(Deserialize)]
pub(super) struct RawLog {
    format: String,
}

impl RawServer {
    pub(super) fn parse(self) -> Result<ServerSettings, ConfigError> {
        let listen = self
            .listen
            .parse()
            .map_err(|e| invalid("server.listen", format!("`{}`: {e}", self.listen)))?;
        if self.body_limit_bytes < 1024 {
            return Err(invalid("server.body_limit_bytes", "must be at least 1024"));
        }
        let admin_listen: Option<SocketAddr> = match self.admin_listen.trim() {
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
        let admin_rate_per_minute = NonZeroU32::new(self.admin_rate_per_minute)
            .ok_or_else(|| invalid("server.admin_rate_per_minute", "must be at least 1"))?;
        let admin_rate_burst = NonZeroU32::new(self.admin_rate_burst)
            .ok_or_else(|| invalid("server.admin_rate_burst", "must be at least 1"))?;
        if self.body_read_timeout_secs == 0 {
            return Err(invalid(
                "server.body_read_timeout_secs",
                "must be at least 1",
            ));
        }
        if self.header_read_timeout_secs == 0 {
            return Err(invalid(
                "server.header_read_timeout_secs",
                "must be at least 1",
            ));
        }
        Ok(ServerSettings {
            listen,
            admin_listen,
            body_limit_bytes: self.body_limit_bytes,
            admin_token: secret(self.admin_token),
            admin_rate_per_minute,
            admin_rate_burst,
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            console_session_key: secret(self.console_session_key),
            console_secure_cookie: self.console_secure_cookie,
        })
    }
}

impl RawDatabase {
    pub(super) fn parse(self) -> Result<DatabaseSettings, ConfigError> {
        let url = self.url.trim().to_string();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if self.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        let token_key = match secret(self.token_encryption_key) {
            Some(key) => Some(
                TokenKey::from_base64(key.expose_secret())
                    .map_err(|e| invalid("database.token_encryption_key", e))?,
            ),
            None => None,
        };
        Ok(DatabaseSettings {
            url: SecretString::from(url),
            max_connections: self.max_connections,
            acquire_timeout: Duration::from_secs(self.acquire_timeout_secs.max(1)),
            token_key,
            application_name: None,
        })
    }
}

impl RawLog {
    pub(super) fn parse(self) -> Result<LogSettings, ConfigError> {
        let format = match self.format.trim().to_ascii_lowercase().as_str() {
            "text" | "" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log.format",
                    format!("`{other}`: expected text or json"),
                ));
            }
        };
        Ok(LogSettings { format })
    }
}
