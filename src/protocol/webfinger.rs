//! WebFinger: from a handle to its actor URI and the server that hosts it.
//!
//! `GET /.well-known/webfinger?resource=acct:user@domain`; on 404 the host-meta XRD's LRDD
//! template is tried once. The `self` link of an ActivityPub type gives the actor; its host
//! is the server (which may differ from the handle's domain). A `subject` naming another
//! account is confirmed by asking WebFinger about that subject, as Mastodon does.

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::model::account::http_url;
use crate::model::handle::{Handle, InstanceHost};
use crate::net::http::{Fetcher, Page, Request, ACCEPT_JRD, ACCEPT_XRD};

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

/// A JRD. Links are read one by one: a link with fields of the wrong type is ignored, not
/// fatal to the document.
#[derive(Debug, Deserialize)]
struct Jrd {
    subject: Option<String>,
    #[serde(default)]
    links: serde_json::Value,
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
        let xrd = parse_xrd(&text);
        let self_href = xrd
            .links
            .into_iter()
            .find(|l| l.rel.as_deref() == Some("self") && l.kind.as_deref().is_some_and(is_activity_type))
            .and_then(|l| l.href);
        return Ok(Descriptor {
            subject: xrd.subject,
            self_href,
        });
    }
    let malformed = |message: String| Error::Malformed {
        url: url.to_string(),
        message,
    };
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| malformed(format!("invalid WebFinger JSON: {e}")))?;
    if !v.is_object() {
        return Err(malformed(format!(
            "WebFinger JSON is {}, not an object",
            crate::protocol::pager::describe(&v)
        )));
    }
    let jrd: Jrd = serde_json::from_value(v).map_err(|e| malformed(format!("invalid WebFinger JSON: {e}")))?;
    let field = |l: &serde_json::Value, k: &str| l.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
    let self_href = jrd
        .links
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| field(l, "rel").as_deref() == Some("self") && field(l, "type").is_some_and(|t| is_activity_type(&t)))
        .and_then(|l| field(l, "href"));
    Ok(Descriptor {
        subject: jrd.subject,
        self_href,
    })
}

/// The attributes of an XRD `<Link>` that whohosts reads.
#[derive(Debug, Clone, Default, PartialEq)]
struct XrdLink {
    rel: Option<String>,
    kind: Option<String>,
    href: Option<String>,
    template: Option<String>,
}

/// What an XRD document says: its `Subject` and its `Link`s.
#[derive(Debug, Default)]
struct Xrd {
    subject: Option<String>,
    links: Vec<XrdLink>,
}

/// `self` and `lrdd` links kept per document: real ones have a handful.
const MAX_XRD_LINKS: usize = 1000;

