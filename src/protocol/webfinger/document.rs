//! WebFinger documents: a JRD (JSON) or XRD (XML) answer read into its subject and ActivityPub
//! `self` link, and the LRDD template of a host-meta document; XRD is read in one pass.

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};

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
