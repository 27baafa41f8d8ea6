//! What each simulated server software answers: WebFinger, host-meta, NodeInfo, Mastodon
//! REST with `Link` paging, and ActivityPub actors and collections in the real variants
//! (Mastodon `page=N` pages of 12, Pleroma's embedded first page, Misskey `cursor=` pages of
//! 10, GoToSocial `max_id=`, totals-only Pixelfed, generic `items`), shaped after the
//! recorded responses in shared/fixtures.
//!
//! # Architecture
//! [`route`] sends each request on by path: discovery (WebFinger, host-meta, NodeInfo) to
//! `discovery`, the Mastodon REST API to `rest`, ActivityPub actors and collections to
//! `activitypub`. What they share is here: accounts and their instances, bios and opt-out
//! flags as served, and how the paging faults shape a list.

mod activitypub;
mod discovery;
mod rest;
#[cfg(test)]
mod tests;

use serde_json::{json, Value};

use super::server::{json as json_resp, respond, Body, Sim};
use super::world::{AccountSpec, Fault, Instance, Software};
use hyper::Response;

use activitypub::activitypub;
pub use activitypub::actor;
use discovery::{host_meta, nodeinfo, nodeinfo_links, webfinger};
use rest::api;

const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";
const JRD: &str = "application/jrd+json; charset=utf-8";
const API_JSON: &str = "application/json; charset=utf-8";

fn not_found() -> Response<Body> {
    json_resp(404, API_JSON, &json!({"error": "Record not found"}))
}

fn query_param(path: &str, key: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Route one request to an instance (or one of its alias domains).
pub fn route(sim: &Sim, inst: &Instance, host: &str, path: &str, auth: Option<&str>) -> Response<Body> {
    let bare = path.split('?').next().unwrap_or(path);
    match bare {
        "/.well-known/webfinger" if inst.host_meta_only => respond(404, "text/plain", ""),
        "/.well-known/webfinger" | "/.well-known/lrdd" => webfinger(sim, inst, host, path),
        "/.well-known/host-meta" => host_meta(sim, inst, host),
        "/.well-known/nodeinfo" if !inst.no_nodeinfo => nodeinfo_links(sim, inst),
        "/nodeinfo/2.0" | "/nodeinfo/2.1" if !inst.no_nodeinfo => nodeinfo(sim, inst),
        _ if host != inst.domain => respond(404, "text/plain", "not found"),
        _ if bare.starts_with("/api/v1/") => api(sim, inst, bare, path, auth),
        _ if bare.starts_with("/users/") => activitypub(sim, inst, bare, path),
        _ => respond(404, "text/html", "<h1>Not found</h1>"),
    }
}

/// The accounts an instance hosts.
fn local_index(sim: &Sim, inst: &Instance, user: &str) -> Option<usize> {
    sim.by_handle
        .get(&format!("{}@{}", user.to_ascii_lowercase(), inst.domain))
        .copied()
}

fn split_handle(a: &AccountSpec) -> (&str, &str) {
    a.handle
        .split_once('@')
        .expect("world accounts are user@domain (checked on load)")
}

/// The instance of account `i`.
fn home(sim: &Sim, i: usize) -> &Instance {
    let (_, d) = split_handle(&sim.layout.world.accounts[i]);
    sim.layout
        .instance(d)
        .expect("accounts live on known instances (checked on load)")
}

/// The domain in the instance's handles (`LOCAL_DOMAIN`): a delegated or redirecting domain
/// when it has one.
fn handle_domain(inst: &Instance) -> &str {
    inst.handle_domain
        .as_deref()
        .or(inst.redirect_from.as_deref())
        .unwrap_or(&inst.domain)
}

/// The actor URI of account `i`.
pub fn actor_uri(sim: &Sim, i: usize) -> String {
    let inst = home(sim, i);
    let (user, _) = split_handle(&sim.layout.world.accounts[i]);
    match inst.software {
        Software::Misskey => format!("{}/users/9{i:07x}", sim.base(&inst.domain)),
        _ => format!("{}/users/{user}", sim.base(&inst.domain)),
    }
}

/// An opt-out flag as the account's server sends it: a boolean, or a string when
/// `flags_as_strings`.
fn flag(spec: &AccountSpec, value: bool) -> Value {
    match spec.flags_as_strings {
        true => json!(value.to_string()),
        false => json!(value),
    }
}

/// The bio as served: `bio_html` verbatim, else `bio` rendered.
fn served_bio(sim: &Sim, inst: &Instance, spec: &AccountSpec) -> String {
    match &spec.bio_html {
        Some(html) => html.clone(),
        None => bio_html(&sim.base(&inst.domain), &spec.bio),
    }
}

/// A bio rendered as Mastodon renders it: HTML-escaped, in a paragraph, line breaks as
/// `<br />`, and each hashtag a link `#<span>tag</span>` to the instance's tag page.
fn bio_html(base: &str, bio: &str) -> String {
    if bio.is_empty() {
        return String::new();
    }
    let escaped = bio
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let words: Vec<String> = escaped
        .split(' ')
        .map(|w| match w.strip_prefix('#') {
            Some(rest) => {
                let tag: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let after = &rest[tag.len()..];
                format!(
                    "<a href=\"{base}/tags/{tag}\" class=\"mention hashtag\" rel=\"tag\">#<span>{tag}</span></a>{after}"
                )
            }
            None => w.to_string(),
        })
        .collect();
    format!("<p>{}</p>", words.join(" ").replace('\n', "<br />"))
}

/// The accounts of the page starting at `start`, as the instance's fault shapes them.
fn page_items(inst: &Instance, list: &[usize], start: usize, size: usize) -> Vec<usize> {
    let shown = match inst.fault {
        Fault::RepeatPages => 0,
        Fault::EmptyPages if start > 0 => return vec![],
        _ => start,
    };
    list.iter().copied().skip(shown).take(size).collect()
}

/// Where a page's `next` points.
enum Next {
    None,
    /// The first page (a loop back).
    First,
    /// The page itself.
    Same,
    /// The page starting at this offset.
    At(usize),
}

fn next_offset(inst: &Instance, start: usize, shown: usize, size: usize, len: usize) -> Next {
    match inst.fault {
        Fault::LoopNext if start > 0 => Next::First,
        Fault::SelfNext => Next::Same,
        // Forever: fresh links to pages that bring nothing new.
        Fault::RepeatPages | Fault::EmptyPages => Next::At(start + size),
        _ if start + shown < len => Next::At(start + shown),
        _ => Next::None,
    }
}

/// The host that serves the instance's list pages: itself, or `mirror.DOMAIN` under
/// [`Fault::ForeignPages`].
fn pages_host(inst: &Instance) -> String {
    match inst.fault {
        Fault::ForeignPages => format!("mirror.{}", inst.domain),
        _ => inst.domain.clone(),
    }
}
