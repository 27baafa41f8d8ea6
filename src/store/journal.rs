//! The response journal: every response a running snapshot's crawl receives is recorded
//! (through the writer, as it arrives), and a resumed crawl is answered from it without
//! touching the network. The crawl then replays deterministically to the point it had
//! reached and goes on from there. A snapshot's journal is deleted when it completes.
//!
//! A resume streams the journal: each request is one indexed look-up in the database (through
//! a read-only connection of its own), so a resumed crawl holds no more of the journal in
//! memory than the response it is replaying, however large the journal grew.
//!
//! Requests are keyed by URL, `Accept` and whether a token was sent; the token itself is
//! never recorded.
//!
//! Every request about to go out is first counted in the snapshot's row (the writer batches
//! the counts of requests sent together into one transaction), so the `requests` of a snapshot
//! that was killed and resumed is that of all its runs: robots.txt, retries, redirects and
//! requests cut off before their response was recorded included.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
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

/// What earlier runs of a snapshot recorded: where, and how many responses.
#[derive(Debug, Clone, Default)]
pub struct Earlier {
    db: Option<PathBuf>,
    responses: usize,
}

impl Earlier {
    /// The `responses` recorded for a snapshot in the database at `db`.
    pub fn new(db: PathBuf, responses: usize) -> Self {
        Earlier {
            db: Some(db),
            responses,
        }
    }

    /// How many responses earlier runs recorded.
    pub fn len(&self) -> usize {
        self.responses
    }

    /// Whether earlier runs recorded nothing.
    pub fn is_empty(&self) -> bool {
        self.responses == 0
    }
}

/// The journal of one running snapshot.
pub struct StoreJournal {
    snapshot: i64,
    tx: mpsc::Sender<Command>,
    /// A read-only connection to look earlier responses up, when there are any.
    earlier: Option<Mutex<Connection>>,
}

impl StoreJournal {
    /// A journal for `snapshot` that records through `writer` and replays what `earlier`
    /// runs recorded. When the database cannot be opened to read them, nothing is replayed
    /// (the requests are made again).
    pub fn new(snapshot: i64, writer: &super::Writer, earlier: Earlier) -> Self {
        let reader = match (&earlier.db, earlier.responses) {
            (Some(db), 1..) => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                Connection::open_with_flags(db, flags)
                    .and_then(|c| c.busy_timeout(std::time::Duration::from_secs(10)).map(|()| c))
                    .map_err(|e| tracing::warn!("journal not replayed ({}): {e}", db.display()))
                    .ok()
            }
            _ => None,
        };
        StoreJournal {
            snapshot,
            tx: writer.tx.clone(),
            earlier: reader.map(Mutex::new),
        }
    }

    fn look_up(
        &self,
        conn: &Connection,
        url: &Url,
        accept: &str,
        authenticated: bool,
    ) -> rusqlite::Result<Option<Entry>> {
        conn.prepare_cached(sql::JOURNAL_GET)?
            .query_row(params![self.snapshot, url.as_str(), accept, authenticated], |r| {
                Ok(Entry {
                    snapshot: self.snapshot,
                    url: url.to_string(),
                    accept: accept.to_string(),
                    authenticated,
                    final_url: r.get(0)?,
                    status: r.get(1)?,
                    headers: r.get(2)?,
                    body: r.get(3)?,
                    remote: r.get(4)?,
                })
            })
            .optional()
    }
}

impl Journal for StoreJournal {
    fn replay(&self, url: &Url, accept: &str, authenticated: bool) -> Option<Page> {
        let conn = self.earlier.as_ref()?.lock().ok()?;
        let entry = self.look_up(&conn, url, accept, authenticated).ok()??;
        page_of(entry)
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

    fn sending(&self, retry: bool) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let (ack, counted) = tokio::sync::oneshot::channel();
            // A closed writer (shutting down) counts nothing more; the crawl's own total
            // still does.
            if self.tx.send(Command::Sent(self.snapshot, retry, ack)).await.is_ok() {
                let _ = counted.await;
            }
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

fn page_of(e: Entry) -> Option<Page> {
    Some(Page {
        url: Url::parse(&e.final_url).ok()?,
        status: e.status,
        headers: decode_headers(&e.headers),
        body: e.body,
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

/// How many responses the journal of `snapshot` holds.
///
/// # Errors
/// SQLite errors.
pub fn count(conn: &Connection, snapshot: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql::JOURNAL_COUNT)?
        .query_row([snapshot], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))
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
