//! The safe, polite HTTP client every fetch goes through.
//!
//! # Architecture
//! [`Fetcher::get`] checks the URL (https only unless `allow_http`; literal addresses through
//! the [`AddressGate`](crate::net::dns::AddressGate)), asks the host's robots.txt, passes the host's
//! gate ([`HostPool`]), sends, and reads at most `max_body_bytes`. Redirects are followed by
//! hand so each hop is checked, gated and robots-checked again (at most `max_redirects`).
//! 429, 502 and 503 are retried a bounded number of times, waiting for whatever the server
//! announced or an exponential back-off with jitter, whichever is longer; a server asking for
//! more than `network.max_wait_secs` fails the request instead. A connection reset or closed
//! before the whole response arrived, and a timeout, are retried the same way (every request
//! is an idempotent GET); a refused connection and a DNS failure are not. Host names are resolved by the
//! shared [`Dns`], so the address policy holds for every connection.
//!
//! Userinfo (`user:pass@`) is stripped from every URL before it is used. The user's token
//! ([`Bearer`]) is attached in one place, [`Fetcher`]'s single send, and only when that very
//! request goes to the token's home origin (scheme, host and port), whatever led there.
//!
//! The request and response types are in `request` (re-exported here), the retry loop and its
//! waits in `retry`, robots.txt in `robots`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONNECTION, LOCATION};
use tokio::sync::OnceCell;
use url::Url;

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::net::dns::{ClientResolver, Dns};
use crate::net::progress::Progress;
use crate::net::ratelimit::HostPool;

mod budget;
mod request;
mod retry;
mod robots;

pub use request::{Bearer, Journal, Page, Request};
use retry::Failure;
use robots::Robots;
pub use robots::{parse_robots, ROBOTS_AGENT};

/// `Accept` for ActivityPub objects.
pub const ACCEPT_ACTIVITY: &str =
    "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
/// `Accept` for WebFinger.
pub const ACCEPT_JRD: &str = "application/jrd+json, application/json";
/// `Accept` for JSON APIs.
pub const ACCEPT_JSON: &str = "application/json";
/// `Accept` for host-meta.
pub const ACCEPT_XRD: &str = "application/xrd+xml, application/xml, text/xml";

/// One origin's robots.txt, fetched once by whichever request asks first.
type RobotsCell = Arc<OnceCell<Arc<Robots>>>;

/// What one origin's host-meta said, asked once by whichever WebFinger lookup needs it first
/// ([`Fetcher::host_meta`]): its LRDD template, or why there is none (the failure itself,
/// given again to every later lookup).
pub type HostMetaCell = Arc<OnceCell<std::result::Result<String, Arc<Error>>>>;

