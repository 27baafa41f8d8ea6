//! ActivityPub: actors and their `following`/`followers` collections.
//!
//! A collection is an `OrderedCollection` with `totalItems` and `first` (a URL, or an embedded
//! page as Pleroma does); pages carry `next` and items in `orderedItems` or `items`, each a URI
//! or an embedded object. Paging styles differ (Mastodon `page=N`, Misskey `cursor=`,
//! GoToSocial `max_id=`) but all are followed through `next` as given, by the shared
//! [`crate::protocol::pager`]. A collection showing only `totalItems` (Mastodon's hidden collections,
//! Pixelfed) does not expose its items; pages answering 403 mean hidden; 401 means the server
//! wants signed requests (authorized fetch) and is recorded as refused, never worked around.
//! An item that is not an account (no `id`, not an http(s) URI, `null`, a number) is skipped
//! and counted; the rest of its page is kept.

use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::model::account::{http_url, Account, Cause, Direction, FollowList, ListStatus, SkipKind};
use crate::model::handle::{Handle, InstanceHost};
use crate::net::http::{Fetcher, Logged, Request, ACCEPT_ACTIVITY};
use crate::protocol::bio::{bio_opts_out, opt_out_flag};
use crate::protocol::pager::{self, describe, Fetched, Listener, Skip, Walk};

/// Why a 401 is not worked around.
pub const SIGNED_ONLY: &str = "the server answers only signed requests (authorized fetch)";

/// The refused status of a list whose server answered `url` only to signed requests,
/// logged (info, shown with `-v`) with its host and the URL's origin and kind
/// ([`crate::net::http::Logged`], as every log line of the client): never its path, which
/// names an account.
pub fn signed_only(url: &str) -> ListStatus {
    match Url::parse(url) {
        Ok(u) => {
            tracing::info!(host = %u.host_str().unwrap_or_default(), url = %Logged(&u), "refused: authorized fetch")
        }
        Err(_) => tracing::info!("refused: authorized fetch"),
    }
    ListStatus::refused(Cause::AuthorizedFetch, SIGNED_ONLY)
}

/// Fetch an actor document, at most `crawl.max_actor_bytes` long.
///
/// # Errors
/// [`Error::Status`], transport errors, [`Error::TooLarge`], [`Error::Malformed`] for non-JSON.
/// [`Error::Malformed`] too when the document's `id` is on another origin than the URL that
/// answered (after redirects): a server may only speak for its own actors.
pub async fn fetch_actor(f: &Fetcher, uri: &Url) -> Result<Value> {
    let req = Request {
        max_body: Some(f.config().crawl.max_actor_bytes),
        ..Request::accept(ACCEPT_ACTIVITY)
    };
    let page = f.get_ok(uri, req).await?;
    let v: Value = page.json()?;
    match str_field(&v, "id").and_then(http_url) {
        Some(id) if id.origin() != page.url.origin() => {
            let shown: String = id.as_str().chars().take(200).collect();
            Err(Error::Malformed {
                url: page.url.to_string(),
                message: format!("the document claims another origin (id {shown})"),
            })
        }
        _ => Ok(v),
    }
}

/// A string field, or the `id` of an embedded object.
fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match v.get(key)? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// An [`Account`] from an actor object. Only an http(s) `id` is kept as the actor URI (and
/// gives the server); the handle is kept only when it is a valid `user@host`.
pub fn account_from_actor(v: &Value) -> Account {
    let id = str_field(v, "id").and_then(http_url);
    let server = id.as_ref().and_then(InstanceHost::of_url);
    let handle = match (str_field(v, "preferredUsername"), &server) {
        (Some(user), Some(host)) => format!("{user}@{host}").parse::<Handle>().ok().map(|h| h.to_string()),
        _ => None,
    };
    let kind = v.get("type").and_then(Value::as_str);
    Account {
        handle,
        server,
        actor_uri: id.map(String::from),
        display_name: v
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        bot: kind.map(|k| k == "Service" || k == "Application"),
        moved_to: str_field(v, "movedTo").and_then(http_url).map(String::from),
        discoverable: v.get("discoverable").and_then(|f| opt_out_flag(f, false)),
        indexable: v.get("indexable").and_then(|f| opt_out_flag(f, false)),
        noindex: v.get("noindex").and_then(|f| opt_out_flag(f, true)),
        hide_collections: None,
        followers_count: None,
        following_count: None,
        nobot_tag: v.get("summary").and_then(Value::as_str).is_some_and(bio_opts_out),
        last_status_at: None,
        fetch_error: None,
    }
    .bounded()
}

