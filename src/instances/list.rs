//! Reading an instance list: one domain a line, or the JSON lists instances.social
//! (`{"instances": [{"name": …}]}`) and fediverse.observer (`[{"domain": …}]`, or its GraphQL
//! API's answer `{"data": {"nodes": [{"domain": …}]}}`) export, told apart by content. URLs and handles are reduced to their host; every host is normalised as
//! instance hosts are elsewhere ([`InstanceHost`]). A bad entry is kept with its line (or its
//! item number in JSON) and why; it never stops the read.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::handle::{domain_problem, echo, Handle, InstanceHost};
use crate::model::text::cleaned;

/// The largest list read, in bytes (instances.social's full export is a few MB).
pub const MAX_LIST_BYTES: u64 = 256 * 1024 * 1024;

/// What kind of list a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One domain, URL or handle a line; `#` starts a comment.
    Lines,
    /// instances.social: `{"instances": [{"name": "host", "users": …}, …]}`.
    InstancesSocial,
    /// fediverse.observer: `[{"domain": "host", …}, …]` (plain strings are read too), or the
    /// same array as its GraphQL API answers it, `{"data": {"nodes": […]}}`.
    FediverseObserver,
}

/// An entry that names no usable host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadEntry {
    /// Line in a text list, item number (1-based) in a JSON list.
    pub line: u64,
    /// The entry as written, cut to a short echo.
    pub text: String,
    pub reason: String,
}

/// A list read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub format: Format,
    /// Each host once, in the order first met.
    pub hosts: Vec<InstanceHost>,
    /// Entries naming a host already listed.
    pub duplicates: usize,
    pub bad: Vec<BadEntry>,
}

