//! The run's actor cache: each actor URI is fetched at most once per crawl.
//!
//! Seeds and directions that list the same account share one entry, and a seed's own actor
//! (read for its collections) is the same entry as that account listed by another seed. A
//! request for a URI already being fetched waits for that fetch instead of sending another
//! (one [`tokio::sync::OnceCell`] per URI). Failures are cached too, and come back as
//! [`Error::Again`] (same message, kind and status): a dead actor costs one request, not one
//! per list that names it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::account::Account;
use crate::activitypub;
use crate::error::{Error, Result};
use crate::http::Fetcher;

type Cell = Arc<OnceCell<Result<Arc<Value>, Arc<Error>>>>;

/// Actor documents fetched during one run, by URI.
#[derive(Debug, Default)]
pub struct ActorCache {
    cells: Mutex<HashMap<String, Cell>>,
}

impl ActorCache {
    /// The actor document at `uri`, fetched on first use.
    ///
    /// # Errors
    /// As [`activitypub::fetch_actor`], wrapped in [`Error::Again`].
    pub async fn actor(&self, f: &Fetcher, uri: &Url) -> Result<Arc<Value>> {
        let cell = {
            // The lock is only held for a map lookup, so a poisoned lock still holds a
            // consistent map.
            let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
            cells.entry(uri.to_string()).or_default().clone()
        };
        let fetched = cell
            .get_or_init(|| async { activitypub::fetch_actor(f, uri).await.map(Arc::new).map_err(Arc::new) })
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
            Ok(v) => Ok(activitypub::account_from_actor(&v)),
            Err(e) => Err(e.to_string()),
        }
    }
}
