//! The optional online source: Team Cymru's IP-to-ASN service over DNS.
//!
//! `4.3.2.1.origin.asn.cymru.com TXT "13335 | 1.1.1.0/24 | AU | apnic | 2011-08-11"` gives the
//! AS and prefix (nibbles under `origin6.asn.cymru.com` for IPv6), and
//! `AS13335.asn.cymru.com TXT "13335 | US | arin | 2010-07-14 | CLOUDFLARENET - Cloudflare, Inc., US"`
//! the AS name. Queries go through the run's resolver (in tests, the simulator's DNS).

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::{cover, looked_up, AsnHit};
use crate::error::{Error, Result};
use crate::net::dns::{is_absent, Dns};

/// Named in every attribution made this way.
pub const SOURCE: &str = "Team Cymru IP-to-ASN (DNS, origin.asn.cymru.com)";

/// The origin query name for an address.
pub fn origin_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.origin.asn.cymru.com", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let nibbles: Vec<String> = hex.chars().rev().map(String::from).collect();
            format!("{}.origin6.asn.cymru.com", nibbles.join("."))
        }
    }
}

fn fields(txt: &str) -> Vec<String> {
    txt.split('|').map(|f| f.trim().to_string()).collect()
}

/// Ask Team Cymru about `ip`: about the IPv4 address it embeds, if any (IPv4-mapped, NAT64,
/// 6to4: [`looked_up`]), as the table is searched.
///
/// # Errors
/// [`Error::Dns`] when the service does not answer or answers nonsense.
pub async fn lookup(dns: &Dns, ip: IpAddr) -> Result<AsnHit> {
    let ip = looked_up(ip);
    let bad = |m: String| Error::Dns {
        host: origin_name(ip),
        message: m,
    };
    let origin = dns.txt(&origin_name(ip)).await?;
    let first = origin.first().ok_or_else(|| bad("no TXT record".into()))?;
    let f = fields(first);
    // Several ASes can originate a prefix: "13335 15169 | ..."; take the first.
    let asn: u32 = f
        .first()
        .and_then(|a| a.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| bad(format!("unreadable answer {first:?}")))?;
    let prefix: IpNetwork = f
        .get(1)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| bad(format!("unreadable prefix in {first:?}")))?;
    let country = f.get(2).filter(|c| !c.is_empty()).cloned();
    let name = match dns.txt(&format!("AS{asn}.asn.cymru.com")).await {
        Ok(t) => t.first().and_then(|t| fields(t).get(4).cloned()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let (start, end) = match prefix {
        IpNetwork::V4(n) => (IpAddr::V4(n.network()), IpAddr::V4(n.broadcast())),
        IpNetwork::V6(n) => (IpAddr::V6(n.network()), IpAddr::V6(n.broadcast())),
    };
    Ok(AsnHit {
        asn,
        name,
        country,
        range_start: start,
        range_end: end,
        cidr: prefix,
        cover: cover(ip),
    })
}

/// What to say when [`lookup`] failed, if not "no AS found": a timeout or a failing service
/// says nothing about the address, so it is not reported as an address without an AS.
/// NXDOMAIN and an empty answer are Team Cymru's way of saying "no AS": `None`.
pub fn failure(e: &Error) -> Option<String> {
    match e {
        Error::Dns { message, .. } if is_absent(message) => None,
        Error::Dns { message, .. } if message == "no TXT record" => None,
        Error::Dns { message, .. } if message == "timeout" => Some("Team Cymru query timed out".into()),
        Error::Dns { message, .. } => Some(format!("Team Cymru query failed: {message}")),
        other => Some(format!("Team Cymru query failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_is_not_reported_as_no_as() {
        let dns = |m: &str| Error::Dns {
            host: "4.3.2.1.origin.asn.cymru.com".into(),
            message: m.into(),
        };
        assert_eq!(failure(&dns("timeout")).as_deref(), Some("Team Cymru query timed out"));
        assert_eq!(failure(&dns("NXDOMAIN")), None);
        assert_eq!(failure(&dns("no TXT record")), None);
        assert_eq!(
            failure(&dns("SERVFAIL")).as_deref(),
            Some("Team Cymru query failed: SERVFAIL")
        );
    }

    #[test]
    fn query_names() {
        assert_eq!(origin_name("1.2.3.4".parse().unwrap()), "4.3.2.1.origin.asn.cymru.com");
        let v6 = origin_name("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0.0.0.0.0"), "{v6}");
        assert!(v6.ends_with("8.b.d.0.1.0.0.2.origin6.asn.cymru.com"), "{v6}");
    }
}