/// The client.
pub struct Fetcher {
    client: reqwest::Client,
    /// The same client without a pool of idle connections: a retry after a transport failure
    /// goes out on a connection of its own, never on another kept-alive one of the host that
    /// may fail the same way (a server or middlebox that drops every reused connection).
    unpooled: reqwest::Client,
    config: Arc<Config>,
    dns: Arc<Dns>,
    pool: HostPool,
    /// robots.txt of each origin, keyed by host (normalised) and origin.
    robots: Mutex<HashMap<(String, String), RobotsCell>>,
    /// host-meta of each origin, keyed by host (normalised) and origin.
    host_meta: Mutex<HashMap<(String, String), HostMetaCell>>,
    connected: Mutex<HashMap<String, IpAddr>>,
    /// The hosts forgotten last ([`Fetcher::forget`]), oldest first, at most [`KEPT_FORGOTTEN`]:
    /// their robots.txt answers, address and DNS answer are still kept.
    forgotten: Mutex<VecDeque<String>>,
    journal: Option<Arc<dyn Journal>>,
    /// Requests charged, against the limit ([`budget`]).
    budget: Mutex<budget::Budget>,
    /// Nanoseconds on the network and body bytes received ([`Fetcher::time_split`]).
    network_ns: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

/// The hosts [`Fetcher::forget`] lets go of last whose robots.txt answers, address connected
/// to and DNS answer (for its TTL) are still kept, so a host met again soon after (a list
/// entry whose NodeInfo links to a host surveyed before) is not asked them again: a bounded
/// record, not one per host met.
pub const KEPT_FORGOTTEN: usize = 256;

/// Where a run's request time went ([`Fetcher::time_split`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeSplit {
    /// Time on the network, summed over requests (concurrent requests each count).
    pub network: std::time::Duration,
    /// Time waiting for the host's gate (limiters, pauses, slots), summed over requests.
    pub waiting: std::time::Duration,
    /// Bytes of the bodies received.
    pub bytes: u64,
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
        let build = |idle_per_host: usize| {
            reqwest::Client::builder()
                .tls_certs_merge(roots.clone())
                .user_agent(config.user_agent())
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(config::seconds(net.connect_timeout_secs))
                .timeout(config::seconds(net.request_timeout_secs))
                .no_proxy()
                .pool_idle_timeout(config::seconds(net.idle_connection_secs))
                .pool_max_idle_per_host(idle_per_host)
                .dns_resolver(ClientResolver(dns.clone()))
                .build()
                .map_err(|e| Error::ConfigValue(format!("HTTP client: {e}")))
        };
        // An idle timeout of 0 keeps no connection at all (hyper's pool reaps expired
        // connections only for a non-zero timeout: a zero one kept every connection it had).
        let client = build(match net.idle_connection_secs > 0.0 {
            true => usize::MAX,
            false => 0,
        })?;
        let unpooled = build(0)?;
        Ok(Fetcher {
            client,
            unpooled,
            pool: HostPool::new(config.clone()),
            config,
            dns,
            robots: Mutex::new(HashMap::new()),
            host_meta: Mutex::new(HashMap::new()),
            connected: Mutex::new(HashMap::new()),
            forgotten: Mutex::new(VecDeque::new()),
            budget: Mutex::default(),
            network_ns: std::sync::atomic::AtomicU64::new(0),
            bytes: std::sync::atomic::AtomicU64::new(0),
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

    /// The fan-out lane of a request to `host` ([`crate::net::fanout::run_fair`]): the host
    /// (lower case), its cap on requests in flight, and whether it is slow (it stalled).
    pub fn lane(&self, host: &str) -> (String, crate::net::fanout::Cap) {
        let host = host.to_ascii_lowercase();
        let jobs = self.config.host_budget(&host).1;
        let slow = self.pool.is_slow(&host);
        (host, crate::net::fanout::Cap { jobs, slow })
    }

    /// Requests sent and retries made so far, over all hosts.
    pub fn totals(&self) -> (u64, u64) {
        self.pool.totals()
    }

    /// The caller has made its last request to `host` (a survey, once it has read the host's
    /// NodeInfo and attributed it): what the client keeps of the host is let go, so a run
    /// over many hosts holds the state of the hosts in flight and of the last
    /// [`KEPT_FORGOTTEN`] forgotten, not of every host met. Its gate (limiters, slots, pauses)
    /// goes once dropping it loses nothing ([`HostPool::forget`]), so a host asked again is
    /// limited as before (its robots.txt `Crawl-delay` is set again on its new gate). Its
    /// robots.txt answers, the address connected to and its DNS answer are kept until
    /// [`KEPT_FORGOTTEN`] hosts have been forgotten after it: a host met again before that
    /// (a list entry whose NodeInfo links to a host surveyed before) is not asked them again;
    /// one met later fetches and resolves them anew.
    pub fn forget(&self, host: &str) {
        let host = crate::model::handle::InstanceHost::new(host);
        let host = host.as_str();
        self.pool.forget(host);
        let oldest = {
            let mut forgotten = self.forgotten.lock().expect("forgotten hosts lock is never poisoned");
            if let Some(i) = forgotten.iter().position(|h| h == host) {
                // Forgotten again: kept as long as if forgotten first now.
                forgotten.remove(i);
            }
            forgotten.push_back(host.to_string());
            match forgotten.len() > KEPT_FORGOTTEN {
                true => forgotten.pop_front(),
                false => None,
            }
        };
        let Some(host) = oldest else { return };
        {
            let mut robots = self.robots.lock().expect("robots map lock is never poisoned");
            robots.retain(|(h, _), _| *h != host);
        }
        {
            let mut host_meta = self.host_meta.lock().expect("host-meta map lock is never poisoned");
            host_meta.retain(|(h, _), _| *h != host);
        }
        self.forget_charges(&host);
        self.connected
            .lock()
            .expect("connected map lock is never poisoned")
            .remove(&host);
        self.dns.forget(&host);
    }

    /// What `origin`'s host-meta said, for the run: one cell per origin, which the WebFinger
    /// lookup that needs it first fills (`crate::protocol::webfinger`), so a host whose
    /// WebFinger does not know many handles is asked its host-meta once, not once a handle.
    /// Let go by [`Fetcher::forget`], as robots.txt is.
    pub fn host_meta(&self, host: &str, origin: &str) -> HostMetaCell {
        let key = (
            crate::model::handle::InstanceHost::new(host).as_str().to_string(),
            origin.to_string(),
        );
        let mut map = self.host_meta.lock().expect("host-meta map lock is never poisoned");
        map.entry(key).or_default().clone()
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
            self.charge_replayed(url, &page.url)?;
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

    /// GET `url`, following redirects: the one place redirects are decided. A redirect back
    /// to a URL already asked is refused as a loop, and one to an address the policy bars as
    /// such, each saying why (`redirect loop after 2 hops`, `redirect to a link-local
    /// address 169.254.169.254 (…)`); more than `max_redirects` are refused.
    async fn fetch(&self, url: &Url, req: Request<'_>, robots: bool) -> Result<Page> {
        let first = without_userinfo(url);
        let mut current = first.clone();
        let mut asked: Vec<Url> = vec![];
        for hop in 0..=self.config.network.max_redirects {
            if hop > 0 {
                self.check_redirect(&current).await?;
            }
            self.check_url(&current)?;
            if robots {
                self.obey_robots(&current).await?;
            }
            // robots.txt itself was charged when its origin was first asked.
            let paid = !robots && hop == 0;
            let page = self.with_retries(&current, req, paid).await?;
            let Some(next) = redirect_target(&page) else {
                return Ok(page);
            };
            let next = without_userinfo(&next);
            asked.push(current);
            if asked.contains(&next) {
                let hops = hop + 1;
                let s = if hops == 1 { "" } else { "s" };
                return Err(refusal(&first, format!("redirect loop after {hops} hop{s}")));
            }
            current = next;
        }
        let max = self.config.network.max_redirects;
        Err(refusal(&first, format!("more than {max} redirects")))
    }

    /// Refuse redirect target `url` when the address it names or resolves to is one the
    /// policy bars (every address of its host, as [`Dns::connectable`] judges them).
    async fn check_redirect(&self, url: &Url) -> Result<()> {
        let Some(host) = url.host_str().filter(|_| matches!(url.scheme(), "http" | "https")) else {
            // No host, or a scheme never fetched: `check_url` says so.
            return Ok(());
        };
        let barred = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => self.dns.gate().check(ip).map(|why| (ip, why)),
            Err(_) => self.dns.barred(host).await,
        };
        match barred {
            Some((ip, why)) => Err(refusal(
                url,
                format!("redirect to a {why} address {ip} (network.allow_private_addresses does not allow it)"),
            )),
            None => Ok(()),
        }
    }

    /// GET and require 2xx.
    ///
    /// # Errors
    /// As [`Fetcher::get`], plus [`Error::Status`] for a non-2xx answer.
    pub async fn get_ok(&self, url: &Url, req: Request<'_>) -> Result<Page> {
        self.get(url, req).await?.success()
    }

    /// A transport error in a few words (see [`Error::transport`]), the whole chain at debug;
    /// transient when [`retry::transient`] says a new attempt may succeed.
    /// `timeout` is the time the request was given ([`crate::net::ratelimit::Pass::timeout`]).
    fn transport(&self, url: &Url, e: &reqwest::Error, timeout: std::time::Duration) -> Failure {
        tracing::debug!(url = %Logged(url), detail = %scrubbed(crate::error::chain(e)), "transport error");
        let given = timeout.as_millis() as f64 / 1000.0;
        let limit = if e.is_connect() {
            self.config.network.connect_timeout_secs.min(given)
        } else {
            given
        };
        Failure {
            error: Error::transport(url, e, limit),
            transient: retry::transient(e),
            timed_out: crate::error::timed_out(e),
        }
    }

    /// One attempt on the network, its time and the bytes of its body counted in
    /// [`Fetcher::time_split`].
    async fn send_once(
        &self,
        url: &Url,
        req: Request<'_>,
        timeout: std::time::Duration,
        fresh: bool,
    ) -> std::result::Result<Page, Failure> {
        let started = std::time::Instant::now();
        let sent = self.exchange(url, req, timeout, fresh).await;
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let bytes = sent.as_ref().map_or(0, |p| p.body.len() as u64);
        let add = |c: &std::sync::atomic::AtomicU64, n: u64| {
            let _ = c.fetch_update(Relaxed, Relaxed, |t| Some(t.saturating_add(n)));
        };
        add(&self.network_ns, ns);
        add(&self.bytes, bytes);
        sent
    }

    /// Where the requests' time went so far, summed over requests: on the network (connect,
    /// send, receive) and waiting to be let through (politeness: limiters, pauses, slots);
    /// and the bytes of the bodies received.
    pub fn time_split(&self) -> TimeSplit {
        TimeSplit {
            network: std::time::Duration::from_nanos(self.network_ns.load(Relaxed)),
            waiting: self.pool.waited(),
            bytes: self.bytes.load(Relaxed),
        }
    }

    /// One GET of `url` within `timeout` (connection, answer and body); on a connection of its
    /// own when `fresh` (a retry after a transport failure), else on a kept-alive one if the
    /// host has one idle.
    async fn exchange(
        &self,
        url: &Url,
        req: Request<'_>,
        timeout: std::time::Duration,
        fresh: bool,
    ) -> std::result::Result<Page, Failure> {
        if let Some(host) = url
            .host_str()
            .filter(|h| h.parse::<IpAddr>().is_err() && !h.starts_with('['))
        {
            // Resolve first so a barred address gives a clean one-line refusal.
            self.dns.connectable(host).await.inspect_err(|e| {
                if let Error::Refused { reason, .. } = e {
                    tracing::info!(host = %host, url = %Logged(url), "refused: {}", scrubbed(reason));
                }
            })?;
        }
        let client = if fresh { &self.unpooled } else { &self.client };
        let mut builder = client
            .get(without_userinfo(url))
            .header(ACCEPT, req.accept)
            .timeout(timeout);
        if let Some(token) = req.bearer.and_then(|b| b.for_url(url)) {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if req.last {
            builder = builder.header(CONNECTION, "close");
        }
        let host = url.host_str().unwrap_or_default();
        tracing::debug!(host = %host, url = %Logged(url), "request");
        let mut resp = builder.send().await.map_err(|e| self.transport(url, &e, timeout))?;
        tracing::debug!(host = %host, url = %Logged(url), status = resp.status().as_u16(), "response");
        let limit = req.max_body.map_or(self.config.network.max_body_bytes, |m| {
            m.min(self.config.network.max_body_bytes)
        });
        let too_large = || Error::TooLarge {
            url: url.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large().into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(url, &e, timeout))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large().into());
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
}

/// What the client's log lines say of a request's URL: its origin and the kind of request,
/// `https://host.example/<webfinger>`, never its path or query, which may name an account
/// (WebFinger's `resource=acct:…`, an actor's or its lists' paths), an account that turns out
/// to have opted out included. Every log line of the client names a URL through this.
pub struct Logged<'a>(pub &'a Url);

impl std::fmt::Display for Logged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let u = self.0;
        let path = u.path();
        let kind = if path == "/robots.txt" {
            "robots.txt"
        } else if path.starts_with("/.well-known/webfinger") {
            "webfinger"
        } else if path.starts_with("/.well-known/host-meta") {
            "host-meta"
        } else if path.starts_with("/.well-known/nodeinfo") || path.starts_with("/nodeinfo") {
            "nodeinfo"
        } else if path.contains("/following") || path.contains("/followers") {
            "follow-list"
        } else if path.starts_with("/api/") {
            "api"
        } else {
            "actor-or-page"
        };
        write!(f, "{}://{}", u.scheme(), u.host_str().unwrap_or_default())?;
        if let Some(port) = u.port() {
            write!(f, ":{port}")?;
        }
        write!(f, "/<{kind}>")
    }
}

