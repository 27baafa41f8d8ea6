//! The safe, polite HTTP client every fetch goes through.
//!
//! # Architecture
//! [`Fetcher::get`] checks the URL (https only unless `allow_http`; literal addresses through
//! the [`AddressGate`](crate::net::dns::AddressGate)), asks the host's robots.txt, passes the host's
//! gate ([`HostPool`]), sends, and reads at most `max_body_bytes`. Redirects are followed by
//! hand so each hop is checked, gated and robots-checked again (at most `max_redirects`).
//! 429, 502 and 503 are retried a bounded number of times, waiting for whatever the server
//! announced or an exponential back-off with jitter, whichever is longer; a server asking for
//! more than `network.max_wait_secs` fails the request instead. Host names are resolved by the
//! shared [`Dns`], so the address policy holds for every connection.
//!
//! Userinfo (`user:pass@`) is stripped from every URL before it is used. The user's token
//! ([`Bearer`]) is attached in one place, [`Fetcher`]'s single send, and only when that very
//! request goes to the token's home origin (scheme, host and port), whatever led there.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, LOCATION};
use tokio::sync::OnceCell;
use url::Url;

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::model::handle::InstanceHost;
use crate::net::dns::{ClientResolver, Dns};
use crate::net::progress::Progress;
use crate::net::ratelimit::{server_wait, HostGate, HostPool, ServerWait, REASON_BACKOFF, REASON_SERVER};

/// `Accept` for ActivityPub objects.
pub const ACCEPT_ACTIVITY: &str =
    "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
/// `Accept` for WebFinger.
pub const ACCEPT_JRD: &str = "application/jrd+json, application/json";
/// `Accept` for JSON APIs.
pub const ACCEPT_JSON: &str = "application/json";
/// `Accept` for host-meta.
pub const ACCEPT_XRD: &str = "application/xrd+xml, application/xml, text/xml";

/// The product token robots.txt rules are matched against.
pub const ROBOTS_AGENT: &str = "whohosts";

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
    fn for_url(&self, url: &Url) -> Option<&str> {
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
}

impl<'a> Request<'a> {
    /// A plain request with this `Accept`.
    pub fn accept(accept: &'a str) -> Self {
        Request {
            accept,
            bearer: None,
            paged: false,
            max_body: None,
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
}

enum Robots {
    Rules(texting_robots::Robot),
    AllowAll,
    Unavailable(String),
    /// The host could not be reached at all: its requests fail with this.
    Unreachable(Arc<Error>),
}

/// The client.
pub struct Fetcher {
    client: reqwest::Client,
    config: Arc<Config>,
    dns: Arc<Dns>,
    pool: HostPool,
    robots: Mutex<HashMap<String, Arc<OnceCell<Arc<Robots>>>>>,
    connected: Mutex<HashMap<String, IpAddr>>,
    journal: Option<Arc<dyn Journal>>,
}

impl Fetcher {
    /// Build the client from the config; names resolve through `dns`.
    ///
    /// # Errors
    /// [`Error::ConfigValue`] for a config that does not validate or when the TLS client cannot
    /// be built; [`Error::Io`] or [`Error::Config`] for an unreadable extra root certificate.
    pub fn new(config: Arc<Config>, dns: Arc<Dns>) -> Result<Self> {
        config.validate()?;
        // Installing twice is harmless: the first provider stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let net = &config.network;
        let mut roots = vec![];
        for path in &net.extra_root_certificates {
            let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            roots.extend(reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::Config {
                path: path.into(),
                message: format!("network.extra_root_certificates: not PEM certificates: {e}"),
            })?);
        }
        let client = reqwest::Client::builder()
            .tls_certs_merge(roots)
            .user_agent(config.user_agent())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config::seconds(net.connect_timeout_secs))
            .timeout(config::seconds(net.request_timeout_secs))
            .no_proxy()
            .dns_resolver(ClientResolver(dns.clone()))
            .build()
            .map_err(|e| Error::ConfigValue(format!("HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            pool: HostPool::new(config.clone()),
            config,
            dns,
            robots: Mutex::new(HashMap::new()),
            connected: Mutex::new(HashMap::new()),
            journal: None,
        })
    }

    /// Record every response [`Fetcher::get`] returns in `journal`, and answer from it the
    /// requests it already holds.
    pub fn with_journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Show waits for a host ("waiting 12 s for HOST (rate limit)") on this progress line.
    pub fn show_waits(&self, progress: &Progress) {
        self.pool.show_waits(progress.clone());
    }

    /// Requests sent and retries made so far, over all hosts.
    pub fn totals(&self) -> (u64, u64) {
        self.pool.totals()
    }

    /// The address last connected to for `host`, if any request reached it.
    pub fn connected(&self, host: &str) -> Option<IpAddr> {
        let map = self.connected.lock().expect("connected map lock is never poisoned");
        map.get(&host.to_ascii_lowercase()).copied()
    }

    /// Whether the client may fetch `url` at all (scheme, literal address).
    ///
    /// # Errors
    /// [`Error::Refused`] saying why.
    pub fn check_url(&self, url: &Url) -> Result<()> {
        let refuse = |reason: String| refusal(url, reason);
        match url.scheme() {
            "https" => {}
            "http" if self.config.network.allow_http => {}
            "http" => return Err(refuse("plain http is not allowed (network.allow_http = false)".into())),
            other => return Err(refuse(format!("scheme {other:?} is not fetched"))),
        }
        let host = url.host_str().ok_or_else(|| refuse("no host".into()))?;
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            if let Some(why) = self.dns.gate().check(ip) {
                return Err(refuse(format!(
                    "{ip} is {why} (network.allow_private_addresses does not allow it)"
                )));
            }
        }
        Ok(())
    }

