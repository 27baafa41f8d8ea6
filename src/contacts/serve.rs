//! Who serves an address: the host that receives a domain's mail, serves its XMPP accounts
//! or runs its Matrix homeserver, found as each protocol's own rules say, with every step
//! kept so a report can show how it was found.
//!
//! - E-mail (RFC 5321 §5.1, RFC 7505): MX records, lowest preference first; exactly one MX
//!   of preference 0 whose exchange is the root (`.`) is a null MX: the domain receives no
//!   mail (a `.` of another preference, or beside other MX, names no host: it is passed
//!   over, and alone it is a dangling MX). No MX at all is the implicit MX: the domain's own
//!   A/AAAA. An exchange that does not resolve is passed over; when none resolves and each
//!   does not exist or has no address (NXDOMAIN, no records) the MX is dangling, and when
//!   some failed to answer (SERVFAIL, timeout) the domain's lookup failed: nothing is known.
//! - XMPP (RFC 6120 §3.2, XEP-0368): SRV `_xmpp-server._tcp` and `_xmpps-server._tcp`,
//!   merged by priority then weight; a single SRV whose target is `.` means no service; no SRV
//!   at all means the domain itself on port 5269.
//! - Matrix (server-server API, "Resolving server names"): an IP literal (unless the address
//!   policy refuses it: private, loopback, …) or an explicit port is the server itself; else
//!   `https://NAME/.well-known/matrix/server` (through the polite client: robots, limits, at
//!   most [`WELL_KNOWN_MAX_BYTES`]) and the `m.server` it delegates to (with a port: used as
//!   is; without: its SRV, then it on 8448); an answer that is no JSON or names no server is
//!   no delegation; else SRV `_matrix-fed._tcp`, then the deprecated `_matrix._tcp`; else
//!   NAME on 8448.
//! - Fediverse: WebFinger names the handle's actor, whose host is the instance ([`fediverse`]).
//!
//! DNS answers come from the run's one resolver ([`Dns`]); a name's failure (SERVFAIL,
//! timeout) is an outcome, not an error of the run.

use std::net::IpAddr;

use crate::model::handle::Handle;
use crate::net::dns::{is_absent, Dns, NO_RECORDS, NXDOMAIN};
use crate::net::http::{Fetcher, Request};
use crate::protocol::webfinger;

/// What the search for an address's server found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The host that serves it (and the port, where the protocol names one).
    Host { host: String, port: Option<u16> },
    /// A null MX (RFC 7505): the domain says it receives no mail; or a single SRV target
    /// of `.`: the domain says it has no XMPP service.
    NoService,
    /// MX or SRV records whose hosts all fail to resolve.
    Dangling { host: String },
    /// The domain has neither the records asked for nor an address of its own.
    NoServer,
    /// The domain does not exist (NXDOMAIN).
    NoDomain,
    /// DNS failed (SERVFAIL, timeout): nothing is known.
    Failed(String),
    /// WebFinger named no actor for a fediverse handle, or the actor's host did not confirm
    /// the handle: why (`HTTP 404`, `NXDOMAIN`, `social.example does not confirm it`).
    NoActor(String),
    /// The server is an address the address policy refuses (a Matrix IP literal that is
    /// private, loopback, …): why (`::1 is loopback`).
    Refused(String),
}

/// The outcome and the steps that led to it (`MX 10 mx1.example`, `no SRV`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub outcome: Outcome,
    pub steps: Vec<String>,
}

impl Served {
    fn new() -> Self {
        Served {
            outcome: Outcome::NoServer,
            steps: vec![],
        }
    }