/// Parse an XRD in one pass (quick-xml; element names matched without their namespace
/// prefix). A document that stops being well-formed keeps what was read before.
fn parse_xrd(text: &str) -> Xrd {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut xrd = Xrd::default();
    let mut subject: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"Subject" => subject = Some(String::new()),
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"Link" => {
                let link = xrd_link(&e);
                let wanted = matches!(link.rel.as_deref(), Some("self" | "lrdd"));
                if wanted && xrd.links.len() < MAX_XRD_LINKS {
                    xrd.links.push(link);
                }
            }
            Ok(Event::Text(t)) => {
                if let (Some(s), Ok(c)) = (subject.as_mut(), t.xml10_content()) {
                    s.push_str(&c);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let (Some(s), Some(c)) = (subject.as_mut(), entity(&r)) {
                    s.push_str(&c);
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == b"Subject" => {
                if let Some(s) = subject.take() {
                    xrd.subject.get_or_insert_with(|| s.trim().to_string());
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    xrd
}

fn entity(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
}

fn xrd_link(e: &quick_xml::events::BytesStart<'_>) -> XrdLink {
    let mut link = XrdLink::default();
    for a in e.attributes().flatten() {
        let Ok(value) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
            continue;
        };
        let slot = match a.key.local_name().as_ref() {
            b"rel" => &mut link.rel,
            b"type" => &mut link.kind,
            b"href" => &mut link.href,
            b"template" => &mut link.template,
            _ => continue,
        };
        *slot = Some(value.into_owned());
    }
    link
}

/// The LRDD template of a host-meta document (preferring the JRD one).
pub fn lrdd_template(text: &str) -> Option<String> {
    let links: Vec<XrdLink> = parse_xrd(text)
        .links
        .into_iter()
        .filter(|l| l.rel.as_deref() == Some("lrdd") && l.template.is_some())
        .collect();
    links
        .iter()
        .find(|l| l.kind.as_deref().is_some_and(|t| t.contains("jrd")))
        .or(links.first())
        .and_then(|l| l.template.clone())
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
    let refused = |why: String| Error::Refused {
        url: url.to_string(),
        reason: format!(
            "{handle} names the actor {actor}, but {} {why}: not crawled",
            resolved.server
        ),
    };
    let page = f.get(&url, Request::accept(ACCEPT_JRD)).await?;
    if !page.ok() {
        return Err(refused(format!("does not know {resource} (HTTP {})", page.status)));
    }
    let d = parse_descriptor(&page.url, &page.body)?;
    if d.self_href.as_deref().and_then(http_url).as_ref() != Some(actor) {
        return Err(refused(format!("gives {resource} another actor")));
    }
    let subject = d.subject.as_deref().and_then(|s| s.parse::<Handle>().ok());
    let same = subject
        .as_ref()
        .is_some_and(|s| s.user.eq_ignore_ascii_case(&handle.user) && s.domain == handle.domain);
    if !same {
        let named = subject.map_or_else(|| "no valid subject".to_string(), |s| s.to_string());
        return Err(refused(format!("names it {named}")));
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

    #[test]
    fn namespaced_xrd_is_read() {
        let hm = r#"<?xml version="1.0"?><xrd:XRD xmlns:xrd="http://docs.oasis-open.org/ns/xri/xrd-1.0">
          <xrd:Link rel="lrdd" template="https://a.example/wf?r={uri}&amp;x=1"></xrd:Link></xrd:XRD>"#;
        assert_eq!(lrdd_template(hm).as_deref(), Some("https://a.example/wf?r={uri}&x=1"));
        let url = Url::parse("https://a.example/x").unwrap();
        let d = parse_descriptor(&url, b"<XRD><Subject>acct:a&#64;b.example</Subject></XRD>").unwrap();
        assert_eq!(d.subject.as_deref(), Some("acct:a@b.example"));
    }

    #[test]
    fn the_recorded_host_meta_is_read() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/real/peertube/framatube.org_host_meta.xml"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e} (the shared fixtures must sit beside the crate as ../shared)"));
        assert_eq!(
            lrdd_template(&text).as_deref(),
            Some("http://framatube.org/main/xrd?uri={uri}")
        );
    }

    /// Regression: the hand-written parser rescanned the rest of the body for every `<Link`
    /// (a 2 MiB body cost a minute of CPU). 4 MiB bodies, hostile in two ways, are read in
    /// one pass.
    #[test]
    fn four_mib_hostile_xrd_is_read_in_one_pass() {
        let filler = r#"<Link rel="x" href="y"/>"#.repeat(4 * 1024 * 1024 / 24);
        let body = format!(r#"<XRD>{filler}<Link rel="lrdd" template="https://a.example/{{uri}}"/></XRD>"#);
        assert!(body.len() >= 4 * 1024 * 1024);
        assert_eq!(lrdd_template(&body).as_deref(), Some("https://a.example/{uri}"));
        let unclosed = format!("<XRD>{}", "<Link rel=\"lrdd\" ".repeat(4 * 1024 * 1024 / 17));
        assert_eq!(lrdd_template(&unclosed), None);
    }

    #[test]
    fn a_bad_link_does_not_spoil_the_document() {
        let url = Url::parse("https://a.example/.well-known/webfinger").unwrap();
        let body = br#"{"subject":"acct:a@a.example","links":[{"rel":"self","type":7,"href":null},{"rel":"self","type":"application/activity+json","href":"https://a.example/u/a"}]}"#;
        let d = parse_descriptor(&url, body).unwrap();
        assert_eq!(d.self_href.as_deref(), Some("https://a.example/u/a"));
        let d = parse_descriptor(&url, br#"{"subject":"acct:a@a.example","links":"x"}"#).unwrap();
        assert_eq!(d.self_href, None);
    }

    /// Recorded answers give http(s) self links, the only kind `resolve` accepts: a
    /// `javascript://host/x` href has a host but an opaque origin, which crashed the crawl.
    #[test]
    fn recorded_webfingers_give_http_self_links() {
        for f in [
            "fedidevs/webfinger/mastodon.json",
            "fedidevs/webfinger/lemmy.json",
            "peertube/peertube-webfinger.json",
        ] {
            let path = format!("{}/../shared/fixtures/real/{f}", env!("CARGO_MANIFEST_DIR"));
            let body =
                std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (../shared must sit beside the crate)"));
            let url = Url::parse("https://x.example/.well-known/webfinger").unwrap();
            let href = parse_descriptor(&url, &body)
                .unwrap()
                .self_href
                .unwrap_or_else(|| panic!("{f}: no self link"));
            assert!(http_url(&href).is_some(), "{f}: {href}");
        }
        assert_eq!(http_url("javascript://evil.example/x"), None);
    }

    /// Found by fuzzing (webfinger_jrd): serde reads a struct from a JSON array by position,
    /// so `["acct:x"]` passed as a JRD whose subject was `acct:x`.
    #[test]
    fn fuzz_a_jrd_that_is_an_array_is_malformed() {
        let url = Url::parse("https://a.example/.well-known/webfinger").unwrap();
        let e = parse_descriptor(&url, b"\r[\"\\\\]b+\"]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "https://a.example/.well-known/webfinger: malformed response: WebFinger JSON is an array, not an object"
        );
    }
}
