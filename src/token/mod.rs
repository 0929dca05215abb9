//! The Zalo OAuth token pair as a service: one refresh attempt under the cross-process lease, PKCE
//! re-authorisation, and what may be shown about the pair. The token keeper actor decides when to refresh;
//! the CLI and the HTTP endpoints call these directly.

mod authorize;
mod refresh;
mod status;

use secrecy::SecretString;

pub use authorize::{
    Authorization, AuthorizationError, begin_authorization, complete_authorization,
};
pub use refresh::{RefreshJob, RefreshOutcome};
pub use status::{BootstrapError, TokenStatus, bootstrap, export, status_of};

use crate::config::ZaloSettings;
use crate::zalo::oauth::ZaloOAuth;

/// The access token handed to senders, with the version it belongs to (to report it as rejected).
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: SecretString,
    pub version: i64,
}

/// The OAuth client for the configured app.
pub fn oauth_client(http: &reqwest::Client, zalo: &ZaloSettings) -> ZaloOAuth {
    ZaloOAuth::new(
        http.clone(),
        zalo.oauth_url.clone(),
        zalo.app_id.clone(),
        zalo.app_secret.clone(),
    )
}

/// Token settings with the shipped defaults' shape, for unit tests here and in the token keeper.
#[cfg(test)]
pub(crate) fn test_settings() -> crate::config::TokenSettings {
    use std::time::Duration;
    crate::config::TokenSettings {
        refresh_margin: Duration::from_secs(18_000),
        refresh_jitter: Duration::ZERO,
        check_interval: Duration::from_secs(30),
        retry_min: Duration::from_secs(5),
        retry_max: Duration::from_secs(300),
        lease: Duration::from_secs(60),
        refresh_token_lifetime: Duration::from_secs(90 * 86_400),
        oauth_state_ttl: Duration::from_secs(600),
    }
}
