//! Who gets a campaign: a user inside Zalo's customer-service window (a consultation message needs an
//! interaction within the last 7 days, else -230), who has not opted out and has not unfollowed the OA.
//! Decided once when the campaign is created and again just before the user's message is queued, since a
//! night's wait can close the window or bring an opt-out.

use chrono::{DateTime, Duration, Utc};

use crate::domain::campaign::SkipReason;

/// What is known of one user when the audience is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The user's last message or follow.
    pub last_interaction: DateTime<Utc>,
    pub opted_out: bool,
    pub unfollowed: bool,
}

/// None when the user gets the campaign, else why not. An explicit wish (opt-out, unfollow) is the reason
/// given before the window.
#[must_use]
pub fn skip_reason(
    standing: &Standing,
    now: DateTime<Utc>,
    window: Duration,
) -> Option<SkipReason> {
    if standing.opted_out {
        Some(SkipReason::OptedOut)
    } else if standing.unfollowed {
        Some(SkipReason::Unfollowed)
    } else if standing.last_interaction + window <= now {
        Some(SkipReason::OutsideWindow)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap()
    }

    fn seen(ago: Duration) -> Standing {
        Standing {
            last_interaction: now() - ago,
            opted_out: false,
            unfollowed: false,
        }
    }

    const WEEK: Duration = Duration::days(7);

    #[test]
    fn only_users_inside_the_window_are_targeted() {
        assert_eq!(skip_reason(&seen(Duration::minutes(5)), now(), WEEK), None);
        assert_eq!(
            skip_reason(&seen(WEEK - Duration::seconds(1)), now(), WEEK),
            None
        );
        assert_eq!(
            skip_reason(&seen(WEEK), now(), WEEK),
            Some(SkipReason::OutsideWindow),
            "the window is closed at exactly 7 days"
        );
        assert_eq!(
            skip_reason(&seen(Duration::days(30)), now(), WEEK),
            Some(SkipReason::OutsideWindow)
        );
    }

    #[test]
    fn an_opt_out_or_an_unfollow_skips_a_user_whatever_the_window() {
        let opted_out = Standing {
            opted_out: true,
            ..seen(Duration::minutes(1))
        };
        assert_eq!(
            skip_reason(&opted_out, now(), WEEK),
            Some(SkipReason::OptedOut)
        );
        let gone = Standing {
            unfollowed: true,
            ..seen(Duration::days(9))
        };
        assert_eq!(
            skip_reason(&gone, now(), WEEK),
            Some(SkipReason::Unfollowed)
        );
        let both = Standing {
            opted_out: true,
            unfollowed: true,
            ..seen(Duration::days(9))
        };
        assert_eq!(skip_reason(&both, now(), WEEK), Some(SkipReason::OptedOut));
    }
}
