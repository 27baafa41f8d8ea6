//! Per-host politeness: rate limiters, concurrency caps and server-announced back-off.
//!
//! # Architecture
//! [`HostPool`] lazily creates one [`HostGate`] per host name. A gate owns two governor
//! limiters (all requests, and Mastodon's stricter budget for paged requests), a semaphore
//! capping requests in flight to that host, and a "resume at" instant that grows when the
//! server says to slow down (`X-RateLimit-*`, `RateLimit-*`, `Retry-After`) or a retry backs
//! off. A robots.txt `Crawl-delay` spaces requests to its host at least that far apart. A
//! request takes the host permit, waits out the pause, the limiter(s) and the spacing, and only
//! then takes a global permit: a host that waits never holds a slot other hosts could use.
//!
//! Announced waits are read by [`server_wait`], which never panics on any header value and
//! sorts each wait into one the crawl sits out (at most `network.max_wait_secs`) or one it
//! refuses to sit out. Every wait is logged (`tracing`, info) and shown on the progress line.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{Config, RateLimit};
use crate::model::handle::InstanceHost;
use crate::net::progress::Progress;

/// Why a host is paused: shown in the progress line and logs.
pub const REASON_SERVER: &str = "rate limit";
/// A retry's back-off.
pub const REASON_BACKOFF: &str = "back-off";
/// Our own per-host budget.
pub const REASON_OWN: &str = "own rate limit";
/// The host's robots.txt `Crawl-delay`.
pub const REASON_CRAWL_DELAY: &str = "crawl-delay";

