//! WebFinger: from a handle to its actor URI and the server that hosts it.
//!
//! `GET /.well-known/webfinger?resource=acct:user@domain`; on 404 the host-meta XRD's LRDD
//! template is tried once (host-meta itself is asked once per host for the run, and a
//! template naming the address just asked is not asked again). The `self` link of an ActivityPub type gives the actor; its host
//! is the server (which may differ from the handle's domain). A `subject` naming another
//! account is confirmed by asking WebFinger about that subject, as Mastodon does.
//!
//! Reading the documents themselves (JRD, XRD, host-meta) is in `document`, re-exported here.

use url::Url;

use crate::error::{Error, Result};
use crate::model::account::http_url;
use crate::model::handle::{Handle, InstanceHost};
use crate::net::http::{Fetcher, Page, Request, ACCEPT_JRD, ACCEPT_XRD};

mod document;

pub use document::{lrdd_template, parse_descriptor, Descriptor};

/// Where a handle lives.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The canonical handle (the confirmed `subject`).
    pub handle: Handle,
    pub actor_uri: Url,
    /// Host of the actor URI.
    pub server: InstanceHost,
    /// Whether the host-meta fallback was needed.
    pub via_host_meta: bool,
}

impl Resolved {
    /// Whether the actor lives on another host than the handle's domain (a delegated domain,
    /// or a claim to confirm).
    pub fn delegated(&self) -> bool {
        !self.server.as_str().eq_ignore_ascii_case(&self.handle.domain)
    }
}

fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn query(f: &Fetcher, handle: &Handle) -> Result<(Page, bool)> {
    let origin = f.config().origin_for(&handle.domain);
    let wf = parse_url(&format!(
        "{origin}/.well-known/webfinger?resource={}",
        encode_component(&handle.acct_uri())
    ))?;
    let page = f.get(&wf, Request::accept(ACCEPT_JRD)).await?;
    if page.ok() {
        return Ok((page, false));
    }
    let unknown = || Error::Status {
        url: wf.to_string(),
        status: page.status,
    };
    if !matches!(page.status, 404 | 410) {
        return Err(unknown());
    }
    // host-meta's own status is not the lookup's: the handle is unknown, as WebFinger said.
    let template = lrdd(f, &handle.domain, &origin).await.map_err(|e| {
        if matches!(*e, Error::Status { .. }) {
            unknown()
        } else {
            Error::Again(e)
        }
    })?;
    let target = parse_url(&template.replace("{uri}", &encode_component(&handle.acct_uri())))?;
    // A template that names the address just asked (most servers' host-meta) would only
    // be answered the same again.
    if target == wf {
        return Err(unknown());
    }
    let page = f.get_ok(&target, Request::accept(ACCEPT_JRD)).await?;
    Ok((page, true))
}

/// The LRDD template of `origin`'s host-meta, asked once per host for the run
/// ([`Fetcher::host_meta`]): a host with many handles its WebFinger does not know is asked
/// its host-meta once, and each later handle costs its one WebFinger request. Its failure
/// (HTTP status, transport, no template) is remembered too.
async fn lrdd(f: &Fetcher, host: &str, origin: &str) -> std::result::Result<String, std::sync::Arc<Error>> {
    let cell = f.host_meta(host, origin);
    let answer = cell
        .get_or_init(|| async {
            let asked: Result<String> = async {
                let hm_url = parse_url(&format!("{origin}/.well-known/host-meta"))?;
                let hm = f.get_ok(&hm_url, Request::accept(ACCEPT_XRD)).await?;
                lrdd_template(&String::from_utf8_lossy(&hm.body)).ok_or_else(|| Error::Malformed {
                    url: hm.url.to_string(),
                    message: "host-meta has no lrdd template".into(),
                })
            }
            .await;
            asked.map_err(std::sync::Arc::new)
        })
        .await;
    answer.clone()
}

fn parse_url(s: &str) -> Result<Url> {
    Url::parse(s).map_err(|e| Error::Malformed {
        url: s.to_string(),
        message: format!("not a URL: {e}"),
    })
}

async fn descriptor(f: &Fetcher, handle: &Handle) -> Result<(Url, Descriptor, bool)> {
    let (page, via_host_meta) = query(f, handle).await?;
    let d = parse_descriptor(&page.url, &page.body)?;
    Ok((page.url, d, via_host_meta))
}

/// Resolve `handle` to its actor and server.
///
/// # Errors
/// Any fetch error; [`Error::Malformed`] when no ActivityPub `self` link is published or the
/// subject does not confirm.
pub async fn resolve(f: &Fetcher, handle: &Handle) -> Result<Resolved> {
    let (url, d, via_host_meta) = descriptor(f, handle).await?;
    let href = d.self_href.clone().ok_or_else(|| Error::Malformed {
        url: url.to_string(),
        message: "no ActivityPub self link".into(),
    })?;
    let actor_uri = http_url(&href).ok_or_else(|| Error::Malformed {
        url: url.to_string(),
        message: format!("self link {href:?} is not an http(s) URL"),
    })?;
    let server = InstanceHost::of_url(&actor_uri).ok_or_else(|| Error::Malformed {
        url: url.to_string(),
        message: format!("self link {href} has no host"),
    })?;
    let mut canonical = handle.clone();
    if let Some(subject) = d.subject.as_deref().and_then(|s| s.parse::<Handle>().ok()) {
        let same = subject.user.eq_ignore_ascii_case(&handle.user) && subject.domain == handle.domain;
        if !same {
            let (_, confirm, _) = descriptor(f, &subject).await?;
            if confirm.self_href.as_deref() != Some(href.as_str()) {
                return Err(Error::Malformed {
                    url: url.to_string(),
                    message: format!("subject {} does not confirm self link {href}", subject.acct_uri()),
                });
            }
            canonical = subject;
        }
    }
    Ok(Resolved {
        handle: canonical,
        actor_uri,
        server,
        via_host_meta,
    })
}

