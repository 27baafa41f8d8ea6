//! The run's actor cache: each actor URI is fetched at most once per crawl.
//!
//! Seeds and directions that list the same account share one entry, and a seed's own actor
//! (read for its collections) is the same entry as that account listed by another seed. A
//! request for a URI already being fetched waits for that fetch instead of sending another
//! (one [`tokio::sync::OnceCell`] per URI). Failures are cached too, and come back as
//! [`Error::Again`] (same message, kind and status): a dead actor costs one request, not one
//! per list that names it.
//!
//! Only what the crawl reads is kept ([`Actor`]: the account and its collection links), never
//! the document itself, so a run's memory grows with the number of actors, not their size;
//! documents are read at most `crawl.max_actor_bytes` long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::error::{Error, Result};
use crate::model::account::{Account, Direction};
use crate::net::http::Fetcher;
use crate::protocol::activitypub;

/// What the crawl keeps of an actor document.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub account: Account,
    /// The `following` link as written (a string, possibly relative), if any.
    pub following: Option<String>,
    /// The `followers` link as written, if any.
    pub followers: Option<String>,
    /// `preferredUsername` as written (delegated handles are confirmed with it).
    pub username: Option<String>,
}

impl Actor {
    /// Read what the crawl needs from an actor document.
    pub fn from_document(v: &Value) -> Self {
        let link = |d: Direction| v.get(d.segment()).and_then(Value::as_str).map(str::to_string);
        Actor {
            account: activitypub::account_from_actor(v),
            following: link(Direction::Following),
            followers: link(Direction::Followers),
            username: v
                .get("preferredUsername")
                .and_then(Value::as_str)
                .map(|u| u.chars().take(256).collect()),
        }
    }

    /// The collection link of `direction`, if the actor has one.
    pub fn collection(&self, direction: Direction) -> Option<&str> {
        match direction {
            Direction::Following => self.following.as_deref(),
            Direction::Followers => self.followers.as_deref(),
        }
    }
}

type Cell = Arc<OnceCell<Result<Arc<Actor>, Arc<Error>>>>;

/// Actors fetched during one run, by URI.
#[derive(Debug, Default)]
pub struct ActorCache {
    cells: Mutex<HashMap<String, Cell>>,
}

impl ActorCache {
    /// The actor at `uri`, fetched on first use.
    ///
    /// # Errors
    /// As [`activitypub::fetch_actor`], wrapped in [`Error::Again`].
    pub async fn actor(&self, f: &Fetcher, uri: &Url) -> Result<Arc<Actor>> {
        let cell = {
            // The lock is only held for a map lookup, so a poisoned lock still holds a
            // consistent map.
            let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
            cells.entry(uri.to_string()).or_default().clone()
        };
        let fetched = cell
            .get_or_init(|| async {
                let document = activitypub::fetch_actor(f, uri).await.map_err(Arc::new)?;
                Ok(Arc::new(Actor::from_document(&document)))
            })
            .await;
        fetched.clone().map_err(Error::Again)
    }

    /// The account at `uri`, or why it could not be fetched (as kept in `fetch_error`).
    pub async fn account(&self, f: &Fetcher, uri: &str) -> Result<Account, String> {
        let url = Url::parse(uri).map_err(|e| {
            Error::Malformed {
                url: uri.to_string(),
                message: e.to_string(),
            }
            .to_string()
        })?;
        match self.actor(f, &url).await {
            Ok(a) => Ok(a.account.clone()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_actor_keeps_only_what_the_crawl_reads() {
        let document = serde_json::json!({
            "id": "https://x.example/users/a",
            "type": "Person",
            "preferredUsername": "a",
            "following": "https://x.example/users/a/following",
            "followers": "/users/a/followers",
            "padding": "x".repeat(200 * 1024),
            "attachment": vec![serde_json::json!({"name": "y".repeat(100)}); 1000],
        });
        let actor = Actor::from_document(&document);
        assert_eq!(
            actor.collection(Direction::Following),
            Some("https://x.example/users/a/following")
        );
        assert_eq!(actor.collection(Direction::Followers), Some("/users/a/followers"));
        assert_eq!(actor.account.handle.as_deref(), Some("@a@x.example"));
        let kept = format!("{actor:?}").len();
        assert!(kept < 1024, "{kept} bytes kept of a 300 KiB document");
    }
}
