//! Mastodon's REST API: account lookup and the paged following/followers lists.
//!
//! `GET /api/v1/accounts/lookup?acct=user` on the home server, then
//! `GET /api/v1/accounts/:id/following?limit=80` along the `Link: <…>; rel="next"` header
//! (whose `max_id` is a follow id, so it is followed as given, never rebuilt). A first page of
//! `[]` while `following_count` > 0 means the owner hides the list. Pages are walked by the
//! shared [`crate::protocol::pager`]; each account of a page is read on its own, leniently, and one that
//! names no server is skipped and counted without costing its page.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::model::account::{http_url, Account, Direction, FollowList, ListStatus, SkipKind};
use crate::model::handle::{Handle, InstanceHost};
use crate::net::http::{Bearer, Fetcher, Request, ACCEPT_JSON};
use crate::protocol::bio::{bio_opts_out, opt_out_flag};
use crate::protocol::pager::{self, Fetched, Listener, Skip, Walk};

/// Page size asked for (Mastodon's maximum).
pub const PAGE_LIMIT: u32 = 80;

/// Any value of the wrong type (a string for a count, a negative or huge number, an object
/// for a flag) reads as the default instead of failing the whole account.
fn lenient<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// `noindex`, failing closed ([`opt_out_flag`]).
fn noindex_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(opt_out_flag(&Value::deserialize(d)?, true))
}

/// `indexable` or `discoverable`, failing closed ([`opt_out_flag`]).
fn consent_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(opt_out_flag(&Value::deserialize(d)?, false))
}

/// An id as a string, whether the server sent a string or a number.
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

/// The fields of Mastodon's Account entity that whohosts keeps. Every field is optional and
/// read leniently: a field of the wrong type is treated as absent, except the opt-out flags,
/// which fail closed ([`opt_out_flag`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RestAccount {
    #[serde(deserialize_with = "lenient_id")]
    pub id: String,
    #[serde(deserialize_with = "lenient")]
    pub username: String,
    #[serde(deserialize_with = "lenient")]
    pub acct: String,
    #[serde(deserialize_with = "lenient")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub note: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub bot: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub moved: Option<Box<RestAccount>>,
    #[serde(deserialize_with = "consent_flag")]
    pub discoverable: Option<bool>,
    #[serde(deserialize_with = "consent_flag")]
    pub indexable: Option<bool>,
    #[serde(deserialize_with = "noindex_flag")]
    pub noindex: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub hide_collections: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub followers_count: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    pub following_count: Option<u64>,
    /// The actor URI (Mastodon 4.2 and later).
    #[serde(deserialize_with = "lenient")]
    pub uri: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub url: Option<String>,
    /// The day of the last post (`YYYY-MM-DD`), or null.
    #[serde(default)]
    pub last_status_at: Option<String>,
}

impl RestAccount {
    /// The full handle; local accounts (`acct` without `@`) get `local_domain`. `None` when
    /// `acct` is not a valid `user@domain`.
    pub fn handle(&self, local_domain: &str) -> Option<Handle> {
        let full = match self.acct.contains('@') {
            true => self.acct.clone(),
            false => format!("{}@{local_domain}", self.acct),
        };
        full.parse().ok()
    }

    /// Into the common [`Account`] shape. The actor URI is kept only when it is an http(s)
    /// URL; the server is the host of the actor URI, else of the profile URL, else of the
    /// handle, else unknown.
    pub fn into_account(self, local_domain: &str) -> Account {
        let handle = self.handle(local_domain);
        // A move to an account that opted out names its instance only (DESIGN §6).
        let moved_to = self.moved.map(|m| {
            let target = m.handle(local_domain).map(|h| h.to_string());
            match m.into_account(local_domain).may_expand() {
                true => target,
                false => target.map(|t| crate::model::account::opted_out_target(&t)),
            }
        });
        let uri = self.uri.as_deref().and_then(http_url);
        let server = uri
            .as_ref()
            .or(self.url.as_deref().and_then(http_url).as_ref())
            .and_then(InstanceHost::of_url)
            .or_else(|| handle.as_ref().and_then(|h| InstanceHost::parse(&h.domain)));
        Account {
            handle: handle.map(|h| h.to_string()),
            server,
            actor_uri: uri.map(String::from),
            display_name: self.display_name.filter(|s| !s.is_empty()),
            bot: self.bot,
            moved_to: moved_to.flatten(),
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
        .bounded()
    }
}

/// One item of a REST page: an account, or why it is skipped.
///
/// # Errors
/// A [`Skip`] when the item is not an object, or names no server (no valid `acct` host and
/// no http(s) `uri`/`url`).
pub fn listed_account(v: Value, local_domain: &str) -> std::result::Result<Account, Skip> {
    if !v.is_object() {
        return Err(Skip::new(
            SkipKind::NotAnAccount,
            format!("an item that is {}", pager::describe(&v)),
        ));
    }
    let raw: RestAccount = serde_json::from_value(v).map_err(|e| Skip::new(SkipKind::NotAnAccount, e.to_string()))?;
    let acct = raw.acct.clone();
    let a = raw.into_account(local_domain);
    match (&a.server, &a.handle, &a.actor_uri) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Ok(a),
        _ => Err(Skip::new(
            SkipKind::NoIdentity,
            format!("account {acct:?} has no valid handle and no http(s) uri"),
        )),
    }
}

