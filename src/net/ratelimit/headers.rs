//! Reading the waits a server announces (`X-RateLimit-*`, `RateLimit-*`, `Retry-After`),
//! never panicking on any header value, and judging them against the configured maximum.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// What the server's rate-limit headers ask for, judged against the configured maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerWait {
    /// No wait announced (or one already over).
    None,
    /// Sit out this wait: never above the maximum.
    Pause(Duration),
    /// The server asks for longer than the maximum: give the request up.
    TooLong(Duration),
}

/// The wait the server announced, as a [`ServerWait`] against `max`.
pub fn server_wait(status: u16, headers: &HeaderMap, now: SystemTime, max: Duration) -> ServerWait {
    match announced_wait(status, headers, now) {
        None => ServerWait::None,
        Some(w) if w.is_zero() => ServerWait::None,
        Some(w) if w <= max => ServerWait::Pause(w),
        Some(w) => ServerWait::TooLong(w),
    }
}

/// How long the server asks us to wait, from any of the three header families; the longest
/// one wins. Values that are not numbers or dates (garbage, NaN) are ignored, negative ones
/// and past instants count as no wait, and values too large for a [`Duration`] (huge,
/// infinite) become [`Duration::MAX`], which every cap refuses.
///
/// `X-RateLimit-Reset` (Mastodon, an ISO-8601 instant) and `RateLimit-Reset` (seconds) count
/// only when the matching `Remaining` is 0 or the status is 429; `Retry-After` (seconds or an
/// HTTP date) counts on any answer but a 2xx (RFC 9110 gives it meaning on 3xx, 429 and 503
/// only; on a success it would let a server stall a list page after page).
pub fn announced_wait(status: u16, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let exhausted = |name: &str| status == 429 || text(name).and_then(|v| v.parse::<f64>().ok()) == Some(0.0);
    let mut waits = vec![];
    if let Some(v) = text("retry-after").filter(|_| !(200..300).contains(&status)) {
        let date = || httpdate::parse_http_date(v).ok().map(|t| until(t, now));
        waits.extend(seconds(v).or_else(date));
    }
    if exhausted("x-ratelimit-remaining") {
        waits.extend(text("x-ratelimit-reset").and_then(parse_instant).map(|t| until(t, now)));
    }
    if exhausted("ratelimit-remaining") {
        waits.extend(text("ratelimit-reset").and_then(seconds));
    }
    waits.into_iter().max()
}

/// A number of seconds: `None` unless a number; negative is zero; too large is the maximum.
fn seconds(v: &str) -> Option<Duration> {
    let secs = v.parse::<f64>().ok().filter(|s| !s.is_nan())?;
    if secs <= 0.0 {
        return Some(Duration::ZERO);
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

fn until(t: SystemTime, now: SystemTime) -> Duration {
    t.duration_since(now).unwrap_or_default()
}

/// An ISO-8601 / RFC 3339 instant (`2026-11-21T13:40:00.123456Z`, offsets allowed), or
/// Unix seconds, as some servers send. `None` for anything else or out of range.
pub fn parse_instant(v: &str) -> Option<SystemTime> {
    if let Ok(secs) = v.parse::<u64>() {
        return SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs));
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(v) {
        return Some(t);
    }
    // An explicit offset such as +01:00: humantime only takes Z.
    let at = v.rfind(['+', '-']).filter(|i| *i > 10)?;
    let (base, offset) = v.split_at_checked(at)?;
    let (sign, hh_mm) = offset.split_at_checked(1)?;
    let (h, m) = hh_mm.split_once(':')?;
    let h = h.parse::<u64>().ok().filter(|h| *h <= 23)?;
    let m = m.parse::<u64>().ok().filter(|m| *m <= 59)?;
    let offset = Duration::from_secs(h * 3600 + m * 60);
    let t = humantime::parse_rfc3339_weak(base).ok()?;
    if sign == "+" {
        t.checked_sub(offset)
    } else {
        t.checked_add(offset)
    }
}
