//! Per-host politeness: rate limiters, concurrency caps and server-announced back-off.
//!
//! # Architecture
//! [`HostPool`] lazily creates one [`HostGate`] per host name. A gate owns two governor
//! limiters (all requests, and Mastodon's stricter budget for paged requests), a semaphore
//! capping requests in flight to that host, and a "resume at" instant that grows when the
//! server says to slow down (`X-RateLimit-*`, `RateLimit-*`, `Retry-After`). A request takes
//! the host permit, then a global permit, waits out the pause, then the limiter(s).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{Config, RateLimit};

/// One host's limiters, slots and pause.
pub struct HostGate {
    general: DefaultDirectRateLimiter,
    paged: DefaultDirectRateLimiter,
    slots: Arc<Semaphore>,
    resume_at: Mutex<Option<Instant>>,
    /// Requests sent to this host.
    pub requests: AtomicU64,
    /// Requests that had to be retried (429, 502, 503).
    pub retries: AtomicU64,
}

/// Held while a request is in flight.
pub struct Pass {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

fn quota(requests: u32, period_secs: f64, burst: u32) -> Quota {
    let requests = requests.max(1);
    let per_request = Duration::from_secs_f64(period_secs / f64::from(requests)).max(Duration::from_nanos(1));
    let burst = NonZeroU32::new(burst.clamp(1, requests)).expect("clamped to at least 1");
    Quota::with_period(per_request)
        .expect("period is at least one nanosecond")
        .allow_burst(burst)
}

impl HostGate {
    fn new(budget: &RateLimit, concurrency: usize) -> Self {
        HostGate {
            general: RateLimiter::direct(quota(budget.requests, budget.period_secs, budget.burst)),
            paged: RateLimiter::direct(quota(budget.paged_requests, budget.paged_period_secs, budget.burst)),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            resume_at: Mutex::new(None),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    /// Do not send to this host before `when`.
    pub fn pause_until(&self, when: Instant) {
        let mut r = self.resume_at.lock().expect("pause lock is never poisoned");
        if r.is_none_or(|t| t < when) {
            *r = Some(when);
        }
    }

    fn resume_at(&self) -> Option<Instant> {
        *self.resume_at.lock().expect("pause lock is never poisoned")
    }
}

/// All hosts' gates plus the global cap.
pub struct HostPool {
    config: Arc<Config>,
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
    global: Arc<Semaphore>,
}

impl HostPool {
    /// A pool following the config's budgets and `[hosts]` overrides.
    pub fn new(config: Arc<Config>) -> Self {
        let global = Arc::new(Semaphore::new(config.network.global_concurrency.max(1)));
        HostPool {
            config,
            gates: Mutex::new(HashMap::new()),
            global,
        }
    }

    /// The gate of `host`, created on first use.
    pub fn gate(&self, host: &str) -> Arc<HostGate> {
        let mut gates = self.gates.lock().expect("gate map lock is never poisoned");
        gates
            .entry(host.to_string())
            .or_insert_with(|| {
                let (budget, conc) = self.config.host_budget(host);
                Arc::new(HostGate::new(&budget, conc))
            })
            .clone()
    }

    /// Wait until a request to `host` may be sent.
    pub async fn enter(&self, gate: &HostGate, paged: bool) -> Pass {
        let host = gate
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("the global semaphore is never closed");
        while let Some(t) = gate.resume_at() {
            if t <= Instant::now() {
                break;
            }
            tokio::time::sleep_until(t.into()).await;
        }
        gate.general.until_ready().await;
        if paged {
            gate.paged.until_ready().await;
        }
        gate.requests.fetch_add(1, Ordering::Relaxed);
        Pass {
            _host: host,
            _global: global,
        }
    }

    /// Total requests and retries over all hosts.
    pub fn totals(&self) -> (u64, u64) {
        let gates = self.gates.lock().expect("gate map lock is never poisoned");
        gates.values().fold((0, 0), |(r, t), g| {
            (
                r + g.requests.load(Ordering::Relaxed),
                t + g.retries.load(Ordering::Relaxed),
            )
        })
    }
}

/// How long the server asks us to wait, from any of the three header families.
///
/// `X-RateLimit-Reset` (Mastodon, an ISO-8601 instant) and `RateLimit-Reset` (seconds) count
/// only when the matching `Remaining` is 0 or the status is 429; `Retry-After` (seconds or an
/// HTTP date) always counts.
pub fn announced_wait(status: u16, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let exhausted = |name: &str| status == 429 || text(name).and_then(|v| v.parse::<f64>().ok()) == Some(0.0);
    let mut waits = vec![];
    if let Some(v) = text("retry-after") {
        if let Ok(secs) = v.parse::<f64>() {
            waits.push(Duration::from_secs_f64(secs.max(0.0)));
        } else if let Ok(t) = httpdate::parse_http_date(v) {
            waits.push(t.duration_since(now).unwrap_or_default());
        }
    }
    if exhausted("x-ratelimit-remaining") {
        if let Some(t) = text("x-ratelimit-reset").and_then(parse_instant) {
            waits.push(t.duration_since(now).unwrap_or_default());
        }
    }
    if exhausted("ratelimit-remaining") {
        if let Some(secs) = text("ratelimit-reset").and_then(|v| v.parse::<f64>().ok()) {
            waits.push(Duration::from_secs_f64(secs.max(0.0)));
        }
    }
    waits.into_iter().max()
}

/// An ISO-8601 / RFC 3339 instant (`2026-11-21T13:40:00.123456Z`, offsets allowed), or
/// Unix seconds, as some servers send.
pub fn parse_instant(v: &str) -> Option<SystemTime> {
    if let Ok(secs) = v.parse::<u64>() {
        return Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(v) {
        return Some(t);
    }
    // An explicit offset such as +01:00: humantime only takes Z.
    let (base, sign, off) = match v.rfind(['+', '-']) {
        Some(i) if i > 10 => (&v[..i], &v[i..i + 1], &v[i + 1..]),
        _ => return None,
    };
    let (h, m) = off.split_once(':')?;
    let offset = Duration::from_secs(h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60);
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
    fn parses_offsets() {
        let a = parse_instant("2026-11-21T13:00:00+01:00").unwrap();
        let b = parse_instant("2026-11-21T12:00:00Z").unwrap();
        assert_eq!(a, b);
    }
}
