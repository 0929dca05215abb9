//! Calendar time as the users live it.

use chrono::{DateTime, NaiveDate, Utc};

/// The day in Vietnam (UTC+7, no daylight saving), so "per day" limits follow the users' day.
pub fn vietnam_day(now: DateTime<Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(7)).date_naive()
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
    }
}