    fn end(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
}

/// The DNS failure that is not a "no records" answer, if any: NXDOMAIN, SERVFAIL, timeout.
fn failure(e: &crate::Error) -> Option<String> {
    match e {
        crate::Error::Dns { message, .. } if message == NO_RECORDS => None,
        crate::Error::Dns { message, .. } => Some(message.clone()),
        other => Some(other.to_string()),
    }
}

/// The outcome of a name's own failure: NXDOMAIN is no domain, the rest a failure.
fn failed(message: String) -> Outcome {
    if message == NXDOMAIN {
        Outcome::NoDomain
    } else {
        Outcome::Failed(message)
    }
}

/// The outcome of a set of MX or SRV targets: the first (in order) that resolves; else, when
/// each of them does not exist or has no address, dangling (named by the first, `.` when
/// there is none); else (some failed to answer: SERVFAIL, timeout) the first such failure,
/// since nothing is known of them. Notes in `s` the targets that do not resolve.
async fn first_resolving(dns: &Dns, hosts: &[(String, Option<u16>)], s: &mut Served) -> Outcome {
    let mut failure = None;
    for (host, port) in hosts {
        let r = dns.resolve(host).await;
        match r.error {
            None if !r.addresses.is_empty() => {
                return Outcome::Host {
                    host: host.clone(),
                    port: *port,
                }
            }
            e => {
                let e = e.unwrap_or_else(|| NO_RECORDS.into());
                s.steps.push(format!("{host}: {e}"));
                if !is_absent(&e) && failure.is_none() {
                    failure = Some(e);
                }
            }
        }
    }
    match failure {
        Some(e) => Outcome::Failed(e),
        None => Outcome::Dangling {
            host: hosts.first().map_or_else(|| ".".to_string(), |h| h.0.clone()),
        },
    }
}

/// The host that receives mail for `domain`.
pub async fn email(dns: &Dns, domain: &str) -> Served {
    let mut s = Served::new();
    match dns.mx(domain).await {
        Ok(mx) if mx.len() == 1 && mx[0] == (0, String::new()) => {
            s.steps.push("MX 0 . (null MX)".into());
            s.end(Outcome::NoService)
        }
        Ok(mx) if !mx.is_empty() => {
            let hosts: Vec<(String, Option<u16>)> = mx
                .iter()
                .filter(|m| !m.1.is_empty())
                .map(|m| (m.1.clone(), None))
                .collect();
            s.steps.extend(mx.iter().map(|(p, h)| match h.is_empty() {
                true => format!("MX {p} . (not a null MX: no host)"),
                false => format!("MX {p} {h}"),
            }));
            let o = first_resolving(dns, &hosts, &mut s).await;
            s.end(o)
        }
        Err(e) if failure(&e).is_some() => {
            let message = failure(&e).unwrap_or_default();
            s.steps.push(format!("MX: {message}"));
            s.end(failed(message))
        }
        _ => {
            s.steps.push("no MX: implicit MX on the domain".into());
            implicit(dns, domain, None, s).await
        }
    }
}

/// The domain itself as its server (RFC 5321's implicit MX, XMPP's and Matrix's fallbacks).
async fn implicit(dns: &Dns, domain: &str, port: Option<u16>, mut s: Served) -> Served {
    let r = dns.resolve(domain).await;
    match r.error {
        None if !r.addresses.is_empty() => s.end(Outcome::Host {
            host: domain.to_string(),
            port,
        }),
        Some(e) if e != NO_RECORDS => {
            s.steps.push(format!("{domain}: {e}"));
            s.end(failed(e))
        }
        _ => {
            s.steps.push(format!("{domain}: {NO_RECORDS}"));
            s.end(Outcome::NoServer)
        }
    }
}

/// SRV records of the services `names` (merged by priority, then weight), or the failure
/// that stops the search (not "no records").
async fn srv_merged(dns: &Dns, names: &[String], s: &mut Served) -> Result<Vec<(u16, u16, u16, String)>, String> {
    let mut all = vec![];
    for name in names {
        match dns.srv(name).await {
            Ok(records) => {
                s.steps.extend(records.iter().map(|(p, w, port, t)| {
                    format!("SRV {name} {p} {w} {port} {}", if t.is_empty() { "." } else { t })
                }));
                all.extend(records);
            }
            Err(e) => match failure(&e) {
                Some(m) if m != NXDOMAIN => return Err(m),
                _ => s.steps.push(format!("no SRV {name}")),
            },
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.3.cmp(&b.3)));
    Ok(all)
}

/// The host of an SRV set: no service, the first target that resolves, or dangling.
async fn from_srv(dns: &Dns, records: &[(u16, u16, u16, String)], mut s: Served) -> Served {
    if records.len() == 1 && records[0].3.is_empty() {
        return s.end(Outcome::NoService);
    }
    let hosts: Vec<(String, Option<u16>)> = records
        .iter()
        .filter(|r| !r.3.is_empty())
        .map(|r| (r.3.clone(), Some(r.2)))
        .collect();
    let o = first_resolving(dns, &hosts, &mut s).await;
    s.end(o)
}

/// The server of XMPP domain `domain`.
pub async fn xmpp(dns: &Dns, domain: &str) -> Served {
    let mut s = Served::new();
    let names = [
        format!("_xmpp-server._tcp.{domain}"),
        format!("_xmpps-server._tcp.{domain}"),
    ];
    match srv_merged(dns, &names, &mut s).await {
        Err(m) => s.end(failed(m)),
        Ok(records) if !records.is_empty() => from_srv(dns, &records, s).await,
        Ok(_) => {
            s.steps.push(format!("{domain} on port 5269"));
            implicit(dns, domain, Some(5269), s).await
        }
    }
}

/// The instance that serves fediverse handle `handle`: WebFinger (through the polite client,
/// [`webfinger::resolve`]) names its actor, whose host is the instance; an actor on another
/// host than the handle's domain counts once that host confirms the handle
/// ([`webfinger::confirm_delegation`], as the crawl confirms a seed). No step names the
/// handle's user (steps are stored; a contact's user part never is).
pub async fn fediverse(fetcher: &Fetcher, handle: &Handle) -> Served {
    let mut s = Served::new();
    let resolved = match webfinger::resolve(fetcher, handle).await {
        Ok(r) => r,
        Err(e) => {
            let why = short(&e);
            s.steps.push(format!("WebFinger: {why}"));
            return s.end(Outcome::NoActor(why));
        }
    };
    let server = resolved.server.to_string();
    s.steps.push(format!("WebFinger: actor on {server}"));
    if resolved.delegated() {
        if let Err(e) = webfinger::confirm_delegation(fetcher, &resolved, None).await {
            let why = match e {
                crate::Error::Refused { .. } => format!("{server} does not confirm it"),
                other => format!("{server} does not confirm it ({})", short(&other)),
            };
            s.steps.push(why.clone());
            return s.end(Outcome::NoActor(why));
        }
        s.steps.push(format!("confirmed by {server}"));
    }
    s.end(Outcome::Host {
        host: server,
        port: None,
    })
}

/// What went wrong, without the URL (a WebFinger URL names the account asked about; steps
/// are stored).
fn short(e: &crate::Error) -> String {
    match e {
        crate::Error::Status { status, .. } => format!("HTTP {status}"),
        crate::Error::Dns { message, .. } | crate::Error::Transport { message, .. } => message.clone(),
        crate::Error::TooLarge { limit, .. } => format!("larger than {limit} bytes"),
        // Why the client refused (a redirect loop, a barred address …), any URL in it
        // written as its origin and kind.
        crate::Error::Refused { reason, .. } => format!("refused: {}", crate::net::http::scrubbed(reason)),
        crate::Error::Again(inner) => short(inner),
        other => other.kind().replace('-', " "),
    }
}

/// `name` split into host and explicit port (`[::1]:8448`, `m.example:8448`, `m.example`).
fn host_port(name: &str) -> (String, Option<u16>) {
    if let Some(rest) = name.strip_prefix('[') {
        if let Some((ip, tail)) = rest.split_once(']') {
            return (ip.to_string(), tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match name.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().ok()),
        _ => (name.to_string(), None),
    }
}

/// The homeserver of Matrix server name `name`.
pub async fn matrix(dns: &Dns, fetcher: &Fetcher, name: &str) -> Served {
    let mut s = Served::new();
    let (host, port) = host_port(name);
    if let Ok(ip) = host.parse::<IpAddr>() {
        s.steps.push("an IP literal".into());
        return literal(dns, ip, port, s);
    }
    if let Some(port) = port {
        s.steps.push(format!("explicit port {port}"));
        return implicit(dns, &host, Some(port), s).await;
    }
    let target = match well_known(fetcher, &host).await {
        Ok(delegated) => {
            s.steps.push(format!(".well-known/matrix/server: {delegated}"));
            let (dhost, dport) = host_port(&delegated);
            if let Ok(ip) = dhost.parse::<IpAddr>() {
                return literal(dns, ip, dport, s);
            }
            if let Some(port) = dport {
                return implicit(dns, &dhost, Some(port), s).await;
            }
            dhost
        }
        Err(why) => {
            s.steps.push(format!(".well-known/matrix/server: {why}"));
            host
        }
    };
    for service in ["_matrix-fed._tcp", "_matrix._tcp"] {
        match srv_merged(dns, &[format!("{service}.{target}")], &mut s).await {
            Err(m) => return s.end(failed(m)),
            Ok(records) if !records.is_empty() => return from_srv(dns, &records, s).await,
            Ok(_) => {}
        }
    }
    s.steps.push(format!("{target} on port 8448"));
    implicit(dns, &target, Some(8448), s).await
}

/// An IP literal as the server (on 8448 unless a port is given), unless the address policy
/// refuses it.
fn literal(dns: &Dns, ip: IpAddr, port: Option<u16>, s: Served) -> Served {
    match dns.gate().check(ip) {
        Some(why) => s.end(Outcome::Refused(format!("{ip} is {why}"))),
        None => s.end(Outcome::Host {
            host: ip.to_string(),
            port: Some(port.unwrap_or(8448)),
        }),
    }
}

/// The largest `.well-known/matrix/server` read (a real one is a few dozen bytes; Synapse
/// reads at most 50 KiB): a larger answer is no delegation, and the search goes on.
pub const WELL_KNOWN_MAX_BYTES: u64 = 50 * 1024;

/// The `m.server` of `host`'s `.well-known/matrix/server`, or why there is none.
async fn well_known(fetcher: &Fetcher, host: &str) -> Result<String, String> {
    let origin = fetcher.config().origin_for(host);
    let url = url::Url::parse(&format!("{origin}/.well-known/matrix/server")).map_err(|e| e.to_string())?;
    let page = fetcher
        .get(
            &url,
            Request {
                max_body: Some(WELL_KNOWN_MAX_BYTES),
                ..Request::accept("application/json")
            },
        )
        .await
        .map_err(|e| short(&e))?;
    if !page.ok() {
        return Err(format!("HTTP {}", page.status));
    }
    let doc: serde_json::Value = page.json().map_err(|_| "not JSON".to_string())?;
    let server = doc.get("m.server").and_then(|v| v.as_str()).ok_or("no m.server")?;
    let (h, _) = host_port(server);
    if crate::model::handle::domain_problem(server).is_some() && h.parse::<IpAddr>().is_err() {
        return Err(format!(
            "m.server {:?} is not a server name",
            crate::model::handle::echo(server)
        ));
    }
    Ok(server.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn server_names_split_into_host_and_port() {
        assert_eq!(host_port("m.example"), ("m.example".into(), None));
        assert_eq!(host_port("m.example:8448"), ("m.example".into(), Some(8448)));
        assert_eq!(host_port("[2001:db8::1]:443"), ("2001:db8::1".into(), Some(443)));
        assert_eq!(host_port("2001:db8::1"), ("2001:db8::1".into(), None));
        assert_eq!(host_port("m.example:99999"), ("m.example".into(), None));
    }
}
