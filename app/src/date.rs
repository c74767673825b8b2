//! Calendar dates in UTC: the one place that does calendar arithmetic, with the `time` crate.
//! Days since the Unix epoch to a civil date and back, `YYYY-MM-DD` days as epoch milliseconds
//! (the v0 queries' unit), the month and year steps of statistics buckets, and the UI's
//! `YYYY-MM-DD HH:MM` rendering.
//!
//! No clock here (`time` is built without `std`, so nothing can reach for the OS clock in WASM):
//! "now" comes from the browser (`js_sys::Date::now`) or from the server. Always UTC, so a day is
//! always 24 hours (no daylight-saving gaps). Dates beyond `time`'s years -9999..=9999 are
//! clamped to that range rather than panicking.

use time::{Date, Month, OffsetDateTime};

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// The Julian day number of 1970-01-01.
const EPOCH: i64 = OffsetDateTime::UNIX_EPOCH.to_julian_day() as i64;

/// The date `days` after 1970-01-01 (clamped to `time`'s range).
fn date_of(days: i64) -> Date {
    let jd = days.saturating_add(EPOCH).clamp(Date::MIN.to_julian_day() as i64, Date::MAX.to_julian_day() as i64);
    Date::from_julian_day(jd as i32).unwrap_or(Date::MIN)
}

/// Days from 1970-01-01 to `date`.
fn days_of(date: Date) -> i64 {
    date.to_julian_day() as i64 - EPOCH
}

/// Days since 1970-01-01 (negative before) to (year, month 1..=12, day 1..=31).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let d = date_of(days);
    (d.year() as i64, u8::from(d.month()) as u32, d.day() as u32)
}

/// (year, month, day) to days since 1970-01-01. Total, like the arithmetic it replaces: a month
/// outside 1..=12 carries into the year (13 is January of the next year, 0 December of the
/// previous one) and a day past the month's end into the following month (day 0 is the last day
/// of the previous month). Use [`date`] to reject such dates instead.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let m0 = m as i64 - 1;
    let year = y.saturating_add(m0.div_euclid(12)).clamp(Date::MIN.year() as i64, Date::MAX.year() as i64) as i32;
    let month = Month::try_from((m0.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    let first = Date::from_calendar_date(year, month, 1).map(days_of).unwrap_or(0);
    first + d as i64 - 1
}

/// Days since 1970-01-01 of a real date (`None` for 2023-02-29, month 13...).
pub fn date(y: i64, m: u32, d: u32) -> Option<i64> {
    let year = i32::try_from(y).ok()?;
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(d).ok()?).ok().map(days_of)
}

/// Epoch milliseconds of the start (00:00 UTC) of a `YYYY-MM-DD` day, as date inputs give it;
/// `None` for anything else, or a day that does not exist.
pub fn day_start(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let mut part = || it.next().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let (y, m, d) = (part()?.parse().ok()?, part()?.parse().ok()?, part()?.parse().ok()?);
    Some(date(y, m, d)? * DAY_MS)
}

/// Epoch milliseconds of the last millisecond of a `YYYY-MM-DD` day (an inclusive "until").
pub fn day_end(s: &str) -> Option<i64> {
    day_start(s).map(|t| t + DAY_MS - 1)
}

/// The start of the month after the one holding `ms` (epoch milliseconds).
pub fn next_month_start(ms: i64) -> i64 {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    days_from_civil(y, m + 1, 1) * DAY_MS
}

/// The start of the year after the one holding `ms` (epoch milliseconds).
pub fn next_year_start(ms: i64) -> i64 {
    let (y, _, _) = civil_from_days(ms.div_euclid(DAY_MS));
    days_from_civil(y + 1, 1, 1) * DAY_MS
}