/// An account known only by its URI, when that is an http(s) URL.
///
/// # Errors
/// A [`Skip`] for any other reference.
pub fn account_from_uri(uri: &str) -> std::result::Result<Account, Skip> {
    let url =
        http_url(uri).ok_or_else(|| Skip::new(SkipKind::NotHttp, format!("item {uri:?} is not an http(s) URL")))?;
    Ok(Account {
        server: InstanceHost::of_url(&url),
        actor_uri: Some(url.into()),
        ..Account::default()
    })
}

/// One collection item: a URI or an embedded object with an http(s) `id`. An embedded
/// object is believed only when its `id` is on `origin` (the page's): of another server's
/// actor only the URI is kept, so its details come from that server or not at all.
///
/// # Errors
/// A [`Skip`] saying why the item is not an account.
pub fn item(v: &Value, origin: &url::Origin) -> std::result::Result<Account, Skip> {
    match v {
        Value::String(uri) => account_from_uri(uri),
        Value::Object(_) => match str_field(v, "id") {
            None => Err(Skip::new(SkipKind::NoIdentity, "an object without an id")),
            Some(id) if http_url(id).is_none_or(|u| u.origin() != *origin) => account_from_uri(id),
            Some(_) => Ok(account_from_actor(v)),
        },
        other => Err(Skip::new(
            SkipKind::NotAnAccount,
            format!("an item that is {}", describe(other)),
        )),
    }
}