/// A REST page body: a JSON array of accounts, each read on its own.
///
/// # Errors
/// [`Error::Malformed`] when the body is not a JSON array.
pub fn parse_page(url: &Url, body: &[u8], local_domain: &str) -> Result<Vec<std::result::Result<Account, Skip>>> {
    let malformed = |e: serde_json::Error| Error::Malformed {
        url: url.to_string(),
        message: format!("expected a JSON array of accounts: {e}"),
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let items = de.deserialize_seq(PageVisitor(local_domain)).map_err(malformed)?;
    de.end().map_err(malformed)?;
    Ok(items.finish())
}

/// Reads a REST page's array one account at a time, the first [`pager::MAX_PAGE_ITEMS`]
/// in full and the rest only counted, so a huge junk page never sits in memory as values.
struct PageVisitor<'a>(&'a str);

impl<'de> serde::de::Visitor<'de> for PageVisitor<'_> {
    type Value = pager::PageItems;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = pager::PageItems::default();
        while !items.is_full() {
            match seq.next_element::<Value>()? {
                Some(v) => items.push(listed_account(v, self.0)),
                None => return Ok(items),
            }
        }
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            items.pass_over();
        }
        Ok(items)
    }
}

fn api_url(origin: &Url, path: &str) -> Result<Url> {
    origin.join(path).map_err(|e| Error::Malformed {
        url: origin.to_string(),
        message: format!("cannot build {path}: {e}"),
    })
}

/// Look `user` up on its home server.
///
/// # Errors
/// [`Error::Status`] (401 when the API is closed to the public, 404 when unknown or not
/// Mastodon-compatible), [`Error::Malformed`] when the answer is not an account.
pub async fn lookup(f: &Fetcher, origin: &Url, user: &str) -> Result<RestAccount> {
    let mut url = api_url(origin, "/api/v1/accounts/lookup")?;
    url.query_pairs_mut().append_pair("acct", user);
    seed_account(f.get_ok(&url, Request::accept(ACCEPT_JSON)).await?)
}

/// The account that owns `token`.
///
/// # Errors
/// As [`lookup`].
pub async fn verify_credentials(f: &Fetcher, origin: &Url, token: &Bearer) -> Result<RestAccount> {
    let url = api_url(origin, "/api/v1/accounts/verify_credentials")?;
    let req = Request {
        bearer: Some(token),
        ..Request::accept(ACCEPT_JSON)
    };
    seed_account(f.get_ok(&url, req).await?)
}

/// A seed's account: an object whose id can name its lists.
fn seed_account(page: crate::net::http::Page) -> Result<RestAccount> {
    let v: Value = page.json()?;
    let a: Option<RestAccount> = v.is_object().then(|| serde_json::from_value(v).ok()).flatten();
    let valid_id = |id: &str| {
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    a.filter(|a| valid_id(&a.id)).ok_or_else(|| Error::Malformed {
        url: page.url.to_string(),
        message: "not an account with a valid id".into(),
    })
}

/// The `rel="next"` target of a `Link` header, as written (it may be relative).
pub fn next_link(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some((_, after)) = rest.split_once('<') {
        let (target, tail) = after.split_once('>')?;
        let params = tail.split('<').next().unwrap_or_default();
        let is_next = params.split([';', ',']).any(|p| {
            let p = p.replace('"', "").to_ascii_lowercase();
            let p = p.trim().replace(" =", "=").replace("= ", "=");
            p.strip_prefix("rel=")
                .is_some_and(|v| v.split_whitespace().any(|r| r == "next"))
        });
        if is_next {
            return Some(target.trim().to_string());
        }
        rest = tail;
    }
    None
}

fn page_next(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_link)
}

