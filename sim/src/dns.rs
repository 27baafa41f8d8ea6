//! The simulator's DNS server: UDP on loopback, answering from a zone built from the world.
//!
//! A and AAAA per instance, CNAME chains (managed hosting), MX, TXT and SRV records (the
//! `[[dns]]` names of a world: contact domains and their mail, XMPP and Matrix servers), Team Cymru's
//! `origin.asn.cymru.com` / `ASn.asn.cymru.com` TXT answers for the world's providers, NXDOMAIN
//! for unknown names and SERVFAIL for names listed as failing.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

use super::server::Stats;
use super::timeline::Current;
use super::world::{DnsFault, Layout};

/// TTL of every simulated record.
pub const TTL: u32 = 300;

/// A record's data, before it becomes a hickory record.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Addr(IpAddr),
    Cname(String),
    Mx(u16, String),
    Txt(String),
    /// (priority, weight, port, target).
    Srv(u16, u16, u16, String),
}

/// The zone: names (lower-case, no trailing dot) to records.
#[derive(Debug, Default, Clone)]
pub struct Zone {
    pub records: HashMap<String, Vec<Data>>,
    pub servfail: HashSet<String>,
    /// Names whose queries get no answer at all.
    pub silent: HashSet<String>,
    /// Answer Team Cymru queries for these providers: (second octet, asn, name, country).
    pub cymru: Vec<(u8, u32, String, String)>,
}

impl Zone {
    /// The zone of a laid-out world.
    pub fn of(layout: &Layout) -> Self {
        let mut z = Zone::default();
        for i in &layout.world.instances {
            match i.dns_fault {
                DnsFault::Servfail => drop(z.servfail.insert(i.domain.clone())),
                DnsFault::Timeout => drop(z.silent.insert(i.domain.clone())),
                // A lapsed domain: no records at all, for it or its aliases.
                DnsFault::Nxdomain => continue,
                DnsFault::None => {}
            }
            let (v4, v6) = layout.addresses[&i.domain];
            let target = match &i.cname {
                Some(c) => {
                    z.add(&i.domain, Data::Cname(c.clone()));
                    c.clone()
                }
                None => i.domain.clone(),
            };
            if i.ipv4.unwrap_or(true) {
                z.add(&target, Data::Addr(IpAddr::V4(v4)));
            }
            if let Some(v6) = v6 {
                z.add(&target, Data::Addr(IpAddr::V6(v6)));
            }
            for ip in layout.extra.get(&i.domain).into_iter().flatten() {
                z.add(&target, Data::Addr(*ip));
            }
            for alias in [&i.handle_domain, &i.redirect_from].into_iter().flatten() {
                // Aliases get their own address next to the instance's: same provider.
                let o = v4.octets();
                z.add(
                    alias,
                    Data::Addr(IpAddr::V4(Ipv4Addr::new(127, o[1], 200 + o[2], o[3]))),
                );
            }
        }
        for n in &layout.world.names {
            match n.dns_fault {
                DnsFault::Servfail => drop(z.servfail.insert(n.name.clone())),
                DnsFault::Timeout => drop(z.silent.insert(n.name.clone())),
                DnsFault::Nxdomain => continue,
                DnsFault::None => {}
            }
            let mut records: Vec<Data> = n.cname.iter().map(|c| Data::Cname(c.clone())).collect();
            if let Some((v4, _)) = layout.addresses.get(&n.name).filter(|_| n.provider.is_some()) {
                records.push(Data::Addr(IpAddr::V4(*v4)));
            }
            records.extend(
                n.mx.iter()
                    .map(|(p, h)| Data::Mx(*p, h.trim_end_matches('.').to_string())),
            );
            records.extend(n.txt.iter().map(|t| Data::Txt(t.clone())));
            records.extend(n.srv.iter().map(|(p, w, port, t)| Data::Srv(*p, *w, *port, t.clone())));
            // A name with no record at all still exists (NOERROR, no answers), unlike one
            // not listed (NXDOMAIN).
            z.records.entry(n.name.clone()).or_default().extend(records);
        }
        z.cymru = layout
            .world
            .providers
            .iter()
            .map(|p| (p.octet, p.asn, p.as_name.clone(), p.country.clone()))
            .collect();
        z
    }

    /// Add a record.
    pub fn add(&mut self, name: &str, data: Data) {
        self.records.entry(name.to_ascii_lowercase()).or_default().push(data);
    }