    /// GET `url`, obeying robots.txt, following redirects, retrying 429/502/503.
    /// Any other status is returned as a [`Page`] for the caller to judge.
    ///
    /// # Errors
    /// [`Error::Refused`], [`Error::RobotsDisallowed`], [`Error::Transport`],
    /// [`Error::TooLarge`], [`Error::RetriesExhausted`].
    pub async fn get(&self, url: &Url, req: Request<'_>) -> Result<Page> {
        let Some(journal) = &self.journal else {
            return self.fetch(url, req, true).await;
        };
        let authenticated = req.bearer.is_some();
        if let Some(page) = journal.replay(url, req.accept, authenticated) {
            if let (Some(addr), Some(host)) = (page.remote, page.url.host_str()) {
                self.note_connected(host, addr.ip());
            }
            return Ok(page);
        }
        let page = self.fetch(url, req, true).await?;
        journal.record(url, req.accept, authenticated, &page).await;
        Ok(page)
    }

    fn note_connected(&self, host: &str, ip: IpAddr) {
        let mut map = self.connected.lock().expect("connected map lock is never poisoned");
        map.insert(host.to_ascii_lowercase(), ip);
    }

    async fn fetch(&self, url: &Url, req: Request<'_>, robots: bool) -> Result<Page> {
        let mut current = without_userinfo(url);
        for _hop in 0..=self.config.network.max_redirects {
            self.check_url(&current)?;
            if robots {
                self.obey_robots(&current).await?;
            }
            let page = self.with_retries(&current, req).await?;
            match redirect_target(&page) {
                Some(next) => current = without_userinfo(&next),
                None => return Ok(page),
            }
        }
        let max = self.config.network.max_redirects;
        Err(refusal(&without_userinfo(url), format!("more than {max} redirects")))
    }

    /// GET and require 2xx.
    ///
    /// # Errors
    /// As [`Fetcher::get`], plus [`Error::Status`] for a non-2xx answer.
    pub async fn get_ok(&self, url: &Url, req: Request<'_>) -> Result<Page> {
        self.get(url, req).await?.success()
    }

    async fn with_retries(&self, url: &Url, req: Request<'_>) -> Result<Page> {
        let gate = self.pool.gate(url.host_str().unwrap_or_default());
        let host = gate.host().to_string();
        let net = &self.config.network;
        let max_wait = self.max_wait();
        let mut attempt = 0;
        loop {
            let Some(pass) = self.pool.enter(&gate, req.paged).await else {
                return Err(self.over_wait_budget(&gate, url));
            };
            let sent = self.send_once(url, req).await;
            drop(pass);
            let page = sent?;
            let retryable = matches!(page.status, 429 | 502 | 503);
            match server_wait(page.status, &page.headers, SystemTime::now(), max_wait) {
                ServerWait::Pause(wait) => gate.pause_for(wait, REASON_SERVER),
                ServerWait::TooLong(wait) if retryable => return Err(self.wait_too_long(url, &host, wait)),
                ServerWait::TooLong(_) | ServerWait::None => {}
            }
            if !retryable {
                return Ok(page);
            }
            if attempt >= net.max_retries {
                return Err(Error::RetriesExhausted {
                    url: url.to_string(),
                    attempts: attempt.saturating_add(1),
                    status: page.status,
                });
            }
            self.back_off(&gate, url, attempt, page.status);
            attempt += 1;
        }
    }

