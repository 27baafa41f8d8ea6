//! The one walker for paged lists: Mastodon REST pages linked by `Link: rel="next"` and
//! ActivityPub collection pages linked by `next`.
//!
//! # Architecture
//! A protocol module turns each response into a [`Fetched`] page (items, each an account or
//! a [`Skip`], and the raw `next` reference) and hands [`walk`] a function that fetches one
//! URL. The walker owns every rule about when a walk ends, so both protocols end alike:
//! - no `next`: the list is complete;
//! - a `next` that is not an http(s) URL: partial ([`Cause::BadNext`]);
//! - a `first`/`next` link, or a page redirected, to another origin (scheme, host, port) than
//!   the account's actor: partial, or refused when no account was read yet
//!   ([`Cause::ForeignPage`]; DESIGN §6: a hostile server must not make whohosts list, and
//!   credit to its seed, the follows of an account on another server);
//! - a `next` already read (a loop, or a page pointing at itself): partial ([`Cause::Loop`]);
//! - a page after the first that adds no account not seen before (the same items with fresh
//!   `next` links, or endless empty pages): partial ([`Cause::NoProgress`]); the first page
//!   may be empty, as Pleroma's embedded first page is;
//! - `crawl.max_pages` pages or `crawl.max_accounts` accounts read, or
//!   `crawl.max_actor_fetches` accounts named only by actor URI (each an actor fetch): partial
//!   ([`Cause::PageCap`], [`Cause::AccountCap`]);
//! - a failing page: whatever the protocol's `on_error` says (the REST walk fails outright on
//!   its first page so the crawl can fall back to ActivityPub; later pages end it as partial).
//!
//! A walk may be given a [`Listener`], told of each account as its page is taken (and only of
//! the accounts the list keeps), so its caller can start work on them while the later pages
//! are still to be read.

use std::collections::HashSet;
use std::future::Future;

use url::Url;

use crate::config::Crawl;
use crate::error::{Error, Result};
use crate::model::account::{http_url, Account, Cause, FollowList, ListStatus, SkipKind};

/// Items read from one page at most (real servers send up to 80 REST accounts and about 100
/// ActivityPub items); the rest are counted as [`SkipKind::PageOverflow`], never read.
pub const MAX_PAGE_ITEMS: usize = 1000;

/// Items of a page that are not accounts: how many of one kind, and why (the first one's
/// reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub kind: SkipKind,
    pub reason: String,
    pub count: u64,
}

impl Skip {
    /// One skipped item of `kind`, its reason cut short.
    pub fn new(kind: SkipKind, reason: impl AsRef<str>) -> Self {
        Skip {
            kind,
            reason: reason.as_ref().chars().take(120).collect(),
            count: 1,
        }
    }
}

/// The items of one page as they are read: at most [`MAX_PAGE_ITEMS`], skips merged into one
/// [`Skip`] per kind (one reason string each, whatever the page holds).
#[derive(Debug, Default)]
pub struct PageItems {
    items: Vec<std::result::Result<Account, Skip>>,
    read: usize,
    overflow: u64,
}

impl PageItems {
    /// Whether [`MAX_PAGE_ITEMS`] items were read: the rest go to [`PageItems::pass_over`].
    pub fn is_full(&self) -> bool {
        self.read >= MAX_PAGE_ITEMS
    }

    /// Add one item read from the page.
    pub fn push(&mut self, item: std::result::Result<Account, Skip>) {
        self.read = self.read.saturating_add(1);
        match item {
            Err(s) => match self
                .items
                .iter_mut()
                .find_map(|i| i.as_mut().err().filter(|o| o.kind == s.kind))
            {
                Some(same) => same.count = same.count.saturating_add(s.count),
                None => self.items.push(Err(s)),
            },
            ok => self.items.push(ok),
        }
    }

    /// Count one item beyond [`MAX_PAGE_ITEMS`], unread.
    pub fn pass_over(&mut self) {
        self.overflow = self.overflow.saturating_add(1);
    }

    /// The page's items, with one [`SkipKind::PageOverflow`] entry counting those passed over.
    pub fn finish(mut self) -> Vec<std::result::Result<Account, Skip>> {
        if self.overflow > 0 {
            let reason = format!("items beyond the first {MAX_PAGE_ITEMS} of a page");
            self.items.push(Err(Skip {
                count: self.overflow,
                ..Skip::new(SkipKind::PageOverflow, reason)
            }));
        }
        self.items
    }
}

