//! A contact's address, whatever network it is on: an e-mail address, an XMPP JID, a Matrix
//! user ID or a fediverse handle, each normalised so that two spellings of one address are
//! one contact.
//!
//! The domain part is normalised as instance hosts are ([`InstanceHost`]: lower case, no
//! trailing dot, IDNs in punycode) and checked with the same rules ([`domain_problem`]),
//! but for a Matrix server name, which may be an IP literal (`192.0.2.1:8448`,
//! `[2001:db8::1]`) as the server-server spec allows. The
//! local part is kept as written but compared in lower case: RFC 5321 lets a server tell
//! `Ann` from `ann`, yet no provider whohosts measures does, and a contact book that holds
//! both spellings means one person.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::handle::{domain_problem, Handle, InstanceHost, IP_REFUSED};

/// The network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `user@domain`, delivered through the domain's MX.
    Email,
    /// `user@domain` (a JID), served by the domain's XMPP server.
    Xmpp,
    /// `@user:server`, served by the server's homeserver.
    Matrix,
    /// `@user@domain`, a fediverse account.
    Fediverse,
}

impl Protocol {
    /// The name reports and the database use.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Email => "email",
            Protocol::Xmpp => "xmpp",
            Protocol::Matrix => "matrix",
            Protocol::Fediverse => "fediverse",
        }
    }
}

/// One contact address, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    protocol: Protocol,
    /// The local part in lower case (the comparison key; see the module docs).
    local: String,
    /// The domain (e-mail, XMPP, fediverse) or server name (Matrix, with its port if given).
    domain: InstanceHost,
}

/// The longest local part accepted (RFC 5321 allows 64 octets; Matrix localparts are
/// bounded by the 255-byte user ID).
const MAX_LOCAL: usize = 255;

impl Address {
    /// The network.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The local part (user name), in lower case.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The domain or server that serves the address.
    pub fn domain(&self) -> &InstanceHost {
        &self.domain
    }

    /// An e-mail address `local@domain` (no display name, no angle brackets).
    pub fn email(input: &str) -> Result<Address, &'static str> {
        let (local, domain) = split_at_last(input, '@').ok_or("no '@' in the address")?;
        Address::checked(Protocol::Email, email_local(local)?, domain)
    }

    /// An XMPP JID, bare or as an `xmpp:` URI (`xmpp:user@domain?message`); a resource
    /// (`/phone`) is dropped, as it names a device, not a contact.
    pub fn xmpp(input: &str) -> Result<Address, &'static str> {
        let jid = input.strip_prefix("xmpp:").unwrap_or(input).trim_start_matches("//");
        let jid = jid.split(['?', '#']).next().unwrap_or_default();
        let jid = jid.split('/').next().unwrap_or_default();
        let (local, domain) = split_at_last(jid, '@').ok_or("no '@' in the JID")?;
        if local.is_empty() {
            return Err("the JID has no user part");
        }
        if local
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '&' | '\'' | ':' | '<' | '>' | '@'))
        {
            return Err("the JID's user part has a character XMPP forbids");
        }
        Address::checked(Protocol::Xmpp, local, domain)
    }

    /// A Matrix user ID `@user:server` (also as `matrix:u/user:server` or a matrix.to link).
    pub fn matrix(input: &str) -> Result<Address, &'static str> {
        let id = if let Some(rest) = input.strip_prefix("matrix:u/") {
            format!("@{}", rest.split(['?', '#']).next().unwrap_or_default())
        } else if let Some(rest) = input.strip_prefix("https://matrix.to/#/") {
            rest.to_string()
        } else {
            input.to_string()
        };
        let id = id.strip_prefix('@').ok_or("a Matrix ID starts with '@'")?;
        let (local, server) = id.split_once(':').ok_or("no ':' between user and server")?;
        if local.is_empty() {
            return Err("the Matrix ID has no user part");
        }
        if !local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '=' | '-' | '/' | '+'))
        {
            return Err("the Matrix user part has a character Matrix forbids");
        }
        Address::checked(Protocol::Matrix, local, server)
    }

    /// A fediverse handle in any of the spellings [`Handle`] reads.
    pub fn fediverse(input: &str) -> Result<Address, &'static str> {
        let handle: Handle = input.parse().map_err(|_| "not a fediverse handle")?;
        Address::checked(Protocol::Fediverse, &handle.user, &handle.domain)
    }

    /// An address of an unknown kind, told by its form: `xmpp:` and `matrix:` URIs, `@u:s`
    /// (Matrix), `@u@d` and `acct:` (fediverse), `mailto:` and `u@d` (e-mail: in an address
    /// book a bare `u@d` is mail unless the field says otherwise).
    pub fn classify(input: &str) -> Result<Address, &'static str> {
        let s = input.trim();
        let lower = s.get(..7).map(str::to_ascii_lowercase).unwrap_or_default();
        if lower.starts_with("xmpp:") {
            Address::xmpp(s)
        } else if lower.starts_with("matrix:") || s.starts_with("https://matrix.to/") {
            Address::matrix(s)
        } else if lower.starts_with("mailto:") {
            Address::email(mailto(s))
        } else if lower.starts_with("acct:") || (s.starts_with('@') && s[1..].contains('@')) {
            Address::fediverse(s)
        } else if s.starts_with('@') {
            Address::matrix(s)
        } else {
            Address::email(s)
        }
    }

    fn checked(protocol: Protocol, local: &str, domain: &str) -> Result<Address, &'static str> {
        if local.len() > MAX_LOCAL {
            return Err("the user part is longer than 255 bytes");
        }
        let problem = domain_problem(domain.trim_end_matches('.'));
        if protocol == Protocol::Matrix && problem == Some(IP_REFUSED) {
            // The server-server spec allows an IP literal as a server name (which address
            // may be connected to is the address policy's to say, when it is served).
            return Ok(Address {
                protocol,
                local: local.to_lowercase(),
                domain: InstanceHost::new(&matrix_ip_literal(domain)?),
            });
        }
        if let Some(problem) = problem {
            // Two of the handle rules speak of handles; the others read right as they are.
            return Err(match problem {
                IP_REFUSED => "the domain is an IP address, not a name",
                p if p.starts_with("domain has no dot") => "the domain has no dot",
                p => p,
            });
        }
        let domain = InstanceHost::parse(domain).ok_or("the domain has no ASCII (IDNA) form")?;
        // An IDN label can grow past 63 characters in punycode: the form printed must parse.
        if domain_problem(domain.as_str()).is_some() {
            return Err("the domain is too long in its ASCII (punycode) form");
        }
        Ok(Address {
            protocol,
            local: local.to_lowercase(),
            domain,
        })
    }
}