    /// Every loopback address the zone hands out: its 127.x.y.z and `::1` (the HTTP server
    /// listens on these; the fd00::/8 addresses are never connected to).
    pub fn listen_addresses(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self
            .records
            .values()
            .flatten()
            .filter_map(|d| match d {
                Data::Addr(a) if a.is_loopback() => Some(*a),
                _ => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn cymru_txt(&self, name: &str) -> Option<String> {
        if let Some(rev) = name.strip_suffix(".origin6.asn.cymru.com") {
            // fd00:<octet>::/32 → nibbles reversed; the first eight nibbles name the prefix.
            let nibbles: String = rev.split('.').rev().collect();
            if nibbles.len() != 32 || !nibbles.starts_with("fd00") {
                return None;
            }
            let octet = u8::from_str_radix(&nibbles[4..8], 16).ok()?;
            let (_, asn, _, cc) = self.cymru.iter().find(|p| p.0 == octet)?;
            return Some(format!("{asn} | fd00:{octet:x}::/32 | {cc} | ripencc | 2000-01-01"));
        }
        if let Some(rev) = name.strip_suffix(".origin.asn.cymru.com") {
            let o: Vec<&str> = rev.split('.').collect();
            if o.len() != 4 || o[3] != "127" {
                return None;
            }
            let octet: u8 = o[2].parse().ok()?;
            let (_, asn, _, cc) = self.cymru.iter().find(|p| p.0 == octet)?;
            return Some(format!("{asn} | 127.{octet}.0.0/16 | {cc} | ripencc | 2000-01-01"));
        }
        let asn: u32 = name.strip_prefix("as")?.strip_suffix(".asn.cymru.com")?.parse().ok()?;
        let (_, _, as_name, cc) = self.cymru.iter().find(|p| p.1 == asn)?;
        Some(format!("{asn} | {cc} | ripencc | 2000-01-01 | {as_name}"))
    }

    /// Answer one question: (response code, records).
    pub fn answer(&self, qname: &str, qtype: RecordType) -> (ResponseCode, Vec<(String, Data)>) {
        let mut name = qname.trim_end_matches('.').to_ascii_lowercase();
        if self.servfail.contains(&name) {
            return (ResponseCode::ServFail, vec![]);
        }
        if qtype == RecordType::TXT {
            if let Some(t) = self.cymru_txt(&name) {
                return (ResponseCode::NoError, vec![(name, Data::Txt(t))]);
            }
        }
        let mut out = vec![];
        for _ in 0..8 {
            let Some(records) = self.records.get(&name) else {
                return if out.is_empty() {
                    (ResponseCode::NXDomain, out)
                } else {
                    (ResponseCode::NoError, out)
                };
            };
            if let Some(Data::Cname(target)) = records.iter().find(|d| matches!(d, Data::Cname(_))) {
                if qtype != RecordType::CNAME {
                    out.push((name.clone(), Data::Cname(target.clone())));
                    name = target.clone();
                    continue;
                }
            }
            for d in records {
                let matches = matches!(
                    (d, qtype),
                    (Data::Addr(IpAddr::V4(_)), RecordType::A)
                        | (Data::Addr(IpAddr::V6(_)), RecordType::AAAA)
                        | (Data::Cname(_), RecordType::CNAME)
                        | (Data::Mx(..), RecordType::MX)
                        | (Data::Txt(_), RecordType::TXT)
                        | (Data::Srv(..), RecordType::SRV)
                );
                if matches {
                    out.push((name.clone(), d.clone()));
                }
            }
            break;
        }
        (ResponseCode::NoError, out)
    }
}

fn record(name: &str, data: &Data) -> Option<Record> {
    let owner = Name::from_ascii(format!("{name}.")).ok()?;
    let rdata = match data {
        Data::Addr(IpAddr::V4(a)) => RData::A(A(*a)),
        Data::Addr(IpAddr::V6(a)) => RData::AAAA(AAAA(*a)),
        Data::Cname(t) => RData::CNAME(CNAME(Name::from_ascii(format!("{t}.")).ok()?)),
        // The null MX's exchange is the root, `.`.
        Data::Mx(p, h) if h.is_empty() => RData::MX(MX::new(*p, Name::root())),
        Data::Mx(p, h) => RData::MX(MX::new(*p, Name::from_ascii(format!("{h}.")).ok()?)),
        // A target of `.` (RFC 2782: no service) is the root.
        Data::Srv(p, w, port, t) if t.trim_end_matches('.').is_empty() => {
            RData::SRV(SRV::new(*p, *w, *port, Name::root()))
        }
        Data::Srv(p, w, port, t) => RData::SRV(SRV::new(*p, *w, *port, Name::from_ascii(format!("{t}.")).ok()?)),
        Data::Txt(t) => RData::TXT(TXT::new(vec![t.clone()])),
    };
    Some(Record::from_rdata(owner, TTL, rdata))
}

/// Build the reply to a raw query.
pub fn reply(zone: &Zone, packet: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(packet).ok()?;
    let mut resp = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    resp.metadata.recursion_desired = query.metadata.recursion_desired;
    resp.metadata.recursion_available = true;
    resp.metadata.authoritative = true;
    let Some(q) = query.queries.first().cloned() else {
        resp.metadata.response_code = ResponseCode::FormErr;
        return resp.to_vec().ok();
    };
    if zone.silent.contains(q.name.to_ascii().trim_end_matches('.')) {
        return None;
    }
    let (code, answers) = zone.answer(&q.name.to_ascii(), q.query_type);
    resp.metadata.response_code = code;
    resp.add_query(q);
    for (name, data) in &answers {
        if let Some(r) = record(name, data) {
            resp.add_answer(r);
        }
    }
    resp.to_vec().ok()
}

/// Serve the current week's `zone` on `socket` until the task is dropped, logging each
/// query in `stats` ([`Stats::dns_queries`]).
pub async fn serve(socket: UdpSocket, zone: Arc<Current<Zone>>, stats: Arc<Mutex<Stats>>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(q) = Message::from_vec(&buf[..n])
            .ok()
            .and_then(|m| m.queries.first().cloned())
        {
            let name = q.name.to_ascii().trim_end_matches('.').to_ascii_lowercase();
            let mut stats = stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            stats.dns_queries.push((name, q.query_type.to_string()));
        }
        if let Some(out) = reply(&zone.get(), &buf[..n]) {
            let _ = socket.send_to(&out, peer).await;
        }
    }
}

/// Bind a UDP socket on 127.0.0.1 (any free port).
///
/// # Errors
/// The bind error.
pub async fn bind() -> std::io::Result<(UdpSocket, SocketAddr)> {
    let s = UdpSocket::bind("127.0.0.1:0").await?;
    let a = s.local_addr()?;
    Ok((s, a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Instance, Software, World};

    #[test]
    fn ipv6_only_dual_stack_and_multi_homed_instances() {
        let mut v6 = Instance::new("v6.example", Software::Mastodon, "hetzner");
        v6.ipv4 = Some(false);
        v6.ipv6_loopback = true;
        let mut multi = Instance::new("multi.example", Software::Mastodon, "hetzner");
        multi.extra_ipv4 = vec!["ovh".into()];
        multi.ipv6 = true;
        multi.ipv6_provider = Some("digitalocean".into());
        let world = World {
            providers: crate::world::default_providers(),
            instances: vec![v6, multi, Instance::new("ovh.example", Software::Mastodon, "ovh")],
            accounts: vec![],
            weeks: vec![],
            names: vec![],
        };
        let zone = Zone::of(&world.layout());
        let ips = |name: &str, t: RecordType| -> Vec<String> {
            let (code, answers) = zone.answer(name, t);
            assert_eq!(code, ResponseCode::NoError);
            answers.iter().map(|(_, d)| format!("{d:?}")).collect()
        };
        assert!(ips("v6.example", RecordType::A).is_empty(), "no A record");
        assert_eq!(ips("v6.example", RecordType::AAAA), ["Addr(::1)"]);
        // The extra OVH address comes after ovh.example's own, which keeps 127.4.0.2.
        assert_eq!(
            ips("multi.example", RecordType::A),
            ["Addr(127.1.0.3)", "Addr(127.4.0.3)"]
        );
        assert_eq!(ips("ovh.example", RecordType::A), ["Addr(127.4.0.2)"]);
        assert_eq!(ips("multi.example", RecordType::AAAA), ["Addr(fd00:7::3)"]);
        let listen = zone.listen_addresses();
        assert!(
            listen.contains(&IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
            "{listen:?}"
        );
        assert!(!listen.iter().any(|a| a.to_string().starts_with("fd00")), "{listen:?}");
    }
}
