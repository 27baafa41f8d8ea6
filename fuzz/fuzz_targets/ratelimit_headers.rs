//! Fuzz the rate-limit header families: any values a server sends (`Retry-After`,
//! `X-RateLimit-*`, `RateLimit-*`) with any status give a wait that is never above the cap.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue};
use whohosts::net::ratelimit::{server_wait, ServerWait};

const NAMES: [&str; 5] = [
    "retry-after",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit-remaining",
    "ratelimit-reset",
];

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let status = u16::from_le_bytes([head[0], head[1]]);
    let max = Duration::from_secs(u64::from(u16::from_le_bytes([head[2], head[3]])));
    let mut headers = HeaderMap::new();
    for (name, value) in NAMES.iter().zip(rest.split(|b| *b == 0)) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(*name, v);
        }
    }
    match server_wait(status, &headers, SystemTime::now(), max) {
        ServerWait::None => {}
        ServerWait::Pause(d) => assert!(!d.is_zero() && d <= max, "pause {d:?} above the cap {max:?}"),
        ServerWait::TooLong(d) => assert!(d > max, "{d:?} refused though within {max:?}"),
    }
});