/// A Matrix server name that is an IP literal, in its one spelling: an IPv4 address or an
/// IPv6 address in brackets, then an optional port (`192.0.2.1:8448`, `[2001:db8::1]`).
fn matrix_ip_literal(name: &str) -> Result<String, &'static str> {
    let (ip, port) = match name.strip_prefix('[') {
        Some(rest) => {
            let (v6, tail) = rest.split_once(']').ok_or("the IPv6 server name has no closing ']'")?;
            let v6: std::net::Ipv6Addr = v6.parse().map_err(|_| "the server name is no IPv6 address")?;
            (format!("[{v6}]"), tail)
        }
        None => {
            let (v4, tail) = name
                .split_once(':')
                .map_or((name, ""), |(v4, _)| (v4, &name[v4.len()..]));
            let v4: std::net::Ipv4Addr = v4
                .parse()
                .map_err(|_| "an IPv6 server name is written in brackets ([2001:db8::1]:8448)")?;
            (v4.to_string(), tail)
        }
    };
    Ok(format!("{ip}{}", port_like(port)?))
}

/// Why a server name's port was refused (port 0 names no service).
const PORT_RANGE: &str = "port is not a number from 1 to 65535";

/// The `:port` after a server name's host (empty when none), in its shortest form.
fn port_like(tail: &str) -> Result<String, &'static str> {
    if tail.is_empty() {
        return Ok(String::new());
    }
    let port = tail
        .strip_prefix(':')
        .ok_or("the server name has text after its address")?;
    match port.chars().all(|c| c.is_ascii_digit()) {
        true => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .map(|p| format!(":{p}"))
            .ok_or(PORT_RANGE),
        false => Err(PORT_RANGE),
    }
}

/// The address of a `mailto:` URI, without its query (`?subject=`) and percent-decoding of
/// the one character address books escape (`%40` for `@`).
fn mailto(s: &str) -> &str {
    let rest = &s[7..];
    rest.split('?').next().unwrap_or_default()
}

/// `s` split at the last `sep` (a quoted local part may hold another `@`).
fn split_at_last(s: &str, sep: char) -> Option<(&str, &str)> {
    s.rsplit_once(sep)
}

/// The local part of an e-mail address, checked: dot-atom text or a quoted string.
fn email_local(local: &str) -> Result<&str, &'static str> {
    if local.is_empty() {
        return Err("the address has no user part");
    }
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if quoted {
        return Ok(local);
    }
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        Err("the user part has a misplaced '.'")
    } else if !local.chars().all(|c| atext(c) || c == '.') {
        Err("the user part has a character an address cannot have")
    } else {
        Ok(local)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            Protocol::Email | Protocol::Xmpp => write!(f, "{}@{}", self.local, self.domain),
            Protocol::Matrix => write!(f, "@{}:{}", self.local, self.domain),
            Protocol::Fediverse => write!(f, "@{}@{}", self.local, self.domain),
        }
    }
}

