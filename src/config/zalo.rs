//! The `[zalo]`, `[token]` and `[outbound]` sections: the Official Account, its OAuth tokens, and sending.

use std::num::NonZeroU32;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, base_url, invalid, optional_url, secret};

/// Total time of one OAuth token request. It lives here because `token.lease_secs` is checked against it
/// when the settings load.
pub const OAUTH_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

#[derive(Deserialize)]
pub(super) struct RawZalo {
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
pub(super) struct RawToken {
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
pub(super) struct RawOutbound {
    mode: String,
    rate_per_minute: u32,
    max_message_chars: usize,
    request_timeout_secs: u64,
    max_retries: u32,
    retry_base_ms: u64,
}

impl RawZalo {
    pub(super) fn parse(self) -> Result<ZaloSettings, ConfigError> {
        let app_id = self.app_id.trim().to_string();
        if !app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid("zalo.app_id", "must be the numeric app id"));
        }
        let redirect_uri = optional_url("zalo.redirect_uri", &self.redirect_uri)?;
        Ok(ZaloSettings {
            app_id,
            app_secret: secret(self.app_secret),
            oa_secret_key: secret(self.oa_secret_key),
            access_token: secret(self.access_token),
            refresh_token: secret(self.refresh_token),
            bootstrap_token_lifetime: Duration::from_secs(self.bootstrap_token_lifetime_secs),
            api_url: base_url("zalo.api_url", &self.api_url)?,
            oauth_url: base_url("zalo.oauth_url", &self.oauth_url)?,
            redirect_uri,
        })
    }
}

impl RawToken {
    pub(super) fn parse(self) -> Result<TokenSettings, ConfigError> {
        if self.retry_min_secs < 1 {
            return Err(invalid(
                "token.retry_min_secs",
                "must be at least 1 (never hammer Zalo)",
            ));
        }
        if self.retry_max_secs < self.retry_min_secs {
            return Err(invalid(
                "token.retry_max_secs",
                "must be at least token.retry_min_secs",
            ));
        }
        // The lease must outlast one OAuth request, or a slow refresh could be taken over mid-flight.
        let min_lease = OAUTH_REQUEST_TIMEOUT.as_secs() + 15;
        if self.lease_secs < min_lease {
            return Err(invalid(
                "token.lease_secs",
                format!("must be at least {min_lease}"),
            ));
        }
        if self.check_interval_ms < 10 {
            return Err(invalid("token.check_interval_ms", "must be at least 10"));
        }
        Ok(TokenSettings {
            refresh_margin: Duration::from_secs(self.refresh_margin_secs),
            refresh_jitter: Duration::from_secs(self.refresh_jitter_secs),
            check_interval: Duration::from_millis(self.check_interval_ms),
            retry_min: Duration::from_secs(self.retry_min_secs),
            retry_max: Duration::from_secs(self.retry_max_secs),
            lease: Duration::from_secs(self.lease_secs),
            refresh_token_lifetime: Duration::from_secs(self.refresh_token_lifetime_days * 86_400),
            oauth_state_ttl: Duration::from_secs(self.oauth_state_ttl_secs.max(1)),
        })
    }
}

impl RawOutbound {
    pub(super) fn parse(self) -> Result<OutboundSettings, ConfigError> {
        let mode = match self.mode.trim().to_ascii_lowercase().as_str() {
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
        let rate_per_minute = NonZeroU32::new(self.rate_per_minute)
            .ok_or_else(|| invalid("outbound.rate_per_minute", "must be at least 1"))?;
        if self.max_message_chars < 100 {
            return Err(invalid(
                "outbound.max_message_chars",
                "must be at least 100",
            ));
        }
        Ok(OutboundSettings {
            mode,
            rate_per_minute,
            max_message_chars: self.max_message_chars,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            max_retries: self.max_retries,
            retry_base: Duration::from_millis(self.retry_base_ms),
        })
    }
}
