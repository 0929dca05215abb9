//! The console's signed session cookie. Stateless: the cookie carries its kind, expiry and a random nonce,
//! sealed with HMAC-SHA-256 under a key only the server holds, so nothing is stored and a restart with a
//! configured key keeps moderators logged in. The nonce is what CSRF tokens are bound to (see `csrf`). Pure.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::{Digest, Sha256};

/// The cookie's name; scoped to `/admin` by its `Path`.
pub const COOKIE: &str = "ts_console";
/// How long a moderator stays logged in.
pub const MODERATOR_SECS: i64 = 8 * 3600;
/// How long a login form stays usable.
pub const ANONYMOUS_SECS: i64 = 3600;
const NONCE_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// Whether the bearer has logged in. An anonymous session exists only so the login form's CSRF token is
/// bound to the browser that fetched it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Anonymous,
    Moderator,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "a",
            Self::Moderator => "m",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "a" => Some(Self::Anonymous),
            "m" => Some(Self::Moderator),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub kind: SessionKind,
    /// Unix seconds.
    pub expires_at: i64,
    pub nonce: [u8; NONCE_LEN],
}

impl Session {
    /// A fresh session of `kind` from `now` (Unix seconds), with the caller's random nonce.
    pub fn new(kind: SessionKind, now: i64, nonce: [u8; NONCE_LEN]) -> Self {
        let lifetime = match kind {
            SessionKind::Anonymous => ANONYMOUS_SECS,
            SessionKind::Moderator => MODERATOR_SECS,
        };
        Self {
            kind,
            expires_at: now + lifetime,
            nonce,
        }
    }

    pub fn max_age(&self, now: i64) -> i64 {
        (self.expires_at - now).max(0)
    }
}

/// The key sessions and CSRF tokens are signed with. Debug never shows it.
pub struct SessionKey(SecretSlice<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// A configured key of any length, stretched to 32 bytes, so several instances share sessions.
    pub fn from_configured(secret: &SecretString) -> Self {
        let digest = Sha256::digest(secret.expose_secret().as_bytes());
        Self(SecretSlice::from(digest.to_vec()))
    }

    /// A per-process key from the caller's random bytes: sessions end with the process.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(SecretSlice::from(bytes.to_vec()))
    }

    fn mac(&self, purpose: &str, message: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"|");
        mac.update(message);
        mac
    }

    fn body(session: &Session) -> String {
        format!(
            "{}.{}.{}",
            session.kind.as_str(),
            session.expires_at,
            hex::encode(session.nonce)
        )
    }

    /// The cookie value: `kind.expiry.nonce.mac`, all ASCII.
    pub fn seal(&self, session: &Session) -> String {
        let body = Self::body(session);
        let tag = self.mac("session", body.as_bytes()).finalize().into_bytes();
        format!("{body}.{}", hex::encode(tag))
    }

    /// The session in a cookie value, if its MAC holds (checked in constant time) and it has not expired.
    pub fn open(&self, value: &str, now: i64) -> Option<Session> {
        let (body, tag) = value.rsplit_once('.')?;
        let tag = hex::decode(tag).ok()?;
        self.mac("session", body.as_bytes())
            .verify_slice(&tag)
            .ok()?;
        let mut fields = body.split('.');
        let kind = SessionKind::parse(fields.next()?)?;
        let expires_at: i64 = fields.next()?.parse().ok()?;
        let mut nonce = [0u8; NONCE_LEN];
        hex::decode_to_slice(fields.next()?, &mut nonce).ok()?;
        if fields.next().is_some() || expires_at <= now {
            return None;
        }
        Some(Session {
            kind,
            expires_at,
            nonce,
        })
    }

    /// The CSRF token of every form served to this session.
    pub fn csrf_token(&self, session: &Session) -> String {
        hex::encode(self.mac("csrf", &session.nonce).finalize().into_bytes())
    }

    /// Whether `given` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, session: &Session, given: &str) -> bool {
        let Ok(tag) = hex::decode(given) else {
            return false;
        };
        self.mac("csrf", &session.nonce).verify_slice(&tag).is_ok()
    }
}

/// The value of the `ts_console` cookie in a `Cookie` header, if any.
pub fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE).then_some(value)
    })
}

/// The `Set-Cookie` value carrying `sealed` for `max_age` seconds (0 deletes it). `Secure` when the browser
/// reached us over https, so a cookie set behind a TLS proxy never travels in clear.
pub fn set_cookie(sealed: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{COOKIE}={sealed}; Path=/admin; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey::from_random([7; 32])
    }

    #[test]
    fn a_sealed_session_opens_until_it_expires() {
        let session = Session::new(SessionKind::Moderator, 1_000, [1; 16]);
        let sealed = key().seal(&session);
        assert_eq!(key().open(&sealed, 1_000), Some(session.clone()));
        assert_eq!(key().open(&sealed, 1_000 + MODERATOR_SECS), None);
    }

    #[test]
    fn a_tampered_or_foreign_cookie_does_not_open() {
        let session = Session::new(SessionKind::Anonymous, 1_000, [1; 16]);
        let sealed = key().seal(&session);
        let promoted = sealed.replacen("a.", "m.", 1);
        assert_eq!(key().open(&promoted, 1_000), None);
        let longer = sealed.replacen(".4600.", ".9999.", 1);
        assert_ne!(longer, sealed);
        assert_eq!(key().open(&longer, 1_000), None);
        assert_eq!(SessionKey::from_random([8; 32]).open(&sealed, 1_000), None);
        for junk in ["", ".", "m.1.2.3", "m.x.00.00", "m.9999999999.zz.00"] {
            assert_eq!(key().open(junk, 1_000), None, "{junk}");
        }
    }

    #[test]
    fn a_configured_key_is_the_same_in_every_process() {
        let secret = SecretString::from("shared console key");
        let session = Session::new(SessionKind::Moderator, 0, [2; 16]);
        let sealed = SessionKey::from_configured(&secret).seal(&session);
        assert!(
            SessionKey::from_configured(&secret)
                .open(&sealed, 1)
                .is_some()
        );
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let mine = Session::new(SessionKind::Moderator, 0, [3; 16]);
        let theirs = Session::new(SessionKind::Moderator, 0, [4; 16]);
        let token = key().csrf_token(&mine);
        assert!(key().csrf_matches(&mine, &token));
        assert!(!key().csrf_matches(&theirs, &token));
        assert!(!key().csrf_matches(&mine, ""));
        assert!(!key().csrf_matches(&mine, "not hex"));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_https() {
        let plain = set_cookie("v", 60, false);
        assert_eq!(
            plain,
            "ts_console=v; Path=/admin; Max-Age=60; HttpOnly; SameSite=Strict"
        );
        assert!(set_cookie("v", 60, true).ends_with("; Secure"));
        assert_eq!(cookie_value("a=b; ts_console=xyz; c=d"), Some("xyz"));
        assert_eq!(cookie_value("ts_console_other=1"), None);
    }
}
