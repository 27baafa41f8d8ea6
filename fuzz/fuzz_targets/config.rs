//! Fuzz the config loader: any TOML text is loaded or refused, never a panic, and a loaded
//! config builds every host's limiter and holds only bounded durations.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use whohosts::config::{Config, MAX_SECS};
use whohosts::net::ratelimit::HostPool;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_toml(text, Path::new("fuzz.toml")) else {
        return;
    };
    config.validate().expect("a loaded config validates again");
    let net = &config.network;
    for secs in [net.max_wait_secs, net.retry_base_secs, net.request_timeout_secs, config.rate_limit.period_secs] {
        assert!(secs.is_finite() && (0.0..=MAX_SECS).contains(&secs), "{secs}");
    }
    let hosts: Vec<String> = config.hosts.keys().cloned().collect();
    let pool = HostPool::new(Arc::new(config));
    for host in hosts.iter().map(String::as_str).chain(["other.example"]) {
        pool.gate(host);
    }
});
