//! What a request asks and what comes back: [`Page`], the user's [`Bearer`] token, the
//! options of one [`Request`], and the [`Journal`] a crawl records responses in.

use std::net::SocketAddr;

use reqwest::header::HeaderMap;
use url::Url;

use crate::error::{Error, Result};

/// A response, read in full (within the size limit).
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL that answered (after redirects).
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The address connected to.
    pub remote: Option<SocketAddr>,
}

impl Page {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the URL.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Malformed {
            url: self.url.to_string(),
            message: format!("invalid JSON: {e}"),
        })
    }

    /// Turn a non-2xx page into [`Error::Status`].
    ///
    /// # Errors
    /// [`Error::Status`] when the status is not 2xx.
    pub fn success(self) -> Result<Self> {
        if self.ok() {
            Ok(self)
        } else {
            Err(Error::Status {
                url: self.url.to_string(),
                status: self.status,
            })
        }
    }
}

/// The user's access token and the one origin it may ever be sent to.
#[derive(Clone, PartialEq, Eq)]
pub struct Bearer {
    token: String,
    home: url::Origin,
}

impl Bearer {
    /// `token`, to be sent only to the origin (scheme, host, port) of `home`.
    pub fn new(token: &str, home: &Url) -> Self {
        Bearer {
            token: token.to_string(),
            home: home.origin(),
        }
    }

    /// The token, if `url` is on its home origin.
    pub(super) fn for_url(&self, url: &Url) -> Option<&str> {
        (url.origin() == self.home).then_some(self.token.as_str())
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bearer(for {})", self.home.ascii_serialization())
    }
}

/// Options of one request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub accept: &'a str,
    /// Attached only to requests to the token's home origin, checked at every hop.
    pub bearer: Option<&'a Bearer>,
    /// Counts against the stricter paged-request budget.
    pub paged: bool,
    /// A body limit tighter than `network.max_body_bytes` for this request (actors).
    pub max_body: Option<u64>,
    /// The caller's last request to this host: its connection is closed once it is answered
    /// (`Connection: close`), not kept idle for a next request that will not come (a
    /// survey's NodeInfo document: a survey touching thousands of hosts otherwise holds the
    /// connections of every host of the last `network.idle_connection_secs` and more).
    pub last: bool,
}

impl<'a> Request<'a> {
    /// A plain request with this `Accept`.
    pub fn accept(accept: &'a str) -> Self {
        Request {
            accept,
            bearer: None,
            paged: false,
            max_body: None,
            last: false,
        }
    }
}

/// Where a crawl's responses are recorded, and answered from when the crawl resumes
/// (implemented by the snapshot store's journal). Keyed by URL, `Accept` and whether a token
/// was sent; never given the token.
pub trait Journal: Send + Sync {
    /// The response recorded earlier for this request, if any.
    fn replay(&self, url: &Url, accept: &str, authenticated: bool) -> Option<Page>;
    /// Record a response (waits while the recorder is behind).
    fn record<'a>(
        &'a self,
        url: &'a Url,
        accept: &'a str,
        authenticated: bool,
        page: &'a Page,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;
    /// A request (`retry`: a repeat of one that failed or was asked to wait) is about to go
    /// out on the network: resolves once that is recorded, so a crawl killed at any moment
    /// has counted every request a server may have seen (a resumed snapshot's `requests` is
    /// that of all its runs). The default records nothing.
    fn sending(&self, retry: bool) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        let _ = retry;
        Box::pin(std::future::ready(()))
    }
}
