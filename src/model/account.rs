//! What the crawl keeps about an account and about a follow list.
//!
//! Both come from two sources (Mastodon's REST API and ActivityPub) and end up in one shape,
//! so everything downstream (grouping, attribution, later snapshots) reads one type. A list
//! that could not be read whole says why in a [`ListStatus`] whose refusals and partial walks
//! carry a machine-readable [`Cause`]; items a server sent that are not accounts are counted
//! in [`FollowList::skipped`], never allowed to drop their page.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::model::handle::InstanceHost;

/// One account met in a follow list (or a seed account).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// `@user@domain` when known (the handle domain may differ from `server`).
    pub handle: Option<String>,
    /// The host of the account's actor URI: the instance that serves it.
    pub server: Option<InstanceHost>,
    pub actor_uri: Option<String>,
    pub display_name: Option<String>,
    pub bot: Option<bool>,
    /// Where the account moved to (REST `moved`, ActivityPub `movedTo`).
    pub moved_to: Option<String>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
    pub noindex: Option<bool>,
    pub hide_collections: Option<bool>,
    pub followers_count: Option<u64>,
    pub following_count: Option<u64>,
    /// The bio carries `#nobot` or `#noindex`.
    pub nobot_tag: bool,
    /// When the account last posted, as the server says (Mastodon REST `last_status_at`, a
    /// `YYYY-MM-DD` date; some servers send a full timestamp). `None` when the server does not say.
    #[serde(default)]
    pub last_status_at: Option<String>,
    /// Why the account's own details could not be fetched, when they could not.
    pub fetch_error: Option<String>,
}

/// Most characters kept of a display name from a server (see [`Account::bounded`]).
pub const MAX_NAME_CHARS: usize = 256;
/// Most characters kept of a URI or handle from a server; a longer one is dropped, not cut
/// (a cut URI would name another account).
pub const MAX_URI_CHARS: usize = 2048;
/// Largest count kept: what SQLite's INTEGER (i64) holds, so the database, the JSON report and
/// an export all hold the same value.
pub const MAX_COUNT: u64 = i64::MAX as u64;

impl Account {
    /// The account as it is kept, whatever the server sent: a display name cut to
    /// [`MAX_NAME_CHARS`] characters; a handle, actor URI or `moved_to` longer than
    /// [`MAX_URI_CHARS`] dropped; counts clamped to [`MAX_COUNT`]; `last_status_at` kept only
    /// when it is a date (`YYYY-MM-DD`) or an RFC 3339 time, else none. Every account built
    /// from a response passes here once, so every output holds the same bounded value.
    pub fn bounded(mut self) -> Account {
        if let Some(n) = &mut self.display_name {
            if let std::borrow::Cow::Owned(cut) = crate::model::text::bounded(n, MAX_NAME_CHARS) {
                *n = cut;
            }
        }
        let short = |s: &Option<String>| s.as_ref().is_none_or(|s| s.chars().nth(MAX_URI_CHARS).is_none());
        if !short(&self.handle) {
            self.handle = None;
        }
        if !short(&self.actor_uri) {
            self.actor_uri = None;
        }
        if !short(&self.moved_to) {
            self.moved_to = None;
        }
        self.followers_count = self.followers_count.map(|n| n.min(MAX_COUNT));
        self.following_count = self.following_count.map(|n| n.min(MAX_COUNT));
        self.last_status_at = self.last_status_at.filter(|t| crate::model::time::is_date(t));
        self
    }

    /// Whether the account's owner lets crawlers expand it (crawl its own follows).
    /// Accounts that opt out are still counted in aggregates.
    pub fn may_expand(&self) -> bool {
        self.noindex != Some(true)
            && self.indexable != Some(false)
            && self.discoverable != Some(false)
            && !self.nobot_tag
    }
}

/// A handle as identities hold it: lower case, no leading `@` (`@Ann@X.example` →
/// `ann@x.example`). The one normalisation every place that keys accounts by handle uses.
pub fn normal_handle(handle: &str) -> String {
    handle.trim_start_matches('@').to_lowercase()
}

/// A key of an account (an actor URI, a normal handle) as the sets that count distinct
/// accounts keep it: the first 128 bits of its SHA-256, 16 bytes however long the key, so a
/// crawl that reaches a million accounts holds its keys in tens of megabytes, not hundreds.
/// Two keys share a digest with a chance of about 10⁻²⁷ among a million keys. Bytes, not a
/// `u128`, so a map entry of a digest and a `u32` takes 20 bytes, not 32 (no 16-byte alignment).
pub type KeyDigest = [u8; 16];

/// The [`KeyDigest`] of `key`.
pub fn key_digest(key: &str) -> KeyDigest {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    first
}

