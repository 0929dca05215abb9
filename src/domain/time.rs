//! Calendar time as the users live it.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};

/// Vietnam's offset from UTC (no daylight saving).
const VIETNAM_OFFSET: Duration = Duration::hours(7);
/// Zalo refuses customer-service sends from 22:00 to 06:00 Vietnam time (error -234).
pub const QUIET_HOURS_START: u32 = 22;
pub const QUIET_HOURS_END: u32 = 6;

/// The day in Vietnam (UTC+7, no daylight saving), so "per day" limits follow the users' day.
pub fn vietnam_day(now: DateTime<Utc>) -> NaiveDate {
    (now + VIETNAM_OFFSET).date_naive()
}

/// When the Vietnam `day` begins, in UTC.
pub fn vietnam_day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc() - VIETNAM_OFFSET
}

/// True between 22:00 and 06:00 Vietnam time, when nothing is sent unasked.
pub fn is_quiet_hour(now: DateTime<Utc>) -> bool {
    let hour = (now + VIETNAM_OFFSET).hour();
    !(QUIET_HOURS_END..QUIET_HOURS_START).contains(&hour)
}

/// The first moment at or after `now` outside the quiet hours.
pub fn quiet_hours_end(now: DateTime<Utc>) -> DateTime<Utc> {
    if !is_quiet_hour(now) {
        return now;
    }
    let local = now + VIETNAM_OFFSET;
    let day = if local.hour() >= QUIET_HOURS_START {
        local.date_naive() + Duration::days(1)
    } else {
        local.date_naive()
    };
    vietnam_day_start(day) + Duration::hours(i64::from(QUIET_HOURS_END))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    #[test]
    fn the_vietnamese_day_starts_at_17_00_utc() {
        let day = |s| vietnam_day(at(s)).to_string();
        assert_eq!(day("2026-12-06T16:59:59Z"), "2026-12-06");
        assert_eq!(day("2026-12-06T17:00:00Z"), "2026-12-07");
        assert_eq!(day("2026-12-31T23:00:00+07:00"), "2026-12-31");
        let start = vietnam_day_start(vietnam_day(at("2026-12-07T10:00:00Z")));
        assert_eq!(start, at("2026-12-06T17:00:00Z"));
    }

    #[test]
    fn quiet_hours_run_from_22_00_to_06_00_vietnam_time() {
        assert!(!is_quiet_hour(at("2026-12-07T21:59:59+07:00")));
        assert!(is_quiet_hour(at("2026-12-07T22:00:00+07:00")));
        assert!(is_quiet_hour(at("2026-12-08T05:59:59+07:00")));
        assert!(!is_quiet_hour(at("2026-12-08T06:00:00+07:00")));
        let six = at("2026-12-08T06:00:00+07:00");
        assert_eq!(quiet_hours_end(at("2026-12-07T22:30:00+07:00")), six);
        assert_eq!(quiet_hours_end(at("2026-12-08T01:00:00+07:00")), six);
        let noon = at("2026-12-08T12:00:00+07:00");
        assert_eq!(quiet_hours_end(noon), noon);
        // Across a month's and a year's end.
        assert_eq!(
            quiet_hours_end(at("2026-12-31T23:00:00+07:00")),
            at("2027-01-01T06:00:00+07:00")
        );
    }
}
