//! The simulator's HTTP server: one hyper server per instance address, all on one port,
//! answering by `Host` header.
//!
//! # Architecture
//! [`Sim`] owns the laid-out world, indexes of accounts and follows, the rate-limit windows
//! and the request log ([`Stats`]). Each request goes: alias handling (redirecting and
//! delegated domains) → latency → robots.txt → server-side rate limit (Mastodon's headers,
//! 429s) → faults → the protocol routes in [`super::routes`]. A name beyond the instances
//! (`[[dns]]`) with an address serves only its `.well-known/matrix/server`, if it has one.
//!
//! The rate limits and announced pauses are in `limits`, the faults, robots.txt and the
//! ASN downloads in `faults`, the sockets and connections in `listen`.

mod faults;
mod limits;
mod listen;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, LOCATION};
use hyper::{Request, Response, StatusCode};

use super::world::Layout;
use faults::robots;
pub use faults::Doom;
use limits::Window;
pub use listen::{bind_all, serve};

/// A response body.
pub type Body = Full<Bytes>;

/// One logged request.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub host: String,
    pub path: String,
    pub status: u16,
    pub authorization: bool,
    pub user_agent: String,
    /// When the request arrived.
    pub at: SystemTime,
    /// The pause this answer announced (`Retry-After`, `RateLimit-*`): no request to the host
    /// should come before it.
    pub announced_until: Option<SystemTime>,
}

/// Response extension carrying the end of an announced pause into the log.
#[derive(Debug, Clone, Copy)]
struct AnnouncedUntil(SystemTime);

/// What the simulator saw.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests answered, in the order their answers were ready.
    pub requests: Vec<Logged>,
    /// Requests that arrived, answered or not (a request whose client went away, or that is
    /// still stalled, is counted here and is not in `requests`).
    pub arrived: u64,
    /// Requests held by a `stall_once` fault.
    pub stalled: u64,
    /// How long each request a `stall` fault held was held, per instance: counted when the
    /// client gives up on it (it times out, or goes away).
    pub stall_held: std::collections::BTreeMap<String, Vec<std::time::Duration>>,
    /// 429 answers sent.
    pub too_many: u64,
    /// Requests that arrived after a 429 but before the reset it announced.
    pub early_retries: u64,
    /// TCP connections accepted, on every instance address.
    pub connections: u64,
    /// Connections open now: accepted and not yet closed (by either side).
    pub open_connections: u64,
    /// The most connections open at once.
    pub peak_open_connections: u64,
    /// DNS queries received, in order: the name asked (lower case, no trailing dot) and the
    /// record type (`A`, `AAAA`, `TXT` …).
    pub dns_queries: Vec<(String, String)>,
}

/// A connection counted open in [`Stats`] for as long as it lives ([`Sim::connection_opened`]).
pub struct OpenConnection(Arc<Mutex<Stats>>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let mut stats = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        stats.open_connections -= 1;
    }
}

/// The world being served.
pub struct Sim {
    pub layout: Layout,
    pub port: u16,
    /// `http`, or `https` when the simulator serves TLS.
    pub scheme: &'static str,
    /// `user@instance-domain` (lower-case) → account index.
    pub by_handle: HashMap<String, usize>,
    /// account index → indices it follows / is followed by.
    pub follows: Vec<Vec<usize>>,
    pub followers: Vec<Vec<usize>>,
    /// Shared by every week a [`super::timeline::Stage`] serves.
    stats: Arc<Mutex<Stats>>,
    windows: Mutex<HashMap<String, Window>>,
    /// Domains whose links to themselves say `http://` (`plain_http_links`).
    plain_http: HashSet<String>,
    /// Requests counted per instance for `announce`.
    announce_counts: Mutex<HashMap<String, u32>>,
    /// Connections accepted per instance, for the keep-alive faults.
    connection_counts: Mutex<HashMap<String, u32>>,
    /// Instances whose `stall_once` request has come.
    stalled: Mutex<HashSet<String>>,
    /// The week served is dated this many weeks before today (0 but for a timeline's earlier
    /// weeks): accounts' `last_posted_days_ago` are counted back from that day.
    pub weeks_back: u32,
}

/// Build a response.
pub fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).expect("simulator statuses are valid");
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("valid content type"),
    );
    r
}

/// A JSON response.
pub fn json(status: u16, content_type: &str, v: &serde_json::Value) -> Response<Body> {
    respond(
        status,
        content_type,
        serde_json::to_vec(v).expect("JSON values serialise"),
    )
}

/// A redirect.
pub fn redirect(status: u16, to: &str) -> Response<Body> {
    let mut r = respond(status, "text/plain", "");
    r.headers_mut()
        .insert(LOCATION, HeaderValue::from_str(to).expect("valid location"));
    r
}

impl Sim {
    /// Index a laid-out world served on `port`.
    pub fn new(layout: Layout, port: u16, scheme: &'static str) -> Self {
        Sim::with_stats(layout, port, scheme, Arc::default())
    }