/// What a move to an account that opted out is kept as: the target's instance only, `an
/// opted-out account on HOST` (`an opted-out account` when `target`, an actor URI or a
/// handle, names no instance). The one wording every output shows.
pub fn opted_out_target(target: &str) -> String {
    match target_host(target) {
        Some(host) => format!("an opted-out account on {host}"),
        None => "an opted-out account".to_string(),
    }
}

/// What a move to an account the crawl did not see is kept as: the target's instance only,
/// `an account on HOST` (`an account` when `target` names no instance). A move target is named
/// only when the crawl read that account (a profile, a list row) and it lets crawlers in: the
/// mover's server alone cannot vouch for another account's consent (DESIGN §6).
pub fn unseen_target(target: &str) -> String {
    match target_host(target) {
        Some(host) => format!("{UNSEEN_TARGET} on {host}"),
        None => UNSEEN_TARGET.to_string(),
    }
}

const UNSEEN_TARGET: &str = "an account";

/// The instance a move target (an actor URI, a handle, or a kept form: `an opted-out account
/// on HOST`, `an account on HOST`) names, lower case; `None` when it names none.
pub fn target_instance(moved_to: &str) -> Option<String> {
    for kept in ["an opted-out account", UNSEEN_TARGET] {
        if let Some(rest) = moved_to.strip_prefix(kept) {
            return rest.strip_prefix(" on ").map(str::to_string);
        }
    }
    target_host(moved_to)
}

/// Whether `moved_to` names no account, only (at most) an instance: a move to an account that
/// opted out or that the crawl did not see.
pub fn is_instance_only_target(moved_to: &str) -> bool {
    is_opted_out_target(moved_to) || moved_to == UNSEEN_TARGET || moved_to.starts_with("an account on ")
}

/// The host of a move target, an actor URI or a handle.
fn target_host(target: &str) -> Option<String> {
    match http_url(target) {
        Some(u) => u.host_str().map(str::to_lowercase),
        None => target
            .trim_start_matches('@')
            .rsplit_once('@')
            .map(|(_, h)| h)
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
            })
            .map(str::to_lowercase),
    }
}

/// Whether `moved_to` is already the kept form of a move to an opted-out account.
pub fn is_opted_out_target(moved_to: &str) -> bool {
    moved_to.starts_with("an opted-out account")
}

/// `s` as an actor URL when it is an absolute http(s) URL with a host; `None` otherwise
/// (`javascript:`, `data:`, `mailto:`, relative or broken references).
pub fn http_url(s: &str) -> Option<Url> {
    let u = Url::parse(s).ok()?;
    (matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())).then_some(u)
}

/// Which list of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Following,
    Followers,
}

impl Direction {
    /// The path segment both APIs use.
    pub fn segment(self) -> &'static str {
        match self {
            Direction::Following => "following",
            Direction::Followers => "followers",
        }
    }
}

/// Why a list was refused or only partly read: a machine-readable kind, stored and grouped
/// on, beside the human reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// robots.txt disallows the path.
    Robots,
    /// The account opts out of crawlers (noindex, not indexable/discoverable, #nobot).
    OptedOut,
    /// The server answers only signed requests.
    AuthorizedFetch,
    /// The walk reached `crawl.max_pages`.
    PageCap,
    /// The walk reached `crawl.max_accounts`.
    AccountCap,
    /// A `next` link led back to a page already read.
    Loop,
    /// A page brought no account not seen before, yet pointed to another.
    NoProgress,
    /// A `next` link that is not an http(s) URL.
    BadNext,
    /// A later page failed (status, transport, malformed body).
    PageFailed,
    /// A collection, `first`/`next` link or redirected list page on another origin than the
    /// account's actor: not read (a server may only list its own accounts' follows).
    ForeignPage,
}

/// How completely a follow list could be seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ListStatus {
    /// Every page was read.
    Complete,
    /// The owner hides the list; `unseen` accounts are declared but not listed.
    Hidden { unseen: Option<u64> },
    /// The server declares a count but exposes no items (Pixelfed, Lemmy, Friendica, or a
    /// first page that is empty with nothing after it): `unseen` accounts are not listed.
    NotExposed { unseen: Option<u64> },
    /// The server refused us (authorized fetch, robots.txt, the owner opted out).
    Refused { kind: Cause, reason: String },
    /// Some pages were read, then something stopped the walk.
    Partial { kind: Cause, reason: String },
}

impl ListStatus {
    /// A refusal.
    pub fn refused(kind: Cause, reason: impl Into<String>) -> Self {
        ListStatus::Refused {
            kind,
            reason: reason.into(),
        }
    }

    /// A partial walk.
    pub fn partial(kind: Cause, reason: impl Into<String>) -> Self {
        ListStatus::Partial {
            kind,
            reason: reason.into(),
        }
    }
}