/// One host's limiters, slots and pause.
pub struct HostGate {
    host: String,
    general: DefaultDirectRateLimiter,
    paged: DefaultDirectRateLimiter,
    slots: Arc<Semaphore>,
    resume_at: Mutex<Option<(Instant, &'static str)>>,
    spacing: Mutex<Spacing>,
    /// Requests sent to this host.
    pub requests: AtomicU64,
    /// Requests that had to be retried (429, 502, 503).
    pub retries: AtomicU64,
    /// Milliseconds this host has paused the crawl in all (announced pauses, back-offs).
    paused_ms: AtomicU64,
}

/// The least time between two requests to a host (robots.txt `Crawl-delay`), and when the
/// last one was let through.
#[derive(Debug, Default)]
struct Spacing {
    delay: Option<Duration>,
    last: Option<Instant>,
}

/// Held while a request is in flight.
pub struct Pass {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

/// A quota of `requests` per `period_secs` (validated by [`Config::validate`]: finite, above
/// zero, bounded), with a burst of at most `requests`.
fn quota(requests: u32, period_secs: f64, burst: u32) -> Quota {
    let requests = requests.max(1);
    let per_request = crate::config::seconds(period_secs / f64::from(requests)).max(Duration::from_nanos(1));
    let burst = NonZeroU32::new(burst.clamp(1, requests)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(per_request)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl HostGate {
    fn new(host: &str, budget: &RateLimit, concurrency: usize) -> Self {
        HostGate {
            host: host.to_string(),
            general: RateLimiter::direct(quota(budget.requests, budget.period_secs, budget.burst)),
            paged: RateLimiter::direct(quota(budget.paged_requests, budget.paged_period_secs, budget.burst)),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            resume_at: Mutex::new(None),
            spacing: Mutex::new(Spacing::default()),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            paused_ms: AtomicU64::new(0),
        }
    }

    /// The host this gate guards.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Do not send to this host for `wait` from now. Callers pass waits already capped at
    /// `network.max_wait_secs`; an instant past the clock's range is ignored. The time added
    /// to the host's pause counts towards [`HostGate::paused_total`].
    pub fn pause_for(&self, wait: Duration, reason: &'static str) {
        let now = Instant::now();
        let Some(when) = now.checked_add(wait) else {
            return;
        };
        let mut r = self.resume_at.lock().expect("pause lock is never poisoned");
        let paused_until = r.map_or(now, |(t, _)| t.max(now));
        if when > paused_until {
            let added = u64::try_from(when.duration_since(paused_until).as_millis()).unwrap_or(u64::MAX);
            let _ = self.paused_ms.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |ms| {
                Some(ms.saturating_add(added))
            });
            *r = Some((when, reason));
        }
    }

    /// How long this host has paused the crawl in all (announced pauses and back-offs; our
    /// own rate limit and `Crawl-delay` do not count).
    pub fn paused_total(&self) -> Duration {
        Duration::from_millis(self.paused_ms.load(Ordering::Relaxed))
    }

    /// Space requests to this host at least `delay` apart from now on (robots.txt
    /// `Crawl-delay`; callers cap it at `network.max_wait_secs`).
    pub fn set_crawl_delay(&self, delay: Duration) {
        self.spacing.lock().expect("spacing lock is never poisoned").delay = Some(delay);
    }

    /// Claim the right to send now: `None` when the host has no `Crawl-delay` or the last
    /// request left long enough ago (and this one is recorded as sent now), else how long to
    /// wait first. Check and record are one step, so concurrent requests never both pass.
    fn claim_send(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut s = self.spacing.lock().expect("spacing lock is never poisoned");
        if let (Some(d), Some(last)) = (s.delay, s.last) {
            let wait = last
                .checked_add(d)
                .map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
            if !wait.is_zero() {
                return Some(wait);
            }
        }
        s.last = Some(now);
        None
    }

    /// The pause still ahead, if any.
    fn pending_pause(&self) -> Option<(Duration, &'static str)> {
        let r = *self.resume_at.lock().expect("pause lock is never poisoned");
        let (t, reason) = r?;
        let left = t.checked_duration_since(Instant::now())?;
        (!left.is_zero()).then_some((left, reason))
    }
}

/// All hosts' gates plus the global cap.
pub struct HostPool {
    config: Arc<Config>,
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
    global: Arc<Semaphore>,
    progress: OnceLock<Progress>,
}

impl HostPool {
    /// A pool following the config's budgets and `[hosts]` overrides.
    pub fn new(config: Arc<Config>) -> Self {
        let global = Arc::new(Semaphore::new(config.network.global_concurrency.max(1)));
        HostPool {
            config,
            gates: Mutex::new(HashMap::new()),
            global,
            progress: OnceLock::new(),
        }
    }

    /// Show waits on this progress line from now on (the first call wins).
    pub fn show_waits(&self, progress: Progress) {
        let _ = self.progress.set(progress);
    }

    /// The gate of `host`, created on first use. Hosts are normalised as instance hosts are
    /// (lower case, no trailing dot, IDNs in punycode): `Host.example.` shares the gate of
    /// `host.example`.
    pub fn gate(&self, host: &str) -> Arc<HostGate> {
        let host = InstanceHost::new(host);
        let mut gates = self.gates.lock().expect("gate map lock is never poisoned");
        gates
            .entry(host.as_str().to_string())
            .or_insert_with(|| {
                let (budget, conc) = self.config.host_budget(host.as_str());
                Arc::new(HostGate::new(host.as_str(), &budget, conc))
            })
            .clone()
    }

    /// Whether the host has paused the crawl longer than `network.max_host_wait_secs`.
    pub fn over_wait_budget(&self, gate: &HostGate) -> bool {
        gate.paused_total() > crate::config::seconds(self.config.network.max_host_wait_secs)
    }

    /// Wait until a request to the gate's host may be sent. Pauses and limiters are waited
    /// out before the global permit is taken, so a waiting host never blocks the others.
    /// `None` when the host is (or, while this request queued, became) over its wait budget
    /// ([`HostPool::over_wait_budget`]): its pauses are then no longer sat out.
    pub async fn enter(&self, gate: &HostGate, paged: bool) -> Option<Pass> {
        let host = gate
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        if self.over_wait_budget(gate) {
            return None;
        }
        self.sit_out_pause(gate).await;
        self.wait_for(gate, &gate.general).await;
        if paged {
            self.wait_for(gate, &gate.paged).await;
        }
        loop {
            let global = self
                .global
                .clone()
                .acquire_owned()
                .await
                .expect("the global semaphore is never closed");
            if gate.pending_pause().is_some() {
                // Paused while queueing for the permit: give it back while waiting.
                drop(global);
                if self.over_wait_budget(gate) {
                    return None;
                }
                self.sit_out_pause(gate).await;
                continue;
            }
            match gate.claim_send() {
                None => {
                    gate.requests.fetch_add(1, Ordering::Relaxed);
                    return Some(Pass {
                        _host: host,
                        _global: global,
                    });
                }
                // Too soon after the last request (Crawl-delay): wait without the permit.
                Some(wait) => {
                    drop(global);
                    self.notice(gate, wait, REASON_CRAWL_DELAY);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn sit_out_pause(&self, gate: &HostGate) {
        while let Some((left, reason)) = gate.pending_pause() {
            self.notice(gate, left, reason);
            tokio::time::sleep(left).await;
        }
    }

    async fn wait_for(&self, gate: &HostGate, limiter: &DefaultDirectRateLimiter) {
        if let Err(not_until) = limiter.check() {
            let left = not_until.wait_time_from(DefaultClock::default().now());
            if left >= Duration::from_secs(1) {
                self.notice(gate, left, REASON_OWN);
            }
            limiter.until_ready().await;
        }
    }

    /// Log a wait and show it on the progress line.
    fn notice(&self, gate: &HostGate, left: Duration, reason: &'static str) {
        tracing::info!(host = %gate.host, wait_secs = left.as_secs_f64(), reason, "waiting");
        if let Some(p) = self.progress.get() {
            p.waiting(&gate.host, left, reason);
        }
    }

    /// Total requests and retries over all hosts.
    pub fn totals(&self) -> (u64, u64) {
        let gates = self.gates.lock().expect("gate map lock is never poisoned");
        gates.values().fold((0, 0), |(r, t), g| {
            (
                r.saturating_add(g.requests.load(Ordering::Relaxed)),
                t.saturating_add(g.retries.load(Ordering::Relaxed)),
            )
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_all_three_header_families() {
        let now = humantime::parse_rfc3339("2026-11-21T12:00:00Z").unwrap();
        let mastodon = headers(&[
            ("x-ratelimit-limit", "300"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "2026-11-21T12:00:42.123456Z"),
        ]);
        assert_eq!(
            announced_wait(200, &mastodon, now),
            Some(Duration::from_millis(42_123) + Duration::from_micros(456))
        );
        let not_exhausted = headers(&[
            ("x-ratelimit-remaining", "5"),
            ("x-ratelimit-reset", "2026-11-21T12:00:42Z"),
        ]);
        assert_eq!(announced_wait(200, &not_exhausted, now), None);
        assert_eq!(announced_wait(429, &not_exhausted, now), Some(Duration::from_secs(42)));
        let ietf = headers(&[("ratelimit-remaining", "0"), ("ratelimit-reset", "7")]);
        assert_eq!(announced_wait(200, &ietf, now), Some(Duration::from_secs(7)));
        let retry = headers(&[("retry-after", "Sat, 21 Nov 2026 12:01:00 GMT")]);
        assert_eq!(announced_wait(503, &retry, now), Some(Duration::from_secs(60)));
        let retry_secs = headers(&[("retry-after", "3")]);
        assert_eq!(announced_wait(429, &retry_secs, now), Some(Duration::from_secs(3)));
    }

    #[test]
    fn retry_after_on_a_success_is_ignored() {
        let now = humantime::parse_rfc3339("2026-11-21T12:00:00Z").unwrap();
        let retry = headers(&[("retry-after", "3600")]);
        for ok in [200, 204, 206, 299] {
            assert_eq!(announced_wait(ok, &retry, now), None, "{ok}");
        }
        for other in [301, 429, 503] {
            assert_eq!(
                announced_wait(other, &retry, now),
                Some(Duration::from_secs(3600)),
                "{other}"
            );
        }
        let both = headers(&[
            ("retry-after", "3600"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "7"),
        ]);
        assert_eq!(announced_wait(200, &both, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_hosts_pauses_add_up_without_counting_overlaps() {
        let config = Config::default();
        let gate = HostGate::new("h.example", &config.rate_limit, 1);
        assert_eq!(gate.paused_total(), Duration::ZERO);
        gate.pause_for(Duration::from_secs(100), REASON_SERVER);
        gate.pause_for(Duration::from_secs(40), REASON_SERVER);
        gate.pause_for(Duration::from_secs(130), REASON_BACKOFF);
        let total = gate.paused_total();
        assert!(
            total >= Duration::from_secs(129) && total <= Duration::from_secs(130),
            "{total:?}"
        );
    }

    /// Hostile values of all three families: never a panic, never a pause above the cap.
    #[test]
    fn hostile_rate_limit_headers_are_capped() {
        let now = humantime::parse_rfc3339("2026-11-21T12:00:00Z").unwrap();
        const MAX: Duration = Duration::from_secs(900);
        let max = MAX;
        let too_long: Verdict = |w| matches!(w, ServerWait::TooLong(d) if d > MAX);
        let capped: Verdict = |w| !matches!(w, ServerWait::Pause(d) if d > MAX);
        type Verdict = fn(ServerWait) -> bool;
        let cases: &[(&'static str, &str, Verdict)] = &[
            ("retry-after", "1e300", too_long),
            ("retry-after", "inf", too_long),
            ("retry-after", "18446744073709551616", too_long),
            ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT", too_long),
            ("retry-after", "901", too_long),
            ("retry-after", "-5", |w| w == ServerWait::None),
            ("retry-after", "-inf", |w| w == ServerWait::None),
            ("retry-after", "NaN", |w| w == ServerWait::None),
            ("retry-after", "soon", |w| w == ServerWait::None),
            ("retry-after", "Mon, 01 Jan 1900 00:00:00 GMT", |w| {
                w == ServerWait::None
            }),
            ("retry-after", "899.5", |w| {
                w == ServerWait::Pause(Duration::from_millis(899_500))
            }),
            ("ratelimit-reset", "1e400", too_long),
            ("ratelimit-reset", "NaN", |w| w == ServerWait::None),
            ("ratelimit-reset", "30", |w| {
                w == ServerWait::Pause(Duration::from_secs(30))
            }),
            ("x-ratelimit-reset", "9999-12-31T23:59:59.999999Z", too_long),
            ("x-ratelimit-reset", "18446744073709551615", |w| w == ServerWait::None),
            ("x-ratelimit-reset", "99999-12-31T00:00:00.000000Z", |w| {
                w == ServerWait::None
            }),
            ("x-ratelimit-reset", "2026-11-21T12:00:42.123456+99:00", capped),
            (
                "x-ratelimit-reset",
                "2026-11-21T12:00:42+9999999999999999999:00",
                capped,
            ),
            ("x-ratelimit-reset", "2026-11-21T12:00:42.123456-\u{e9}", |w| {
                w == ServerWait::None
            }),
            ("x-ratelimit-reset", "-1", |w| w == ServerWait::None),
            ("x-ratelimit-reset", "2026-11-21T12:05:00.000001Z", |w| {
                w == ServerWait::Pause(Duration::from_micros(300_000_001))
            }),
        ];
        for (name, value, ok) in cases {
            let Ok(v) = reqwest::header::HeaderValue::from_bytes(value.as_bytes()) else {
                continue;
            };
            let mut h = HeaderMap::new();
            h.insert(*name, v);
            let got = server_wait(429, &h, now, max);
            assert!(ok(got), "{name}: {value} gave {got:?}");
        }
    }

    #[test]
    fn a_wait_is_shown_on_the_progress_line() {
        let pool = HostPool::new(Arc::new(Config::default()));
        let progress = Progress::new(1, true);
        pool.show_waits(progress.clone());
        let gate = pool.gate("slow.example");
        pool.notice(&gate, Duration::from_millis(11_200), REASON_SERVER);
        assert_eq!(progress.message(), "waiting 12 s for slow.example (rate limit)");
    }

    #[test]
    fn parses_offsets() {
        let a = parse_instant("2026-11-21T13:00:00+01:00").unwrap();
        let b = parse_instant("2026-11-21T12:00:00Z").unwrap();
        assert_eq!(a, b);
    }
}
