//! When a moderation outcome notice may reach its user. Pure.
//!
//! Zalo takes a customer-service message only inside the window after the user's last interaction, and
//! none from 22:00 to 06:00 Vietnam time. A notice outside the window waits for the user's next message;
//! one in the quiet hours waits for 06:00; one nobody could deliver in [`NOTICE_TTL`] expires unsent,
//! because news of a decision weeks old only confuses.

use chrono::{DateTime, Duration, Utc};

use super::time::quiet_hours_end;

/// How long after a user's last interaction a notice is sent: the window in which Zalo's customer-service
/// messages are free (from 48 hours to 7 days they are billed, after 7 days refused).
pub const NOTICE_WINDOW: Duration = Duration::hours(48);
/// How long a notice may wait for its user.
pub const NOTICE_TTL: Duration = Duration::days(14);

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeStatus {
    /// Waiting for the window, the end of the quiet hours, or the user.
    Waiting,
    /// Handed to the outbound queue (its parts then move as every reply's do).
    Sent,
    /// Never sent: its time ran out.
    Expired,
}

impl NoticeStatus {
    pub const ALL: [NoticeStatus; 3] = [Self::Waiting, Self::Sent, Self::Expired];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Sent => "sent",
            Self::Expired => "expired",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What to do with a waiting notice now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStep {
    Send,
    /// The window is open but it is the quiet hours: look again at this time.
    WaitUntil(DateTime<Utc>),
    /// Outside the window: wait for the user to write.
    WaitForUser,
    /// Its time ran out: never send it.
    Expire,
}

/// When a notice created at `created` stops waiting.
#[must_use]
pub fn notice_expiry(created: DateTime<Utc>) -> DateTime<Utc> {
    created + NOTICE_TTL
}

/// The step for a notice that expires at `expires_at`, for a user last heard from at `last_interaction`.
#[must_use]
pub fn notice_step(
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_interaction: Option<DateTime<Utc>>,
) -> NoticeStep {
    if now >= expires_at {
        return NoticeStep::Expire;
    }
    let Some(closes) = last_interaction.map(|at| at + NOTICE_WINDOW) else {
        return NoticeStep::WaitForUser;
    };
    let opens = quiet_hours_end(now);
    if opens >= closes {
        return NoticeStep::WaitForUser;
    }
    if opens > now {
        return NoticeStep::WaitUntil(opens);
    }
    NoticeStep::Send
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    #[test]
    fn inside_the_window_in_the_day_it_is_sent() {
        let now = at("2026-12-07T10:00:00+07:00");
        let expires = notice_expiry(now);
        assert_eq!(notice_step(now, expires, Some(now)), NoticeStep::Send);
        let yesterday = now - Duration::hours(47);
        assert_eq!(notice_step(now, expires, Some(yesterday)), NoticeStep::Send);
    }

    #[test]
    fn outside_the_window_it_waits_for_the_user() {
        let now = at("2026-12-07T10:00:00+07:00");
        let expires = notice_expiry(now);
        assert_eq!(
            notice_step(now, expires, Some(now - NOTICE_WINDOW)),
            NoticeStep::WaitForUser
        );
        assert_eq!(notice_step(now, expires, None), NoticeStep::WaitForUser);
    }

    #[test]
    fn quiet_hours_hold_it_until_six() {
        let night = at("2026-12-07T23:30:00+07:00");
        let six = at("2026-12-08T06:00:00+07:00");
        let expires = notice_expiry(night);
        assert_eq!(
            notice_step(night, expires, Some(night)),
            NoticeStep::WaitUntil(six)
        );
        // The window closes before six: only the user's next message can open it again.
        let closing = night - NOTICE_WINDOW + Duration::hours(2);
        assert_eq!(
            notice_step(night, expires, Some(closing)),
            NoticeStep::WaitForUser
        );
    }

    #[test]
    fn an_expired_notice_is_never_sent() {
        let created = at("2026-12-01T10:00:00+07:00");
        let expires = notice_expiry(created);
        let later = created + NOTICE_TTL;
        assert_eq!(notice_step(later, expires, Some(later)), NoticeStep::Expire);
        assert_eq!(
            notice_step(later - Duration::seconds(1), expires, Some(later)),
            NoticeStep::Send
        );
    }

    #[test]
    fn statuses_parse_back() {
        for status in NoticeStatus::ALL {
            assert_eq!(NoticeStatus::parse(status.as_str()), Some(status));
        }
    }
}
