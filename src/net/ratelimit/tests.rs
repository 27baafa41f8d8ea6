//! Unit tests of per-host politeness: the three header families, hostile values, pauses,
//! the progress line.

use reqwest::header::HeaderMap;

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

/// A pool whose hosts may send 10 requests a second, 2 at once (a burst of 2): a gate is
/// full again 0.2 s after its last request.
fn quick_pool() -> HostPool {
    let mut config = Config::default();
    config.rate_limit.requests = 10;
    config.rate_limit.period_secs = 1.0;
    config.rate_limit.paged_requests = 10;
    config.rate_limit.paged_period_secs = 1.0;
    config.rate_limit.burst = 2;
    HostPool::new(Arc::new(config))
}

/// A forgotten host's gate is dropped only once dropping it loses nothing: not while a
/// request holds it, not before its limiters are full again (a host asked again at once is
/// still limited), never for a host that made the crawl wait; its requests stay counted.
#[tokio::test]
async fn a_forgotten_gate_is_dropped_only_at_rest_and_unused() {
    let pool = quick_pool();
    let gate = pool.gate("a.example");
    for _ in 0..2 {
        drop(pool.enter(&gate, false).await.expect("within budget"));
    }
    // Held by the caller (a request in flight would hold it so): kept.
    pool.forget("A.example.");
    assert_eq!(pool.gates_kept(), 1);
    drop(gate);
    // The burst is spent: a new gate would let two more through at once, so it is kept.
    pool.forget("b.example");
    assert_eq!(pool.gates_kept(), 1, "a.example kept, b.example never had a gate");
    let again = pool.gate("a.example");
    let started = Instant::now();
    drop(pool.enter(&again, false).await.expect("within budget"));
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "still limited: {:?}",
        started.elapsed()
    );
    drop(again);
    assert_eq!(pool.totals(), (3, 0));
    // At rest 0.2 s after its last request: the next forget drops it, its count kept.
    tokio::time::sleep(Duration::from_millis(250)).await;
    pool.forget("c.example");
    assert_eq!(pool.gates_kept(), 0);
    assert_eq!(pool.totals(), (3, 0));
    // A host that made the crawl wait keeps its gate (its wait budget) for the run.
    let paused = pool.gate("d.example");
    paused.pause_for(Duration::from_millis(1), REASON_SERVER);
    drop(paused);
    pool.forget("d.example");
    tokio::time::sleep(Duration::from_millis(250)).await;
    pool.forget("e.example");
    assert_eq!(pool.gates_kept(), 1);
}