/// Read the list in `path`.
///
/// # Errors
/// [`Error::File`] when it cannot be read, [`Error::Input`] when it is too large, not UTF-8,
/// or JSON of neither shape.
pub fn read(path: &Path) -> Result<List> {
    let file = |e| Error::File {
        what: "instance list",
        path: path.to_path_buf(),
        note: "",
        source: e,
    };
    let size = std::fs::metadata(path).map_err(file)?.len();
    if size > MAX_LIST_BYTES {
        return Err(Error::Input(format!(
            "instance list {}: {size} bytes, more than the {MAX_LIST_BYTES} read",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(file)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Input(format!("instance list {}: not UTF-8 text", path.display())))?;
    parse(&text).map_err(|why| Error::Input(format!("instance list {}: {why}", path.display())))
}

/// Read a list from its text; `Err` says why the text is no instance list.
pub fn parse(text: &str) -> std::result::Result<List, String> {
    // A byte-order mark (as Windows editors write) is no part of the first entry.
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    let mut list = List {
        format: Format::Lines,
        hosts: vec![],
        duplicates: 0,
        bad: vec![],
    };
    let mut seen = std::collections::HashSet::new();
    let mut add = |list: &mut List, line: u64, raw: &str| match host_of(raw) {
        Ok(h) if seen.insert(h.clone()) => list.hosts.push(h),
        Ok(_) => list.duplicates += 1,
        Err(reason) => list.bad.push(BadEntry {
            line,
            text: echo(raw),
            reason: reason.to_string(),
        }),
    };
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        for (i, line) in text.lines().enumerate() {
            let entry = strip_comment(line).trim();
            if !entry.is_empty() {
                add(&mut list, i as u64 + 1, entry);
            }
        }
        return Ok(list);
    }
    let doc: Value = serde_json::from_str(trimmed).map_err(|e| format!("not valid JSON ({e})"))?;
    let observer_api = || doc.get("data")?.get("nodes")?.as_array();
    let (format, items, key) = match &doc {
        Value::Object(o) => match (o.get("instances").and_then(Value::as_array), observer_api()) {
            (Some(items), _) => (Format::InstancesSocial, items, "name"),
            (None, Some(items)) => (Format::FediverseObserver, items, "domain"),
            (None, None) => {
                return Err(
                    graphql_errors(o).unwrap_or_else(|| format!("a JSON object of no shape read here ({SHAPES})"))
                )
            }
        },
        Value::Array(items) => (Format::FediverseObserver, items, "domain"),
        _ => return Err(format!("JSON that is neither an object nor an array ({SHAPES})")),
    };
    list.format = format;
    for (i, item) in items.iter().enumerate() {
        let line = i as u64 + 1;
        match item.get(key).or(Some(item)).and_then(Value::as_str) {
            Some(raw) => add(&mut list, line, raw),
            None => list.bad.push(BadEntry {
                line,
                text: echo(&item.to_string()),
                reason: format!("no \"{key}\" string"),
            }),
        }
    }
    Ok(list)
}

/// Characters of a GraphQL error message quoted at most.
const MAX_QUOTED: usize = 200;

/// Why a GraphQL answer with `errors` and no data is no list (fediverse.observer's API
/// answers a failed query so): the server's first message, escaped and cut short; `None`
/// for an object of another shape.
fn graphql_errors(o: &serde_json::Map<String, Value>) -> Option<String> {
    let errors = o.get("errors")?.as_array()?;
    // Quoted as a string literal: a `"` or `\` in the message is escaped, so the message
    // cannot close the quote and forge the rest of the line.
    let quoted = |m: &str| {
        let head: String = m.chars().take(MAX_QUOTED).collect();
        cleaned(&head.replace('\\', "\\\\").replace('"', "\\\""), usize::MAX)
    };
    let first = match errors.first()?.get("message").and_then(Value::as_str) {
        Some(m) if m.chars().nth(MAX_QUOTED).is_some() => format!("\"{}…\"", quoted(m)),
        Some(m) => format!("\"{}\"", quoted(m)),
        None => "no message".to_string(),
    };
    let n = errors.len();
    Some(format!(
        "the server answered GraphQL errors and no data: {first} ({n} error{} in all)",
        if n == 1 { "" } else { "s" }
    ))
}

/// The JSON shapes read, as an error names them.
const SHAPES: &str = "read: {\"instances\": [{\"name\": …}]} as instances.social exports, {\"data\": {\"nodes\": [{\"domain\": …}]}} as fediverse.observer's API answers, or an array of domains or of {\"domain\": …}";

/// `line` without its comment: `#` at the start or after white space.
fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return &line[..i];
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// The host an entry names: a domain, a URL's host, or a handle's domain.
fn host_of(raw: &str) -> std::result::Result<InstanceHost, &'static str> {
    // The full stops IDNA reads as '.' (ideographic, fullwidth, halfwidth ideographic).
    let raw = raw.trim().replace(['\u{3002}', '\u{ff0e}', '\u{ff61}'], ".");
    let raw = raw.as_str();
    let domain = if raw.contains("://") {
        let url = url::Url::parse(raw).map_err(|_| "not a URL a host can be read from")?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("URL is not http or https");
        }
        // The URL's host is judged as a bare entry is: an IP address (1.2.3.4, [::1], or
        // 2130706433, which the URL parser reads as 127.0.0.1) is refused the same way.
        url.host_str().ok_or("URL has no usable host")?.to_string()
    } else if raw.trim_start_matches('@').contains('@') {
        raw.parse::<Handle>().map_err(|_| "not a handle user@domain")?.domain
    } else {
        raw.trim_end_matches('/').to_string()
    };
    // A trailing dot (the DNS root) is normalised away, as in every instance host.
    let domain = domain.strip_suffix('.').unwrap_or(&domain).to_string();
    if let Some(why) = domain_problem(&domain) {
        return Err(in_survey_words(why));
    }
    InstanceHost::parse(&domain).ok_or("not a usable host name")
}

