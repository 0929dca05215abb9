//! Re-authorisation with PKCE, shared by `tradesphere token authorize-url` and the HTTP endpoints: a permission
//! URL for an OA admin, then the callback that exchanges the code and stores the new pair.

use chrono::{DateTime, Utc};

use crate::config::{TokenSettings, ZaloSettings};
use crate::store::{NewTokenPair, Store, StoredToken};
use crate::zalo::oauth::{OAuthError, ZaloOAuth};

/// A permission URL for an OA admin to open, valid until `expires_at`.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthorizationError {
    #[error(
        "zalo.redirect_uri (ZALO_REDIRECT_URI) is not set: it must be the OA callback URL, \
             https://YOUR-DOMAIN/api/v1/zalo/oauth/callback"
    )]
    NoRedirectUri,
    #[error("ZALO_APP_ID is not set")]
    NoAppId,
    #[error("unknown, used or expired state")]
    BadState,
    #[error("Zalo refused the authorisation code: {0}")]
    Exchange(#[from] OAuthError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Creates a `state` and a PKCE `code_verifier` (stored, expiring after `token.oauth_state_ttl`) and the
/// permission URL carrying the matching `code_challenge`.
pub async fn begin_authorization(
    store: &Store,
    zalo: &ZaloSettings,
    token: &TokenSettings,
    now: DateTime<Utc>,
) -> Result<Authorization, AuthorizationError> {
    let redirect_uri = zalo
        .redirect_uri
        .as_ref()
        .ok_or(AuthorizationError::NoRedirectUri)?;
    if zalo.app_id.is_empty() {
        return Err(AuthorizationError::NoAppId);
    }
    let (verifier, challenge) = crate::zalo::oauth::pkce_pair();
    let state = crate::zalo::oauth::new_state();
    let expires_at = now + chrono::Duration::from_std(token.oauth_state_ttl).unwrap_or_default();
    store
        .create_oauth_state(&state, &verifier, now, expires_at)
        .await?;
    let url = crate::zalo::oauth::permission_url(
        &zalo.oauth_url,
        &zalo.app_id,
        redirect_uri,
        &challenge,
        &state,
    );
    Ok(Authorization {
        url,
        state,
        expires_at,
    })
}

/// The callback: consumes `state` once, exchanges `code` with its verifier, stores the new pair (clearing
/// the re-authorisation alarm). Nothing is stored for an unknown or expired state.
pub async fn complete_authorization(
    store: &Store,
    oauth: &ZaloOAuth,
    state: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<StoredToken, AuthorizationError> {
    let verifier = store
        .take_oauth_state(state, now)
        .await?
        .ok_or(AuthorizationError::BadState)?;
    let issued = oauth.exchange_code(code, &verifier).await?;
    let pair = NewTokenPair {
        access_token: issued.access_token,
        refresh_token: Some(issued.refresh_token),
        access_expires_at: Some(
            now + chrono::Duration::from_std(issued.expires_in).unwrap_or_default(),
        ),
    };
    Ok(store.save_token(&pair, "authorization", now).await?)
}
