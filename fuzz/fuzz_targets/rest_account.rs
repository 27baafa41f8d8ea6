//! Fuzz Mastodon REST reading: a page of accounts (and each item on its own). Every account
//! kept has an http(s) actor URI or none, a server that is a host, and a handle that parses;
//! a page holds at most `MAX_PAGE_ITEMS` items plus one overflow entry, one skip per kind.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://m.example/api/v1/accounts/1/following").expect("a valid URL");
    if let Ok(items) = whohosts::protocol::mastodon::parse_page(&url, data, "m.example") {
        for a in items.iter().flatten() {
            common::check_account(a);
            assert!(a.server.is_some(), "a listed account has a server");
        }
        assert!(items.len() <= whohosts::protocol::pager::MAX_PAGE_ITEMS + 1, "at most the cap and one overflow entry");
        let kinds: Vec<_> = items.iter().filter_map(|i| i.as_ref().err().map(|s| s.kind)).collect();
        let distinct: std::collections::BTreeSet<_> = kinds.iter().collect();
        assert_eq!(kinds.len(), distinct.len(), "one skip entry per kind");
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(a) = whohosts::protocol::mastodon::listed_account(v.clone(), "m.example") {
            common::check_account(&a);
        }
        if let Ok(raw) = serde_json::from_value::<whohosts::protocol::mastodon::RestAccount>(v) {
            common::check_account(&raw.into_account("m.example"));
        }
    }
});