    /// A transport error in a few words (see [`Error::transport`]), the whole chain at debug.
    fn transport(&self, url: &Url, e: &reqwest::Error) -> Error {
        tracing::debug!(url = %url, detail = %crate::error::chain(e), "transport error");
        let net = &self.config.network;
        let limit = if e.is_connect() {
            net.connect_timeout_secs
        } else {
            net.request_timeout_secs
        };
        Error::transport(url, e, limit)
    }

    /// `network.max_wait_secs`.
    fn max_wait(&self) -> Duration {
        config::seconds(self.config.network.max_wait_secs)
    }

    /// Why a request to a host over its wait budget is refused.
    fn over_wait_budget(&self, gate: &HostGate, url: &Url) -> Error {
        let budget_secs = self.config.network.max_host_wait_secs;
        let err = Error::HostWaitBudget {
            url: url.to_string(),
            host: gate.host().to_string(),
            budget_secs,
        };
        tracing::info!(host = %gate.host(), url = %url, "refused: {err}");
        err
    }

    fn wait_too_long(&self, url: &Url, host: &str, wait: Duration) -> Error {
        let err = Error::WaitTooLong {
            url: url.to_string(),
            host: host.to_string(),
            wait_secs: wait.as_secs(),
            max_secs: self.config.network.max_wait_secs,
        };
        tracing::info!(host = %host, url = %url, wait_secs = wait.as_secs(), "refused: {err}");
        err
    }

    /// Pause the host for an exponential back-off with jitter, never above `max_wait_secs`.
    fn back_off(&self, gate: &HostGate, url: &Url, attempt: u32, status: u16) {
        gate.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = self.config.network.retry_base_secs * 2f64.powi(attempt.min(16) as i32);
        let jittered = base * (1.0 + fastrand::f64() * 0.5);
        let wait = config::seconds(jittered).min(self.max_wait());
        tracing::info!(host = %gate.host(), url = %url, status, attempt = attempt + 1, wait_secs = wait.as_secs_f64(), "retrying");
        gate.pause_for(wait, REASON_BACKOFF);
    }

