//! Per-host politeness: rate limiters, concurrency caps and server-announced back-off.
//!
//! # Architecture
//! [`HostPool`] lazily creates one [`HostGate`] per host name. A gate owns two governor
//! limiters (all requests, and Mastodon's stricter budget for paged requests), a semaphore
//! capping requests in flight to that host, and a "resume at" instant that grows when the
//! server says to slow down (`X-RateLimit-*`, `RateLimit-*`, `Retry-After`) or a retry backs
//! off. Those pauses and the time the host's requests spent timing out add up against
//! `network.max_host_wait_secs` ([`HostPool::over_wait_budget`]): when it is spent the host is
//! given up. Each request is let through with a time limit of its own ([`Pass::timeout`]):
//! `network.request_timeout_secs`, but never more than the budget its host has left once the
//! requests in flight to it have reserved theirs, so a host that never answers costs its budget
//! and not a timeout more. A robots.txt `Crawl-delay` is the least time between the arrivals
//! of two requests at its host: one request to the host at a time, the next let through
//! that long after the previous one's response ended (not after it was let through, which
//! a server slow to accept, or a slow DNS answer, would shorten). A request takes the host permit, waits out the pause, the limiter(s) and the
//! spacing, and only then takes a global permit: a host that waits never holds a slot other
//! hosts could use. A host that has stalled (a request of it timed out) is judged slow: it has
//! one request in flight at a time, and the slow hosts together hold at most half the global
//! slots ([`slow_slots`]), so hosts that answer keep their pace however many others stall.
//!
//! Announced waits are read by [`server_wait`], which never panics on any header value and
//! sorts each wait into one the crawl sits out (at most `network.max_wait_secs`) or one it
//! refuses to sit out. Every wait is logged (`tracing`, info) and shown on the progress line.
//! The header reading lives in `headers`, re-exported here.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{Config, RateLimit};
use crate::model::handle::InstanceHost;
use crate::net::progress::Progress;

mod headers;

pub use headers::{announced_wait, parse_instant, server_wait, ServerWait};

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
    /// How long after its last request both limiters are full again (a new gate's state).
    refill: Duration,
    slots: Arc<Semaphore>,
    resume_at: Mutex<Option<(Instant, &'static str)>>,
    spacing: Mutex<Spacing>,
    /// Requests sent to this host.
    pub requests: AtomicU64,
    /// Requests that had to be retried (429, 502, 503).
    pub retries: AtomicU64,
    /// Milliseconds this host has made the crawl wait in all (announced pauses, back-offs,
    /// requests that timed out).
    paused_ms: AtomicU64,
    /// Milliseconds of the wait budget the requests in flight may still spend timing out.
    reserved_ms: Mutex<u64>,
    /// Told when a request in flight gives its reservation back.
    released: tokio::sync::Notify,
    /// A request to this host timed out: it is slow from now on.
    stalled: AtomicBool,
    /// The one request in flight a slow host may have.
    lane: Arc<Semaphore>,
}

/// Whether a request may be sent, and with what time limit ([`HostGate::reserve`]).
enum Reserve {
    /// Sent with this time limit (of which `reserved` milliseconds are booked on the budget).
    Granted { timeout: Duration, reserved: u64 },
    /// The budget is spent: the host is given up.
    Spent,
    /// What is left is booked by the requests in flight: wait for one of them to end.
    Busy,
}

/// The global slots the slow hosts may hold together: half of them (at least one), so at least
/// half are always there for hosts that answer.
pub fn slow_slots(global: usize) -> usize {
    (global / 2).max(1)
}

/// The least time between two requests to a host (robots.txt `Crawl-delay`), and when the
/// last one was let through, or, under a `Crawl-delay`, when its response ended.
#[derive(Debug, Default)]
struct Spacing {
    delay: Option<Duration>,
    last: Option<Instant>,
    /// A request let through under the `Crawl-delay` has not ended yet.
    in_flight: bool,
}

/// Held while a request is in flight.
pub struct Pass<'a> {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
    /// A slow host's one lane and its share of the slow hosts' slots.
    _slow: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
    gate: &'a HostGate,
    timeout: Duration,
    reserved: u64,
    /// Let through under the host's `Crawl-delay`: the next request is timed from its end.
    spaced: bool,
}

