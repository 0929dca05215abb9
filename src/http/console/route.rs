//! Which console page or action a request names: the method and the path under `/admin`. Pure.

use super::actions::Decision;

/// The request methods the console answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/admin`: the report queue.
    Home,
    Stylesheet,
    LoginForm,
    Login,
    Logout,
    Reports,
    Decide {
        id: i64,
        decision: Decision,
    },
    Appeals,
    Pauses,
    ClearPause {
        user: String,
    },
    /// The recent users, or a jump to `?id=`.
    Users,
    Conversation {
        user: String,
    },
    Campaigns,
    /// A new scam alert to followers, from the campaigns page's form.
    CreateCampaign,
    Status,
}

impl Route {
    /// The route for `verb` on `tail` (the path after `/admin/`, without a leading slash); `None` is a 404.
    pub fn parse(verb: Verb, tail: &str) -> Option<Self> {
        let segments: Vec<&str> = tail.trim_end_matches('/').split('/').collect();
        let route = match (verb, segments.as_slice()) {
            (Verb::Get, [""]) => Self::Home,
            (Verb::Get, ["static", "console.css"]) => Self::Stylesheet,
            (Verb::Get, ["login"]) => Self::LoginForm,
            (Verb::Post, ["login"]) => Self::Login,
            (Verb::Post, ["logout"]) => Self::Logout,
            (Verb::Get, ["reports"]) => Self::Reports,
            (Verb::Post, ["reports", id, action]) => Self::Decide {
                id: id.parse().ok().filter(|id: &i64| *id > 0)?,
                decision: Decision::parse(action)?,
            },
            (Verb::Get, ["appeals"]) => Self::Appeals,
            (Verb::Get, ["pauses"]) => Self::Pauses,
            (Verb::Post, ["pauses", user, "clear"]) if plain(user) => Self::ClearPause {
                user: (*user).to_string(),
            },
            (Verb::Get, ["users"]) => Self::Users,
            (Verb::Get, ["users", user]) if plain(user) => Self::Conversation {
                user: (*user).to_string(),
            },
            (Verb::Get, ["campaigns"]) => Self::Campaigns,
            (Verb::Post, ["campaigns"]) => Self::CreateCampaign,
            (Verb::Get, ["status"]) => Self::Status,
            _ => return None,
        };
        Some(route)
    }

    /// Whether the route changes something (and so needs a CSRF token).
    pub fn is_action(&self) -> bool {
        matches!(
            self,
            Self::Login
                | Self::Logout
                | Self::Decide { .. }
                | Self::ClearPause { .. }
                | Self::CreateCampaign
        )
    }

    /// Whether the route is served without a moderator session.
    pub fn is_public(&self) -> bool {
        matches!(self, Self::Stylesheet | Self::LoginForm | Self::Login)
    }
}

/// A user id as it may appear in a path: Zalo's are digits; nothing that would need decoding.
fn plain(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_actions_are_named_by_method_and_path() {
        assert_eq!(Route::parse(Verb::Get, ""), Some(Route::Home));
        assert_eq!(Route::parse(Verb::Get, "reports/"), Some(Route::Reports));
        assert_eq!(
            Route::parse(Verb::Post, "reports/12/verify"),
            Some(Route::Decide {
                id: 12,
                decision: Decision::Verify
            })
        );
        assert_eq!(
            Route::parse(Verb::Post, "reports/12/reject"),
            Some(Route::Decide {
                id: 12,
                decision: Decision::Reject
            })
        );
        assert_eq!(
            Route::parse(Verb::Get, "users/8431"),
            Some(Route::Conversation {
                user: "8431".into()
            })
        );
        assert_eq!(
            Route::parse(Verb::Post, "pauses/8431/clear"),
            Some(Route::ClearPause {
                user: "8431".into()
            })
        );
    }

    #[test]
    fn anything_else_is_not_found() {
        for (verb, tail) in [
            (Verb::Get, "reports/12/verify"),
            (Verb::Post, "reports/12/delete"),
            (Verb::Post, "reports/-1/verify"),
            (Verb::Post, "reports/x/verify"),
            (Verb::Post, "reports"),
            (Verb::Get, "static/other.css"),
            (Verb::Post, "pauses//clear"),
            (Verb::Get, "users/1/2"),
            (Verb::Get, "users/not%20a%20user"),
            (Verb::Get, "users/%3Cscript%3E"),
        ] {
            assert_eq!(Route::parse(verb, tail), None, "{verb:?} {tail}");
        }
    }

    #[test]
    fn only_the_login_and_the_stylesheet_are_public_and_every_post_is_an_action() {
        assert!(Route::Login.is_public() && Route::Login.is_action());
        assert!(!Route::Reports.is_public() && !Route::Reports.is_action());
        assert!(!Route::Logout.is_public());
        for tail in ["logout", "reports/1/verify", "pauses/1/clear", "login"] {
            assert!(
                Route::parse(Verb::Post, tail).unwrap().is_action(),
                "{tail}"
            );
        }
    }
}
