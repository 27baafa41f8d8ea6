//! IP address → autonomous system, offline and fast.
//!
//! # Architecture
//! Every supported format ([`load`]) is turned into rows `(start, end, AS)`; overlapping rows
//! are flattened once at load time so lookups are a single search: the narrowest row wins on
//! the overlap, and between rows of equal size the one earlier in the file (deterministic, and
//! what a brute-force scan with the same rule returns). IPv4 and IPv6 each get a [`Table`] of
//! sorted entries (start, end, AS index), with a bucket index on the leading bits (16 for
//! IPv4, 20 for IPv6), so a lookup searches one bucket's few entries, and a bit per bucket
//! that answers an address in no range without a search. AS 0 ("Not routed") rows are left out: no AS.
//! The flattened tables are cached in the data directory ([`cache`]), keyed by the sources.

pub mod cache;
pub mod cymru;
pub mod load;
pub mod store;
mod table;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::attribution::DbInfo;
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use serde::{Deserialize, Serialize};

pub use table::{flatten, Entry, Key, Row, Segment, Table};

/// An autonomous system as the database names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AsInfo {
    pub asn: u32,
    pub name: String,
    pub country: Option<String>,
}

/// What the database says about one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsnHit {
    pub asn: u32,
    pub name: String,
    pub country: Option<String>,
    /// The database range holding the address (inclusive).
    pub range_start: IpAddr,
    pub range_end: IpAddr,
    /// The largest CIDR block around the address inside its range that holds no address
    /// another (overlapping) row answers for.
    pub cidr: IpNetwork,
    /// The covering /24 (IPv4) or /48 (IPv6).
    pub cover: IpNetwork,
}

/// A loaded database.
#[derive(Debug)]
pub struct AsnDb {
    pub v4: Table<u32>,
    pub v6: Table<u128>,
    pub names: Vec<AsInfo>,
    pub info: DbInfo,
}

impl AsnDb {
    /// Build from rows already split by family; `names[row.info]` names each row's AS.
    pub fn from_rows(v4: &[Row], v6: &[Row], names: Vec<AsInfo>, info: DbInfo) -> Self {
        let mut db = AsnDb {
            v4: Table::build(flatten(v4), v4.len()),
            v6: Table::build(flatten(v6), v6.len()),
            names,
            info,
        };
        db.info.ranges_v4 = db.v4.len();
        db.info.ranges_v6 = db.v6.len();
        db
    }

    /// Look an address up. IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Option<AsnHit> {
        self.find(ip).map(|f| AsnHit {
            asn: f.as_info.asn,
            name: f.as_info.name.clone(),
            country: f.as_info.country.clone(),
            range_start: f.range_start,
            range_end: f.range_end,
            cidr: f.cidr,
            cover: cover(ip),
        })
    }

    /// What [`AsnDb::lookup`] answers, borrowed from the table: nothing is copied, so a stream
    /// of addresses can be written straight from it.
    pub fn find(&self, ip: IpAddr) -> Option<Found<'_>> {
        let ip = looked_up(ip);
        // The row's bounds, and the piece of it that answers for `ip` (the whole row unless
        // another row overlaps it): the CIDR is taken inside the piece, so it never holds
        // addresses another row answers for.
        let ((start, end), (piece_start, piece_end), info) = match ip {
            IpAddr::V4(v4) => {
                let j = self.v4.find(u32::from(v4))?;
                let v4 = |(s, e): (u32, u32)| (IpAddr::V4(s.into()), IpAddr::V4(e.into()));
                (v4(self.v4.bounds(j)), v4(self.v4.piece(j)), self.v4.info(j))
            }
            IpAddr::V6(v6) => {
                let j = self.v6.find(u128::from(v6))?;
                let v6 = |(s, e): (u128, u128)| (IpAddr::V6(s.into()), IpAddr::V6(e.into()));
                (v6(self.v6.bounds(j)), v6(self.v6.piece(j)), self.v6.info(j))
            }
        };
        Some(Found {
            as_index: info,
            as_info: &self.names[info as usize],
            range_start: start,
            range_end: end,
            cidr: cidr_within(piece_start, piece_end, ip),
        })
    }
}

/// The address the table is searched for: an IPv6 address embedding an IPv4 address
/// (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::/48`) as
/// that IPv4 address, which is the host behind it ([`crate::net::dns::embedded_v4`], as the
/// address policy judges it).
pub fn looked_up(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => crate::net::dns::embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An [`AsnHit`] borrowed from the database ([`AsnDb::find`]), without its cover (the cover
/// is the address's, not the table's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    /// Index of the AS in [`AsnDb::names`].
    pub as_index: u32,
    pub as_info: &'a AsInfo,
    pub range_start: IpAddr,
    pub range_end: IpAddr,
    pub cidr: IpNetwork,
}

/// The covering /24 (IPv4) or /48 (IPv6) of the host an address names: an IPv6 address that
/// embeds an IPv4 one (IPv4-mapped, NAT64, 6to4: [`looked_up`]) is covered by that IPv4
/// address's /24, as it is attributed by it.
pub fn cover(ip: IpAddr) -> IpNetwork {
    match looked_up(ip) {
        IpAddr::V4(a) => {
            IpNetwork::V4(Ipv4Network::new(Ipv4Addr::from(u32::from(a) & !0xff), 24).expect("24 is a valid prefix"))
        }
        IpAddr::V6(a) => IpNetwork::V6(
            Ipv6Network::new(Ipv6Addr::from(u128::from(a) & !((1u128 << 80) - 1)), 48).expect("48 is a valid prefix"),
        ),
    }
}

/// The largest CIDR block that lies inside `start..=end` and holds `ip` (the host's own
/// block when `ip` is outside them).
pub fn cidr_within(start: IpAddr, end: IpAddr, ip: IpAddr) -> IpNetwork {
    let (bits, s, e, x) = match (start, end, ip) {
        (IpAddr::V4(s), IpAddr::V4(e), IpAddr::V4(x)) => (
            32u32,
            u128::from(u32::from(s)),
            u128::from(u32::from(e)),
            u128::from(u32::from(x)),
        ),
        (IpAddr::V6(s), IpAddr::V6(e), IpAddr::V6(x)) => (128, u128::from(s), u128::from(e), u128::from(x)),
        _ => return IpNetwork::new(ip, if ip.is_ipv4() { 32 } else { 128 }).expect("host prefix"),
    };
    // The block of `h` host bits around `x` starts at or after `s` while `x >> h` stays above
    // `(s - 1) >> h`, that is while `h` is at most the highest bit where `x` and `s - 1`
    // differ; it ends at or before `e` while `x >> h` stays below `(e + 1) >> h`, likewise.
    let highest_difference = |a: u128, b: u128| 127 - (a ^ b).leading_zeros();
    let host = if x < s || x > e {
        0
    } else {
        let below = s.checked_sub(1).map_or(bits, |b| highest_difference(x, b));
        let above = e.checked_add(1).map_or(bits, |a| highest_difference(x, a));
        below.min(above).min(bits)
    };
    let prefix = bits - host;
    let addr = match ip {
        IpAddr::V4(_) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
            IpAddr::V4(Ipv4Addr::from(x as u32 & mask))
        }
        IpAddr::V6(_) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
            IpAddr::V6(Ipv6Addr::from(x & mask))
        }
    };
    IpNetwork::new(addr, prefix as u8).expect("prefix within family width")
}

#[cfg(test)]
mod tests;