impl Pass<'_> {
    /// The time this request may take: `network.request_timeout_secs`, or less when its host
    /// has less of its wait budget left.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.gate.give_back(self.reserved);
        if self.spaced {
            self.gate.request_ended();
        }
    }
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
        let general = quota(budget.requests, budget.period_secs, budget.burst);
        let paged = quota(budget.paged_requests, budget.paged_period_secs, budget.burst);
        HostGate {
            host: host.to_string(),
            refill: general
                .burst_size_replenished_in()
                .max(paged.burst_size_replenished_in()),
            general: RateLimiter::direct(general),
            paged: RateLimiter::direct(paged),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            resume_at: Mutex::new(None),
            spacing: Mutex::new(Spacing::default()),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            paused_ms: AtomicU64::new(0),
            reserved_ms: Mutex::new(0),
            released: tokio::sync::Notify::new(),
            stalled: AtomicBool::new(false),
            lane: Arc::new(Semaphore::new(1)),
        }
    }

    /// Whether a request to this host has timed out: it is slow.
    pub fn has_stalled(&self) -> bool {
        self.stalled.load(Ordering::Relaxed)
    }

    /// When this gate will be at rest, the same as a new one: both limiters full again
    /// (`refill` after the last request let through), no pause ahead, no `Crawl-delay` still
    /// to wait. `None` when it never will be: the host stalled (it is slow) or made the crawl
    /// wait (its wait budget is partly spent), which a new gate would forget.
    fn at_rest_from(&self) -> Option<Instant> {
        if self.has_stalled() || self.paused_ms.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let spacing = self.spacing.lock().expect("spacing lock is never poisoned");
        let Some(last) = spacing.last else {
            return Some(Instant::now());
        };
        let spaced = spacing.delay.unwrap_or_default();
        drop(spacing);
        let pause = self
            .resume_at
            .lock()
            .expect("pause lock is never poisoned")
            .map(|(t, _)| t);
        let refilled = last.checked_add(self.refill.max(spaced))?;
        Some(pause.map_or(refilled, |p| p.max(refilled)))
    }

    /// Give back `reserved` milliseconds a request had booked ([`HostGate::reserve`]).
    fn give_back(&self, reserved: u64) {
        if reserved > 0 {
            let mut r = self.reserved_ms.lock().expect("reservation lock is never poisoned");
            *r = r.saturating_sub(reserved);
            drop(r);
            self.released.notify_waiters();
        }
    }

    /// Book the time limit of a request about to be sent on the host's wait budget: the
    /// request timeout, or what is left of `budget` after what the host has spent and what its
    /// requests in flight have booked, whichever is less. A budget of 0 books nothing (the host
    /// is given up at its first wait, the request having had its whole timeout).
    fn reserve(&self, budget: Duration, timeout: Duration) -> Reserve {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let spent = self.paused_ms.load(Ordering::Relaxed);
        let budget = ms(budget);
        if spent > 0 && spent >= budget {
            return Reserve::Spent;
        }
        if budget == 0 {
            return Reserve::Granted { timeout, reserved: 0 };
        }
        let mut booked = self.reserved_ms.lock().expect("reservation lock is never poisoned");
        let left = budget.saturating_sub(spent).saturating_sub(*booked);
        if left == 0 {
            return Reserve::Busy;
        }
        let reserved = left.min(ms(timeout).max(1));
        *booked = booked.saturating_add(reserved);
        Reserve::Granted {
            timeout: timeout.min(Duration::from_millis(reserved)),
            reserved,
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

    /// Count `lost` (the time a request that timed out held its slot) towards the host's
    /// wait budget: a host that accepts connections and never answers is given up as one that
    /// keeps pausing the crawl is.
    pub fn charge_timeout(&self, lost: Duration) {
        self.stalled.store(true, Ordering::Relaxed);
        let ms = u64::try_from(lost.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .paused_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some(t.saturating_add(ms)));
    }

    /// How long this host has made the crawl wait in all (announced pauses, back-offs, and
    /// requests that timed out; our own rate limit and `Crawl-delay` do not count).
    pub fn paused_total(&self) -> Duration {
        Duration::from_millis(self.paused_ms.load(Ordering::Relaxed))
    }

    /// Space requests to this host at least `delay` apart from now on (robots.txt
    /// `Crawl-delay`; callers cap it at `network.max_wait_secs`), the next one `delay` from
    /// now when the gate did not have it yet (its robots.txt answer has just been read);
    /// `true` then.
    pub fn set_crawl_delay(&self, delay: Duration) -> bool {
        let mut spacing = self.spacing.lock().expect("spacing lock is never poisoned");
        let new = spacing.delay.replace(delay) != Some(delay);
        if new && !spacing.in_flight {
            spacing.last = Some(Instant::now());
        }
        new
    }

    /// Claim the right to send now: `Ok` when the host has no `Crawl-delay`, or has no
    /// request in flight and the last one ended long enough ago (this one is recorded as sent
    /// now; `true`: under a `Crawl-delay`, so [`HostGate::request_ended`] is to be told when it
    /// ends), else how long to wait before looking again. Check and record are one step, so
    /// concurrent requests never both pass.
    fn claim_send(&self) -> Result<bool, Duration> {
        let now = Instant::now();
        let mut s = self.spacing.lock().expect("spacing lock is never poisoned");
        let Some(d) = s.delay else {
            s.last = Some(now);
            return Ok(false);
        };
        if s.in_flight {
            // The next may go `d` after the one in flight ends, which is later than `d` from
            // now: waiting `d` never waits too long.
            return Err(d);
        }
        let wait = s
            .last
            .and_then(|last| last.checked_add(d))
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
        if !wait.is_zero() {
            return Err(wait);
        }
        s.last = Some(now);
        s.in_flight = true;
        Ok(true)
    }

    /// The request let through under the `Crawl-delay` has ended (its response read, or it
    /// failed): the next is timed from now.
    fn request_ended(&self) {
        let mut s = self.spacing.lock().expect("spacing lock is never poisoned");
        s.in_flight = false;
        s.last = Some(Instant::now());
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
    /// Hosts whose gates are to be dropped once at rest ([`HostPool::forget`]), soonest first.
    forgotten: Mutex<BinaryHeap<Reverse<(Instant, String)>>>,
    /// Requests and retries of the gates dropped, for [`HostPool::totals`].
    dropped: (AtomicU64, AtomicU64),
    global: Arc<Semaphore>,
    /// The global slots slow hosts may hold ([`slow_slots`]).
    slow: Arc<Semaphore>,
    progress: OnceLock<Progress>,
    /// Nanoseconds requests spent in [`HostPool::enter`], summed over requests.
    waited_ns: AtomicU64,
}

impl HostPool {
    /// A pool following the config's budgets and `[hosts]` overrides.
    pub fn new(config: Arc<Config>) -> Self {
        let global = Arc::new(Semaphore::new(config.network.global_concurrency.max(1)));
        let slow = Arc::new(Semaphore::new(slow_slots(config.network.global_concurrency)));
        HostPool {
            config,
            gates: Mutex::new(HashMap::new()),
            forgotten: Mutex::new(BinaryHeap::new()),
            dropped: (AtomicU64::new(0), AtomicU64::new(0)),
            global,
            slow,
            progress: OnceLock::new(),
            waited_ns: AtomicU64::new(0),
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

    /// Whether `host` has stalled (a request of it timed out): it is slow
    /// ([`HostGate::has_stalled`]). A host not met yet has not.
    pub fn is_slow(&self, host: &str) -> bool {
        let host = InstanceHost::new(host);
        let gates = self.gates.lock().expect("gate map lock is never poisoned");
        gates.get(host.as_str()).is_some_and(|g| g.has_stalled())
    }

    /// Whether the host has spent its wait budget, `network.max_host_wait_secs`
    /// ([`HostGate::paused_total`]): it has made the crawl wait that long or longer (a host
    /// that never made it wait is never over, whatever the budget).
    pub fn over_wait_budget(&self, gate: &HostGate) -> bool {
        let spent = gate.paused_total();
        !spent.is_zero() && spent >= crate::config::seconds(self.config.network.max_host_wait_secs)
    }

    /// Wait until a request to the gate's host may be sent. Pauses and limiters are waited
    /// out before the global permit is taken, so a waiting host never blocks the others.
    /// `None` when the host is (or, while this request queued, became) over its wait budget
    /// ([`HostPool::over_wait_budget`]): its pauses are then no longer sat out. The pass says
    /// how long the request may take ([`Pass::timeout`]); a slow host's request waits for the
    /// host's one lane and a slow hosts' slot before the global permit.
    pub async fn enter<'a>(&self, gate: &'a HostGate, paged: bool) -> Option<Pass<'a>> {
        let started = Instant::now();
        let pass = self.enter_timed(gate, paged).await;
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .waited_ns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some(t.saturating_add(ns)));
        pass
    }

    /// Time requests spent waiting to be let through (host slot, pauses, limiters,
    /// `Crawl-delay`, the global cap), summed over requests.
    pub fn waited(&self) -> Duration {
        Duration::from_nanos(self.waited_ns.load(Ordering::Relaxed))
    }

    async fn enter_timed<'a>(&self, gate: &'a HostGate, paged: bool) -> Option<Pass<'a>> {
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
        let budget = crate::config::seconds(self.config.network.max_host_wait_secs);
        let request_timeout = crate::config::seconds(self.config.network.request_timeout_secs);
        let mut slow = None;
        loop {
            if slow.is_none() && gate.has_stalled() {
                let lane = gate.lane.clone().acquire_owned().await.expect("lanes are never closed");
                let share = self
                    .slow
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the slow hosts' semaphore is never closed");
                slow = Some((lane, share));
            }
            let global = self
                .global
                .clone()
                .acquire_owned()
                .await
                .expect("the global semaphore is never closed");
            if gate.pending_pause().is_some() {
                // Paused while queueing for the permit: give it back while waiting.
                drop((global, slow.take()));
                if self.over_wait_budget(gate) {
                    return None;
                }
                self.sit_out_pause(gate).await;
                continue;
            }
            let (timeout, reserved) = match gate.reserve(budget, request_timeout) {
                Reserve::Granted { timeout, reserved } => (timeout, reserved),
                Reserve::Spent => return None,
                Reserve::Busy => {
                    // The rest of the budget is booked by requests in flight: wait (without
                    // the permits) for one to end, then look again.
                    drop((global, slow.take()));
                    let _ = tokio::time::timeout(Duration::from_millis(100), gate.released.notified()).await;
                    continue;
                }
            };
            match gate.claim_send() {
                Ok(spaced) => {
                    gate.requests.fetch_add(1, Ordering::Relaxed);
                    return Some(Pass {
                        _host: host,
                        _global: global,
                        _slow: slow,
                        gate,
                        timeout,
                        reserved,
                        spaced,
                    });
                }
                // Too soon after the last request (Crawl-delay): wait without the permits.
                Err(wait) => {
                    gate.give_back(reserved);
                    drop((global, slow.take()));
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

    /// Total requests and retries over all hosts (those whose gates were dropped included).
    pub fn totals(&self) -> (u64, u64) {
        let gates = self.gates.lock().expect("gate map lock is never poisoned");
        let dropped = (
            self.dropped.0.load(Ordering::Relaxed),
            self.dropped.1.load(Ordering::Relaxed),
        );
        gates.values().fold(dropped, |(r, t), g| {
            (
                r.saturating_add(g.requests.load(Ordering::Relaxed)),
                t.saturating_add(g.retries.load(Ordering::Relaxed)),
            )
        })
    }

    /// The caller has made its last request to `host`: drop its gate once that loses
    /// nothing, when no request to it is in flight or waiting and the gate is at rest
    /// ([`HostGate::at_rest_from`]: a new gate would let through no more than it would). Until
    /// then it is kept, and dropped by a later call; a host asked again meanwhile keeps its
    /// gate, limits and all. A gate that is never at rest (a slow host, a host that made the
    /// crawl wait) is kept for the run. Also drops the gates of hosts forgotten earlier that
    /// have come to rest since.
    pub fn forget(&self, host: &str) {
        let host = InstanceHost::new(host).as_str().to_string();
        let now = Instant::now();
        let mut due = self.forgotten.lock().expect("forgotten hosts lock is never poisoned");
        due.push(Reverse((now, host)));
        while due.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            let Some(Reverse((_, host))) = due.pop() else { break };
            if let Some(later) = self.drop_at_rest(&host, now) {
                due.push(Reverse((later, host)));
            }
        }
    }

    /// Drop `host`'s gate if it is at rest at `now` and unused; else when to look again
    /// (`None`: gone, or never to be dropped).
    fn drop_at_rest(&self, host: &str, now: Instant) -> Option<Instant> {
        let mut gates = self.gates.lock().expect("gate map lock is never poisoned");
        let gate = gates.get(host)?;
        let at_rest = gate.at_rest_from()?;
        // Held elsewhere: a request to the host is in flight or waiting for its gate.
        let used = Arc::strong_count(gate) > 1;
        if used || at_rest > now {
            return Some(at_rest.max(now + Duration::from_millis(100)));
        }
        let gate = gates.remove(host)?;
        drop(gates);
        let add = |c: &AtomicU64, n: u64| {
            let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some(t.saturating_add(n)));
        };
        add(&self.dropped.0, gate.requests.load(Ordering::Relaxed));
        add(&self.dropped.1, gate.retries.load(Ordering::Relaxed));
        None
    }

    /// Hosts whose gates are kept.
    #[cfg(test)]
    fn gates_kept(&self) -> usize {
        self.gates.lock().expect("gate map lock is never poisoned").len()
    }
}

#[cfg(test)]
mod tests;
