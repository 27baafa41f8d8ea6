//! ActivityPub: actors and their `following`/`followers` collections.
//!
//! A collection is an `OrderedCollection` with `totalItems` and `first` (a URL, or an embedded
//! page as Pleroma does); pages carry `next` and items in `orderedItems` or `items`, each a URI
//! or an embedded object. Paging styles differ (Mastodon `page=N`, Misskey `cursor=`,
//! GoToSocial `max_id=`) but all are followed through `next` as given. A collection showing
//! only `totalItems`, or pages answering 403, is hidden; 401 means the server wants signed
//! requests (authorized fetch) and is recorded as refused, never worked around.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use crate::account::{bio_opts_out, Account, Direction, FollowList, ListStatus};
use crate::error::{Error, Result};
use crate::handle::InstanceHost;
use crate::http::{Fetcher, Request, ACCEPT_ACTIVITY};

/// Why a 401 is not worked around.
pub const SIGNED_ONLY: &str = "the server answers only signed requests (authorized fetch)";

/// Fetch an actor document.
///
/// # Errors
/// [`Error::Status`], transport errors, [`Error::Malformed`] for non-JSON.
pub async fn fetch_actor(f: &Fetcher, uri: &Url) -> Result<Value> {
    f.get_ok(uri, Request::accept(ACCEPT_ACTIVITY)).await?.json()
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match v.get(key)? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// An [`Account`] from an actor object.
pub fn account_from_actor(v: &Value) -> Account {
    let id = str_field(v, "id").map(str::to_string);
    let server = id
        .as_deref()
        .and_then(|i| Url::parse(i).ok())
        .and_then(|u| InstanceHost::of_url(&u));
    let handle = match (str_field(v, "preferredUsername"), &server) {
        (Some(user), Some(host)) => Some(format!("@{user}@{host}")),
        _ => None,
    };
    let kind = str_field(v, "type");
    Account {
        handle,
        server,
        actor_uri: id,
        display_name: str_field(v, "name").filter(|s| !s.is_empty()).map(str::to_string),
        bot: kind.map(|k| k == "Service" || k == "Application"),
        moved_to: str_field(v, "movedTo").map(str::to_string),
        discoverable: v.get("discoverable").and_then(Value::as_bool),
        indexable: v.get("indexable").and_then(Value::as_bool),
        noindex: v.get("noindex").and_then(Value::as_bool),
        hide_collections: None,
        followers_count: None,
        following_count: None,
        nobot_tag: str_field(v, "summary").is_some_and(bio_opts_out),
        last_status_at: None,
        fetch_error: None,
    }
}

/// An account known only by its URI.
pub fn account_from_uri(uri: &str) -> Account {
    Account {
        server: Url::parse(uri).ok().and_then(|u| InstanceHost::of_url(&u)),
        actor_uri: Some(uri.to_string()),
        ..Account::default()
    }
}

fn items(page: &Value) -> Vec<Account> {
    let list = page
        .get("orderedItems")
        .or_else(|| page.get("items"))
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|item| match item {
            Value::String(uri) => Some(account_from_uri(uri)),
            Value::Object(_) => Some(account_from_actor(item)),
            _ => None,
        })
        .collect()
}

fn total(v: &Value) -> Option<u64> {
    v.get("totalItems").and_then(Value::as_u64)
}

struct Walk {
    out: FollowList,
    seen_pages: HashSet<String>,
    seen_accounts: HashSet<String>,
    max: usize,
}

impl Walk {
    /// Take a page's items; `false` when the walk must stop.
    fn take(&mut self, page: &Value) -> bool {
        self.out.pages += 1;
        for a in items(page) {
            let key = a.actor_uri.clone().unwrap_or_default();
            if self.seen_accounts.insert(key) {
                self.out.accounts.push(a);
            }
        }
        if self.out.accounts.len() >= self.max {
            self.out.accounts.truncate(self.max);
            self.out.status = ListStatus::Partial {
                reason: format!("stopped at crawl.max_accounts = {}", self.max),
            };
            return false;
        }
        true
    }