/// One page as the protocol module read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    pub items: Vec<std::result::Result<Account, Skip>>,
    /// The `next` reference as given (relative or absolute), if any.
    pub next: Option<String>,
}

/// What a [`Listener`] calls: the account's index in the list, and the account.
type OnAccount = dyn FnMut(usize, &Account) + Send;

/// Told of each account a walk keeps, with its index in the list, as its page is taken.
pub struct Listener(Box<OnAccount>);

impl Listener {
    pub fn new(f: impl FnMut(usize, &Account) + Send + 'static) -> Self {
        Listener(Box::new(f))
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Listener")
    }
}

/// The state of one walk: the list being filled and what was already read.
#[derive(Debug)]
pub struct Walk {
    pub list: FollowList,
    seen_pages: HashSet<String>,
    seen_items: HashSet<String>,
    max_pages: u32,
    max_accounts: usize,
    /// Accounts named only by actor URI kept so far, and the most kept.
    by_uri: usize,
    max_by_uri: usize,
    /// The origin of the account's actor: the only origin pages are read from.
    origin: url::Origin,
    listener: Option<Listener>,
}

impl Walk {
    /// Start a walk filling `list`, within the caps of `crawl`, reading pages only on the
    /// origin of `origin` (the account's actor URI or its origin).
    pub fn new(list: FollowList, crawl: &Crawl, origin: &Url) -> Self {
        Walk {
            origin: origin.origin(),
            list,
            seen_pages: HashSet::new(),
            seen_items: HashSet::new(),
            max_pages: crawl.max_pages,
            max_accounts: crawl.max_accounts,
            by_uri: 0,
            max_by_uri: crawl.max_actor_fetches,
            listener: None,
        }
    }

    /// Tell `listener` (if any) of each account kept, as its page is taken.
    pub fn listen(mut self, listener: Option<Listener>) -> Self {
        self.listener = listener;
        self
    }

    /// Mark `url` as read (a collection root that holds its first page).
    pub fn mark_read(&mut self, url: &Url) {
        self.seen_pages.insert(url.to_string());
    }

    /// Take one page read from `base`; the next URL to read, or `None` when the walk ends
    /// (its status then says why, unless it is complete).
    pub fn take(&mut self, base: &Url, page: Fetched) -> Option<Url> {
        if !self.on_origin(base) {
            return self.foreign(format!("the list page was redirected to {base}"));
        }
        self.list.pages = self.list.pages.saturating_add(1);
        let fresh = self.add(page.items);
        if self.list.accounts.len() >= self.max_accounts {
            self.list.accounts.truncate(self.max_accounts);
            let why = format!("stopped at crawl.max_accounts = {}", self.max_accounts);
            return self.end(Cause::AccountCap, why);
        }
        if self.by_uri > self.max_by_uri {
            let why = format!(
                "stopped at crawl.max_actor_fetches = {} accounts named only by actor URI",
                self.max_by_uri
            );
            return self.end(Cause::AccountCap, why);
        }
        let next = self.follow(base, &page.next?)?;
        if fresh == 0 && self.list.pages > 1 {
            let why = format!("page {base} added no new account but links to {next}");
            return self.end(Cause::NoProgress, why);
        }
        if self.list.pages >= self.max_pages {
            let why = format!("stopped at crawl.max_pages = {} (next: {next})", self.max_pages);
            return self.end(Cause::PageCap, why);
        }
        self.seen_pages.insert(next.to_string());
        Some(next)
    }

    /// Resolve a `next` (or `first`) reference read on `base`; `None` ends the walk when it is
    /// not an http(s) URL or was already read.
    pub fn follow(&mut self, base: &Url, raw: &str) -> Option<Url> {
        let Some(next) = base.join(raw).ok().and_then(|u| http_url(u.as_str())) else {
            let shown: String = raw.chars().take(80).collect();
            return self.end(Cause::BadNext, format!("next link {shown:?} is not an http(s) URL"));
        };
        if !self.on_origin(&next) {
            return self.foreign(format!("the list links to {next}"));
        }
        if self.seen_pages.contains(next.as_str()) {
            return self.end(Cause::Loop, format!("paging loop: {next} was already read"));
        }
        Some(next)
    }

