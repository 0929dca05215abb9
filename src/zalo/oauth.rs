//! Zalo OAuth v4 for an OA: the token endpoint (refresh and authorisation-code grants), PKCE, and the
//! permission URL.
//!
//! The token endpoint answers without a `data` envelope: `{"access_token","refresh_token","expires_in"}` with
//! `expires_in` a string (documented) or a number (seen in SDKs). Errors may come with HTTP 200 and an
//! `error` field, and a spent refresh token has been seen to get an empty 200: success is decided by the
//! presence of both tokens, like the official PHP SDK does.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::OAUTH_REQUEST_TIMEOUT;

/// A token pair as Zalo issued it.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_in: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// Network errors, 5xx, -32 (rate limit): retry later with backoff.
    #[error("temporary OAuth failure: {0}")]
    Transient(String),
    /// The grant was refused (`-14014` invalid refresh token, a 200 without both tokens, any other error
    /// code): retrying cannot help; an OA admin must re-authorise.
    #[error("the OAuth grant was refused (code {code}): {message}")]
    Rejected { code: i64, message: String },
    /// The request left but no readable answer came back: Zalo may have rotated the refresh token.
    #[error("no answer after the request was sent: {0}")]
    Indeterminate(String),
}

/// The default lifetime when `expires_in` is missing or unreadable (Zalo documents 25 h).
const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(90_000);
/// An absurd `expires_in` is clamped: a token is never trusted for more than a year.
const MAX_EXPIRES_IN: Duration = Duration::from_secs(365 * 86_400);

#[derive(Debug, Clone)]
pub struct ZaloOAuth {
    http: reqwest::Client,
    oauth_url: url::Url,
    app_id: String,
    app_secret: Option<SecretString>,
}

impl ZaloOAuth {
    pub fn new(
        http: reqwest::Client,
        oauth_url: url::Url,
        app_id: String,
        app_secret: Option<SecretString>,
    ) -> Self {
        Self {
            http,
            oauth_url,
            app_id,
            app_secret,
        }
    }

