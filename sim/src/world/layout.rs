//! A world laid out: each instance's addresses (kept across the weeks of a timeline), the
//! names that lead to it, and the ASN data mapping the providers' ranges to their AS numbers.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Fault, Instance, Provider, World};

/// A world with its addresses laid out.
#[derive(Debug, Clone)]
pub struct Layout {
    pub world: World,
    /// Instance domain (or `[[dns]]` name with a provider) → (IPv4, optional IPv6).
    pub addresses: BTreeMap<String, (Ipv4Addr, Option<Ipv6Addr>)>,
    /// Extra names (handle domains, redirecting domains, CNAME targets) → the instance they lead to.
    pub aliases: BTreeMap<String, String>,
    /// Instance domain → further addresses (`extra_ipv4`, `ipv6_loopback`).
    pub extra: BTreeMap<String, Vec<IpAddr>>,
}

impl World {
    /// Assign addresses: instance n of a provider gets 127.<octet>.<n / 250>.<n % 250 + 2>.
    pub fn layout(self) -> Layout {
        self.layout_with(&mut Addresses::default())
    }

    /// [`World::layout`] with addresses from `given`, which keeps the address of every
    /// (instance, provider) pair it has handed out: the weeks of a timeline share one.
    pub(crate) fn layout_with(self, given: &mut Addresses) -> Layout {
        let mut addresses = BTreeMap::new();
        let mut aliases = BTreeMap::new();
        let octets: HashMap<&str, u8> = self.providers.iter().map(|p| (p.name.as_str(), p.octet)).collect();
        for i in &self.instances {
            let octet = octets[i.provider.as_str()];
            let v6_octet = i.ipv6_provider.as_ref().map_or(octet, |p| octets[p.as_str()]);
            addresses.insert(i.domain.clone(), given.of(i, octet, v6_octet));
            for alias in [&i.handle_domain, &i.redirect_from, &i.cname].into_iter().flatten() {
                aliases.insert(alias.clone(), i.domain.clone());
            }
        }
        let extra = self.extra_addresses(given, &octets);
        // Names beyond the instances take their provider's next free address after every
        // instance's, so adding a name moves no instance.
        for n in &self.names {
            if let Some(p) = &n.provider {
                let k = given.number(&format!("dns#{}", n.name), p, false);
                addresses.insert(
                    n.name.clone(),
                    (
                        Ipv4Addr::new(127, octets[p.as_str()], (k / 250) as u8, (k % 250 + 2) as u8),
                        None,
                    ),
                );
            }
        }
        Layout {
            world: self,
            addresses,
            aliases,
            extra,
        }
    }

    /// Addresses beyond each instance's first: `extra_ipv4` take the next free address of
    /// their provider (after every instance's own, so other addresses do not move), and
    /// `ipv6_loopback` adds `::1`.
    fn extra_addresses(&self, given: &mut Addresses, octets: &HashMap<&str, u8>) -> BTreeMap<String, Vec<IpAddr>> {
        let mut extra = BTreeMap::new();
        for i in &self.instances {
            let mut more = vec![];
            for (k, p) in i.extra_ipv4.iter().enumerate() {
                let n = given.number(&format!("{}#extra{k}", i.domain), p, false);
                let v4 = Ipv4Addr::new(127, octets[p.as_str()], (n / 250) as u8, (n % 250 + 2) as u8);
                more.push(IpAddr::V4(v4));
            }
            if i.ipv6_loopback {
                more.push(IpAddr::V6(Ipv6Addr::LOCALHOST));
            }
            if !more.is_empty() {
                extra.insert(i.domain.clone(), more);
            }
        }
        extra
    }
}

/// Addresses handed out to instances, per provider. A refused instance (nothing listens)
/// gets an address from a separate pool, 127.<octet>.<250 + k / 250>.<k % 250 + 2>, that the
/// simulator never binds.
#[derive(Debug, Default)]
pub struct Addresses {
    next: HashMap<(String, bool), u32>,
    given: HashMap<(String, String, bool), u32>,
}

impl Addresses {
    /// The number of `name`'s address in `provider`'s pool (live or dead), handed out once.
    fn number(&mut self, name: &str, provider: &str, dead: bool) -> u32 {
        let key = (name.to_string(), provider.to_string(), dead);
        if let Some(n) = self.given.get(&key) {
            return *n;
        }
        let next = self.next.entry((provider.to_string(), dead)).or_insert(0);
        let n = *next;
        *next += 1;
        self.given.insert(key, n);
        n
    }

    fn of(&mut self, i: &Instance, octet: u8, v6_octet: u8) -> (Ipv4Addr, Option<Ipv6Addr>) {
        let dead = i.fault == Fault::Refused;
        let n = self.number(&i.domain, &i.provider, dead);
        let third = if dead { 250 + n / 250 } else { n / 250 };
        let v4 = Ipv4Addr::new(127, octet, third as u8, (n % 250 + 2) as u8);
        let v6 = i
            .ipv6
            .then(|| Ipv6Addr::new(0xfd00, u16::from(v6_octet), 0, 0, 0, 0, u16::from(dead), (n + 2) as u16));
        (v4, v6)
    }
}

impl Layout {
    /// The ASN fixture for this world, as ip-location-db CSV.
    pub fn asn_csv(&self) -> String {
        let mut out = String::new();
        for p in &self.world.providers {
            let name = if p.as_name.contains(',') || p.as_name.contains('"') {
                format!("\"{}\"", p.as_name.replace('"', "\"\""))
            } else {
                p.as_name.clone()
            };
            out.push_str(&format!("127.{0}.0.0,127.{0}.255.255,{1},{name}\n", p.octet, p.asn));
        }
        for p in &self.world.providers {
            let name = format!("\"{}\"", p.as_name.replace('"', "\"\""));
            out.push_str(&format!(
                "fd00:{0:x}::,fd00:{0:x}:ffff:ffff:ffff:ffff:ffff:ffff,{1},{name}\n",
                p.octet, p.asn
            ));
        }
        out
    }

    /// The ASN data of this world as iptoasn TSV (what `asn-db update` downloads in tests).
    pub fn asn_tsv(&self) -> String {
        let mut out = String::new();
        for p in &self.world.providers {
            out.push_str(&format!(
                "127.{0}.0.0\t127.{0}.255.255\t{1}\t{2}\t{3}\n",
                p.octet, p.asn, p.country, p.as_name
            ));
        }
        out.push_str("127.250.0.0\t127.250.255.255\t0\tNone\tNot routed\n");
        for p in &self.world.providers {
            out.push_str(&format!(
                "fd00:{0:x}::\tfd00:{0:x}:ffff:ffff:ffff:ffff:ffff:ffff\t{1}\t{2}\t{3}\n",
                p.octet, p.asn, p.country, p.as_name
            ));
        }
        out
    }

    /// The provider owning an address, if any.
    pub fn provider_of(&self, ip: IpAddr) -> Option<&Provider> {
        let octet = match ip {
            IpAddr::V4(v4) if v4.octets()[0] == 127 => v4.octets()[1],
            IpAddr::V6(v6) if v6.segments()[0] == 0xfd00 => v6.segments()[1] as u8,
            _ => return None,
        };
        self.world.providers.iter().find(|p| p.octet == octet)
    }

    /// The instance serving `domain` (itself or through an alias).
    pub fn instance(&self, domain: &str) -> Option<&Instance> {
        let target = self.aliases.get(domain).map(String::as_str).unwrap_or(domain);
        self.world.instances.iter().find(|i| i.domain == target)
    }
}
