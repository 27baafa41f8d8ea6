//! Server-side rate limits (fixed windows, Mastodon's `X-RateLimit-*` headers, 429s, and the
//! `Storm` fault) and the pauses an instance announces every few requests.

use std::time::{Duration, Instant, SystemTime};

use hyper::Response;

use super::{set_headers, too_many, Body, Sim};
use crate::world::{Fault, Instance};

#[derive(Debug, Default)]
pub(super) struct Window {
    start: Option<Instant>,
    count: u32,
    /// After a 429: the announced reset.
    blocked_until: Option<Instant>,
    storm_counter: u64,
}

impl Sim {
    /// Apply the instance's server-side rate limit; `Err` is the 429 to send.
    pub(super) fn rate_limit(&self, inst: &Instance) -> Result<Vec<(&'static str, String)>, Box<Response<Body>>> {
        let storm = inst.fault == Fault::Storm;
        let Some(spec) = inst.rate_limit.or(storm.then_some(crate::world::RateLimitSpec {
            limit: 1_000_000,
            window_secs: 0.3,
        })) else {
            return Ok(vec![]);
        };
        let now = Instant::now();
        let period = Duration::from_secs_f64(spec.window_secs);
        let mut windows = self.windows.lock().expect("windows lock");
        let w = windows.entry(inst.domain.clone()).or_default();
        if w.blocked_until.is_some_and(|t| now < t) {
            self.stats.lock().expect("stats lock").early_retries += 1;
        }
        if w.start.is_none_or(|s| now >= s + period) {
            w.start = Some(now);
            w.count = 0;
        }
        w.count += 1;
        w.storm_counter += 1;
        let reset_in = period.saturating_sub(now - w.start.expect("set above"));
        let reset = SystemTime::now() + reset_in;
        let remaining = spec.limit.saturating_sub(w.count);
        let over = w.count > spec.limit || (storm && w.storm_counter % 3 == 1);
        let headers = vec![
            ("x-ratelimit-limit", spec.limit.to_string()),
            (
                "x-ratelimit-remaining",
                if over { "0".into() } else { remaining.to_string() },
            ),
            ("x-ratelimit-reset", humantime::format_rfc3339_micros(reset).to_string()),
        ];
        if !over {
            return Ok(headers);
        }
        w.blocked_until = Some(now + reset_in);
        self.stats.lock().expect("stats lock").too_many += 1;
        let mut r = too_many(&[]);
        set_headers(&mut r, headers);
        Err(Box::new(r))
    }

    /// The instance's `announce`, when this request is one that carries it.
    pub(super) fn announce(&self, inst: &Instance) -> Option<Announcement> {
        use crate::world::AnnounceStyle as S;
        let a = inst.announce?;
        let mut counts = self.announce_counts.lock().expect("announce lock");
        let n = counts.entry(inst.domain.clone()).or_insert(0);
        *n += 1;
        if !(*n).is_multiple_of(a.every.max(1)) {
            return None;
        }
        let now = SystemTime::now();
        let secs = Duration::from_secs(u64::from(a.secs));
        let draft = vec![
            ("ratelimit-limit", a.every.to_string()),
            ("ratelimit-remaining", "0".to_string()),
            ("ratelimit-reset", a.secs.to_string()),
        ];
        let (refuse, headers, until) = match a.style {
            S::RetryAfterSeconds => (true, vec![("retry-after", a.secs.to_string())], now + secs),
            S::RetryAfterDate => {
                // An HTTP date has whole seconds: announce the next whole second after now + secs.
                let whole = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
                let until = SystemTime::UNIX_EPOCH + Duration::from_secs(whole + 1) + secs;
                (true, vec![("retry-after", httpdate::fmt_http_date(until))], until)
            }
            S::RatelimitOn429 => (true, draft, now + secs),
            S::RatelimitExhausted => (false, draft, now + secs),
            // Not a pause a client should keep to: nothing is announced in the log.
            S::RetryAfterOn200 => {
                let headers = vec![("retry-after", a.secs.to_string())];
                return Some(Announcement {
                    refuse: false,
                    headers,
                    until: now,
                });
            }
        };
        Some(Announcement { refuse, headers, until })
    }
}

/// A pause announced on one answer.
pub(super) struct Announcement {
    /// Answer 429 instead of the page.
    pub(super) refuse: bool,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) until: SystemTime,
}
