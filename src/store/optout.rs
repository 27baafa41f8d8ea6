//! Accounts that opted out of crawlers (DESIGN §6) are stored as counts, never by name.
//!
//! Before an account that opted out (`noindex`, `indexable: false`, `discoverable: false`,
//! `#nobot`/`#noindex`) is written, [`OptOut::redact`] replaces its handle, actor URI and display
//! name by one keyed hash, `opted-out:` and 24 hex digits of HMAC-SHA256 over its identity, and
//! its `moved_to` by the target's instance only (`an opted-out account on HOST`). Its instance
//! and flags stay, so it is counted once across seeds and snapshots and every aggregate is exact
//! (its follower and following counts and its last post are not stored: the metrics that use
//! the last post are computed from the crawl before the rows are written);
//! every query, view, diff and trend line reads it as that hash, which names no one.
//!
//! The key (32 random bytes, hex) sits in a file beside the database, `DB.optout-key`, mode
//! 0600, made with the database's first snapshot. It is not in the database on purpose: someone
//! given only the database file cannot hash a list of candidate handles to confirm one. Losing
//! the key file costs continuity only: an opted-out account seen again then gets a new hash, so
//! a diff across the loss counts it as removed and added (aggregates of each snapshot stay right).

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::model::account::{is_opted_out_target, normal_handle, opted_out_target, Account};
use crate::model::snapshot::SeedReport;

/// What an opted-out account's identity is stored as: this prefix, then the hash.
pub const PREFIX: &str = "opted-out:";
/// Hex digits kept of each hash (96 bits).
const HASH_HEX: usize = 24;

/// The key that keeps opted-out accounts distinct without naming them.
pub struct OptOut {
    key: [u8; 32],
}

impl std::fmt::Debug for OptOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OptOut(key hidden)")
    }
}

/// The key file of the database at `db`: `DB.optout-key` beside the file `db` names once
/// links are resolved, as its lock is ([`super::schema::beside`]), so a crawl or an export
/// through a link to the database uses the database's own key.
///
/// # Errors
/// As [`super::schema::beside`].
pub fn key_path(db: &Path) -> Result<PathBuf> {
    super::schema::beside(db, ".optout-key")
}