    /// `grant_type=refresh_token`. The refresh token is single-use: on success the old one is dead.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<IssuedTokens, OAuthError> {
        self.token_request(&[
            ("refresh_token", refresh_token.expose_secret()),
            ("app_id", &self.app_id),
            ("grant_type", "refresh_token"),
        ])
        .await
    }

    /// `grant_type=authorization_code` with the PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &SecretString,
    ) -> Result<IssuedTokens, OAuthError> {
        self.token_request(&[
            ("code", code),
            ("app_id", &self.app_id),
            ("grant_type", "authorization_code"),
            ("code_verifier", code_verifier.expose_secret()),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<IssuedTokens, OAuthError> {
        let mut request = self
            .http
            .post(super::endpoint(&self.oauth_url, "/v4/oa/access_token"))
            // The refresh lease (`token.lease_secs`) is checked at load to outlast this.
            .timeout(OAUTH_REQUEST_TIMEOUT)
            .form(form);
        // The app secret travels in a header, never in the form body.
        if let Some(secret) = &self.app_secret {
            request = request.header("secret_key", secret.expose_secret());
        }
        let response = request.send().await.map_err(|e| {
            let e = e.without_url();
            // Nothing left this host on a connect failure; anything later may have reached Zalo.
            if e.is_connect() {
                OAuthError::Transient(e.to_string())
            } else {
                OAuthError::Indeterminate(e.to_string())
            }
        })?;
        let status = response.status();
        // Zalo answers its own errors with HTTP 200; any other status is a proxy, an outage or a wrong
        // URL, not a verdict on the grant: retry later (the refresh-failure alerts tell a human).
        if !status.is_success() {
            return Err(OAuthError::Transient(format!("HTTP {status}")));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| OAuthError::Indeterminate(e.without_url().to_string()))?;
        parse_token_response(&bytes)
    }
}

/// Decodes a token endpoint answer (pure; unit-tested on every shape seen).
pub fn parse_token_response(bytes: &[u8]) -> Result<IssuedTokens, OAuthError> {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let (Some(access), Some(refresh)) = (text("access_token"), text("refresh_token")) {
        let expires_in = match value.get("expires_in") {
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_EXPIRES_IN)
        .min(MAX_EXPIRES_IN);
        return Ok(IssuedTokens {
            access_token: SecretString::from(access),
            refresh_token: SecretString::from(refresh),
            expires_in,
        });
    }
    let code = match value.get("error") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(-1),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(-1),
        _ => 0,
    };
    let message = ["message", "error_reason", "error_name", "error_description"]
        .iter()
        .find_map(|k| text(k))
        .unwrap_or_else(|| "the answer did not contain both tokens".to_string());
    if code == -32 {
        return Err(OAuthError::Transient(message));
    }
    Err(OAuthError::Rejected { code, message })
}

/// A PKCE pair: verifier = base64url-no-pad(32 random bytes) (43 characters), challenge =
/// base64url-no-pad(SHA-256(verifier)), as Zalo's PKCEUtil does.
pub fn pkce_pair() -> (SecretString, String) {
    let bytes: [u8; 32] = rand::random();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = code_challenge(&verifier);
    (SecretString::from(verifier), challenge)
}

pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A random, URL-safe `state`.
pub fn new_state() -> String {
    let bytes: [u8; 24] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `https://oauth.zaloapp.com/v4/oa/permission?app_id&redirect_uri&code_challenge&state`.
pub fn permission_url(
    oauth_url: &url::Url,
    app_id: &str,
    redirect_uri: &url::Url,
    challenge: &str,
    state: &str,
) -> String {
    let mut url = url::Url::parse(&super::endpoint(oauth_url, "/v4/oa/permission"))
        .expect("a valid base URL joined with a path is valid");
    url.query_pairs_mut()
        .append_pair("app_id", app_id)
        .append_pair("redirect_uri", redirect_uri.as_str())
        .append_pair("code_challenge", challenge)
        .append_pair("state", state);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_as_string_or_number() {
        let t = parse_token_response(
            br#"{"access_token":"a","refresh_token":"r","expires_in":"90000"}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(90_000));
        assert_eq!(t.access_token.expose_secret(), "a");
        let t =
            parse_token_response(br#"{"access_token":"a","refresh_token":"r","expires_in":3600}"#)
                .unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(3600));
        let t = parse_token_response(br#"{"access_token":"a","refresh_token":"r"}"#).unwrap();
        assert_eq!(t.expires_in, DEFAULT_EXPIRES_IN);
    }

    #[test]
    fn errors_inside_a_200() {
        let e = parse_token_response(br#"{"error":-14014,"error_name":"Invalid refresh token"}"#)
            .unwrap_err();
        assert_eq!(
            e,
            OAuthError::Rejected {
                code: -14014,
                message: "Invalid refresh token".into()
            }
        );
        assert!(matches!(
            parse_token_response(b""),
            Err(OAuthError::Rejected { code: 0, .. })
        ));
        assert!(matches!(
            parse_token_response(br#"{"access_token":"a","expires_in":"90000"}"#),
            Err(OAuthError::Rejected { .. })
        ));
        assert!(matches!(
            parse_token_response(br#"{"error":-32,"message":"limit"}"#),
            Err(OAuthError::Transient(_))
        ));
    }

    #[test]
    fn pkce_matches_the_rfc_7636_example() {
        // RFC 7636 appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (verifier, challenge) = pkce_pair();
        assert_eq!(verifier.expose_secret().len(), 43);
        assert_eq!(code_challenge(verifier.expose_secret()), challenge);
        assert_ne!(new_state(), new_state());
    }

    #[test]
    fn permission_url_has_the_four_parameters() {
        let base = url::Url::parse("https://oauth.zaloapp.com").unwrap();
        let redirect = url::Url::parse("https://bot.example/api/v1/zalo/oauth/callback").unwrap();
        let url = url::Url::parse(&permission_url(&base, "123", &redirect, "CH", "ST")).unwrap();
        assert_eq!(url.path(), "/v4/oa/permission");
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["app_id"], "123");
        assert_eq!(pairs["redirect_uri"], redirect.as_str());
        assert_eq!(pairs["code_challenge"], "CH");
        assert_eq!(pairs["state"], "ST");
    }
}
