//! What an instance answers instead of its pages: its faults on demand, its robots.txt, and
//! the ASN data files `asn-db update` downloads.

use std::time::Duration;

use hyper::Response;

use super::{redirect, respond, too_many, Body, Sim};
use crate::world::{Fault, Instance};

impl Sim {
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
