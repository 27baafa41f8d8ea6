//! Why followed accounts left a list: each account that left a seed's complete list since the
//! previous snapshot of the same seeds is fetched once (its actor document, through the same
//! polite client as the crawl: robots.txt, per-host limits, retries, size limits) to learn
//! whether it moved (`movedTo`), was deleted or suspended (410 or 404, or a `suspended`
//! flag), or is still there (then the seed unfollowed it). A fetch that fails otherwise
//! leaves the cause `unknown`. The caller bounds how many are fetched
//! (`crawl.max_departure_checks`).

use std::sync::Arc;

use serde_json::Value;
use url::Url;

use crate::model::snapshot::Departure;
use crate::net::fanout;
use crate::net::http::{scrubbed, Fetcher};
use crate::net::progress::Progress;
use crate::protocol::activitypub;

/// An account that left: its identity as stored, and its actor URI when it may be fetched
/// (`None` for one that opted out of crawlers: stored as a hash, never fetched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaver {
    pub account: String,
    pub actor_uri: Option<String>,
}

/// What the fetch of a departed account's actor says: why it left, where it went, and
/// whether it opts out of crawlers now.
type Cause = (String, Option<String>, bool);

/// The cause of one departure from the fetch of its actor.
fn cause_of(fetched: crate::error::Result<Value>) -> Cause {
    match fetched {
        Ok(doc) => {
            if doc.get("suspended").and_then(Value::as_bool) == Some(true) {
                return ("suspended".into(), None, false);
            }
            let account = activitypub::account_from_actor(&doc);
            let opted_out = !account.may_expand();
            match account.moved_to {
                Some(to) => ("moved".into(), Some(to), opted_out),
                None => ("unfollowed".into(), None, opted_out),
            }
        }
        Err(e) if matches!(e.status(), Some(404 | 410)) => ("deleted".into(), None, false),
        Err(e) => {
            // The error names the actor's URL (or a redirect's target): logged as its origin
            // and kind only.
            tracing::info!(error = %scrubbed(&e), "departure check failed");
            ("unknown".into(), None, false)
        }
    }
}

/// Fetch each leaver once (bounded fan-out, every request through its host's gate) and say
/// why it left. A leaver whose actor says it opts out of crawlers now carries its identity in
/// [`Departure::opted_out_since`] (the caller stores it as its keyed hash).
pub async fn check(fetcher: &Arc<Fetcher>, leavers: Vec<Leaver>, progress: &Progress) -> Vec<Departure> {
    if leavers.is_empty() {
        return vec![];
    }
    progress.add_work(leavers.len() as u64);
    progress.note(&format!("checking why {} accounts left the lists", leavers.len()));
    let accounts: Vec<Leaver> = leavers.clone();
    let results = fanout::run(leavers, super::FETCH_CONCURRENCY, |l| {
        let (f, progress) = (fetcher.clone(), progress.clone());
        async move {
            let cause = match l.actor_uri.as_deref().and_then(|u| Url::parse(u).ok()) {
                Some(uri) => cause_of(activitypub::fetch_actor(&f, &uri).await),
                None => ("unknown".into(), None, false),
            };
            progress.work_done(1);
            cause
        }
    })
    .await;
    accounts
        .into_iter()
        .zip(results)
        .map(|(leaver, r)| {
            let (cause, moved_to, opted_out) = r.unwrap_or_else(|_| ("unknown".into(), None, false));
            let handle = (!leaver.account.contains("://")).then(|| leaver.account.clone());
            Departure {
                opted_out_since: opted_out.then(|| (leaver.actor_uri.clone(), handle)),
                account: leaver.account,
                cause,
                moved_to,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_fetch_says_moved_deleted_suspended_or_unfollowed() {
        let doc = |v: Value| Ok::<Value, Error>(v);
        let moved = doc(serde_json::json!({"id": "https://a.example/users/b", "movedTo": "https://b.example/users/b"}));
        assert_eq!(
            cause_of(moved),
            ("moved".into(), Some("https://b.example/users/b".into()), false)
        );
        let suspended = doc(serde_json::json!({"id": "https://a.example/users/b", "suspended": true}));
        assert_eq!(cause_of(suspended).0, "suspended");
        assert_eq!(
            cause_of(doc(serde_json::json!({"id": "https://a.example/users/b"}))).0,
            "unfollowed"
        );
        let quiet = doc(serde_json::json!({"id": "https://a.example/users/b", "discoverable": false}));
        assert_eq!(cause_of(quiet), ("unfollowed".into(), None, true));
        let gone = Err(Error::Status {
            url: "https://a.example/users/b".into(),
            status: 410,
        });
        assert_eq!(cause_of(gone).0, "deleted");
    }
}
