//! The one clock: times as RFC 3339 text, the form every stored and printed time takes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The current time, RFC 3339, to the second.
pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// `t` as RFC 3339, to the second (UTC, `Z`).
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// An RFC 3339 time (a `Z` or no zone, fractions allowed), or `None`.
pub fn parse(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()
}

/// The current time moved by `offset_secs` (negative: earlier), RFC 3339: the simulated
/// dates of `demo`'s weeks. An offset out of range gives the current time.
pub fn now_shifted(offset_secs: i64) -> String {
    let now = SystemTime::now();
    let d = Duration::from_secs(offset_secs.unsigned_abs());
    let t = if offset_secs < 0 {
        now.checked_sub(d)
    } else {
        now.checked_add(d)
    };
    rfc3339(t.unwrap_or(now))
}

/// The date (`YYYY-MM-DD`) of an RFC 3339 time, or the text itself when it has none.
pub fn date(text: &str) -> &str {
    text.get(..10)
        .filter(|d| d.as_bytes().get(4) == Some(&b'-'))
        .unwrap_or(text)
}

/// Seconds since 1970 as a time, or `None` past what a `SystemTime` holds.
pub fn from_unix(secs: u64) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// RFC 3339 of `secs` since 1970, or `None` past the last second RFC 3339 can write (the
/// end of the year 9999).
pub fn rfc3339_of_unix(secs: u64) -> Option<String> {
    (secs < 253_402_300_800).then(|| from_unix(secs).map(rfc3339)).flatten()
}

/// Microseconds since 1970 of an RFC 3339 time, or `None`.
pub fn micros(text: &str) -> Option<i64> {
    let d = parse(text)?.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_micros()).ok()
}

/// Whether `text` is a day (`YYYY-MM-DD`) or an RFC 3339 time.
pub fn is_date(text: &str) -> bool {
    day_number(text).is_some()
}

/// Days since 1970-01-01 of a day (`YYYY-MM-DD`) or of an RFC 3339 time, or `None`.
fn day_number(text: &str) -> Option<i64> {
    let t = if text.len() == 10 {
        parse(&format!("{text}T00:00:00Z"))?
    } else {
        parse(text)?
    };
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs / 86_400).ok()
}

/// The ISO 8601 week (`2026-W47`) of a day or RFC 3339 time, or `None` when it is neither.
pub fn iso_week(text: &str) -> Option<String> {
    let days = day_number(text)?;
    // 1970-01-01 was a Thursday; Monday = 0.
    let weekday = (days + 3).rem_euclid(7);
    // The Thursday of this week decides the ISO year.
    let thursday = days - weekday + 3;
    let year_of = |d: i64| -> i64 {
        let t = from_unix(u64::try_from(d * 86_400).unwrap_or(0)).unwrap_or(UNIX_EPOCH);
        rfc3339(t)[..4].parse().unwrap_or(1970)
    };
    let year = year_of(thursday);
    let jan1 = day_number(&format!("{year:04}-01-01"))?;
    let week = (thursday - jan1) / 7 + 1;
    Some(format!("{year:04}-W{week:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_and_parse_alike() {
        let t = from_unix(1_780_000_000).unwrap();
        assert_eq!(rfc3339(t), "2026-05-28T20:26:40Z");
        assert_eq!(parse("2026-05-28T20:26:40Z"), Some(t));
        assert_eq!(micros("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(date("2026-05-28T20:26:40Z"), "2026-05-28");
        assert_eq!(date("x"), "x");
        let week = micros(&now_shifted(-7 * 86_400)).unwrap() - micros(&now()).unwrap();
        assert!((week + 7 * 86_400_000_000).abs() <= 1_000_000, "{week}");
        assert_eq!(parse("not a time"), None);
    }

    #[test]
    fn dates_and_iso_weeks() {
        assert!(is_date("2026-11-22") && is_date("2026-11-22T10:00:00Z") && is_date("2026-11-22T10:00:00.5Z"));
        assert!(!is_date("yesterday") && !is_date("2026-13-01") && !is_date("") && !is_date("2026-11-22x"));
        assert_eq!(iso_week("2026-11-22").as_deref(), Some("2026-W47"));
        assert_eq!(iso_week("2026-11-23T01:00:00Z").as_deref(), Some("2026-W48"));
        // ISO years: 1 Jan 2021 (a Friday) is in 2020's week 53; 29 Dec 2025 in 2026's week 1.
        assert_eq!(iso_week("2021-01-01").as_deref(), Some("2020-W53"));
        assert_eq!(iso_week("2025-12-29").as_deref(), Some("2026-W01"));
        assert_eq!(iso_week("1970-01-01").as_deref(), Some("1970-W01"));
        assert_eq!(iso_week("soon"), None);
    }
}
