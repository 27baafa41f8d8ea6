//! Properties every account read from the network must have, shared by the fuzz targets.

use whohosts::model::account::{http_url, Account};
use whohosts::model::handle::Handle;

/// An account's actor URI is an http(s) URL or absent; its server is a host a URL can be
/// built from; its handle, when present, parses back.
pub fn check_account(a: &Account) {
    if let Some(uri) = &a.actor_uri {
        assert!(http_url(uri).is_some(), "actor URI {uri:?} is not http(s)");
    }
    if let Some(server) = &a.server {
        let origin = format!("https://{server}/");
        assert!(url::Url::parse(&origin).is_ok(), "server {server:?} is not a host");
    }
    if let Some(h) = &a.handle {
        assert!(h.parse::<Handle>().is_ok(), "handle {h:?} does not parse");
    }
    if let Some(m) = &a.moved_to {
        assert!(m.parse::<Handle>().is_ok() || http_url(m).is_some(), "moved_to {m:?}");
    }
}