    /// Add a page's items; the number of accounts not seen before.
    fn add(&mut self, items: Vec<std::result::Result<Account, Skip>>) -> usize {
        let mut fresh = 0;
        for item in items {
            match item {
                Ok(a) => {
                    let key = a.actor_uri.clone().or_else(|| a.handle.clone()).unwrap_or_default();
                    if self.seen_items.insert(key) {
                        if a.handle.is_none() {
                            self.by_uri += 1;
                            // One past the cap ends the walk (see `take`), unkept and unheard.
                            if self.by_uri > self.max_by_uri {
                                break;
                            }
                        }
                        let i = self.list.accounts.len();
                        // Past the cap the list is cut (see `take`): nobody hears of those.
                        if let Some(l) = self.listener.as_mut().filter(|_| i < self.max_accounts) {
                            (l.0)(i, &a);
                        }
                        self.list.accounts.push(a);
                        fresh += 1;
                    } else {
                        self.list
                            .skip(SkipKind::Repeated, "an account the list had already listed");
                    }
                }
                Err(s) => self.list.skip_many(s.kind, &s.reason, s.count),
            }
        }
        fresh
    }

    /// Whether `url` is on the account's origin.
    pub fn on_origin(&self, url: &Url) -> bool {
        url.origin() == self.origin
    }

    /// End the walk at a page on another origin: refused when no account was read yet,
    /// else partial.
    pub fn foreign(&mut self, what: String) -> Option<Url> {
        let why = format!(
            "{what}, on another origin than the account's ({}): not read",
            self.origin.ascii_serialization()
        );
        self.list.status = match self.list.accounts.is_empty() {
            true => ListStatus::refused(Cause::ForeignPage, why),
            false => ListStatus::partial(Cause::ForeignPage, why),
        };
        None
    }

    fn end(&mut self, kind: Cause, reason: String) -> Option<Url> {
        self.list.status = ListStatus::partial(kind, reason);
        None
    }

    /// The list, with a walk that listed nothing of a declared count marked "not exposed".
    pub fn finish(mut self) -> FollowList {
        let l = &mut self.list;
        let declared = l.declared.filter(|d| *d > 0);
        if l.status == ListStatus::Complete && l.accounts.is_empty() && l.skipped.is_empty() && declared.is_some() {
            l.status = ListStatus::NotExposed { unseen: declared };
        }
        self.list
    }
}

/// Walk from `start`: `fetch` reads one page, `on_error` says what a failed page means for
/// the list (`Err` fails the whole list).
///
/// # Errors
/// Whatever `on_error` returns as an error.
pub async fn walk<F, Fut>(
    mut w: Walk,
    start: Option<Url>,
    mut fetch: F,
    on_error: impl Fn(Error, &FollowList) -> Result<ListStatus>,
) -> Result<FollowList>
where
    F: FnMut(Url, u32) -> Fut,
    Fut: Future<Output = Result<(Url, Fetched)>>,
{
    let mut next = start;
    if let Some(u) = &next {
        w.mark_read(u);
    }
    while let Some(url) = next.take() {
        match fetch(url, w.list.pages).await {
            Ok((base, page)) => next = w.take(&base, page),
            Err(e) => w.list.status = on_error(e, &w.list)?,
        }
    }
    Ok(w.finish())
}

