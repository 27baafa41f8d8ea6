//! The origin checks of a seed's listing (DESIGN §6): a collection on another origin than its
//! actor's is not read, a REST account that is not the resolved actor is not used, and a
//! broken REST answer stays the error when the ActivityPub fallback fails too.

use url::Url;

use crate::error::{Error, Result};
use crate::model::account::{http_url, Cause, Direction, FollowList, ListStatus};
use crate::protocol::mastodon;
use crate::protocol::webfinger;

/// The error of a seed whose REST listing failed and whose ActivityPub fallback failed too:
/// a REST answer that was there but broken is the real fault, so it is kept, with the
/// fallback's error beside it; a REST API that is absent or closed gives way to the fallback's.
pub(super) fn fallback_failed(rest: Error, ap: Error) -> Error {
    match rest {
        Error::Malformed { url, message } => Error::Malformed {
            url,
            message: format!("{message} (the ActivityPub fallback failed too: {ap})"),
        },
        _ => ap,
    }
}

/// The REST account must be the resolved actor (when it says its `uri`): a lookup by user
/// name on the actor's server can find another local account than the one WebFinger named.
/// A mismatch makes REST unusable for this seed (it falls back to ActivityPub).
pub(super) fn same_actor(account: &mastodon::RestAccount, resolved: &webfinger::Resolved) -> Result<()> {
    let Some(uri) = account.uri.as_deref() else {
        return Ok(());
    };
    if http_url(uri).as_ref() == Some(&resolved.actor_uri) {
        return Ok(());
    }
    let shown: String = uri.chars().take(200).collect();
    Err(Error::Malformed {
        url: resolved.actor_uri.to_string(),
        message: format!(
            "the REST account found for {} is {shown}, not this actor",
            resolved.handle
        ),
    })
}

/// A collection on another origin than its actor's is not read (DESIGN §6): a server may
/// only list its own accounts' follows.
pub(super) fn foreign_collection(actor: &Url, collection: &Url, d: Direction) -> Option<FollowList> {
    if collection.origin() == actor.origin() {
        return None;
    }
    let why = format!(
        "the {} collection {collection} is on another origin than the actor {actor}: not read",
        d.segment()
    );
    let status = ListStatus::refused(Cause::ForeignPage, why);
    Some(FollowList::empty(d, "activitypub", None, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::handle::InstanceHost;

    #[test]
    fn a_rest_account_of_another_actor_is_refused() {
        let resolved = webfinger::Resolved {
            handle: "@seed@wfx.example".parse().expect("a valid handle"),
            actor_uri: Url::parse("https://victim.example/users/bob").expect("a valid URL"),
            server: InstanceHost::new("victim.example"),
            via_host_meta: false,
        };
        let account = |uri: Option<&str>| mastodon::RestAccount {
            uri: uri.map(str::to_string),
            ..mastodon::RestAccount::default()
        };
        assert!(same_actor(&account(None), &resolved).is_ok());
        assert!(same_actor(&account(Some("https://victim.example/users/bob")), &resolved).is_ok());
        let e = same_actor(&account(Some("https://victim.example/users/seed")), &resolved).unwrap_err();
        assert!(super::super::rest_unavailable(&e), "{e}");
        assert_eq!(
            e.to_string(),
            "https://victim.example/users/bob: malformed response: the REST account found for @seed@wfx.example is https://victim.example/users/seed, not this actor"
        );
    }
}