/// What was wrong with an item a server listed that is not an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// JSON that is not an account at all (a number, `null`, an array, fields of the wrong type).
    NotAnAccount,
    /// An object without an `id` (ActivityPub) or an account without a usable handle or URI.
    NoIdentity,
    /// An id that is not an http(s) URL (`javascript:`, `data:`, `mailto:`, relative).
    NotHttp,
    /// An item beyond the first `pager::MAX_PAGE_ITEMS` of a page, not read.
    PageOverflow,
    /// An account the list had already listed (the same actor URI, else handle): counted
    /// once, the repeat only counted here.
    Repeated,
}

/// Items of one kind skipped in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub kind: SkipKind,
    pub count: u64,
    /// The first such item's problem, in words.
    pub reason: String,
}

/// A follow list as far as it could be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowList {
    pub direction: Direction,
    /// `mastodon-api` or `activitypub`.
    pub source: String,
    /// The count the server declares (`following_count` / `totalItems`).
    pub declared: Option<u64>,
    pub status: ListStatus,
    pub accounts: Vec<Account>,
    /// Pages fetched.
    pub pages: u32,
    /// Items the server listed that are not accounts, counted per kind.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

impl FollowList {
    /// An empty list in `status`.
    pub fn empty(direction: Direction, source: &str, declared: Option<u64>, status: ListStatus) -> Self {
        FollowList {
            direction,
            source: source.to_string(),
            declared,
            status,
            accounts: vec![],
            pages: 0,
            skipped: vec![],
        }
    }

    /// Count one skipped item.
    pub fn skip(&mut self, kind: SkipKind, reason: &str) {
        self.skip_many(kind, reason, 1);
    }

    /// Count `count` skipped items of one kind (`reason` is kept for the first of a kind).
    pub fn skip_many(&mut self, kind: SkipKind, reason: &str, count: u64) {
        match self.skipped.iter_mut().find(|s| s.kind == kind) {
            Some(s) => s.count = s.count.saturating_add(count),
            None => self.skipped.push(Skipped {
                kind,
                count,
                reason: reason.chars().take(200).collect(),
            }),
        }
    }

    /// Items skipped, all kinds.
    pub fn skipped_total(&self) -> u64 {
        self.skipped
            .iter()
            .filter(|s| s.kind != SkipKind::Repeated)
            .map(|s| s.count)
            .fold(0, u64::saturating_add)
    }

    /// Entries that repeated an account the list had already listed (kept once).
    pub fn repeated(&self) -> u64 {
        self.skipped
            .iter()
            .filter(|s| s.kind == SkipKind::Repeated)
            .map(|s| s.count)
            .fold(0, u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_servers_are_bounded_once() {
        let a = Account {
            display_name: Some("é".repeat(10_000)),
            actor_uri: Some(format!("https://x.example/{}", "u".repeat(5000))),
            handle: Some("@a@x.example".into()),
            followers_count: Some(u64::MAX),
            following_count: Some(7),
            last_status_at: Some("yesterday".into()),
            ..Account::default()
        }
        .bounded();
        assert_eq!(
            a.display_name.as_deref().map(|n| n.chars().count()),
            Some(MAX_NAME_CHARS)
        );
        assert_eq!((a.actor_uri, a.handle.as_deref()), (None, Some("@a@x.example")));
        assert_eq!((a.followers_count, a.following_count), (Some(i64::MAX as u64), Some(7)));
        assert_eq!(a.last_status_at, None);
        let b = Account {
            last_status_at: Some("2026-11-22".into()),
            ..Account::default()
        }
        .bounded();
        assert_eq!(b.last_status_at.as_deref(), Some("2026-11-22"));
    }

    #[test]
    fn only_http_urls_are_actor_urls() {
        for bad in [
            "javascript:alert(1)",
            "javascript://evil.example/x",
            "data:text/html,x",
            "mailto:a@b.example",
            "/users/x",
            "https://",
            "",
        ] {
            assert_eq!(http_url(bad), None, "{bad}");
        }
        assert!(http_url("https://a.example/users/x").is_some());
    }

    #[test]
    fn skipped_items_are_counted_per_kind() {
        let mut l = FollowList::empty(Direction::Following, "activitypub", None, ListStatus::Complete);
        l.skip(SkipKind::NotHttp, "javascript:x");
        l.skip(SkipKind::NotHttp, "data:y");
        l.skip(SkipKind::NoIdentity, "object without id");
        assert_eq!(l.skipped_total(), 3);
        assert_eq!((l.skipped[0].count, l.skipped[0].reason.as_str()), (2, "javascript:x"));
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["skipped"][1]["kind"], "no_identity");
    }

    #[test]
    fn opt_outs_block_expansion() {
        let base = Account::default();
        assert!(base.may_expand());
        for a in [
            Account {
                noindex: Some(true),
                ..base.clone()
            },
            Account {
                indexable: Some(false),
                ..base.clone()
            },
            Account {
                discoverable: Some(false),
                ..base.clone()
            },
            Account {
                nobot_tag: true,
                ..base.clone()
            },
        ] {
            assert!(!a.may_expand(), "{a:?}");
        }
    }
}
