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

/// Microseconds since 1970 of an RFC 3339 time, or `None`.
pub fn micros(text: &str) -> Option<i64> {
    let d = parse(text)?.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_micros()).ok()
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
}
