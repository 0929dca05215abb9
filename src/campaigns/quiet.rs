//! Zalo refuses customer-service sends between 22:00 and 06:00 Vietnam time (error -234), so a campaign's
//! messages wait for the morning. Vietnam is UTC+7 all year.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};

/// The first quiet hour, Vietnam time.
pub const QUIET_FROM_HOUR: u32 = 22;
/// The first hour sends may go again, Vietnam time.
pub const QUIET_UNTIL_HOUR: u32 = 6;

fn vietnam(now: DateTime<Utc>) -> chrono::NaiveDateTime {
    (now + Duration::hours(7)).naive_utc()
}

/// True between 22:00 and 06:00 Vietnam time: no campaign message may be sent.
#[must_use]
pub fn is_quiet(now: DateTime<Utc>) -> bool {
    let hour = vietnam(now).hour();
    !(QUIET_UNTIL_HOUR..QUIET_FROM_HOUR).contains(&hour)
}

/// When a campaign message may go: `now` outside the quiet hours, else the next 06:00 Vietnam time.
#[must_use]
pub fn may_send_at(now: DateTime<Utc>) -> DateTime<Utc> {
    if !is_quiet(now) {
        return now;
    }
    let local = vietnam(now);
    let day = if local.hour() >= QUIET_FROM_HOUR {
        local.date() + Duration::days(1)
    } else {
        local.date()
    };
    let morning = day.and_time(NaiveTime::from_hms_opt(QUIET_UNTIL_HOUR, 0, 0).unwrap_or_default());
    morning.and_utc() - Duration::hours(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    #[test]
    fn the_night_runs_from_22_00_to_06_00_vietnam_time() {
        for (time, quiet) in [
            ("2026-12-07T21:59:59+07:00", false),
            ("2026-12-07T22:00:00+07:00", true),
            ("2026-12-07T23:30:00+07:00", true),
            ("2026-12-08T00:00:00+07:00", true),
            ("2026-12-08T05:59:59+07:00", true),
            ("2026-12-08T06:00:00+07:00", false),
            ("2026-12-08T12:00:00+07:00", false),
            // 15:00 UTC is 22:00 in Vietnam, whatever the server's own zone.
            ("2026-12-07T15:00:00Z", true),
            ("2026-12-07T14:59:59Z", false),
        ] {
            assert_eq!(is_quiet(at(time)), quiet, "{time}");
        }
    }

    #[test]
    fn a_night_send_waits_until_06_00_the_next_morning() {
        let morning = at("2026-12-08T06:00:00+07:00");
        for time in [
            "2026-12-07T22:00:00+07:00",
            "2026-12-07T23:59:59+07:00",
            "2026-12-08T00:00:00+07:00",
            "2026-12-08T05:59:59+07:00",
        ] {
            assert_eq!(may_send_at(at(time)), morning, "{time}");
        }
        let day = at("2026-12-08T09:15:00+07:00");
        assert_eq!(may_send_at(day), day, "in the day a send goes at once");
        // Across a month's and a year's end.
        assert_eq!(
            may_send_at(at("2026-12-31T23:00:00+07:00")),
            at("2027-01-01T06:00:00+07:00")
        );
    }
}
