//! What the crawl benchmarks share: peak memory, requests per host from the simulator's log,
//! and the per-host lower bound a host's limiter allows.

// Each bench binary uses a part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;

use whohosts::config::RateLimit;
use whohosts_sim::server::Logged;

/// A `/proc/self/status` figure in MB (`VmHWM:` peak, `VmRSS:` now).
pub fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()))
        .unwrap_or(0.0)
        / 1024.0
}

/// Peak resident memory of this process, in MB.
pub fn peak_mb() -> f64 {
    status_mb("VmHWM:")
}

/// Whether the client sends this request as a paged one (REST pages after the first carry
/// `max_id`; every ActivityPub collection page has a query), as `mastodon` and
/// `activitypub` mark them.
pub fn paged(path: &str) -> bool {
    if path.starts_with("/api/v1/accounts/") {
        return path.contains("max_id=");
    }
    path.contains("/following?") || path.contains("/followers?")
}

/// Requests and paged requests per host, from the simulator's log.
pub fn per_host(log: &[Logged]) -> BTreeMap<String, (u64, u64)> {
    let mut hosts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in log {
        let e = hosts.entry(r.host.clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(paged(&r.path));
    }
    hosts
}

/// The least time a host's limiters allow for `n` requests, `p` of them paged: the burst
/// goes at once, then one request per period ÷ requests (and the same for paged ones).
pub fn host_bound(budget: &RateLimit, n: u64, p: u64) -> f64 {
    let beyond = |count: u64, quota: u32| count.saturating_sub(u64::from(budget.burst.clamp(1, quota.max(1))));
    let general = beyond(n, budget.requests) as f64 * budget.period_secs / f64::from(budget.requests.max(1));
    let paged =
        beyond(p, budget.paged_requests) as f64 * budget.paged_period_secs / f64::from(budget.paged_requests.max(1));
    general.max(paged)
}
