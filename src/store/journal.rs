//! The response journal: every response a running snapshot's crawl receives is recorded
//! (through the writer, as it arrives), and a resumed crawl is answered from it without
//! touching the network. The crawl then replays deterministically to the point it had
//! reached and goes on from there. A snapshot's journal is deleted when it completes.
//!
//! Requests are keyed by URL, `Accept` and whether a token was sent; the token itself is
//! never recorded.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rusqlite::{params, Connection};
use tokio::sync::mpsc;
use url::Url;

use super::sql;
use super::writer::Command;
use crate::net::http::{Journal, Page};

/// One recorded response.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub snapshot: i64,
    pub url: String,
    pub accept: String,
    pub authenticated: bool,
    pub final_url: String,
    pub status: u16,
    /// `name: value\n` lines.
    pub headers: Vec<u8>,
    pub body: Vec<u8>,
    pub remote: Option<String>,
}

type Key = (String, String, bool);

/// The journal of one running snapshot.
pub struct StoreJournal {
    snapshot: i64,
    tx: mpsc::Sender<Command>,
    earlier: HashMap<Key, Page>,
}

impl StoreJournal {
    /// A journal for `snapshot` that records through `writer` and replays `earlier`.
    pub fn new(snapshot: i64, writer: &super::Writer, earlier: Vec<Entry>) -> Self {
        let earlier = earlier
            .into_iter()
            .filter_map(|e| {
                let page = page_of(&e)?;
                Some(((e.url, e.accept, e.authenticated), page))
            })
            .collect();
        StoreJournal {
            snapshot,
            tx: writer.tx.clone(),
            earlier,
        }
    }
}

impl Journal for StoreJournal {
    fn replay(&self, url: &Url, accept: &str, authenticated: bool) -> Option<Page> {
        let key = (url.to_string(), accept.to_string(), authenticated);
        self.earlier.get(&key).cloned()
    }

    fn record<'a>(
        &'a self,
        url: &'a Url,
        accept: &'a str,
        authenticated: bool,
        page: &'a Page,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let entry = Entry {
            snapshot: self.snapshot,
            url: url.to_string(),
            accept: accept.to_string(),
            authenticated,
            final_url: page.url.to_string(),
            status: page.status,
            headers: encode_headers(&page.headers),
            body: page.body.clone(),
            remote: page.remote.map(|r| r.to_string()),
        };
        Box::pin(async move {
            // A closed writer (shutting down) loses the entry: the request is made again on resume.
            let _ = self.tx.send(Command::Journal(Box::new(entry))).await;
        })
    }
}

/// Headers as `name: value\n` lines (values never hold a newline).
pub fn encode_headers(headers: &HeaderMap) -> Vec<u8> {
    let mut out = vec![];
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

/// The headers of [`encode_headers`]; lines that do not parse are skipped.
pub fn decode_headers(bytes: &[u8]) -> HeaderMap {
    let mut out = HeaderMap::new();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Some(at) = line.windows(2).position(|w| w == b": ") else {
            continue;
        };
        let (name, value) = line.split_at(at);
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(&value[2..])) {
            out.append(n, v);
        }
    }
    out
}

fn page_of(e: &Entry) -> Option<Page> {
    Some(Page {
        url: Url::parse(&e.final_url).ok()?,
        status: e.status,
        headers: decode_headers(&e.headers),
        body: e.body.clone(),
        remote: e.remote.as_deref().and_then(|r| r.parse().ok()),
    })
}

/// Write `batch` in one transaction.
///
/// # Errors
/// SQLite errors.
pub fn write(conn: &Connection, batch: &[Entry]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut put = tx.prepare_cached(sql::JOURNAL_PUT)?;
        for e in batch {
            put.execute(params![
                e.snapshot,
                e.url,
                e.accept,
                e.authenticated,
                e.final_url,
                e.status,
                e.headers,
                e.body,
                e.remote
            ])?;
        }
    }
    tx.commit()
}

/// The journal of `snapshot`, oldest first.
///
/// # Errors
/// SQLite errors.
pub fn read(conn: &Connection, snapshot: i64) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(sql::JOURNAL_OF)?;
    let rows = stmt.query_map([snapshot], |r| {
        Ok(Entry {
            snapshot,
            url: r.get(0)?,
            accept: r.get(1)?,
            authenticated: r.get(2)?,
            final_url: r.get(3)?,
            status: r.get(4)?,
            headers: r.get(5)?,
            body: r.get(6)?,
            remote: r.get(7)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let mut h = HeaderMap::new();
        h.append("link", HeaderValue::from_static("<https://a.example/p2>; rel=\"next\""));
        h.append("x-ratelimit-remaining", HeaderValue::from_static("299"));
        h.append("link", HeaderValue::from_static("<https://a.example/p0>; rel=\"prev\""));
        let back = decode_headers(&encode_headers(&h));
        assert_eq!(back, h);
        assert_eq!(back.get_all("link").iter().count(), 2);
    }
}
