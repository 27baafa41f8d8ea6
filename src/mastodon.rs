//! Mastodon's REST API: account lookup and the paged following/followers lists.
//!
//! `GET /api/v1/accounts/lookup?acct=user` on the home server, then
//! `GET /api/v1/accounts/:id/following?limit=80` along the `Link: <…>; rel="next"` header
//! (whose `max_id` is a follow id, so it is followed as given, never rebuilt). A first page of
//! `[]` while `following_count` > 0 means the owner hides the list.

use std::collections::HashSet;

use serde::Deserialize;
use url::Url;

use crate::account::{bio_opts_out, Account, Direction, FollowList, ListStatus};
use crate::error::Result;
use crate::handle::InstanceHost;
use crate::http::{Fetcher, Request, ACCEPT_JSON};

/// Page size asked for (Mastodon's maximum).
pub const PAGE_LIMIT: u32 = 80;

/// The fields of Mastodon's Account entity that whohosts keeps.
#[derive(Debug, Clone, Deserialize)]
pub struct RestAccount {
    pub id: String,
    pub username: String,
    pub acct: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub bot: Option<bool>,
    #[serde(default)]
    pub moved: Option<Box<RestAccount>>,
    #[serde(default)]
    pub discoverable: Option<bool>,
    #[serde(default)]
    pub indexable: Option<bool>,
    #[serde(default)]
    pub noindex: Option<bool>,
    #[serde(default)]
    pub hide_collections: Option<bool>,
    #[serde(default)]
    pub followers_count: Option<u64>,
    #[serde(default)]
    pub following_count: Option<u64>,
    /// The actor URI (Mastodon 4.2 and later).
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// The day of the last post (`YYYY-MM-DD`), or null.
    #[serde(default)]
    pub last_status_at: Option<String>,
}

impl RestAccount {
    /// The full `@user@domain` handle; local accounts (`acct` without `@`) get `local_domain`.
    pub fn handle(&self, local_domain: &str) -> String {
        if self.acct.contains('@') {
            format!("@{}", self.acct)
        } else {
            format!("@{}@{local_domain}", self.acct)
        }
    }

    /// Into the common [`Account`] shape.
    pub fn into_account(self, local_domain: &str) -> Account {
        let server = self
            .uri
            .as_deref()
            .or(self.url.as_deref())
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| InstanceHost::of_url(&u))
            .or_else(|| self.acct.split_once('@').map(|(_, d)| InstanceHost::new(d)))
            .or_else(|| Some(InstanceHost::new(local_domain)));
        Account {
            handle: Some(self.handle(local_domain)),
            server,
            actor_uri: self.uri.clone(),
            display_name: self.display_name.clone().filter(|s| !s.is_empty()),
            bot: self.bot,
            moved_to: self.moved.as_ref().map(|m| m.handle(local_domain)),
            discoverable: self.discoverable,
            indexable: self.indexable,
            noindex: self.noindex,
            hide_collections: self.hide_collections,
            followers_count: self.followers_count,
            following_count: self.following_count,
            nobot_tag: self.note.as_deref().is_some_and(bio_opts_out),
            last_status_at: self.last_status_at.clone(),
            fetch_error: None,
        }
    }
}

fn api_url(origin: &Url, path: &str) -> Url {
    origin.join(path).expect("an API path joins onto an origin")
}

/// Look `user` up on its home server.
///
/// # Errors
/// [`Error::Status`] (401 when the API is closed to the public, 404 when unknown or not
/// Mastodon-compatible), [`Error::Malformed`] when the answer is not an account.
pub async fn lookup(f: &Fetcher, origin: &Url, user: &str) -> Result<RestAccount> {
    let mut url = api_url(origin, "/api/v1/accounts/lookup");
    url.query_pairs_mut().append_pair("acct", user);
    f.get_ok(&url, Request::accept(ACCEPT_JSON)).await?.json()
}