    async fn send_once(&self, url: &Url, req: Request<'_>) -> Result<Page> {
        if let Some(host) = url
            .host_str()
            .filter(|h| h.parse::<IpAddr>().is_err() && !h.starts_with('['))
        {
            // Resolve first so a barred address gives a clean one-line refusal.
            self.dns.connectable(host).await.inspect_err(|e| {
                if let Error::Refused { reason, .. } = e {
                    tracing::info!(host = %host, url = %url, "refused: {reason}");
                }
            })?;
        }
        let mut builder = self.client.get(without_userinfo(url)).header(ACCEPT, req.accept);
        if let Some(token) = req.bearer.and_then(|b| b.for_url(url)) {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let host = url.host_str().unwrap_or_default();
        tracing::debug!(host = %host, url = %url, "request");
        let mut resp = builder.send().await.map_err(|e| self.transport(url, &e))?;
        tracing::debug!(host = %host, url = %url, status = resp.status().as_u16(), "response");
        let limit = req.max_body.map_or(self.config.network.max_body_bytes, |m| {
            m.min(self.config.network.max_body_bytes)
        });
        let too_large = || Error::TooLarge {
            url: url.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(url, &e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if let (Some(addr), Some(host)) = (resp.remote_addr(), url.host_str()) {
            self.note_connected(host, addr.ip());
        }
        Ok(Page {
            url: url.clone(),
            status: resp.status().as_u16(),
            remote: resp.remote_addr(),
            headers: resp.headers().clone(),
            body,
        })
    }

    /// Boxed with an explicit `Send`: robots.txt is fetched through [`Fetcher::fetch`] itself.
    fn obey_robots<'a>(
        &'a self,
        url: &'a Url,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            // One robots.txt per origin, the host normalised as instance hosts are (no
            // trailing dot): `host.` and `host` share one.
            let origin = format!(
                "{}://{}:{}",
                url.scheme(),
                InstanceHost::new(url.host_str().unwrap_or_default()),
                url.port_or_known_default().unwrap_or_default()
            );
            let cell = {
                let mut map = self.robots.lock().expect("robots map lock is never poisoned");
                map.entry(origin.clone()).or_default().clone()
            };
            let robots = cell
                .get_or_init(|| async {
                    let mut robots_url = url.clone();
                    robots_url.set_path("/robots.txt");
                    robots_url.set_query(None);
                    robots_url.set_fragment(None);
                    let robots = Arc::new(
                        match self.fetch(&robots_url, Request::accept("text/plain"), false).await {
                            Ok(p) if p.ok() => parse_robots(&p.body).map_or(Robots::AllowAll, Robots::Rules),
                            Ok(p) if (400..500).contains(&p.status) => Robots::AllowAll,
                            Ok(p) => Robots::Unavailable(format!("HTTP {}", p.status)),
                            // 502/503 retried to the end are still "unavailable" (RFC 9309).
                            Err(Error::RetriesExhausted { status, attempts, .. }) if status >= 500 => {
                                Robots::Unavailable(format!("HTTP {status} after {attempts} attempts"))
                            }
                            Err(e) => Robots::Unreachable(Arc::new(e)),
                        },
                    );
                    if let Robots::Rules(rules) = robots.as_ref() {
                        self.space_requests(url, rules.delay);
                    }
                    robots
                })
                .await;
            let host = url.host_str().unwrap_or_default().to_string();
            match robots.as_ref() {
                Robots::AllowAll => Ok(()),
                Robots::Rules(r) if r.allowed(url.as_str()) => Ok(()),
                Robots::Rules(_) => {
                    tracing::info!(host = %host, url = %url, "refused: robots.txt disallows it");
                    Err(Error::RobotsDisallowed {
                        host,
                        path: path_and_query(url),
                    })
                }
                Robots::Unreachable(e) => Err(Error::Again(e.clone())),
                Robots::Unavailable(why) => Err(refusal(
                    url,
                    format!("robots.txt unavailable ({why}), so the host is not crawled (RFC 9309)"),
                )),
            }
        })
    }
}

impl Fetcher {
    /// Space requests to `url`'s host by its robots.txt `Crawl-delay` (seconds), capped at
    /// `network.max_wait_secs`; a delay that is not a positive finite number is ignored.
    fn space_requests(&self, url: &Url, delay: Option<f32>) {
        let Some(secs) = delay.map(f64::from).filter(|d| d.is_finite() && *d > 0.0) else {
            return;
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let wait = config::seconds(secs).min(self.max_wait());
        tracing::info!(host = %host, delay_secs = wait.as_secs_f64(), "robots.txt Crawl-delay");
        self.pool.gate(&host).set_crawl_delay(wait);
    }
}

/// The rules of a robots.txt `body` for [`ROBOTS_AGENT`]; `None` (allow everything) when the
/// body is not a robots.txt at all.
pub fn parse_robots(body: &[u8]) -> Option<texting_robots::Robot> {
    texting_robots::Robot::new(ROBOTS_AGENT, body).ok()
}

/// An [`Error::Refused`] for `url`, logged (info) with its host.
fn refusal(url: &Url, reason: String) -> Error {
    tracing::info!(host = %url.host_str().unwrap_or_default(), url = %url, "refused: {reason}");
    Error::Refused {
        url: url.to_string(),
        reason,
    }
}

/// `url` without `user:pass@`: userinfo is never sent (reqwest would turn it into a Basic
/// `Authorization` header).
pub fn without_userinfo(url: &Url) -> Url {
    let mut clean = url.clone();
    // Both fail only for URLs that cannot have userinfo at all (no host), which have none.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

fn redirect_target(page: &Page) -> Option<Url> {
    if !matches!(page.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = page.headers.get(LOCATION)?.to_str().ok()?;
    page.url.join(location).ok()
}