/// What a JSON value is, in a few words (for skip reasons and errors, never the value itself).
pub fn describe(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The usual meaning of a failed page: the walk ends as partial.
pub fn partial_on_error(e: Error) -> ListStatus {
    ListStatus::partial(Cause::PageFailed, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::account::Direction;

    fn acc(uri: &str) -> std::result::Result<Account, Skip> {
        Ok(Account {
            actor_uri: Some(uri.into()),
            ..Account::default()
        })
    }

    fn walk_of(max_pages: u32, max_accounts: usize, declared: Option<u64>) -> Walk {
        let crawl = Crawl {
            max_pages,
            max_accounts,
            ..Crawl::default()
        };
        Walk::new(
            FollowList::empty(Direction::Following, "activitypub", declared, ListStatus::Complete),
            &crawl,
            &base(1),
        )
    }

    fn page(items: &[&str], next: Option<&str>) -> Fetched {
        Fetched {
            items: items.iter().map(|u| acc(u)).collect(),
            next: next.map(str::to_string),
        }
    }

    fn kind(w: &Walk) -> Option<Cause> {
        match &w.list.status {
            ListStatus::Partial { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    fn base(n: u32) -> Url {
        Url::parse(&format!("https://a.example/f?page={n}")).unwrap()
    }

    #[test]
    fn a_page_that_repeats_its_items_with_a_fresh_next_ends_the_walk() {
        let mut w = walk_of(100, 1000, None);
        assert_eq!(w.take(&base(1), page(&["https://b/1"], Some("?page=2"))), Some(base(2)));
        assert_eq!(w.take(&base(2), page(&["https://b/1"], Some("?page=3"))), None);
        assert_eq!(kind(&w), Some(Cause::NoProgress));
        assert_eq!(w.list.accounts.len(), 1);
    }

    #[test]
    fn a_repeated_entry_is_kept_once_and_counted() {
        let mut w = walk_of(100, 1000, None);
        let first = page(&["https://b/1", "https://b/2", "https://b/1"], Some("?page=2"));
        assert_eq!(w.take(&base(1), first), Some(base(2)));
        assert_eq!(w.take(&base(2), page(&["https://b/3", "https://b/2"], None)), None);
        assert_eq!(w.list.status, ListStatus::Complete);
        assert_eq!(w.list.accounts.len(), 3);
        assert_eq!((w.list.repeated(), w.list.skipped_total()), (2, 0));
    }

    #[test]
    fn empty_pages_end_after_the_first() {
        let mut w = walk_of(100, 1000, Some(5));
        assert_eq!(w.take(&base(1), page(&[], Some("?page=2"))), Some(base(2)));
        assert_eq!(w.take(&base(2), page(&[], Some("?page=3"))), None);
        assert_eq!(kind(&w), Some(Cause::NoProgress));
    }

    #[test]
    fn loops_and_self_links_end_the_walk() {
        let mut w = walk_of(100, 1000, None);
        w.mark_read(&base(1));
        assert_eq!(w.take(&base(1), page(&["https://b/1"], Some("?page=1"))), None);
        assert_eq!(kind(&w), Some(Cause::Loop));
        let mut w = walk_of(100, 1000, None);
        w.mark_read(&base(1));
        assert!(w.take(&base(1), page(&["https://b/1"], Some("?page=2"))).is_some());
        assert_eq!(w.take(&base(2), page(&["https://b/2"], Some("/f?page=1"))), None);
        assert_eq!(kind(&w), Some(Cause::Loop));
    }

    #[test]
    fn the_page_cap_ends_the_walk() {
        let mut w = walk_of(2, 1000, None);
        assert!(w.take(&base(1), page(&["https://b/1"], Some("?page=2"))).is_some());
        assert_eq!(w.take(&base(2), page(&["https://b/2"], Some("?page=3"))), None);
        assert_eq!(kind(&w), Some(Cause::PageCap));
        assert_eq!(w.list.accounts.len(), 2);
    }

    #[test]
    fn the_account_cap_truncates() {
        let mut w = walk_of(100, 2, None);
        assert_eq!(
            w.take(
                &base(1),
                page(&["https://b/1", "https://b/2", "https://b/3"], Some("?page=2"))
            ),
            None
        );
        assert_eq!((kind(&w), w.list.accounts.len()), (Some(Cause::AccountCap), 2));
    }

    /// An endless list of fresh actor URIs stops at `crawl.max_actor_fetches` of them, each
    /// heard by the listener (and so fetched) once; accounts with a handle do not count.
    #[test]
    fn accounts_named_only_by_uri_are_capped() {
        let crawl = Crawl {
            max_actor_fetches: 3,
            ..Crawl::default()
        };
        let heard = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = heard.clone();
        let mut w = Walk::new(
            FollowList::empty(Direction::Following, "activitypub", None, ListStatus::Complete),
            &crawl,
            &base(1),
        )
        .listen(Some(Listener::new(move |_, _| {
            h.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })));
        let named = Account {
            handle: Some("@n@b".into()),
            actor_uri: Some("https://b/n".into()),
            ..Account::default()
        };
        let mut first = page(&["https://b/1", "https://b/2"], Some("?page=2"));
        first.items.push(Ok(named));
        assert!(w.take(&base(1), first).is_some());
        let second = page(&["https://b/3", "https://b/4", "https://b/5"], Some("?page=3"));
        assert_eq!(w.take(&base(2), second), None);
        assert_eq!((kind(&w), w.list.accounts.len()), (Some(Cause::AccountCap), 4));
        assert_eq!(heard.load(std::sync::atomic::Ordering::Relaxed), 4);
        let ListStatus::Partial { reason, .. } = &w.list.status else {
            panic!("{:?}", w.list.status)
        };
        assert_eq!(
            reason,
            "stopped at crawl.max_actor_fetches = 3 accounts named only by actor URI"
        );
    }

    #[test]
    fn a_next_that_is_not_http_ends_the_walk() {
        for bad in ["javascript:alert(1)", "data:,x", "mailto:a@b.example"] {
            let mut w = walk_of(100, 1000, None);
            assert_eq!(w.take(&base(1), page(&["https://b/1"], Some(bad))), None, "{bad}");
            assert_eq!(kind(&w), Some(Cause::BadNext));
        }
    }

    #[test]
    fn pages_on_another_origin_end_the_walk() {
        // A `next` on another host (or port) before any account: refused.
        for other in [
            "https://b.example/f?page=2",
            "https://a.example:8443/f?page=2",
            "http://a.example/f",
        ] {
            let mut w = walk_of(100, 1000, None);
            assert_eq!(w.take(&base(1), page(&[], Some(other))), None, "{other}");
            assert!(
                matches!(
                    w.list.status,
                    ListStatus::Refused {
                        kind: Cause::ForeignPage,
                        ..
                    }
                ),
                "{other}"
            );
        }
        // After accounts were read: partial, the accounts kept.
        let mut w = walk_of(100, 1000, None);
        assert_eq!(
            w.take(&base(1), page(&["https://b/1"], Some("https://b.example/f"))),
            None
        );
        assert_eq!((kind(&w), w.list.accounts.len()), (Some(Cause::ForeignPage), 1));
        // A page that answered from another origin (a redirect): its items are not taken.
        let mut w = walk_of(100, 1000, None);
        assert!(w.take(&base(1), page(&["https://b/1"], Some("?page=2"))).is_some());
        let moved = Url::parse("https://victim.example/f?page=2").unwrap();
        assert_eq!(w.take(&moved, page(&["https://b/2"], None)), None);
        assert_eq!((kind(&w), w.list.accounts.len()), (Some(Cause::ForeignPage), 1));
    }

    /// A listener hears each account the list keeps, with its index, as its page is taken:
    /// not an account seen before, nor one past `crawl.max_accounts`.
    #[test]
    fn the_listener_hears_each_kept_account_once_as_its_page_is_taken() {
        let heard = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
        let h = heard.clone();
        let listener = Listener::new(move |i, a| {
            h.lock().unwrap().push((i, a.actor_uri.clone().unwrap_or_default()));
        });
        let mut w = walk_of(100, 3, None).listen(Some(listener));
        assert!(w
            .take(&base(1), page(&["https://b/1", "https://b/2"], Some("?page=2")))
            .is_some());
        assert_eq!(heard.lock().unwrap().len(), 2, "heard before the next page is read");
        assert_eq!(
            w.take(
                &base(2),
                page(&["https://b/2", "https://b/3", "https://b/4"], Some("?page=3"))
            ),
            None
        );
        assert_eq!(kind(&w), Some(Cause::AccountCap));
        let heard = heard.lock().unwrap().clone();
        let kept: Vec<(usize, String)> = w
            .finish()
            .accounts
            .into_iter()
            .enumerate()
            .map(|(i, a)| (i, a.actor_uri.unwrap_or_default()))
            .collect();
        assert_eq!(heard, kept);
        assert_eq!(heard.len(), 3);
    }

    #[test]
    fn skips_are_counted_and_the_page_kept() {
        let mut w = walk_of(100, 1000, None);
        let mut p = page(&["https://b/1", "https://b/2"], None);
        p.items.insert(1, Err(Skip::new(SkipKind::NotHttp, "javascript:x")));
        assert_eq!(w.take(&base(1), p), None);
        let l = w.finish();
        assert_eq!(
            (l.accounts.len(), l.skipped_total(), l.status),
            (2, 1, ListStatus::Complete)
        );
    }

    #[test]
    fn nothing_listed_of_a_declared_count_is_not_exposed() {
        let mut w = walk_of(100, 1000, Some(152));
        assert_eq!(w.take(&base(1), page(&[], None)), None);
        assert_eq!(w.finish().status, ListStatus::NotExposed { unseen: Some(152) });
        let mut w = walk_of(100, 1000, Some(0));
        w.take(&base(1), page(&[], None));
        assert_eq!(w.finish().status, ListStatus::Complete);
    }
}