    fn stop_on_error(&mut self, e: Error) {
        self.out.status = match (e.status(), self.out.accounts.is_empty()) {
            (Some(403), true) => ListStatus::Hidden {
                unseen: self.out.declared,
            },
            (Some(401), true) => ListStatus::Refused {
                reason: SIGNED_ONLY.into(),
            },
            _ => ListStatus::Partial { reason: e.to_string() },
        };
    }
}

/// Read a whole collection.
///
/// # Errors
/// Only for the collection root: 401 and 403 come back as `Refused`/`Hidden` lists, other
/// failures as errors.
pub async fn list(f: &Fetcher, collection: &Url, direction: Direction) -> Result<FollowList> {
    let root_page = f.get(collection, Request::accept(ACCEPT_ACTIVITY)).await?;
    match root_page.status {
        401 => {
            return Ok(FollowList::empty(
                direction,
                "activitypub",
                None,
                ListStatus::Refused {
                    reason: SIGNED_ONLY.into(),
                },
            ))
        }
        403 => {
            return Ok(FollowList::empty(
                direction,
                "activitypub",
                None,
                ListStatus::Hidden { unseen: None },
            ))
        }
        _ => {}
    }
    let root: Value = root_page.success()?.json()?;
    let declared = total(&root);
    let mut walk = Walk {
        out: FollowList::empty(direction, "activitypub", declared, ListStatus::Complete),
        seen_pages: HashSet::from([collection.to_string()]),
        seen_accounts: HashSet::new(),
        max: f.config().crawl.max_accounts,
    };
    if !walk.take(&root) {
        return Ok(walk.out);
    }
    walk.out.pages = 0;
    let mut next = match root.get("first") {
        Some(Value::Object(_)) => {
            let first = &root["first"];
            if !walk.take(first) {
                return Ok(walk.out);
            }
            str_field(first, "next").map(str::to_string)
        }
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    if root.get("first").is_none() && walk.out.accounts.is_empty() && declared.unwrap_or(0) > 0 {
        walk.out.status = ListStatus::Hidden { unseen: declared };
        return Ok(walk.out);
    }
    while let Some(n) = next.take() {
        let url = match collection.join(&n) {
            Ok(u) => u,
            Err(e) => {
                walk.out.status = ListStatus::Partial {
                    reason: format!("bad next link {n:?}: {e}"),
                };
                break;
            }
        };
        if !walk.seen_pages.insert(url.to_string()) {
            walk.out.status = ListStatus::Partial {
                reason: format!("paging loop: {url} was already read"),
            };
            break;
        }
        let req = Request {
            paged: true,
            ..Request::accept(ACCEPT_ACTIVITY)
        };
        let page: Value = match f.get_ok(&url, req).await.and_then(|p| p.json()) {
            Ok(p) => p,
            Err(e) => {
                walk.stop_on_error(e);
                break;
            }
        };
        let before = walk.out.accounts.len();
        if !walk.take(&page) {
            break;
        }
        if walk.out.accounts.len() == before && items(&page).is_empty() {
            break;
        }
        next = str_field(&page, "next").map(str::to_string);
    }
    if walk.out.pages == 0 && walk.out.accounts.is_empty() && declared.unwrap_or(0) > 0 {
        walk.out.status = ListStatus::Hidden { unseen: declared };
    }
    Ok(walk.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_take_uris_and_objects_from_either_key() {
        let page: Value = serde_json::json!({
            "type": "OrderedCollectionPage",
            "orderedItems": ["https://a.example/users/x", {"id": "https://b.example/users/y", "type": "Service", "preferredUsername": "y", "summary": "#nobot"}]
        });
        let got = items(&page);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].server, Some(InstanceHost::new("a.example")));
        assert_eq!(got[0].handle, None);
        assert_eq!(got[1].handle.as_deref(), Some("@y@b.example"));
        assert_eq!(got[1].bot, Some(true));
        assert!(got[1].nobot_tag);
        let unordered: Value = serde_json::json!({"items": ["https://c.example/u/z"]});
        assert_eq!(items(&unordered)[0].actor_uri.as_deref(), Some("https://c.example/u/z"));
    }
}