/// How contacts are weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactWeight {
    /// Each distinct address once.
    Contacts,
    /// Messages exchanged with the address (from the mailboxes read).
    Messages,
}

impl ContactWeight {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            ContactWeight::Contacts => "contacts",
            ContactWeight::Messages => "messages",
        }
    }
}

/// What the gateway level counts apart: mail that reaches its provider through no filtering
/// gateway (the level's buckets are the gateways, over the mail behind one).
pub const DIRECT: &str = "reach their provider directly";

/// The levels of a contacts measurement, in report order (a measurement leaves out
/// `gateway` when no address is behind one, `country` when none is known).
pub const LEVELS: [&str; 8] = [
    "protocol",
    "domain",
    "server",
    "provider",
    "gateway",
    "organisation",
    "as",
    "country",
];

/// A level's buckets, largest first (ties by name), buckets of no weight left out: the
/// order reports show and the store ranks them in.
pub fn ranked(buckets: &BTreeMap<String, f64>) -> Vec<(&str, f64)> {
    let mut v: Vec<(&str, f64)> = buckets
        .iter()
        .map(|(k, w)| (k.as_str(), *w))
        .filter(|(_, w)| *w > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

/// A contacts measurement: who serves the addresses read, grouped at every level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// `contacts` or `messages`.
    pub weight: &'static str,
    /// Distinct addresses measured (after removing the owner's own).
    pub addresses: usize,
    /// Their total weight.
    pub total: f64,
    /// Entries of the sources that named no usable address.
    pub malformed: usize,
    /// Level name (`protocol`, `domain`, `server`, `provider`, `gateway`, `organisation`,
    /// `as`, `country`: those the measurement has) → bucket → weight, over the addresses whose
    /// server was found.
    pub levels: Vec<(String, BTreeMap<String, f64>)>,
    /// Provider → service (`Gmail`, `Microsoft 365`, `Microsoft 365 (inferred from SPF)`) →
    /// weight, for the providers a rule named.
    pub services: BTreeMap<String, BTreeMap<String, f64>>,
    /// Weight whose server was not found, by why (`receives no mail (null MX)`, …).
    pub apart: BTreeMap<String, f64>,
    /// Level → weight whose server was found but that the level cannot place, by why: as
    /// the follows report counts them apart (`no AS`, `unresolved`, `no country`), and at
    /// the `gateway` level the mail that reaches its provider directly ([`DIRECT`]).
    pub level_apart: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Measurement {
    /// Everything `level` counts apart: the weight whose server was not found, and what the
    /// level itself could not place.
    pub fn apart_at(&self, level: &str) -> BTreeMap<String, f64> {
        let mut all = self.apart.clone();
        for (why, w) in self.level_apart.get(level).into_iter().flatten() {
            *all.entry(why.clone()).or_default() += w;
        }
        all
    }
}

/// Who serves one domain of a contacts measurement (a row of the store's `contact_domain`):
/// what diffs and queries compare between snapshots, without any contact's user name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DomainRecord {
    /// `email`, `xmpp`, `matrix` or `fediverse`.
    pub protocol: &'static str,
    pub domain: String,
    /// Distinct addresses at the domain, and the messages exchanged with them.
    pub contacts: u64,
    pub messages: u64,
    /// Why its server was not found (as the report says it); `None` when it was.
    pub not_found: Option<String>,
    /// The host that serves it.
    pub server: Option<String>,
    /// The provider level's bucket(s), `; `-separated when the weight was shared.
    pub provider: Option<String>,
    /// The service a rule named (`Gmail`, `Microsoft 365 (inferred from SPF)`).
    pub service: Option<String>,
    pub gateway: Option<String>,
    /// Who hosts the server: organisations, AS numbers, countries (`; `-separated).
    pub organisation: Option<String>,
    pub asns: Option<String>,
    pub country: Option<String>,
    /// The steps taken to find its server, in order (`MX 10 mx1.example`, `no SRV
    /// _matrix-fed._tcp.example.org`, `.well-known/matrix/server: m.example.org`); empty in a
    /// snapshot stored before they were kept.
    pub steps: Vec<String>,
}

/// A contacts measurement as it is stored: the figures, who serves each domain, and each
/// contact (its address, hashed by the store, and the messages exchanged with it).
#[derive(Debug, Clone)]
pub struct ContactsSnapshot {
    pub measurement: Measurement,
    pub domains: Vec<DomainRecord>,
    pub contacts: Vec<(Address, u64)>,
    pub finished_at: String,
    pub tool: String,
    pub attribution: super::attribution::AttributionSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(r: Result<Address, &'static str>) -> String {
        match r {
            Ok(a) => format!("{} {a}", a.protocol().name()),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn spellings_of_one_address_are_one_contact() {
        let a = Address::classify("Ann.Lee@Example.ORG.").unwrap();
        let b = Address::classify("mailto:ann.lee@example.org?subject=hi").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "ann.lee@example.org");
        assert_eq!(
            shown(Address::classify("jürgen@bücher.example")),
            "email jürgen@xn--bcher-kva.example"
        );
    }

    /// Fuzz find (the `contacts` target, 2026-12-06): a label of 57 characters with one `ÿ`
    /// is 64 in punycode; it was kept, and its printed form did not parse again.
    #[test]
    fn fuzz_an_idn_label_too_long_in_punycode_is_no_address() {
        let input = "S0@lllllo.mllll04ÿzS.lll04Sz.ÿlllll-lllllllllllllllllllllllllllll-llllllllllllllllllll";
        assert_eq!(
            shown(Address::classify(input)),
            "error: the domain is too long in its ASCII (punycode) form"
        );
        // One character fewer fits in 63, and prints as an address that parses again.
        let a = Address::classify(&input.replacen("-lllll", "-llll", 1)).unwrap();
        assert_eq!(Address::classify(&a.to_string()), Ok(a));
    }

    #[test]
    fn each_kind_is_told_by_its_form() {
        assert_eq!(
            shown(Address::classify("xmpp:romeo@montague.example/orchard?message")),
            "xmpp romeo@montague.example"
        );
        assert_eq!(
            shown(Address::classify("@alice:matrix.example")),
            "matrix @alice:matrix.example"
        );
        assert_eq!(
            shown(Address::classify("matrix:u/bob:chat.example?action=chat")),
            "matrix @bob:chat.example"
        );
        assert_eq!(
            shown(Address::classify("https://matrix.to/#/@carol:m.example")),
            "matrix @carol:m.example"
        );
        assert_eq!(
            shown(Address::classify("@dan@social.example")),
            "fediverse @dan@social.example"
        );
        assert_eq!(
            shown(Address::classify("acct:dan@social.example")),
            "fediverse @dan@social.example"
        );
        assert_eq!(
            shown(Address::xmpp("juliet@capulet.example")),
            "xmpp juliet@capulet.example"
        );
    }

    #[test]
    fn a_matrix_server_keeps_its_port() {
        let a = Address::matrix("@eve:matrix.example:8448").unwrap();
        assert_eq!(a.domain().as_str(), "matrix.example:8448");
    }

    #[test]
    fn malformed_addresses_say_what_is_wrong() {
        assert_eq!(shown(Address::classify("no-at-sign")), "error: no '@' in the address");
        assert_eq!(
            shown(Address::classify("@example.org")),
            "error: no ':' between user and server"
        );
        assert_eq!(
            shown(Address::classify("a..b@example.org")),
            "error: the user part has a misplaced '.'"
        );
        assert_eq!(
            shown(Address::classify("a b@example.org")),
            "error: the user part has a character an address cannot have"
        );
        assert_eq!(
            shown(Address::classify("ann@localhost")),
            "error: the domain has no dot"
        );
        assert_eq!(
            shown(Address::classify("ann@192.0.2.1")),
            "error: the domain is an IP address, not a name"
        );
        // An IP literal is a Matrix server name (the spec allows it), and no other domain.
        assert_eq!(
            shown(Address::classify("@u:[2001:DB8::1]:08448")),
            "matrix @u:[2001:db8::1]:8448"
        );
        assert_eq!(
            shown(Address::classify("@u:192.0.2.1:8448")),
            "matrix @u:192.0.2.1:8448"
        );
        assert_eq!(shown(Address::classify("@u:192.0.2.1")), "matrix @u:192.0.2.1");
        assert_eq!(
            shown(Address::classify("@u:2001:db8::1")),
            "error: an IPv6 server name is written in brackets ([2001:db8::1]:8448)"
        );
        assert_eq!(
            shown(Address::classify("@u:[::1]:99999")),
            "error: port is not a number from 1 to 65535"
        );
        assert_eq!(
            shown(Address::classify("@u:[::1]:x")),
            "error: port is not a number from 1 to 65535"
        );
        assert_eq!(
            shown(Address::classify("@u:1.2.3.4:0")),
            "error: port is not a number from 1 to 65535"
        );
        assert_eq!(
            shown(Address::xmpp("u@[::1]")),
            "error: the domain is an IP address, not a name"
        );
        assert_eq!(
            shown(Address::classify("@:m.example")),
            "error: the Matrix ID has no user part"
        );
        assert_eq!(
            shown(Address::xmpp("xmpp:@x.example")),
            "error: the JID has no user part"
        );
        assert!(Address::classify(&format!("{}@example.org", "a".repeat(300))).is_err());
    }

    #[test]
    fn a_quoted_local_part_may_hold_an_at_sign() {
        assert_eq!(
            shown(Address::email("\"a@b\"@example.org")),
            "email \"a@b\"@example.org"
        );
    }
}
