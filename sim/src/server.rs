//! The simulator's HTTP server: one hyper server per instance address, all on one port,
//! answering by `Host` header.
//!
//! # Architecture
//! [`Sim`] owns the laid-out world, indexes of accounts and follows, the rate-limit windows
//! and the request log ([`Stats`]). Each request goes: alias handling (redirecting and
//! delegated domains) → latency → robots.txt → server-side rate limit (Mastodon's headers,
//! 429s) → faults → the protocol routes in [`super::routes`].

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, LOCATION};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::timeline::Current;
use super::world::{Fault, Instance, Layout};

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
    pub requests: Vec<Logged>,
    /// 429 answers sent.
    pub too_many: u64,
    /// Requests that arrived after a 429 but before the reset it announced.
    pub early_retries: u64,
}

#[derive(Debug, Default)]
struct Window {
    start: Option<Instant>,
    count: u32,
    /// After a 429: the announced reset.
    blocked_until: Option<Instant>,
    storm_counter: u64,
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
            layout,
            port,
            scheme,
            by_handle,
            follows,
            followers,
            stats,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `http://domain:port` (or https; always http for `plain_http_links` instances).
    pub fn base(&self, domain: &str) -> String {
        let scheme = match self.plain_http.contains(domain) {
            true => "http",
            false => self.scheme,
        };
        format!("{scheme}://{domain}:{}", self.port)
    }

    /// A copy of the request log.
    pub fn stats(&self) -> Stats {
        self.stats.lock().expect("stats lock").clone()
    }

    fn log(&self, entry: Logged) {
        self.stats.lock().expect("stats lock").requests.push(entry);
    }