/// `text` (an error's message) for a log line: every http(s) URL in it written as [`Logged`]
/// (origin and kind), whichever request it names (the one asked, a redirect's target, the URL
/// a redirect came from), and every `acct:user@host` as `acct:…@host`. Every log line that
/// carries an error's text takes it through here.
pub fn scrubbed(text: impl std::fmt::Display) -> String {
    let text = text.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = next_name(rest) {
        let (before, tail) = rest.split_at(i);
        out.push_str(before);
        // A URL or `acct:` runs to the next space or quote; closing punctuation after it
        // (`)`, `.`, `,`, `;`, `:`) is the sentence's, kept outside.
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(tail.len());
        let (token, after) = tail.split_at(end);
        let bare = token.trim_end_matches([')', ']', '.', ',', ';', ':', '!', '?']);
        match tail.starts_with("acct:") {
            true => match bare.rsplit_once('@') {
                Some((_, host)) => out.push_str(&format!("acct:…@{host}")),
                None => out.push_str("acct:…"),
            },
            false => match Url::parse(bare) {
                Ok(u) => out.push_str(&Logged(&u).to_string()),
                Err(_) => out.push_str("<url>"),
            },
        }
        out.push_str(&token[bare.len()..]);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Where the next URL (`http://`, `https://`, any case) or `acct:` reference in `text` starts.
fn next_name(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    ["http://", "https://", "acct:"]
        .iter()
        .filter_map(|p| lower.find(p))
        .min()
}

/// An [`Error::Refused`] for `url`, logged (info) with its host.
fn refusal(url: &Url, reason: String) -> Error {
    tracing::info!(host = %url.host_str().unwrap_or_default(), url = %Logged(url), "refused: {}", scrubbed(&reason));
    // A URL a server chose (a redirect's target) is cut: the refusal is said on one line, and
    // stored as a failure's message.
    let url = crate::model::text::marked(url.as_str(), MAX_URL_SHOWN).into_owned();
    Error::Refused { url, reason }
}

/// The characters of a refused URL said in its refusal (a longer one is cut, marked `…`).
const MAX_URL_SHOWN: usize = 200;

/// `url` without `user:pass@`: userinfo is never sent (reqwest would turn it into a Basic
/// `Authorization` header).
pub fn without_userinfo(url: &Url) -> Url {
    let mut clean = url.clone();
    // Both fail only for URLs that cannot have userinfo at all (no host), which have none.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean
}

fn redirect_target(page: &Page) -> Option<Url> {
    if !matches!(page.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = page.headers.get(LOCATION)?.to_str().ok()?;
    page.url.join(location).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused URL a server chose (a redirect's 66 KB target) is said cut to 200
    /// characters and marked; a short one whole.
    #[test]
    fn a_refused_url_is_said_cut_short() {
        let long = Url::parse(&format!("http://barred.example/{}", "%1b".repeat(20_000))).unwrap();
        let Error::Refused { url, reason } = refusal(&long, "redirect to a loopback address".into()) else {
            panic!("not a refusal")
        };
        assert_eq!((url.chars().count(), url.ends_with('…')), (201, true));
        assert!(url.starts_with("http://barred.example/%1b%1b"), "{url}");
        assert_eq!(reason, "redirect to a loopback address");
        let short = Url::parse("http://barred.example/x").unwrap();
        let Error::Refused { url, .. } = refusal(&short, String::new()) else {
            panic!("not a refusal")
        };
        assert_eq!(url, "http://barred.example/x");
    }

    /// Every URL an error's text names is logged as its origin and kind, a redirect's target
    /// and the URL it came from included, and every `acct:` as its host only.
    #[test]
    fn a_logged_error_names_no_path_of_any_url_in_it() {
        let asked = Url::parse("https://a.example/users/mover").unwrap();
        let error = Error::Transport {
            url: "https://b.example:8443/users/hidden/following?page=2".into(),
            message: "timed out after 1 s".into(),
        };
        assert_eq!(
            scrubbed(&error),
            "https://b.example:8443/<follow-list>: timed out after 1 s"
        );
        let chain = format!(
            "error sending request for url (https://c.example/@hidden) (redirected from \"{asked}\"; acct:hidden@c.example, HTTP://D.example/Users/x.)"
        );
        assert_eq!(
            scrubbed(chain),
            "error sending request for url (https://c.example/<actor-or-page>) (redirected from \"https://a.example/<actor-or-page>\"; acct:…@c.example, http://d.example/<actor-or-page>.)"
        );
        assert_eq!(
            scrubbed("https://e.example/.well-known/webfinger?resource=acct:x@e.example: HTTP 404"),
            "https://e.example/<webfinger>: HTTP 404"
        );
        assert_eq!(
            scrubbed("https:// broken, no account here"),
            "<url> broken, no account here"
        );
    }
}