/// Walk one list of `account` to its end (see [`crate::protocol::pager`] for every way a walk
/// ends), telling `listener` of each account as its page is read.
///
/// # Errors
/// Only when the very first page fails; later failures end the list as `Partial`.
pub async fn list(
    f: &Fetcher,
    origin: &Url,
    account: &RestAccount,
    direction: Direction,
    token: Option<&Bearer>,
    local_domain: &str,
    listener: Option<Listener>,
) -> Result<FollowList> {
    let declared = match direction {
        Direction::Following => account.following_count,
        Direction::Followers => account.followers_count,
    };
    let mut url = api_url(
        origin,
        &format!("/api/v1/accounts/{}/{}", account.id, direction.segment()),
    )?;
    url.query_pairs_mut().append_pair("limit", &PAGE_LIMIT.to_string());
    let walk = Walk::new(
        FollowList::empty(direction, "mastodon-api", declared, ListStatus::Complete),
        &f.config().crawl,
        origin,
    )
    .listen(listener);
    let fetch = |url: Url, pages: u32| async move {
        let req = Request {
            bearer: token,
            paged: pages > 0,
            ..Request::accept(ACCEPT_JSON)
        };
        let p = f.get_ok(&url, req).await?;
        let items = parse_page(&p.url, &p.body, local_domain)?;
        Ok((
            p.url.clone(),
            Fetched {
                items,
                next: page_next(&p.headers),
            },
        ))
    };
    let on_error = |e, l: &FollowList| match l.pages {
        0 => Err(e),
        _ => Ok(pager::partial_on_error(e)),
    };
    let mut list = pager::walk(walk, Some(url), fetch, on_error).await?;
    // Mastodon answers a hidden network with `[]` while the count is positive.
    if let ListStatus::NotExposed { unseen } = list.status {
        list.status = ListStatus::Hidden { unseen };
    }
    Ok(list)
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
        assert_eq!(
            next_link(r#"<https://x/?a=1,2>; rel="prev next""#).as_deref(),
            Some("https://x/?a=1,2")
        );
        assert_eq!(next_link("<https://x/"), None);
        assert_eq!(next_link("rel=next"), None);
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

    /// Regression: an account whose `acct` has no valid host and no `uri`/`url` crashed the
    /// crawl. It is now skipped and counted; the rest of the page is kept.
    #[test]
    fn a_bad_account_is_skipped_and_its_page_kept() {
        let url = Url::parse("https://m.example/api/v1/accounts/1/following").unwrap();
        let body = br#"[
            {"id":"1","acct":"a@b c"},
            {"id":"2","acct":"ok@far.example","followers_count":-5,"following_count":1e300,"bot":"yes","note":{"x":1},"uri":"javascript://evil.example/u"},
            "not an account", null, [1,2], {"acct": 7},
            {"id":"4","acct":"y@","url":"https://far.example/@y"},
            {"id":"3","acct":"x@far.example","moved":{"acct":"new@new.example"}}
        ]"#;
        let items = parse_page(&url, body, "m.example").unwrap();
        let skips: Vec<(SkipKind, u64)> = items
            .iter()
            .filter_map(|i| i.as_ref().err().map(|s| (s.kind, s.count)))
            .collect();
        assert_eq!(skips, [(SkipKind::NoIdentity, 3), (SkipKind::NotAnAccount, 3)]);
        let ok: Vec<Account> = items.into_iter().flatten().collect();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            (ok[0].handle.as_deref(), ok[0].actor_uri.as_deref()),
            (Some("@ok@far.example"), None)
        );
        assert_eq!(
            (ok[0].followers_count, ok[0].following_count, ok[0].bot),
            (None, None, None)
        );
        assert_eq!(ok[0].server, Some(InstanceHost::new("far.example")));
        assert_eq!(
            (ok[1].handle.as_deref(), ok[1].server.as_ref().map(|s| s.as_str())),
            (Some("@x@far.example"), Some("far.example"))
        );
        assert_eq!(ok[1].moved_to.as_deref(), Some("@new@new.example"));
    }

    #[test]
    fn a_huge_junk_page_is_read_up_to_the_cap_and_counted() {
        let url = Url::parse("https://m.example/x").unwrap();
        let mut body = String::from(r#"[{"acct":"a@far.example"},"#);
        body.push_str(&"0,".repeat(100_000));
        body.push_str(r#"{"acct":"b@far.example"}]"#);
        let items = parse_page(&url, body.as_bytes(), "m.example").unwrap();
        let skips: Vec<(SkipKind, u64, &str)> = items
            .iter()
            .filter_map(|i| i.as_ref().err().map(|s| (s.kind, s.count, s.reason.as_str())))
            .collect();
        assert_eq!(
            skips,
            [
                (SkipKind::NotAnAccount, 999, "an item that is a number"),
                (SkipKind::PageOverflow, 99_002, "items beyond the first 1000 of a page")
            ]
        );
        let ok: Vec<Option<String>> = items.into_iter().flatten().map(|a| a.handle).collect();
        assert_eq!(ok, [Some("@a@far.example".to_string())]);
        let e = parse_page(&url, b"[1,2] x", "m.example").unwrap_err();
        assert_eq!(e.kind(), "malformed", "{e}");
    }

    #[test]
    fn a_body_that_is_not_an_array_fails_the_page() {
        let url = Url::parse("https://m.example/x").unwrap();
        for body in [&b"<html>hi</html>"[..], br#"{"error":"x"}"#, b""] {
            let e = parse_page(&url, body, "m.example").unwrap_err();
            assert_eq!(e.kind(), "malformed", "{e}");
        }
    }

    /// Fuzz find (rest_account): an account whose server IDNA refuses is no account.
    #[test]
    fn regression_idna_refused_domain_is_no_account() {
        let v = serde_json::json!({"acct": "222@628\u{844}\u{8888}888887r\u{9558}.80122h11"});
        assert!(listed_account(v, "m.example").is_err());
    }
}