/// The account that owns `token`.
///
/// # Errors
/// As [`lookup`].
pub async fn verify_credentials(f: &Fetcher, origin: &Url, token: &str) -> Result<RestAccount> {
    let url = api_url(origin, "/api/v1/accounts/verify_credentials");
    let req = Request {
        bearer: Some(token),
        ..Request::accept(ACCEPT_JSON)
    };
    f.get_ok(&url, req).await?.json()
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim().replace(' ', "").as_str(), "rel=\"next\"" | "rel=next"));
        is_next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// Walk one list of `account` to its end (or `max` accounts).
///
/// # Errors
/// Only when the very first page fails; later failures end the list as `Partial`.
pub async fn list(
    f: &Fetcher,
    origin: &Url,
    account: &RestAccount,
    direction: Direction,
    token: Option<&str>,
    local_domain: &str,
) -> Result<FollowList> {
    let declared = match direction {
        Direction::Following => account.following_count,
        Direction::Followers => account.followers_count,
    };
    let mut url = api_url(
        origin,
        &format!("/api/v1/accounts/{}/{}", account.id, direction.segment()),
    );
    url.query_pairs_mut().append_pair("limit", &PAGE_LIMIT.to_string());
    let mut out = FollowList::empty(direction, "mastodon-api", declared, ListStatus::Complete);
    let mut seen_pages = HashSet::new();
    let mut seen_accounts = HashSet::new();
    let max = f.config().crawl.max_accounts;
    loop {
        if !seen_pages.insert(url.to_string()) {
            out.status = ListStatus::Partial {
                reason: format!("paging loop: {url} was already read"),
            };
            break;
        }
        let req = Request {
            bearer: token,
            paged: out.pages > 0,
            ..Request::accept(ACCEPT_JSON)
        };
        let page = match f
            .get_ok(&url, req)
            .await
            .and_then(|p| Ok((p.json::<Vec<RestAccount>>()?, p)))
        {
            Ok(p) => p,
            Err(e) if out.pages == 0 => return Err(e),
            Err(e) => {
                out.status = ListStatus::Partial { reason: e.to_string() };
                break;
            }
        };
        let (accounts, page) = page;
        out.pages += 1;
        if out.pages == 1 && accounts.is_empty() && declared.unwrap_or(0) > 0 {
            out.status = ListStatus::Hidden { unseen: declared };
            break;
        }
        let mut fresh = 0;
        for a in accounts {
            if seen_accounts.insert(a.id.clone()) {
                out.accounts.push(a.into_account(local_domain));
                fresh += 1;
            }
        }
        if out.accounts.len() >= max {
            out.accounts.truncate(max);
            out.status = ListStatus::Partial {
                reason: format!("stopped at crawl.max_accounts = {max}"),
            };
            break;
        }
        let next = page
            .headers
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link);
        match next.and_then(|n| page.url.join(&n).ok()) {
            Some(n) if fresh > 0 => url = n,
            Some(n) => {
                out.status = ListStatus::Partial {
                    reason: format!("page {n} repeats accounts already listed"),
                };
                break;
            }
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_in_link_header() {
        let h = r#"<https://m.example/api/v1/accounts/1/following?limit=80&max_id=77>; rel="next", <https://m.example/api/v1/accounts/1/following?limit=80&since_id=99>; rel="prev""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://m.example/api/v1/accounts/1/following?limit=80&max_id=77")
        );
        assert_eq!(next_link(r#"<https://x/?since_id=1>; rel="prev""#), None);
    }

    #[test]
    fn local_accounts_get_the_local_domain() {
        let a: RestAccount = serde_json::from_str(
            r##"{"id":"1","username":"ann","acct":"ann","uri":"https://social.example.com/users/ann","note":"#nobot","last_status_at":"2022-12-01"}"##,
        )
        .unwrap();
        let acc = a.into_account("example.com");
        assert_eq!(acc.handle.as_deref(), Some("@ann@example.com"));
        assert_eq!(acc.server, Some(InstanceHost::new("social.example.com")));
        assert!(acc.nobot_tag);
        assert_eq!(acc.last_status_at.as_deref(), Some("2022-12-01"));
    }
}