impl OptOut {
    /// The key of the database at `db`, created (0600) when there is none: for the commands
    /// that write (every one opens the store's writer, which makes it with the database).
    ///
    /// # Errors
    /// [`Error::Store`] for a key file that is not a key; [`Error::Io`].
    pub fn of_database(db: &Path) -> Result<OptOut> {
        let path = key_path(db)?;
        // A key an older whohosts made beside a link's own name (before keys followed the
        // real file) is not replaced by a new one in silence: hashes would stop matching.
        let mut by_name = db.as_os_str().to_os_string();
        by_name.push(".optout-key");
        let by_name = PathBuf::from(by_name);
        if !path.exists() && by_name != path && by_name.exists() {
            return Err(Error::Store(format!(
                "{}: its pseudonym key is at {} (beside a link's name), not at {}: move it there",
                db.display(),
                by_name.display(),
                path.display()
            )));
        }
        if !path.exists() {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| Error::Store(format!("{}: no randomness: {e}", path.display())))?;
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            crate::files::write(&path, format!("{hex}\n").as_bytes(), 0o600).map_err(|e| Error::io(&path, e))?;
        }
        OptOut::existing(db)
    }

    /// The key of the database at `db` as it is, for a command that only reads: never
    /// created, so a read command writes nothing and its pseudonyms are the database's own.
    ///
    /// # Errors
    /// [`Error::Store`] naming the database when the key file is missing, readable only by
    /// another user (the database's owner), or not a key; [`Error::Io`].
    pub fn existing(db: &Path) -> Result<OptOut> {
        let path = key_path(db)?;
        let text = read_own(&path).map_err(|e| unreadable(db, &path, e))?;
        let bad = || {
            Error::Store(format!(
                "{}: not a whohosts key (64 hex digits expected)",
                path.display()
            ))
        };
        let hex = text.trim();
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(OptOut { key })
    }

    /// A key for another purpose, derived from this one (HMAC-SHA256 under it of `purpose`):
    /// the export's pseudonym keys, so one key file per database serves both and neither
    /// reveals the other.
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(b"whohosts derived key\0");
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }

    /// A key given as is (tests).
    pub fn with_key(key: [u8; 32]) -> OptOut {
        OptOut { key }
    }

    fn hash(&self, identity: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(identity.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::from(PREFIX);
        for b in digest.iter().take(HASH_HEX / 2) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// What a contact's address is stored as (see migration 0007): 24 hex digits of
    /// HMAC-SHA256, under a key derived from this one for that purpose only, over the
    /// normalised address (`ann@example.org`, `@bob:matrix.example`). The same address has the
    /// same hash in every snapshot of the database; the address itself is never stored.
    pub fn contact(&self, address: &str) -> String {
        let key = self.derive(b"contact address");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("HMAC accepts any key length");
        mac.update(address.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .take(HASH_HEX / 2)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `a` as it may be stored: itself when it lets crawlers in, else its hash, instance and
    /// flags only.
    pub fn redact<'a>(&self, a: &'a Account) -> std::borrow::Cow<'a, Account> {
        match a.may_expand() {
            true => std::borrow::Cow::Borrowed(a),
            false => std::borrow::Cow::Owned(self.hashed(a)),
        }
    }

    /// `a` as an opted-out account is stored, whatever its flags say: its hash, instance and
    /// flags only (no counts, no last post). For the earlier states of an account that has opted out since
    /// ([`super::rehash::opted_out_since`]).
    pub fn hashed(&self, a: &Account) -> Account {
        let mut r = a.clone();
        r.actor_uri = Some(self.identity_hash(a.actor_uri.as_deref(), a.handle.as_deref()));
        r.handle = None;
        r.display_name = None;
        // Its follower and following counts and its last post would single it out among the
        // accounts of its instance; no stored figure needs them (the metrics, the activity
        // weight among them, are computed from the crawl before its rows are written).
        r.followers_count = None;
        r.following_count = None;
        r.last_status_at = None;
        r.moved_to = a.moved_to.as_deref().map(|m| match is_opted_out_target(m) {
            true => m.to_string(),
            false => opted_out_target(m),
        });
        // Why its details could not be fetched names the URL that was asked (its actor's):
        // kept with every URL cut to its origin and every handle to its host.
        r.fetch_error = a.fetch_error.as_deref().map(without_names);
        r
    }

    /// What an opted-out account is stored as: the hash of its actor URI, else of its handle.
    pub fn identity_hash(&self, uri: Option<&str>, handle: Option<&str>) -> String {
        let identity = match (uri, handle) {
            (Some(uri), _) => uri.to_string(),
            (None, Some(h)) => normal_handle(h),
            (None, None) => String::new(),
        };
        self.hash(&identity)
    }

    /// `s` as it may be stored. An account a deeper crawl expanded (depth above 0) whose own
    /// profile opted out keeps its hash (its input, the same as its listed rows' identity), its
    /// instance and its refused lists; its handle and actor URI are not stored. A seed the user
    /// named (depth 0) stays as typed: those are the user's own words ([`super::rehash`]).
    pub fn redact_seed<'a>(&self, s: &'a SeedReport) -> std::borrow::Cow<'a, SeedReport> {
        let Some(a) = s.account.as_ref().filter(|a| s.depth > 0 && !a.may_expand()) else {
            return std::borrow::Cow::Borrowed(s);
        };
        let mut r = s.clone();
        r.input = self.hashed(a).actor_uri.unwrap_or_else(|| PREFIX.into());
        r.handle = None;
        r.actor_uri = None;
        std::borrow::Cow::Owned(r)
    }
}

/// The text of the key file at `path`, refusing a file that is not the database's own: a
/// symbolic link planted at the name (never followed) or a file with a second name (a hard
/// link to another database's key), so a key cannot be swapped in from elsewhere.
fn read_own(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let file = crate::files::read_no_follow(path)?;
    let links = crate::files::names(&file)?;
    if links != 1 {
        return Err(std::io::Error::other(format!(
            "it has {links} names (a hard link to another file): not this database's own key"
        )));
    }
    let mut text = String::new();
    file.take(4096).read_to_string(&mut text)?;
    Ok(text)
}

