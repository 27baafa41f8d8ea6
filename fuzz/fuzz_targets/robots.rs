//! Fuzz robots.txt handling: any body and any path are judged without a panic, and a body
//! with no `Disallow` rule allows every path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whohosts::net::http::parse_robots;

fuzz_target!(|data: &[u8]| {
    let (path, body) = match data.iter().position(|b| *b == 0) {
        Some(i) => data.split_at(i),
        None => (&b"/"[..], data),
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    let url = format!("https://example.org/{}", path.trim_start_matches('/'));
    let Some(rules) = parse_robots(body) else {
        return;
    };
    let allowed = rules.allowed(&url);
    let disallows = String::from_utf8_lossy(body).to_ascii_lowercase().contains("disallow");
    assert!(allowed || disallows, "{url} refused by a robots.txt without Disallow");
});
