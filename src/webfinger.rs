//! WebFinger: from a handle to its actor URI and the server that hosts it.
//!
//! `GET /.well-known/webfinger?resource=acct:user@domain`; on 404 the host-meta XRD's LRDD
//! template is tried once. The `self` link of an ActivityPub type gives the actor; its host
//! is the server (which may differ from the handle's domain). A `subject` naming another
//! account is confirmed by asking WebFinger about that subject, as Mastodon does.

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::handle::{Handle, InstanceHost};
use crate::http::{Fetcher, Page, Request, ACCEPT_JRD, ACCEPT_XRD};

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

#[derive(Debug, Deserialize)]
struct Jrd {
    subject: Option<String>,
    #[serde(default)]
    links: Vec<JrdLink>,
}

#[derive(Debug, Deserialize)]
struct JrdLink {
    rel: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    href: Option<String>,
}

/// A parsed WebFinger answer: subject and the ActivityPub `self` href.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptor {
    pub subject: Option<String>,
    pub self_href: Option<String>,
}

fn is_activity_type(t: &str) -> bool {
    let t = t.to_ascii_lowercase().replace(' ', "");
    t == "application/activity+json"
        || t.starts_with("application/ld+json") && t.contains("https://www.w3.org/ns/activitystreams")
}

/// Parse a JRD (JSON) or XRD (XML) WebFinger document.
///
/// # Errors
/// [`Error::Malformed`] when the body is neither.
pub fn parse_descriptor(url: &Url, body: &[u8]) -> Result<Descriptor> {
    let text = String::from_utf8_lossy(body);
    if text.trim_start().starts_with('<') {
        let subject = xml_element_text(&text, "Subject");
        let self_href = xml_links(&text)
            .into_iter()
            .find(|l| {
                l.get("rel").map(String::as_str) == Some("self") && l.get("type").is_some_and(|t| is_activity_type(t))
            })
            .and_then(|l| l.get("href").cloned());
        return Ok(Descriptor { subject, self_href });
    }
    let jrd: Jrd = serde_json::from_slice(body).map_err(|e| Error::Malformed {
        url: url.to_string(),
        message: format!("invalid WebFinger JSON: {e}"),
    })?;
    let self_href = jrd
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self") && l.kind.as_deref().is_some_and(is_activity_type))
        .and_then(|l| l.href.clone());
    Ok(Descriptor {
        subject: jrd.subject,
        self_href,
    })
}

type Attrs = std::collections::HashMap<String, String>;

/// The attributes of every `<Link .../>` element in an XRD document.
fn xml_links(text: &str) -> Vec<Attrs> {
    text.match_indices("<Link")
        .map(|(i, _)| {
            let rest = &text[i + 5..];
            let end = rest.find('>').unwrap_or(rest.len());
            xml_attrs(&rest[..end])
        })
        .collect()
}

fn xml_attrs(tag: &str) -> Attrs {
    let mut attrs = Attrs::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().trim_start_matches('/').trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(quote) else {
            break;
        };
        attrs.insert(name, unescape_xml(&after[1..1 + close]));
        rest = &after[close + 2..];
    }
    attrs
}

fn xml_element_text(text: &str, name: &str) -> Option<String> {
    let start = text.find(&format!("<{name}>"))? + name.len() + 2;
    let end = text[start..].find(&format!("</{name}>"))? + start;
    Some(unescape_xml(text[start..end].trim()))
}

fn unescape_xml(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The LRDD template of a host-meta document (preferring the JRD one).
pub fn lrdd_template(text: &str) -> Option<String> {
    let links: Vec<Attrs> = xml_links(text)
        .into_iter()
        .filter(|l| l.get("rel").map(String::as_str) == Some("lrdd") && l.contains_key("template"))
        .collect();
    links
        .iter()
        .find(|l| l.get("type").is_some_and(|t| t.contains("jrd")))
        .or(links.first())
        .and_then(|l| l.get("template").cloned())
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
    if !matches!(page.status, 404 | 410) {
        return Err(Error::Status {
            url: page.url.to_string(),
            status: page.status,
        });
    }
    let hm_url = parse_url(&format!("{origin}/.well-known/host-meta"))?;
    let hm = f
        .get_ok(&hm_url, Request::accept(ACCEPT_XRD))
        .await
        .map_err(|e| match e {
            Error::Status { .. } => Error::Status {
                url: wf.to_string(),
                status: page.status,
            },
            other => other,
        })?;
    let template = lrdd_template(&String::from_utf8_lossy(&hm.body)).ok_or_else(|| Error::Malformed {
        url: hm.url.to_string(),
        message: "host-meta has no lrdd template".into(),
    })?;
    let target = parse_url(&template.replace("{uri}", &encode_component(&handle.acct_uri())))?;
    let page = f.get_ok(&target, Request::accept(ACCEPT_JRD)).await?;
    Ok((page, true))
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
    let actor_uri = parse_url(&href)?;
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
        .get_ok(url, Request::accept(crate::http::ACCEPT_ACTIVITY))
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
mod tests {
    use super::*;

    #[test]
    fn picks_the_activitypub_self_link() {
        let url = Url::parse("https://a.example/.well-known/webfinger").unwrap();
        let body = br#"{"subject":"acct:bob@a.example","links":[
            {"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://a.example/@bob"},
            {"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"https://b.example/users/bob"}]}"#;
        let d = parse_descriptor(&url, body).unwrap();
        assert_eq!(d.self_href.as_deref(), Some("https://b.example/users/bob"));
        assert_eq!(d.subject.as_deref(), Some("acct:bob@a.example"));
    }

    #[test]
    fn reads_xrd_webfinger_and_host_meta() {
        let url = Url::parse("https://a.example/x").unwrap();
        let xrd = r#"<?xml version="1.0"?><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
          <Subject>acct:foo@a.example</Subject>
          <Link rel="self" type="application/activity+json" href="https://web.a.example/users/foo"/></XRD>"#;
        let d = parse_descriptor(&url, xrd.as_bytes()).unwrap();
        assert_eq!(d.self_href.as_deref(), Some("https://web.a.example/users/foo"));
        let hm = r#"<XRD><Link rel="lrdd" type="application/xrd+xml" template="https://a.example/x?uri={uri}"/>
          <Link rel="lrdd" type="application/jrd+json" template="https://a.example/.well-known/webfinger?resource={uri}"/></XRD>"#;
        assert_eq!(
            lrdd_template(hm).as_deref(),
            Some("https://a.example/.well-known/webfinger?resource={uri}")
        );
    }
}