/// A domain problem in the words of an instance list, not of a handle.
fn in_survey_words(why: &'static str) -> &'static str {
    match why {
        crate::model::handle::IP_REFUSED => "IP addresses are not accepted: an instance is listed by its domain name",
        crate::model::handle::NO_DOT => "domain has no dot (an instance is a full name such as example.social)",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_urls_handles_comments_and_bad_lines() {
        let l = parse("# list\nMastodon.Social\nhttps://pixel.example/@a\n@bob@Chat.Example # a friend\n\nnot a host\nmastodon.social.\n").unwrap();
        let hosts: Vec<&str> = l.hosts.iter().map(InstanceHost::as_str).collect();
        assert_eq!(hosts, ["mastodon.social", "pixel.example", "chat.example"]);
        assert_eq!(l.duplicates, 1);
        assert_eq!(l.bad.len(), 1);
        assert_eq!((l.bad[0].line, l.bad[0].text.as_str()), (6, "not a host"));
    }

    #[test]
    fn an_ip_address_is_refused_however_it_is_written() {
        let l = parse("1.2.3.4\nhttps://1.2.3.4/\nhttp://2130706433/\nhttps://[::1]/\nhttps://[::ffff:127.1.0.2]:8443/x\nhttps://ok.example:8443/\n").unwrap();
        let hosts: Vec<&str> = l.hosts.iter().map(InstanceHost::as_str).collect();
        assert_eq!(hosts, ["ok.example"]);
        let bad: Vec<(u64, &str)> = l.bad.iter().map(|b| (b.line, b.reason.as_str())).collect();
        let ip = "IP addresses are not accepted: an instance is listed by its domain name";
        assert_eq!(bad, [(1, ip), (2, ip), (3, ip), (4, ip), (5, ip)]);
        let l = parse("localhost\n").unwrap();
        assert_eq!(
            l.bad[0].reason,
            "domain has no dot (an instance is a full name such as example.social)"
        );
    }

    #[test]
    fn a_byte_order_mark_and_fullwidth_dots_are_read_as_idna_reads_them() {
        let l = parse("\u{feff}first.example\nmastodon\u{3002}social\nfull\u{ff0e}example\nhalf\u{ff61}example.\n@a@b\u{3002}example\nhttps://c\u{ff0e}example/x\n").unwrap();
        let hosts: Vec<&str> = l.hosts.iter().map(InstanceHost::as_str).collect();
        assert_eq!(
            hosts,
            [
                "first.example",
                "mastodon.social",
                "full.example",
                "half.example",
                "b.example",
                "c.example"
            ]
        );
        assert_eq!((l.bad.len(), l.duplicates), (0, 0));
        let j = parse("\u{feff}[\"d\u{3002}example\"]").unwrap();
        assert_eq!(j.hosts[0].as_str(), "d.example");
    }

    #[test]
    fn both_json_shapes() {
        let s = parse(r#"{"instances":[{"name":"a.example","users":5},{"users":3}]}"#).unwrap();
        assert_eq!(
            (s.format, s.hosts.len(), s.bad[0].line),
            (Format::InstancesSocial, 1, 2)
        );
        let o = parse(r#"[{"domain":"b.example"},{"domain":"B.example"},"c.example"]"#).unwrap();
        assert_eq!(
            (o.format, o.hosts.len(), o.duplicates),
            (Format::FediverseObserver, 2, 1)
        );
        assert!(parse("{\"x\": 1}").is_err());
    }

    /// fediverse.observer's GraphQL API answer, `{"data": {"nodes": [...]}}`, is read as its
    /// array export; an object of another shape is refused naming the shapes read.
    #[test]
    fn the_observer_api_answer_is_read_and_another_object_names_the_shapes() {
        let text = include_str!("../../tests/fixtures/instances/observer-graphql.json");
        let l = parse(text).unwrap();
        let hosts: Vec<&str> = l.hosts.iter().map(InstanceHost::as_str).collect();
        assert_eq!(l.format, Format::FediverseObserver);
        assert_eq!(hosts, ["peertube.example", "video.example", "tube.example"]);
        assert_eq!((l.duplicates, l.bad.len(), l.bad[0].line), (1, 1, 4));
        assert_eq!(l.bad[0].reason, "no \"domain\" string");
        let why = parse(r#"{"data": {"node": []}}"#).unwrap_err();
        assert_eq!(why, format!("a JSON object of no shape read here ({SHAPES})"));
    }

    /// A GraphQL answer with `errors` and no data (a query fediverse.observer refused) says
    /// the server answered errors, quoting the first message escaped and cut short.
    #[test]
    fn a_graphql_answer_of_errors_quotes_its_first_message() {
        let why = parse(
            r#"{"errors": [{"message": "Cannot query field \"nodez\" on type \"Query\".\u001b[2J", "locations": [{"line": 1, "column": 3}]}, {"message": "second"}], "data": null}"#,
        )
        .unwrap_err();
        assert_eq!(
            why,
            "the server answered GraphQL errors and no data: \"Cannot query field \\\"nodez\\\" on type \\\"Query\\\".\\u{1b}[2J\" (2 errors in all)"
        );
        // A quote in the message cannot close the quote and forge the rest of the line.
        let why = parse(r#"{"errors": [{"message": "x\" (1 error in all) all fine \\"}]}"#).unwrap_err();
        assert_eq!(
            why,
            "the server answered GraphQL errors and no data: \"x\\\" (1 error in all) all fine \\\\\" (1 error in all)"
        );
        let long = format!(r#"{{"errors": [{{"message": "{}"}}]}}"#, "x".repeat(500));
        let why = parse(&long).unwrap_err();
        assert_eq!(
            why,
            format!(
                "the server answered GraphQL errors and no data: \"{}…\" (1 error in all)",
                "x".repeat(200)
            )
        );
        let why = parse(r#"{"errors": [{"path": ["nodes"]}]}"#).unwrap_err();
        assert_eq!(
            why,
            "the server answered GraphQL errors and no data: no message (1 error in all)"
        );
        let why = parse(r#"{"errors": []}"#).unwrap_err();
        assert_eq!(why, format!("a JSON object of no shape read here ({SHAPES})"));
    }
}
