//! What may be shown about the stored pair (never a token), the bootstrap pair from the environment, and the
//! token gauges.

use chrono::{DateTime, Utc};

use crate::config::{TokenSettings, ZaloSettings};
use crate::store::{NewTokenPair, Store, StoreError, StoredToken};
use crate::telemetry;

/// What `token status`, the admin API and `/readyz` may show: never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStatus {
    pub present: bool,
    pub version: i64,
    pub source: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_token_present: bool,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_refresh_result: Option<String>,
    pub last_refresh_error: Option<String>,
    pub last_refresh_success_at: Option<DateTime<Utc>>,
    pub reauth_required: bool,
}

pub fn status_of(token: Option<&StoredToken>, settings: &TokenSettings) -> TokenStatus {
    TokenStatus {
        present: token.is_some(),
        version: token.map_or(0, |t| t.version),
        source: token.map(|t| t.source.clone()),
        expires_at: token.and_then(|t| t.access_expires_at),
        refresh_token_present: token.is_some_and(|t| t.refresh_token.is_some()),
        refresh_expires_at: token.and_then(|t| refresh_expiry(t, settings)),
        last_refresh_at: token.and_then(|t| t.last_refresh_at),
        last_refresh_result: token.and_then(|t| t.last_refresh_result.clone()),
        last_refresh_error: token.and_then(|t| t.last_refresh_error.clone()),
        last_refresh_success_at: token.and_then(|t| t.last_refresh_success_at),
        reauth_required: token.is_some_and(|t| t.reauth_required),
    }
}

fn refresh_expiry(token: &StoredToken, settings: &TokenSettings) -> Option<DateTime<Utc>> {
    token.refresh_token.as_ref()?;
    Some(
        token.refresh_issued_at?
            + chrono::Duration::from_std(settings.refresh_token_lifetime).ok()?,
    )
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configured bootstrap lifetime does not fit a date.
    #[error(transparent)]
    Lifetime(#[from] chrono::OutOfRangeError),
}

/// The stored pair, else the environment's bootstrap pair (stored now), else none.
pub async fn bootstrap(
    store: &Store,
    zalo: &ZaloSettings,
    now: DateTime<Utc>,
) -> Result<Option<StoredToken>, BootstrapError> {
    if let Some(token) = store.load_token().await? {
        return Ok(Some(token));
    }
    let Some(access) = &zalo.access_token else {
        return Ok(None);
    };
    // The environment gives no expiry: assume a token issued now with Zalo's documented lifetime.
    let pair = NewTokenPair {
        access_token: access.clone(),
        refresh_token: zalo.refresh_token.clone(),
        access_expires_at: Some(now + chrono::Duration::from_std(zalo.bootstrap_token_lifetime)?),
    };
    let stored = store.save_token(&pair, "environment", now).await?;
    tracing::info!("stored the bootstrap Zalo token from the environment");
    Ok(Some(stored))
}

/// Exports the token gauges (whenever a token is known).
pub fn export(token: Option<&StoredToken>, settings: &TokenSettings) {
    let Some(token) = token else { return };
    if let Some(expires_at) = token.access_expires_at {
        metrics::gauge!(telemetry::TOKEN_EXPIRY).set(expires_at.timestamp() as f64);
    }
    if let Some(at) = refresh_expiry(token, settings) {
        metrics::gauge!(telemetry::REFRESH_TOKEN_EXPIRY).set(at.timestamp() as f64);
    }
    if let Some(at) = token.last_refresh_success_at {
        metrics::gauge!(telemetry::TOKEN_LAST_REFRESH_SUCCESS).set(at.timestamp() as f64);
    }
    metrics::gauge!(telemetry::TOKEN_REAUTH_REQUIRED).set(if token.reauth_required {
        1.0
    } else {
        0.0
    });
}

#[cfg(test)]
mod tests {

    use secrecy::SecretString;

    use super::*;

    use crate::token::test_settings as settings;

    fn stored(refresh_token: Option<&str>) -> StoredToken {
        let issued = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .to_utc();
        StoredToken {
            access_token: SecretString::from("access"),
            refresh_token: refresh_token.map(SecretString::from),
            access_expires_at: Some(issued + chrono::Duration::hours(25)),
            refresh_issued_at: Some(issued),
            version: 3,
            source: "import".into(),
            last_refresh_at: None,
            last_refresh_result: None,
            last_refresh_error: None,
            last_refresh_success_at: None,
            reauth_required: false,
            lease_owner: None,
            lease_until: None,
        }
    }

    #[test]
    fn no_token_shows_as_absent() {
        let status = status_of(None, &settings());
        assert!(!status.present);
        assert_eq!(status.version, 0);
        assert!(!status.refresh_token_present);
        assert_eq!(status.refresh_expires_at, None);
    }

    #[test]
    fn the_refresh_token_expires_a_lifetime_after_it_was_issued_and_only_when_present() {
        let with = stored(Some("refresh"));
        let status = status_of(Some(&with), &settings());
        assert!(status.present && status.refresh_token_present);
        assert_eq!(status.version, 3);
        assert_eq!(status.source.as_deref(), Some("import"));
        assert_eq!(
            status.refresh_expires_at,
            Some(with.refresh_issued_at.unwrap() + chrono::Duration::days(90))
        );
        let without = status_of(Some(&stored(None)), &settings());
        assert!(!without.refresh_token_present);
        assert_eq!(without.refresh_expires_at, None);
    }
}