    /// [`Sim::new`], logging requests into `stats` (shared across the weeks of a timeline).
    pub fn with_stats(layout: Layout, port: u16, scheme: &'static str, stats: Arc<Mutex<Stats>>) -> Self {
        let accounts = &layout.world.accounts;
        let by_handle: HashMap<String, usize> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.handle.to_ascii_lowercase(), i))
            .collect();
        let mut follows = vec![vec![]; accounts.len()];
        let mut followers = vec![vec![]; accounts.len()];
        for (i, a) in accounts.iter().enumerate() {
            for f in &a.follows {
                if let Some(&j) = by_handle.get(&f.to_ascii_lowercase()) {
                    follows[i].push(j);
                    followers[j].push(i);
                }
            }
        }
        let plain_http = layout
            .world
            .instances
            .iter()
            .filter(|i| i.plain_http_links)
            .map(|i| i.domain.clone())
            .collect();
        Sim {
            plain_http,
            announce_counts: Mutex::new(HashMap::new()),
            connection_counts: Mutex::new(HashMap::new()),
            stalled: Mutex::new(HashSet::new()),
            layout,
            port,
            scheme,
            by_handle,
            follows,
            followers,
            stats,
            windows: Mutex::new(HashMap::new()),
            weeks_back: 0,
        }
    }

    /// The same, its week dated `weeks` weeks before today ([`Sim::weeks_back`]).
    pub fn dated_weeks_back(mut self, weeks: u32) -> Self {
        self.weeks_back = weeks;
        self
    }

    /// The day (`YYYY-MM-DD`, UTC) `days` days before the day of the week served.
    pub fn days_before(&self, days: u32) -> String {
        let back = u64::from(days) + 7 * u64::from(self.weeks_back);
        let day = std::time::SystemTime::now()
            .checked_sub(Duration::from_secs(back * 86_400))
            .unwrap_or(std::time::UNIX_EPOCH);
        let mut text = humantime::format_rfc3339_seconds(day).to_string();
        text.truncate(10);
        text
    }

    /// `http://domain:port` (or https; always http for `plain_http_links` instances).
    pub fn base(&self, domain: &str) -> String {
        let scheme = match self.plain_http.contains(domain) {
            true => "http",
            false => self.scheme,
        };
        format!("{scheme}://{domain}:{}", self.port)
    }

    /// Count a connection just accepted as open until the returned guard is dropped.
    pub fn connection_opened(&self) -> OpenConnection {
        let mut stats = self.stats.lock().expect("stats lock");
        stats.connections += 1;
        stats.open_connections += 1;
        stats.peak_open_connections = stats.peak_open_connections.max(stats.open_connections);
        OpenConnection(self.stats.clone())
    }

    /// A copy of the request log.
    pub fn stats(&self) -> Stats {
        self.stats.lock().expect("stats lock").clone()
    }

    fn log(&self, entry: Logged) {
        self.stats.lock().expect("stats lock").requests.push(entry);
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let at = SystemTime::now();
        self.stats.lock().expect("stats lock").arrived += 1;
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            // A name with a trailing dot (`host.example.`) is the same site, as on the web.
            .map(|h| {
                h.rsplit_once(':')
                    .map(|(n, _)| n)
                    .unwrap_or(h)
                    .trim_end_matches('.')
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
        let authorization = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let user_agent = req
            .headers()
            .get(hyper::header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let resp = self.dispatch(&host, &path, authorization.as_deref()).await;
        self.log(Logged {
            at,
            announced_until: resp.extensions().get::<AnnouncedUntil>().map(|a| a.0),
            status: resp.status().as_u16(),
            authorization: authorization.is_some(),
            host,
            path,
            user_agent,
        });
        resp
    }

    /// What a name beyond the instances serves: its `.well-known/matrix/server`, if any;
    /// anything else (robots.txt included) is a 404.
    fn name_site(&self, host: &str, path: &str) -> Response<Body> {
        let name = self.layout.world.names.iter().find(|n| n.name == host);
        match (name, path) {
            (Some(n), "/.well-known/matrix/server") => match (&n.matrix_server_body, &n.matrix_server) {
                (Some(body), _) if body.starts_with('<') => respond(200, "text/html", body.clone()),
                (Some(body), _) => respond(200, "application/json", body.clone()),
                (None, Some(server)) => json(200, "application/json", &serde_json::json!({"m.server": server})),
                (None, None) => respond(404, "application/json", r#"{"errcode":"M_NOT_FOUND"}"#),
            },
            (Some(_), _) => respond(404, "text/plain", "not found"),
            (None, _) => respond(404, "text/plain", "no such site"),
        }
    }

    async fn dispatch(&self, host: &str, path: &str, auth: Option<&str>) -> Response<Body> {
        let Some(inst) = self.layout.instance(host) else {
            return self.name_site(host, path);
        };
        if inst.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(inst.latency_ms)).await;
        }
        if path == "/robots.txt" {
            return robots(inst);
        }
        if let Some(file) = path.strip_prefix("/data/") {
            return self.download(file);
        }
        if inst.redirect_from.as_deref() == Some(host) {
            return match path.starts_with("/.well-known/webfinger") {
                true => redirect(301, &format!("{}{path}", self.base(&inst.domain))),
                false => respond(404, "text/plain", "not found"),
            };
        }
        let headers = match self.rate_limit(inst) {
            Ok(h) => h,
            Err(r) => return *r,
        };
        let announced = self.announce(inst);
        let mut resp = match &announced {
            Some(a) if a.refuse => too_many(&[]),
            _ => match self.fault(inst, path).await {
                Some(r) => r,
                None => super::routes::route(self, inst, host, path, auth),
            },
        };
        if let Some(a) = announced {
            resp.extensions_mut().insert(AnnouncedUntil(a.until));
            set_headers(&mut resp, a.headers);
        }
        set_headers(&mut resp, headers);
        resp
    }
}

fn set_headers(resp: &mut Response<Body>, headers: Vec<(&'static str, String)>) {
    for (k, v) in headers {
        resp.headers_mut()
            .insert(k, HeaderValue::from_str(&v).expect("header values are ASCII"));
    }
}

/// A 429 with these headers.
fn too_many(headers: &[(&str, &str)]) -> Response<Body> {
    let mut r = respond(429, "application/json", "{\"error\": \"Too many requests\"}");
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}
