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