/// Confirm a handle whose actor lives on another host (a delegated domain: `ann@example.com`
/// served by social.example.com) as Mastodon does: the actor's server, asked by WebFinger for
/// `acct:USER@ACTORHOST` (USER: the actor's `preferredUsername`, else the handle's user),
/// must name the same actor as `self` and the handle as `subject`. Without this, any domain
/// could claim another server's account, and have it listed (and credited) under its own
/// handle.
///
/// # Errors
/// [`Error::Refused`] when the actor's server does not confirm; fetch errors of its WebFinger.
pub async fn confirm_delegation(f: &Fetcher, resolved: &Resolved, username: Option<&str>) -> Result<()> {
    let (handle, actor) = (&resolved.handle, &resolved.actor_uri);
    if !resolved.delegated() {
        return Ok(());
    }
    let user = username.filter(|u| !u.is_empty()).unwrap_or(&handle.user);
    let resource = format!("acct:{user}@{}", resolved.server);
    let origin = actor.origin().ascii_serialization();
    let url = parse_url(&format!(
        "{origin}/.well-known/webfinger?resource={}",
        encode_component(&resource)
    ))?;
    // Neither the claimed actor nor the account its server names is said: either may have
    // opted out, and this message is stored and printed (DESIGN §6).
    let refused = |why: String| Error::Refused {
        url: format!("{origin}/.well-known/webfinger"),
        reason: format!(
            "{handle} names an actor on {}, but {} {why}: not crawled",
            resolved.server, resolved.server
        ),
    };
    let page = f.get(&url, Request::accept(ACCEPT_JRD)).await?;
    if !page.ok() {
        return Err(refused(format!("does not know it (HTTP {})", page.status)));
    }
    let d = parse_descriptor(&page.url, &page.body)?;
    if d.self_href.as_deref().and_then(http_url).as_ref() != Some(actor) {
        return Err(refused("gives it another actor".into()));
    }
    let subject = d.subject.as_deref().and_then(|s| s.parse::<Handle>().ok());
    let same = subject
        .as_ref()
        .is_some_and(|s| s.user.eq_ignore_ascii_case(&handle.user) && s.domain == handle.domain);
    if !same {
        let named = if subject.is_some() {
            "another account"
        } else {
            "no valid subject"
        };
        return Err(refused(format!("names {named} for it")));
    }
    Ok(())
}

/// Resolve a profile or actor URL other than `https://host/@user`: WebFinger with the URL
/// itself as `resource`, else (the server refuses or names no account) the actor document
/// the URL points to. The handle learnt is then resolved like any handle, so both paths end
/// in the same checks. The URL is fetched from the origin the config gives its host (https
/// unless `allow_http`), not from the scheme the user typed.
///
/// # Errors
/// Fetch errors of the actor or of the handle's resolution; [`Error::Malformed`] when the
/// actor names no account.
pub async fn resolve_url(f: &Fetcher, given: &Url) -> Result<Resolved> {
    let host = given.host_str().unwrap_or_default();
    let host = match given.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let origin = f.config().origin_for(&host);
    let wf = parse_url(&format!(
        "{origin}/.well-known/webfinger?resource={}",
        encode_component(given.as_str())
    ))?;
    let subject = match f.get(&wf, Request::accept(ACCEPT_JRD)).await {
        Ok(page) if page.ok() => parse_descriptor(&page.url, &page.body)
            .ok()
            .and_then(|d| d.subject)
            .and_then(|s| s.parse::<Handle>().ok()),
        _ => None,
    };
    let handle = match subject {
        Some(h) => h,
        None => {
            let mut actor = parse_url(&format!("{origin}{}", given.path()))?;
            actor.set_query(given.query());
            handle_of_actor(f, &actor).await?
        }
    };
    resolve(f, &handle).await
}

/// `preferredUsername@host` (the host of its `id`) of the actor at `url`.
async fn handle_of_actor(f: &Fetcher, url: &Url) -> Result<Handle> {
    let actor: serde_json::Value = f
        .get_ok(url, Request::accept(crate::net::http::ACCEPT_ACTIVITY))
        .await?
        .json()?;
    let user = actor.get("preferredUsername").and_then(|v| v.as_str());
    let id = actor
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(|i| Url::parse(i).ok());
    // A handle's domain is a host name; the port, if any, comes from the config as for
    // every handle.
    let host = id.as_ref().and_then(|u| u.host_str().map(str::to_string));
    match (user, host) {
        (Some(user), Some(host)) => format!("{user}@{host}").parse(),
        _ => Err(Error::Malformed {
            url: url.to_string(),
            message: "not an account: no preferredUsername and id".into(),
        }),
    }
}

#[cfg(test)]
mod tests;
