//! NodeInfo: which software an instance runs and how many users it has.
//!
//! `/.well-known/nodeinfo` lists schema links; the highest `schema/2.x` one is read for
//! `software.name`, `software.version`, `usage.users.total` and `usage.users.activeMonth`.
//! A 404 means the server publishes none.

use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::model::snapshot::NodeInfo;
use crate::model::text::cleaned;
use crate::net::http::{Fetcher, Request, ACCEPT_JSON};

/// The longest software name or version kept, in characters (real ones are a few words).
const MAX_NAME: usize = 256;

const SCHEMA_PREFIX: &str = "http://nodeinfo.diaspora.software/ns/schema/";

/// The href of the highest 2.x schema in a discovery document.
pub fn best_link(discovery: &Value) -> Option<(String, String)> {
    let links = discovery.get("links")?.as_array()?;
    links
        .iter()
        .filter_map(|l| {
            let rel = l.get("rel")?.as_str()?;
            let version = rel.strip_prefix(SCHEMA_PREFIX)?.trim_end_matches('/');
            let href = l.get("href")?.as_str()?;
            version
                .starts_with("2.")
                .then(|| (version.to_string(), href.to_string()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
}

/// Read a NodeInfo document. Software name and version are one line of at most
/// [`MAX_NAME`] characters, control characters shown as `\u{1b}` ([`cleaned`]).
pub fn parse(schema: &str, doc: &Value) -> NodeInfo {
    let users = doc.pointer("/usage/users");
    NodeInfo {
        schema: schema.to_string(),
        software: doc
            .pointer("/software/name")
            .and_then(Value::as_str)
            .map(|s| cleaned(&s.to_ascii_lowercase(), MAX_NAME)),
        version: doc
            .pointer("/software/version")
            .and_then(Value::as_str)
            .map(|s| cleaned(s, MAX_NAME)),
        users_total: users.and_then(|u| u.get("total")).and_then(Value::as_u64),
        users_active_month: users.and_then(|u| u.get("activeMonth")).and_then(Value::as_u64),
    }
}

/// Fetch the NodeInfo of `origin`; `Ok(None)` when the server publishes none.
///
/// # Errors
/// Fetch errors other than 404, [`Error::Malformed`] for unreadable documents.
pub async fn fetch(f: &Fetcher, origin: &Url) -> Result<Option<NodeInfo>> {
    Ok(fetch_document(f, origin, false)
        .await?
        .map(|(schema, doc)| parse(&schema, &doc)))
}

/// The one NodeInfo walk (discovery document, then the highest 2.x schema's document): the
/// schema version and the document as served, for callers that judge its claims themselves;
/// `Ok(None)` when the server publishes none. `last`: the caller asks nothing more of the
/// host, so the document's connection is closed once it is answered ([`Request::last`]).
///
/// # Errors
/// As [`fetch`].
pub async fn fetch_document(f: &Fetcher, origin: &Url, last: bool) -> Result<Option<(String, Value)>> {
    let discovery_url = origin.join("/.well-known/nodeinfo").map_err(|e| Error::Malformed {
        url: origin.to_string(),
        message: format!("no NodeInfo URL under this origin: {e}"),
    })?;
    let page = f.get(&discovery_url, Request::accept(ACCEPT_JSON)).await?;
    if matches!(page.status, 404 | 410) {
        return Ok(None);
    }
    let discovery: Value = page.success()?.json()?;
    let Some((schema, href)) = best_link(&discovery) else {
        return Ok(None);
    };
    let url = discovery_url.join(&href).map_err(|e| Error::Malformed {
        url: discovery_url.to_string(),
        message: format!("bad nodeinfo href {href:?}: {e}"),
    })?;
    let req = Request {
        last,
        ..Request::accept(ACCEPT_JSON)
    };
    let page = f.get_ok(&url, req).await?;
    Ok(Some((schema, document(&page)?)))
}

/// A NodeInfo document as JSON. A number too large for a float (`1e400`, which serde_json
/// refuses) is read as the largest float of its sign, so the document stays readable and the
/// count is judged as far above any ceiling, as `1e308` is.
///
/// # Errors
/// [`Error::Malformed`] for a body that is no JSON even so, or JSON that is no object (an
/// array, a number: no NodeInfo document, so not counted as read).
pub fn document(page: &crate::net::http::Page) -> Result<Value> {
    let doc: Value = page.json().or_else(|e| {
        let clamped = std::str::from_utf8(&page.body).ok().and_then(clamp_huge_numbers);
        match clamped {
            Some(text) => serde_json::from_str(&text).map_err(|_| e),
            None => Err(e),
        }
    })?;
    if doc.is_object() {
        return Ok(doc);
    }
    Err(Error::Malformed {
        url: page.url.to_string(),
        message: "the NodeInfo document is not a JSON object".into(),
    })
}

/// `text` with every number outside strings that no float can hold written as the largest
/// float of its sign; `None` when there is none.
pub fn clamp_huge_numbers(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let (mut out, mut copied, mut changed) = (String::new(), 0, false);
    let (mut i, mut in_string, mut escaped) = (0, false, false);
    while i < b.len() {
        let c = b[i];
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            let token = &text[start..i];
            if token.parse::<f64>().is_ok_and(f64::is_infinite) {
                out.push_str(&text[copied..start]);
                out.push_str(if token.starts_with('-') {
                    "-1.7976931348623157e308"
                } else {
                    "1.7976931348623157e308"
                });
                (copied, changed) = (i, true);
            }
            continue;
        }
        i += 1;
    }
    changed.then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_highest_2x_schema() {
        let d = serde_json::json!({"links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": "https://x/nodeinfo/2.0"},
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": "https://x/nodeinfo/2.1"},
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/1.0", "href": "https://x/nodeinfo/1.0"}]});
        assert_eq!(best_link(&d), Some(("2.1".into(), "https://x/nodeinfo/2.1".into())));
        let doc = serde_json::json!({"software": {"name": "Mastodon", "version": "4.4.0"}, "usage": {"users": {"total": 2521598, "activeMonth": 303515}}});
        let n = parse("2.0", &doc);
        assert_eq!(
            (n.software.as_deref(), n.users_total, n.users_active_month),
            (Some("mastodon"), Some(2521598), Some(303515))
        );
    }

    #[test]
    fn a_number_no_float_holds_is_clamped_outside_strings_only() {
        let text = r#"{"name": "1e400 \" 1e999", "usage": {"users": {"total": 1e400, "activeMonth": -2E+999}}, "n": 12, "big": 1"#
            .to_string()
            + &"0".repeat(400)
            + "}";
        assert!(serde_json::from_str::<Value>(&text).is_err());
        let clamped = clamp_huge_numbers(&text).unwrap();
        let v: Value = serde_json::from_str(&clamped).unwrap();
        assert_eq!(v["name"], "1e400 \" 1e999");
        assert_eq!(v["usage"]["users"]["total"].as_f64(), Some(f64::MAX));
        assert_eq!(v["usage"]["users"]["activeMonth"].as_f64(), Some(-f64::MAX));
        assert_eq!((v["n"].as_u64(), v["big"].as_f64()), (Some(12), Some(f64::MAX)));
        // Nothing to clamp: the text is left to the parser's own error.
        assert_eq!(clamp_huge_numbers(r#"{"total": 1e308, "x": "1e400"}"#), None);
        assert_eq!(clamp_huge_numbers("{not json"), None);
    }
}
