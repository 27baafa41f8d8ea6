//! Fuzz ActivityPub reading: an actor, a collection and a page. Every account has an http(s)
//! actor URI or none; the walker's next page, when it gives one, is an http(s) URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whohosts::model::account::{Direction, FollowList, ListStatus};

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    common::check_account(&whohosts::protocol::activitypub::account_from_actor(&v));
    let _ = whohosts::protocol::activitypub::total(&v);
    let base = url::Url::parse("https://a.example/users/x/following?page=1").expect("a valid URL");
    let page = whohosts::protocol::activitypub::page_of(&v, &base);
    for a in page.items.iter().flatten() {
        common::check_account(a);
        assert!(a.actor_uri.is_some(), "a listed item has an actor URI");
        let foreign = a
            .actor_uri
            .as_deref()
            .and_then(whohosts::model::account::http_url)
            .is_some_and(|u| u.origin() != base.origin());
        assert!(
            !foreign || (a.handle.is_none() && a.display_name.is_none()),
            "another origin's item is only a URI: {a:?}"
        );
    }
    let list = FollowList::empty(Direction::Following, "activitypub", None, ListStatus::Complete);
    let mut walk = whohosts::protocol::pager::Walk::new(list, &whohosts::config::Crawl::default(), &base);
    walk.mark_read(&base);
    if let Some(next) = walk.take(&base, page) {
        assert!(whohosts::model::account::http_url(next.as_str()).is_some(), "{next}");
        assert_ne!(next, base);
        assert_eq!(next.origin(), base.origin(), "the walk stays on the account's origin");
    }
});