/// The items and `next` of a collection page (or of a collection holding its items) read
/// from `base`. `orderedItems` or `items` may be an array or a single item; at most
/// [`pager::MAX_PAGE_ITEMS`] are read, the rest counted.
pub fn page_of(page: &Value, base: &Url) -> Fetched {
    let origin = base.origin();
    let mut items = pager::PageItems::default();
    match page.get("orderedItems").or_else(|| page.get("items")) {
        Some(Value::Array(list)) => {
            for v in list {
                match items.is_full() {
                    false => items.push(item(v, &origin)),
                    true => items.pass_over(),
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(one) => items.push(item(one, &origin)),
    }
    Fetched {
        items: items.finish(),
        next: str_field(page, "next").map(str::to_string),
    }
}

/// The declared size of a collection (`totalItems`), when it is a count.
pub fn total(v: &Value) -> Option<u64> {
    v.get("totalItems").and_then(Value::as_u64)
}

/// What a failed page means: before any account, 403 hides the list, 401 and robots.txt
/// refuse it; otherwise the walk is partial.
fn on_error(e: Error, l: &FollowList) -> Result<ListStatus> {
    if !l.accounts.is_empty() {
        return Ok(pager::partial_on_error(e));
    }
    Ok(match e.status() {
        Some(403) => ListStatus::Hidden { unseen: l.declared },
        Some(401) => signed_only(match &e {
            Error::Status { url, .. } => url,
            _ => "",
        }),
        _ if e.kind() == "robots" => ListStatus::refused(Cause::Robots, e.to_string()),
        _ => pager::partial_on_error(e),
    })
}

/// A page body as JSON that is an object.
fn json_object(p: &crate::net::http::Page) -> Result<Value> {
    let v: Value = p.json()?;
    match v.is_object() {
        true => Ok(v),
        false => Err(Error::Malformed {
            url: p.url.to_string(),
            message: format!("expected an ActivityPub object, got {}", describe(&v)),
        }),
    }
}

/// Read a whole collection (see [`crate::protocol::pager`] for every way a walk ends), only on the
/// origin of `collection` (which the caller checks is the actor's), telling `listener` of each
/// account as its page is read.
///
/// # Errors
/// Only for the collection root: 401 and 403 come back as `Refused`/`Hidden` lists, other
/// failures as errors.
pub async fn list(
    f: &Fetcher,
    collection: &Url,
    direction: Direction,
    listener: Option<Listener>,
) -> Result<FollowList> {
    let root_page = f.get(collection, Request::accept(ACCEPT_ACTIVITY)).await?;
    let empty = |status| FollowList::empty(direction, "activitypub", None, status);
    match root_page.status {
        401 => return Ok(empty(signed_only(root_page.url.as_str()))),
        403 => return Ok(empty(ListStatus::Hidden { unseen: None })),
        _ => {}
    }
    let base = root_page.url.clone();
    let root = json_object(&root_page.success()?)?;
    let mut walk = Walk::new(
        FollowList::empty(direction, "activitypub", total(&root), ListStatus::Complete),
        &f.config().crawl,
        collection,
    )
    .listen(listener);
    walk.mark_read(collection);
    let start = match root.get("first") {
        // The collection itself redirected to another origin: none of it is read.
        _ if !walk.on_origin(&base) => walk.foreign(format!("the collection was redirected to {base}")),
        Some(first @ Value::Object(_)) => walk.take(&base, page_of(first, &base)),
        Some(Value::String(s)) => walk.follow(&base, s),
        _ => walk.take(&base, page_of(&root, &base)),
    };
    let fetch = |url: Url, _| async move {
        let req = Request {
            paged: true,
            ..Request::accept(ACCEPT_ACTIVITY)
        };
        let p = f.get_ok(&url, req).await?;
        Ok((p.url.clone(), page_of(&json_object(&p)?, &p.url)))
    };
    pager::walk(walk, start, fetch, on_error).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's accounts as read from b.example.
    fn accounts(page: &Value) -> Vec<Account> {
        page_of(page, &at("https://b.example/f"))
            .items
            .into_iter()
            .flatten()
            .collect()
    }

    fn at(url: &str) -> Url {
        Url::parse(url).expect("test URLs parse")
    }

    #[test]
    fn items_take_uris_and_objects_from_either_key() {
        let page: Value = serde_json::json!({
            "type": "OrderedCollectionPage",
            "orderedItems": ["https://a.example/users/x", {"id": "https://b.example/users/y", "type": "Service", "preferredUsername": "y", "summary": "#nobot"}]
        });
        let got = accounts(&page);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].server, Some(InstanceHost::new("a.example")));
        assert_eq!(got[0].handle, None);
        assert_eq!(got[1].handle.as_deref(), Some("@y@b.example"));
        assert_eq!(got[1].bot, Some(true));
        assert!(got[1].nobot_tag);
        let unordered: Value = serde_json::json!({"items": "https://c.example/u/z"});
        assert_eq!(
            accounts(&unordered)[0].actor_uri.as_deref(),
            Some("https://c.example/u/z")
        );
    }

    /// Regression: a `javascript:`/`data:`/`mailto:` item crashed the crawl (an opaque
    /// origin); every hostile item is now skipped, counted, and its page kept.
    #[test]
    fn hostile_items_are_skipped_and_the_page_kept() {
        let page: Value = serde_json::json!({"orderedItems": [
            "javascript:alert(1)", "javascript://evil.example/x", "data:text/html,hi", "mailto:a@b.example",
            null, 12, 1e308, -1, [["https://nested.example/u/a"]], {"type": "Person"}, {"id": 5},
            {"id": "javascript://evil.example/u"}, "https://ok.example/users/a",
            {"id": "https://other.example/users/b", "preferredUsername": "b c", "name": ["x"], "summary": {"a": 1}, "movedTo": "data:,x"}
        ], "next": ["not", "a", "link"]});
        let f = page_of(&page, &at("https://other.example/f"));
        let kinds: Vec<(SkipKind, u64)> = f
            .items
            .iter()
            .filter_map(|i| i.as_ref().err().map(|s| (s.kind, s.count)))
            .collect();
        use SkipKind::*;
        assert_eq!(kinds, [(NotHttp, 5), (NotAnAccount, 5), (NoIdentity, 2)]);
        let ok: Vec<Account> = f.items.into_iter().flatten().collect();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].actor_uri.as_deref(), Some("https://other.example/users/b"));
        assert_eq!(
            (
                ok[1].handle.as_deref(),
                ok[1].moved_to.as_deref(),
                ok[1].display_name.as_deref()
            ),
            (None, None, None)
        );
        assert_eq!(f.next, None);
    }

    /// Embedded actors are believed only on the page's own origin; of another server's actor
    /// only the URI is kept (its details come from that server).
    #[test]
    fn embedded_actors_of_another_origin_keep_only_their_uri() {
        let page: Value = serde_json::json!({"orderedItems": [
            {"id": "https://b.example/users/own", "preferredUsername": "own", "name": "Own"},
            {"id": "https://mastodon.social/users/fake", "preferredUsername": "fake", "name": "Forged", "type": "Service"},
            {"id": "https://b.example:8443/users/port", "preferredUsername": "port"}
        ]});
        let got = accounts(&page);
        assert_eq!(got[0].handle.as_deref(), Some("@own@b.example"));
        assert_eq!(got[0].display_name.as_deref(), Some("Own"));
        let uri_only = |uri: &str, server: &str| Account {
            actor_uri: Some(uri.into()),
            server: Some(InstanceHost::new(server)),
            ..Account::default()
        };
        assert_eq!(
            got[1],
            uri_only("https://mastodon.social/users/fake", "mastodon.social")
        );
        assert_eq!(got[2], uri_only("https://b.example:8443/users/port", "b.example"));
    }

    #[test]
    fn counts_that_are_not_counts_are_unknown() {
        for v in [
            serde_json::json!({"totalItems": -3}),
            serde_json::json!({"totalItems": "7"}),
            serde_json::json!({"totalItems": 1e300}),
        ] {
            assert_eq!(total(&v), None, "{v}");
        }
        assert_eq!(total(&serde_json::json!({"totalItems": 152})), Some(152));
    }

    fn real(path: &str) -> Value {
        let full = format!("{}/../shared/fixtures/real/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&full)
            .unwrap_or_else(|e| panic!("{full}: {e} (the shared fixtures must sit beside the crate as ../shared)"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    #[test]
    fn recorded_pages_and_roots_read_as_real_servers_send_them() {
        let base = at("https://mastodon.social/users/x/following?page=1");
        let page = page_of(&real("mastodon/collections/masto_closed_following_page.json"), &base);
        assert_eq!(page.items.iter().filter(|i| i.is_ok()).count(), 12);
        assert!(
            page.next.as_deref().is_some_and(|n| n.contains("page=2")),
            "{:?}",
            page.next
        );
        let pleroma = real("pleroma/collections/pleroma_following.json");
        assert_eq!(total(&pleroma), Some(267));
        let first = page_of(&pleroma["first"], &base);
        assert!(first.items.is_empty() && first.next.is_some(), "{first:?}");
    }

    /// Mastodon's bios are HTML with hashtag links: read from recorded actors.
    #[test]
    fn recorded_html_bios_are_read_as_text() {
        let emelie = real("mastodon/emelie_actor.json");
        let bio = crate::protocol::bio::text(emelie["summary"].as_str().unwrap());
        assert_eq!(
            crate::protocol::bio::hashtags(&bio),
            ["sweden", "artist", "equestrian", "gamedev"]
        );
        assert!(bio.contains("If I ain't spending time"), "{bio}");
        assert!(!account_from_actor(&emelie).nobot_tag);
        let mut felix = real("lemmy-assets/mastodon/objects/person.json");
        assert!(!account_from_actor(&felix).nobot_tag);
        let summary = felix["summary"].as_str().unwrap().replace("Lemmy", "nobot");
        felix["summary"] = Value::String(summary);
        assert!(account_from_actor(&felix).nobot_tag, "{}", felix["summary"]);
        let nobots = felix["summary"].as_str().unwrap().replace("nobot", "NoBots");
        felix["summary"] = Value::String(nobots);
        assert!(!account_from_actor(&felix).nobot_tag, "{}", felix["summary"]);
    }

    #[test]
    fn a_failing_page_before_any_account_says_why() {
        let l = FollowList::empty(Direction::Following, "activitypub", Some(9), ListStatus::Complete);
        let status = |status| Error::Status {
            url: "https://a.example/f?page=1".into(),
            status,
        };
        assert_eq!(
            on_error(status(403), &l).unwrap(),
            ListStatus::Hidden { unseen: Some(9) }
        );
        assert_eq!(
            on_error(status(401), &l).unwrap(),
            ListStatus::refused(Cause::AuthorizedFetch, SIGNED_ONLY)
        );
        let robots = Error::RobotsDisallowed {
            host: "a.example".into(),
            path: "/f".into(),
        };
        assert_eq!(
            on_error(robots, &l).unwrap(),
            ListStatus::refused(Cause::Robots, "robots.txt of a.example disallows /f")
        );
        let mut some = l.clone();
        some.accounts.push(Account::default());
        assert_eq!(
            on_error(status(403), &some).unwrap(),
            ListStatus::partial(Cause::PageFailed, "https://a.example/f?page=1: HTTP 403")
        );
    }
}
