//! What makes a console POST acceptable besides its session: the form's `csrf_token` (bound to the session,
//! see `session`) and, when the browser says where the request came from, that it came from the console
//! itself. `SameSite=Strict` already keeps the cookie off cross-site requests; these checks refuse them even
//! where a browser or proxy gets that wrong. Pure.

use super::session::{Session, SessionKey};

/// Why a POST was refused (always a 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No valid session cookie.
    NoSession,
    /// The form's `csrf_token` is missing or not this session's.
    BadToken,
    /// `Origin` names another site, or `Sec-Fetch-Site` says cross-site.
    ForeignOrigin,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoSession => "no_session",
            Self::BadToken => "bad_csrf_token",
            Self::ForeignOrigin => "foreign_origin",
        }
    }
}

/// What the request said about where it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Provenance<'a> {
    pub origin: Option<&'a str>,
    pub host: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
}

/// Whether a request with this provenance may change anything. A missing `Origin` is let through (older
/// browsers and non-browser clients omit it); the CSRF token still has to match.
pub fn same_origin(provenance: &Provenance<'_>) -> bool {
    if provenance.sec_fetch_site.is_some_and(|site| {
        site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
    }) {
        return false;
    }
    let Some(origin) = provenance.origin else {
        return true;
    };
    // A sandboxed or privacy-stripped request says "null": not ours.
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    provenance
        .host
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

/// The checks of every console POST, in order.
pub fn check(
    key: &SessionKey,
    session: Option<&Session>,
    csrf_token: Option<&str>,
    provenance: &Provenance<'_>,
) -> Result<(), Refusal> {
    if !same_origin(provenance) {
        return Err(Refusal::ForeignOrigin);
    }
    let session = session.ok_or(Refusal::NoSession)?;
    match csrf_token {
        Some(token) if key.csrf_matches(session, token) => Ok(()),
        _ => Err(Refusal::BadToken),
    }
}

#[cfg(test)]
mod tests {
    use super::super::session::SessionKind;
    use super::*;

    fn here(origin: Option<&'static str>) -> Provenance<'static> {
        Provenance {
            origin,
            host: Some("127.0.0.1:9091"),
            sec_fetch_site: None,
        }
    }

    #[test]
    fn only_our_own_origin_may_post() {
        assert!(same_origin(&here(Some("http://127.0.0.1:9091"))));
        assert!(same_origin(&here(None)));
        assert!(!same_origin(&here(Some("https://evil.example"))));
        assert!(!same_origin(&here(Some("http://127.0.0.1:9092"))));
        assert!(!same_origin(&here(Some("null"))));
        let cross = Provenance {
            sec_fetch_site: Some("cross-site"),
            ..here(None)
        };
        assert!(!same_origin(&cross));
        let same = Provenance {
            sec_fetch_site: Some("same-origin"),
            ..here(Some("http://127.0.0.1:9091"))
        };
        assert!(same_origin(&same));
    }

    #[test]
    fn a_post_needs_a_session_and_its_token() {
        let key = SessionKey::from_random([9; 32]);
        let session = Session::new(SessionKind::Moderator, 0, [5; 16]);
        let token = key.csrf_token(&session);
        let ok = here(Some("http://127.0.0.1:9091"));
        assert_eq!(check(&key, Some(&session), Some(&token), &ok), Ok(()));
        assert_eq!(
            check(&key, None, Some(&token), &ok),
            Err(Refusal::NoSession)
        );
        assert_eq!(
            check(&key, Some(&session), None, &ok),
            Err(Refusal::BadToken)
        );
        assert_eq!(
            check(&key, Some(&session), Some("00"), &ok),
            Err(Refusal::BadToken)
        );
        assert_eq!(
            check(
                &key,
                Some(&session),
                Some(&token),
                &here(Some("https://evil.example"))
            ),
            Err(Refusal::ForeignOrigin)
        );
    }
}
