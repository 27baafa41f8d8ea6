//! Unit tests of world layout and checking.

use std::net::IpAddr;

use super::*;

#[test]
fn layout_gives_distinct_addresses_inside_the_provider_range() {
    let l = crate::generate::generate(1, 30).layout();
    let mut seen = std::collections::HashSet::new();
    for (domain, (v4, _)) in &l.addresses {
        assert!(seen.insert(*v4), "{domain} reuses {v4}");
        let inst = l.instance(domain).unwrap();
        assert_eq!(l.provider_of(IpAddr::V4(*v4)).unwrap().name, inst.provider);
    }
}

/// A world file's rate-limit window becomes a `Duration` in the simulator: a negative,
/// NaN or huge window (or a zero limit) is refused on load instead of panicking a server task.
#[test]
fn a_rate_limit_that_is_no_duration_is_refused() {
    for (limit, window_secs) in [(1, -1.0), (1, f64::NAN), (1, 1e300), (0, 1.0), (1, 0.0)] {
        let mut w = crate::generate::generate(1, 5);
        w.instances[0].rate_limit = Some(RateLimitSpec { limit, window_secs });
        let err = w.check().expect_err("refused").to_string();
        assert!(
            err.contains("rate_limit needs limit >= 1 and window_secs above 0"),
            "{err}"
        );
    }
    let mut w = crate::generate::generate(1, 5);
    w.instances[0].rate_limit = Some(RateLimitSpec {
        limit: 300,
        window_secs: 300.0,
    });
    assert!(w.check().is_ok());
}
