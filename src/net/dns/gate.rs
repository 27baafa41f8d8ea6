//! The address policy: which addresses are public unicast (every block of the IANA
//! special-purpose registries refused, with the reason), and which others
//! `network.allow_private_addresses` lets the client connect to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::PrivateAddresses;

/// Which addresses may be connected to.
#[derive(Debug, Clone)]
pub struct AddressGate {
    allow: PrivateAddresses,
}

impl AddressGate {
    /// A gate following `network.allow_private_addresses`.
    pub fn new(allow: PrivateAddresses) -> Self {
        AddressGate { allow }
    }

    /// `None` when `ip` may be connected to, else why not. An IPv4-mapped address
    /// (`::ffff:127.0.0.1`, a connection to the IPv4 address itself) is allowed where the
    /// address it maps is; NAT64 and 6to4 forms are judged by their IPv4 address
    /// ([`non_public`]) but reach another host, so a listed IPv4 network does not allow them.
    pub fn check(&self, ip: IpAddr) -> Option<&'static str> {
        let why = non_public(ip)?;
        let judged = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        match &self.allow {
            PrivateAddresses::All(true) => None,
            PrivateAddresses::All(false) => Some(why),
            PrivateAddresses::Networks(nets) if nets.iter().any(|n| n.contains(ip) || n.contains(judged)) => None,
            PrivateAddresses::Networks(_) => Some(why),
        }
    }
}

/// IPv4 blocks that are not public unicast, most specific first: every block of the IANA IPv4
/// Special-Purpose Address Registry (RFC 6890; registry as updated in 2025), plus multicast.
/// Blocks the registry marks globally reachable (AS112, AMT, anycast relays) are refused too:
/// no fediverse server lives there.
const V4_BLOCKS: &[(u32, u8, &str)] = &[
    (0x0000_0000, 8, "\"this\" network"),
    (0x0a00_0000, 8, "private"),
    (0x6440_0000, 10, "shared (carrier-grade NAT)"),
    (0x7f00_0000, 8, "loopback"),
    (0xa9fe_0000, 16, "link-local"),
    (0xac10_0000, 12, "private"),
    (0xc000_0000, 24, "reserved for IETF protocol assignments"),
    (0xc000_0200, 24, "documentation"),
    (0xc01f_c400, 24, "AS112 anycast"),
    (0xc034_c100, 24, "AMT anycast"),
    (0xc058_6300, 24, "6to4 relay anycast (deprecated)"),
    (0xc0a8_0000, 16, "private"),
    (0xc0af_3000, 24, "AS112 anycast"),
    (0xc612_0000, 15, "benchmarking"),
    (0xc633_6400, 24, "documentation"),
    (0xcb00_7100, 24, "documentation"),
    (0xe000_0000, 4, "multicast"),
    (0xffff_ffff, 32, "broadcast"),
    (0xf000_0000, 4, "reserved"),
];

/// IPv6 blocks that are not public unicast, most specific first: every block of the IANA IPv6
/// Special-Purpose Address Registry (RFC 6890; registry as updated 2025-10-09) except the
/// three that embed an IPv4 address (`::ffff:0:0/96`, `64:ff9b::/96`, `2002::/16`), which are
/// judged by that address; plus deprecated forms (IPv4-compatible, site-local) and multicast.
/// Anything outside global unicast `2000::/3` is refused as well.
const V6_BLOCKS: &[(u128, u8, &str)] = &[
    (0x0000_0000_0000_0000_0000_0000_0000_0001, 128, "loopback"),
    (0, 128, "unspecified"),
    (0, 96, "IPv4-compatible (deprecated)"),
    (0x0064_ff9b_0001 << 80, 48, "NAT64 local-use"),
    (0x0100 << 112, 64, "discard-only"),
    (0x0100_0000_0000_0001 << 64, 64, "dummy prefix"),
    (0x2001 << 112, 32, "Teredo"),
    (0x2001_0002_0000 << 80, 48, "benchmarking"),
    (0x2001_0003 << 96, 32, "AMT anycast"),
    (0x2001_0004_0112 << 80, 48, "AS112 anycast"),
    (0x2001_0010 << 96, 28, "ORCHID (deprecated)"),
    (0x2001_0020 << 96, 28, "ORCHIDv2"),
    (0x2001_0030 << 96, 28, "drone remote ID tags"),
    (0x2001 << 112, 23, "reserved for IETF protocol assignments"),
    (0x2001_0db8 << 96, 32, "documentation"),
    (0x2620_004f_8000 << 80, 48, "AS112 anycast"),
    (0x3fff << 112, 20, "documentation"),
    (0x5f00 << 112, 16, "segment routing (SRv6)"),
    (0xfc00 << 112, 7, "private (unique local)"),
    (0xfe80 << 112, 10, "link-local"),
    (0xfec0 << 112, 10, "site-local (deprecated)"),
    (0xff00 << 112, 8, "multicast"),
];

/// Whether `addr` lies in `net/len`.
fn in_block<T: PrefixMask>(addr: T, net: T, len: u8) -> bool {
    addr & T::prefix_mask(len) == net
}

/// Address integers and their prefix masks.
trait PrefixMask: Copy + PartialEq + std::ops::BitAnd<Output = Self> {
    /// Ones in the first `len` bits, zeros after (no overflow for any `len`).
    fn prefix_mask(len: u8) -> Self;
}

impl PrefixMask for u32 {
    fn prefix_mask(len: u8) -> Self {
        !u32::MAX.checked_shr(u32::from(len)).unwrap_or(0)
    }
}

impl PrefixMask for u128 {
    fn prefix_mask(len: u8) -> Self {
        !u128::MAX.checked_shr(u32::from(len)).unwrap_or(0)
    }
}

/// Why an address is not a public unicast address, if it is not. Forms embedding an IPv4
/// address (IPv4-mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that address.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let a = u32::from(v4);
    V4_BLOCKS
        .iter()
        .find(|(net, len, _)| in_block(a, *net, *len))
        .map(|b| b.2)
}

fn non_public_v6(v6: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(v6) {
        return non_public_v4(v4);
    }
    let a = u128::from(v6);
    if let Some(b) = V6_BLOCKS.iter().find(|(net, len, _)| in_block(a, *net, *len)) {
        return Some(b.2);
    }
    (!in_block(a, 0x2000 << 112, 3)).then_some("reserved (not global unicast)")
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:0:0/96`), NAT64 (`64:ff9b::/96`) or 6to4
/// (`2002::/16`) address: the address policy judges such an address by it, and attribution
/// looks it up.
pub fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let a = u128::from(v6);
    let low32 = Ipv4Addr::from((a & 0xffff_ffff) as u32);
    if in_block(a, 0xffff << 32, 96) || in_block(a, 0x0064_ff9b << 96, 96) {
        return Some(low32);
    }
    in_block(a, 0x2002 << 112, 16).then(|| Ipv4Addr::from(((a >> 80) & 0xffff_ffff) as u32))
}