/// `YYYY-MM-DD` (UTC) of epoch milliseconds.
pub fn day(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM` (UTC) of epoch milliseconds.
pub fn datetime(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{} {:02}:{:02}", day(ms), minutes / 60, minutes % 60)
}

/// How long before `now` the moment `at` was, for people: "just now", "5 min ago", "3 h ago",
/// then the date and time.
pub fn ago(now: i64, at: i64) -> String {
    let secs = (now - at).max(0) / 1000;
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => datetime(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_ago() {
        let now = 1_800_000_000_000;
        assert_eq!(ago(now, now + 5_000), "just now");
        assert_eq!(ago(now, now - 59_999), "just now");
        assert_eq!(ago(now, now - 60_000), "1 min ago");
        assert_eq!(ago(now, now - 3 * 3_600_000 - 1), "3 h ago");
        assert_eq!(ago(now, now - 86_400_000), datetime(now - 86_400_000));
    }

    #[test]
    fn epoch_and_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 1, 1) * DAY_MS, 1_704_067_200_000);
        assert_eq!(civil_from_days(19_675), (2023, 11, 14));
    }

    #[test]
    fn leap_years() {
        assert_eq!(date(2000, 2, 29), Some(11_016), "divisible by 400: leap");
        assert_eq!(date(1900, 2, 29), None, "divisible by 100: not leap");
        assert_eq!(date(2024, 2, 29).map(civil_from_days), Some((2024, 2, 29)));
        assert_eq!(date(2023, 2, 29), None);
        assert_eq!(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 1), 29);
        assert_eq!(days_from_civil(2023, 3, 1) - days_from_civil(2023, 2, 1), 28);
        assert_eq!(days_from_civil(2024, 1, 1) - days_from_civil(2023, 1, 1), 365);
        assert_eq!(days_from_civil(2025, 1, 1) - days_from_civil(2024, 1, 1), 366);
    }

    #[test]
    fn month_boundaries() {
        for (y, m, len) in [(2023, 1, 31), (2023, 4, 30), (2023, 12, 31), (2024, 2, 29)] {
            let last = date(y, m, len).unwrap();
            assert_eq!(date(y, m, len + 1), None, "{y}-{m}-{}", len + 1);
            let next = civil_from_days(last + 1);
            assert_eq!(next.2, 1, "{y}-{m}: the day after the last is a first");
            assert_eq!(next.1, if m == 12 { 1 } else { m + 1 });
        }
        // Totality: month 13, month 0, day 0 and day 32 carry over.
        assert_eq!(days_from_civil(2023, 13, 1), days_from_civil(2024, 1, 1));
        assert_eq!(days_from_civil(2024, 0, 1), days_from_civil(2023, 12, 1));
        assert_eq!(days_from_civil(2024, 3, 0), days_from_civil(2024, 2, 29));
        assert_eq!(days_from_civil(2024, 1, 32), days_from_civil(2024, 2, 1));
        assert_eq!(next_month_start(days_from_civil(2023, 12, 15) * DAY_MS), days_from_civil(2024, 1, 1) * DAY_MS);
        assert_eq!(next_month_start(days_from_civil(2024, 1, 31) * DAY_MS + 5), days_from_civil(2024, 2, 1) * DAY_MS);
        assert_eq!(next_year_start(days_from_civil(2024, 12, 31) * DAY_MS), days_from_civil(2025, 1, 1) * DAY_MS);
    }

    #[test]
    fn before_1970() {
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(-365), (1969, 1, 1));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        assert_eq!(days_from_civil(1600, 2, 29), -135_081);
        assert_eq!(datetime(-1), "1969-12-31 23:59");
        assert_eq!(day_start("1969-07-20"), Some(-165 * DAY_MS));
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
            assert_eq!(date(y, m, dd), Some(d));
        }
    }

    #[test]
    fn utc_days_have_no_daylight_saving() {
        // 2024-03-31 and 2024-10-27: Europe's clock changes; UTC days stay 24 hours.
        assert_eq!(day_start("2024-04-01").unwrap() - day_start("2024-03-31").unwrap(), DAY_MS);
        assert_eq!(day_start("2024-10-28").unwrap() - day_start("2024-10-27").unwrap(), DAY_MS);
        assert_eq!(day_end("2024-03-31").unwrap() + 1, day_start("2024-04-01").unwrap());
    }

    #[test]
    fn parsing_and_rendering() {
        assert_eq!(day_start("1970-01-02"), Some(DAY_MS));
        assert_eq!(day_start(" 2000-02-29 "), Some(951_782_400_000));
        assert_eq!(day_start("2000-03-01"), Some(951_868_800_000));
        for bad in ["2000-02", "2000-02-30", "2024-13-01", "2024-00-10", "yesterday", "", "2024-1-x", "+2024-01-01", "2024-01--1"] {
            assert_eq!(day_start(bad), None, "{bad}");
        }
        assert_eq!(datetime(0), "1970-01-01 00:00");
        assert_eq!(datetime(1_700_000_000_000), "2023-11-14 22:13");
        assert_eq!(datetime(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(day(1_704_067_200_000 + DAY_MS - 1), "2024-01-01");
    }

    #[test]
    fn out_of_range_is_clamped_not_a_panic() {
        assert_eq!(civil_from_days(i64::MAX).0, 9999);
        assert_eq!(civil_from_days(i64::MIN).0, -9999);
        assert_eq!(date(10_000, 1, 1), None);
        let _ = datetime(i64::MIN);
        let _ = days_from_civil(i64::MAX, u32::MAX, u32::MAX);
    }
}