    /// Apply the instance's server-side rate limit; `Err` is the 429 to send.
    fn rate_limit(&self, inst: &Instance) -> Result<Vec<(&'static str, String)>, Box<Response<Body>>> {
        let storm = inst.fault == Fault::Storm;
        let Some(spec) = inst.rate_limit.or(storm.then_some(super::world::RateLimitSpec {
            limit: 1_000_000,
            window_secs: 0.3,
        })) else {
            return Ok(vec![]);
        };
        let now = Instant::now();
        let period = Duration::from_secs_f64(spec.window_secs);
        let mut windows = self.windows.lock().expect("windows lock");
        let w = windows.entry(inst.domain.clone()).or_default();
        if w.blocked_until.is_some_and(|t| now < t) {
            self.stats.lock().expect("stats lock").early_retries += 1;
        }
        if w.start.is_none_or(|s| now >= s + period) {
            w.start = Some(now);
            w.count = 0;
        }
        w.count += 1;
        w.storm_counter += 1;
        let reset_in = period.saturating_sub(now - w.start.expect("set above"));
        let reset = SystemTime::now() + reset_in;
        let remaining = spec.limit.saturating_sub(w.count);
        let over = w.count > spec.limit || (storm && w.storm_counter % 3 == 1);
        let headers = vec![
            ("x-ratelimit-limit", spec.limit.to_string()),
            (
                "x-ratelimit-remaining",
                if over { "0".into() } else { remaining.to_string() },
            ),
            ("x-ratelimit-reset", humantime::format_rfc3339_micros(reset).to_string()),
        ];
        if !over {
            return Ok(headers);
        }
        w.blocked_until = Some(now + reset_in);
        self.stats.lock().expect("stats lock").too_many += 1;
        let mut r = too_many(&[]);
        set_headers(&mut r, headers);
        Err(Box::new(r))
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let at = SystemTime::now();
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

    async fn dispatch(&self, host: &str, path: &str, auth: Option<&str>) -> Response<Body> {
        let Some(inst) = self.layout.instance(host) else {
            return respond(404, "text/plain", "no such site");
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

    /// The instance's `announce`, when this request is one that carries it.
    fn announce(&self, inst: &Instance) -> Option<Announcement> {
        use super::world::AnnounceStyle as S;
        let a = inst.announce?;
        let mut counts = self.announce_counts.lock().expect("announce lock");
        let n = counts.entry(inst.domain.clone()).or_insert(0);
        *n += 1;
        if !(*n).is_multiple_of(a.every.max(1)) {
            return None;
        }
        let now = SystemTime::now();
        let secs = Duration::from_secs(u64::from(a.secs));
        let draft = vec![
            ("ratelimit-limit", a.every.to_string()),
            ("ratelimit-remaining", "0".to_string()),
            ("ratelimit-reset", a.secs.to_string()),
        ];
        let (refuse, headers, until) = match a.style {
            S::RetryAfterSeconds => (true, vec![("retry-after", a.secs.to_string())], now + secs),
            S::RetryAfterDate => {
                // An HTTP date has whole seconds: announce the next whole second after now + secs.
                let whole = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
                let until = SystemTime::UNIX_EPOCH + Duration::from_secs(whole + 1) + secs;
                (true, vec![("retry-after", httpdate::fmt_http_date(until))], until)
            }
            S::RatelimitOn429 => (true, draft, now + secs),
            S::RatelimitExhausted => (false, draft, now + secs),
            // Not a pause a client should keep to: nothing is announced in the log.
            S::RetryAfterOn200 => {
                let headers = vec![("retry-after", a.secs.to_string())];
                return Some(Announcement {
                    refuse: false,
                    headers,
                    until: now,
                });
            }
        };
        Some(Announcement { refuse, headers, until })
    }

    /// Files for `asn-db update`: the world's ASN data as iptoasn TSV (gzip), or a broken one.
    fn download(&self, file: &str) -> Response<Body> {
        use std::io::Write as _;
        let text = match file {
            "ip2asn-combined.tsv.gz" => self.layout.asn_tsv(),
            "broken.tsv.gz" => "this is not\ta database\n".to_string(),
            _ => return respond(404, "text/plain", "not found"),
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).expect("writing to memory cannot fail");
        respond(
            200,
            "application/gzip",
            gz.finish().expect("finishing in memory cannot fail"),
        )
    }

    async fn fault(&self, inst: &Instance, path: &str) -> Option<Response<Body>> {
        match inst.fault {
            Fault::Error500 => Some(respond(500, "text/html", "<h1>Internal Server Error</h1>")),
            Fault::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Some(respond(504, "text/plain", "stalled"))
            }
            Fault::MalformedJson => Some(respond(200, "application/json", "{\"links\": [ {\"rel\": ")),
            Fault::Oversized => Some(respond(200, "application/json", vec![b' '; 5 * 1024 * 1024])),
            Fault::RedirectLoop if path.starts_with("/.well-known/webfinger") => {
                Some(redirect(302, &format!("{}{path}", self.base(&inst.domain))))
            }
            Fault::RedirectPrivate if path.starts_with("/.well-known/webfinger") => {
                Some(redirect(302, "http://169.254.169.254/latest/meta-data/"))
            }
            Fault::RetryAfter(secs) => Some(too_many(&[("retry-after", secs.to_string().as_str())])),
            Fault::HostileRateLimit => Some(too_many(HOSTILE_RATE_LIMIT)),
            Fault::RedirectPort(port) if path.starts_with("/api/v1/accounts/") && path.contains("/follow") => Some(
                redirect(307, &format!("{}://{}:{port}{path}", self.scheme, inst.domain)),
            ),
            Fault::MalformedRestLists if path.starts_with("/api/v1/accounts/") && path.contains("/follow") => {
                Some(respond(200, "application/json", "[{\"id\": "))
            }
            Fault::MalformedRestLists if path.starts_with("/users/") => {
                Some(respond(404, "text/html", "<h1>Not found</h1>"))
            }
            Fault::RedirectPagesForeign if path.contains("/following") || path.contains("/followers") => Some(
                redirect(307, &format!("{}{path}", self.base(&format!("mirror.{}", inst.domain)))),
            ),
            _ => None,
        }
    }
}

/// A pause announced on one answer.
struct Announcement {
    /// Answer 429 instead of the page.
    refuse: bool,
    headers: Vec<(&'static str, String)>,
    until: SystemTime,
}

fn set_headers(resp: &mut Response<Body>, headers: Vec<(&'static str, String)>) {
    for (k, v) in headers {
        resp.headers_mut()
            .insert(k, HeaderValue::from_str(&v).expect("header values are ASCII"));
    }
}

/// robots.txt: the instance's status or file, else its `robots_disallow` for every agent,
/// else 404.
fn robots(inst: &Instance) -> Response<Body> {
    if let Some(status) = inst.robots_status {
        return respond(status, "text/html", format!("<h1>HTTP {status}</h1>"));
    }
    if let Some(text) = &inst.robots_txt {
        return respond(200, "text/plain", text.clone());
    }
    if inst.robots_disallow.is_empty() {
        return respond(404, "text/plain", "not found");
    }
    let mut body = String::from("User-agent: *\n");
    for d in &inst.robots_disallow {
        body.push_str(&format!("Disallow: {d}\n"));
    }
    respond(200, "text/plain", body)
}

/// Rate-limit headers no honest server sends: huge, infinite, far-future, garbage.
const HOSTILE_RATE_LIMIT: &[(&str, &str)] = &[
    ("retry-after", "1e300"),
    ("x-ratelimit-remaining", "0"),
    ("x-ratelimit-reset", "9999-12-31T23:59:59.999999Z"),
    ("ratelimit-remaining", "0"),
    ("ratelimit-reset", "inf"),
];

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

/// Bind every address in `addresses` (127.x.y.z and `::1`) on one shared port.
///
/// # Errors
/// The bind error when no port works for all addresses after a few tries.
pub async fn bind_all(addresses: &[IpAddr]) -> std::io::Result<(u16, Vec<TcpListener>)> {
    let mut last_err = None;
    for _ in 0..8 {
        let probe = TcpListener::bind("127.0.0.1:0").await?;
        let port = probe.local_addr()?.port();
        drop(probe);
        let mut listeners = vec![];
        let mut failed = false;
        for a in addresses {
            match TcpListener::bind(SocketAddr::new(*a, port)).await {
                Ok(l) => listeners.push(l),
                Err(e) => {
                    last_err = Some(e);
                    failed = true;
                    break;
                }
            }
        }
        if !failed {
            return Ok((port, listeners));
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// Accept connections on `listener` forever, serving the current week of `sim` (over TLS
/// with `tls`).
pub async fn serve(listener: TcpListener, sim: Arc<Current<Sim>>, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (sim, tls) = (sim.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve_connection(stream, sim).await;
                    }
                }
                None => serve_connection(stream, sim).await,
            }
        });
    }
}

async fn serve_connection<S>(stream: S, sim: Arc<Current<Sim>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let sim = sim.get();
        async move { Ok::<_, Infallible>(sim.handle(req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
