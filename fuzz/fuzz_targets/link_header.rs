//! Fuzz the `Link` header reader: a next target is a trimmed piece of the header between
//! `<` and `>`, and once resolved it is an http(s) URL or refused.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let Some(next) = whohosts::protocol::mastodon::next_link(header) else {
        return;
    };
    assert!(header.contains(next.as_str()), "{next:?} is not from the header");
    assert!(!next.contains('>'), "{next:?}");
    let base = url::Url::parse("https://m.example/api/v1/accounts/1/following?limit=80").expect("a valid URL");
    if let Some(u) = base.join(&next).ok().and_then(|u| whohosts::model::account::http_url(u.as_str())) {
        assert!(matches!(u.scheme(), "http" | "https"));
        assert!(u.host_str().is_some());
    }
});
