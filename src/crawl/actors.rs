//! The run's actor cache: each actor URI is fetched at most once per crawl.
//!
//! Seeds and directions that list the same account share one entry; a request for a URI
//! already being fetched waits for that fetch instead of sending another (one
//! [`tokio::sync::OnceCell`] per URI). Failures are cached too: a dead actor costs one
//! request, not one per list that names it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;
use url::Url;

use crate::account::Account;
use crate::activitypub;
use crate::error::Error;
use crate::http::Fetcher;

/// What fetching an actor gave: the account, or why it failed (as stored in `fetch_error`).
pub type Fetched = Result<Account, String>;

/// Actors fetched during one run, by URI.
#[derive(Debug, Default)]
pub struct ActorCache {
    cells: Mutex<HashMap<String, Arc<OnceCell<Fetched>>>>,
}

impl ActorCache {
    /// The actor at `uri`, fetched on first use.
    pub async fn get(&self, f: &Fetcher, uri: &str) -> Fetched {
        let cell = {
            // The lock is only held for a map lookup, so a poisoned lock still holds a
            // consistent map.
            let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
            cells.entry(uri.to_string()).or_default().clone()
        };
        cell.get_or_init(|| fetch(f, uri)).await.clone()
    }

    /// How many distinct URIs were asked for.
    pub fn len(&self) -> usize {
        self.cells.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no URI was asked for.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn fetch(f: &Fetcher, uri: &str) -> Fetched {
    let url = Url::parse(uri).map_err(|e| {
        Error::Malformed {
            url: uri.to_string(),
            message: e.to_string(),
        }
        .to_string()
    })?;
    activitypub::fetch_actor(f, &url)
        .await
        .map(|v| activitypub::account_from_actor(&v))
        .map_err(|e| e.to_string())
}
