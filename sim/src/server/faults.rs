//! What an instance answers instead of its pages: its faults on demand (per request, and per
//! connection for the keep-alive faults), its robots.txt, and the ASN data files
//! `asn-db update` downloads.

use std::net::IpAddr;
use std::time::Duration;

use hyper::Response;

use super::{redirect, respond, too_many, Body, Sim};
use crate::world::{Fault, Instance};

/// How a connection picked by a keep-alive fault ends when its second request arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doom {
    /// A TCP reset (`SO_LINGER` 0, then close).
    Reset,
    /// An orderly close (FIN) without an answer.
    Close,
}

impl Sim {
    /// The instance serving on `local` (one of its addresses), with its domain.
    fn instance_on(&self, local: IpAddr) -> Option<(&String, &Instance)> {
        self.layout.addresses.iter().find_map(|(domain, (v4, v6))| {
            let mine = IpAddr::V4(*v4) == local || v6.map(IpAddr::V6) == Some(local);
            mine.then(|| self.layout.instance(domain).map(|i| (domain, i)))
                .flatten()
        })
    }

    /// The connection just accepted on `local` (an instance's address): how it ends, when the
    /// instance's keep-alive fault picks it (every Nth), and how long it waits before it is
    /// read (`SlowAccept`, every second one).
    pub fn accepted(&self, local: IpAddr) -> (Option<Doom>, Duration) {
        let Some((domain, inst)) = self.instance_on(local) else {
            return (None, Duration::ZERO);
        };
        let (every, doom) = match inst.fault {
            Fault::ResetKeepAlive(n) => (n, Some(Doom::Reset)),
            Fault::CloseKeepAlive(n) => (n, Some(Doom::Close)),
            Fault::SlowAccept(_) => (2, None),
            _ => return (None, Duration::ZERO),
        };
        let mut counts = self.connection_counts.lock().expect("connection count lock");
        let seen = counts.entry(domain.clone()).or_default();
        *seen += 1;
        let picked = every > 0 && seen.is_multiple_of(every);
        match (inst.fault, picked) {
            (Fault::SlowAccept(ms), true) => (None, Duration::from_millis(ms)),
            (_, true) => (doom, Duration::ZERO),
            (_, false) => (None, Duration::ZERO),
        }
    }

    /// Files for `asn-db update`: the world's ASN data as iptoasn TSV (gzip), or a broken one.
    pub(super) fn download(&self, file: &str) -> Response<Body> {
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

    pub(super) async fn fault(&self, inst: &Instance, path: &str) -> Option<Response<Body>> {
        match inst.fault {
            Fault::Error500 => Some(respond(500, "text/html", "<h1>Internal Server Error</h1>")),
            Fault::Stall => {
                let _held = Held {
                    sim: self,
                    domain: &inst.domain,
                    since: std::time::Instant::now(),
                };
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Some(respond(504, "text/plain", "stalled"))
            }
            Fault::StallOnce if self.stalled.lock().expect("stalled lock").insert(inst.domain.clone()) => {
                self.stats.lock().expect("stats lock").stalled += 1;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Some(respond(504, "text/plain", "stalled"))
            }
            Fault::MalformedJson => Some(respond(200, "application/json", "{\"links\": [ {\"rel\": ")),
            Fault::Oversized => Some(respond(200, "application/json", vec![b' '; 5 * 1024 * 1024])),
            Fault::RedirectLoop if path.starts_with("/.well-known/webfinger") => {
                Some(redirect(302, &format!("{}{path}", self.base(&inst.domain))))
            }
            Fault::RedirectChain if path.starts_with("/.well-known/webfinger") => {
                // `…&hop=N` → `…&hop=N+1`: a new URL every time.
                let (base, hop) = match path.rsplit_once("&hop=") {
                    Some((base, n)) => (base, n.parse::<u64>().unwrap_or(0) + 1),
                    None => (path, 1),
                };
                let to = format!("{}{base}&hop={hop}", self.base(&inst.domain));
                Some(redirect(302, &to))
            }
            Fault::RedirectPrivate if path.starts_with("/.well-known/webfinger") => {
                Some(redirect(302, "http://169.254.169.254/latest/meta-data/"))
            }
            Fault::RedirectSecret if path.starts_with("/.well-known/webfinger") => {
                Some(redirect(302, crate::world::SECRET_REDIRECT))
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

/// A request a `stall` fault holds: when it ends (its client gave up, and the server dropped
/// it), how long it was held is logged in [`super::Stats::stall_held`].
struct Held<'a> {
    sim: &'a Sim,
    domain: &'a str,
    since: std::time::Instant,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut stats = self.sim.stats.lock().expect("stats lock");
        stats
            .stall_held
            .entry(self.domain.to_string())
            .or_default()
            .push(self.since.elapsed());
    }
}

/// robots.txt: the instance's status or file, else its `robots_disallow` for every agent,
/// else 404.
pub(super) fn robots(inst: &Instance) -> Response<Body> {
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