/// Why the key file `key` of database `db` cannot be read, in one line: missing (a read
/// command never makes one), readable only by the database's owner, or the I/O error.
fn unreadable(db: &Path, key: &Path, e: std::io::Error) -> Error {
    let (shown_db, shown_key) = (db.display(), key.display());
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::Store(format!(
            "{shown_db}: its pseudonym key {shown_key} is missing: copy it back from where the database came from \
             (a read command never makes one; the next crawl or prune of the database makes a new \
             key, and pseudonyms and opted-out hashes then change)"
        )),
        std::io::ErrorKind::PermissionDenied => Error::Store(format!(
            "{shown_db}: its pseudonym key {shown_key} is readable only by the database's owner: ask them to \
             run the export (or `whohosts export --recipient NAME` for you)"
        )),
        _ if e.raw_os_error() == Some(libc::ELOOP) => Error::Store(format!(
            "{shown_db}: its pseudonym key {shown_key} is a symbolic link: not this database's own key; \
             remove it and put the database's key file there"
        )),
        std::io::ErrorKind::Other => Error::Store(format!("{shown_db}: its pseudonym key {shown_key}: {e}")),
        _ => Error::io(key, e),
    }
}

/// `text` (an error message) with nothing in it that names an account: every http(s) URL cut
/// to its origin (`https://c.example/…`), every `user@host` (and `acct:user@host`) to `…@host`.
pub fn without_names(text: &str) -> String {
    let boundary = |c: char| c.is_whitespace() || "()<>\"'`,;[]{}".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(boundary).unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        out.push_str(&token_without_name(token));
        let sep = after.chars().next().map_or(0, char::len_utf8);
        out.push_str(&after[..sep]);
        rest = &after[sep..];
    }
    out
}

fn token_without_name(token: &str) -> String {
    let bare = token.trim_end_matches([':', '.', '!', '?']);
    if let Some(u) = crate::model::account::http_url(bare) {
        return format!("{}/…{}", u.origin().ascii_serialization(), &token[bare.len()..]);
    }
    match token.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => token.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nb(handle: &str, uri: &str) -> Account {
        Account {
            handle: Some(handle.into()),
            actor_uri: Some(uri.into()),
            display_name: Some("Nobody".into()),
            moved_to: Some("@nb2@eq.example".into()),
            noindex: Some(true),
            ..Account::default()
        }
    }

    /// A key file that cannot be read says why in one line naming the database: missing, or
    /// readable only by the database's owner (another user exporting it).
    #[test]
    fn an_unreadable_key_says_why() {
        let (db, key) = (Path::new("/d/x.db"), Path::new("/d/x.db.optout-key"));
        let missing = unreadable(db, key, std::io::ErrorKind::NotFound.into()).to_string();
        assert_eq!(
            missing,
            "/d/x.db: its pseudonym key /d/x.db.optout-key is missing: copy it back from where the \
             database came from (a read command never makes one; the next crawl or prune of the \
             database makes a new key, and pseudonyms and opted-out hashes then change)"
        );
        let denied = unreadable(db, key, std::io::ErrorKind::PermissionDenied.into()).to_string();
        assert_eq!(
            denied,
            "/d/x.db: its pseudonym key /d/x.db.optout-key is readable only by the database's owner: \
             ask them to run the export (or `whohosts export --recipient NAME` for you)"
        );
    }

    #[test]
    fn opted_out_accounts_keep_a_hash_and_their_instance_only() {
        let keys = OptOut::with_key([7; 32]);
        let a = nb("@nb2@hub.example", "https://hub.example/users/nb2");
        let r = keys.redact(&a);
        let text = format!("{r:?}");
        assert!(!text.contains("nb2"), "{text}");
        assert!(!text.contains("Nobody"), "{text}");
        assert_eq!(r.moved_to.as_deref(), Some("an opted-out account on eq.example"));
        assert_eq!(r.actor_uri.as_deref().map(str::len), Some(PREFIX.len() + HASH_HEX));
        // The same account hashes alike; another account and another key do not.
        assert_eq!(keys.redact(&a).actor_uri, r.actor_uri);
        let other = nb("@nb3@hub.example", "https://hub.example/users/nb3");
        assert_ne!(keys.redact(&other).actor_uri, r.actor_uri);
        assert_ne!(OptOut::with_key([8; 32]).redact(&a).actor_uri, r.actor_uri);
        // Why its actor could not be fetched keeps its cause, not its name.
        let failed = Account {
            fetch_error: Some(
                "https://hub.example/users/nb2: HTTP 404 (redirected from \"http://x.example/@nb2@hub.example\"; acct:nb2@hub.example)".into(),
            ),
            ..a.clone()
        };
        assert_eq!(
            keys.redact(&failed).fetch_error.as_deref(),
            Some("https://hub.example/…: HTTP 404 (redirected from \"http://x.example/…\"; …@hub.example)")
        );
        // An account that lets crawlers in is stored as is.
        let open = Account {
            noindex: None,
            ..a.clone()
        };
        assert_eq!(*keys.redact(&open), open);
    }
}
