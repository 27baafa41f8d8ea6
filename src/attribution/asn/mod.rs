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
//! The flattened tables and the AS names are kept in one compiled index ([`cache`]), cached
//! in the data directory, keyed by the sources, and read in place (mapped) on later runs.

pub mod cache;
pub mod cymru;
pub mod load;
pub mod store;
mod table;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::model::attribution::DbInfo;
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use serde::{Deserialize, Serialize};

pub use table::{flatten, Key, Row, Segment, Table};

/// An autonomous system as a database source names it (what the loader collects).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AsInfo {
    pub asn: u32,
    pub name: String,
    pub country: Option<String>,
}

/// An autonomous system as a loaded database names it, borrowed from its compiled index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsName<'a> {
    pub asn: u32,
    pub name: &'a str,
    pub country: Option<&'a str>,
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

/// A loaded database: its tables and AS names are read in place from its compiled index
/// ([`cache`]), mapped from the cache file or built in memory from the sources.
#[derive(Debug)]
pub struct AsnDb {
    pub v4: Table<u32>,
    pub v6: Table<u128>,
    pub names: Names,
    pub info: DbInfo,
    /// The compiled index the tables and names read from.
    index: Arc<cache::Bytes>,
}

impl AsnDb {
    /// Build from rows already split by family; `names[row.info]` names each row's AS.
    ///
    /// # Panics
    /// When the names hold more than [`cache::MAX_TEXT`] bytes of text, which the index
    /// cannot address: the loader refuses such a database first, naming its file.
    pub fn from_rows(v4: &[Row], v6: &[Row], names: Vec<AsInfo>, info: DbInfo) -> Self {
        let bytes = cache::encode_rows(&[0; 32], flatten(v4), flatten(v6), &names, info);
        match cache::decode(cache::Bytes::Owned(bytes)) {
            Ok((_, db)) => db,
            // The encoder writes what the reader checks (ranges flattened in order, names
            // indexed from `names`, their text within `MAX_TEXT` as the loader checked): a
            // refusal is a bug here, not bad input.
            Err(e) => unreachable!("a freshly built index is refused: {e}"),
        }
    }

    /// Look an address up. IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Option<AsnHit> {
        let f = self.find(ip)?;
        let named = self.names.get(f.as_index as usize)?;
        Some(AsnHit {
            asn: named.asn,
            name: named.name.to_string(),
            country: named.country.map(str::to_string),
            range_start: f.range_start,
            range_end: f.range_end,
            cidr: f.cidr,
            cover: cover(ip),
        })
    }

    /// Read the first memory a [`AsnDb::find`] of `ip` reads, to no other end: warming a
    /// batch of addresses one after the other, then finding them, overlaps the cache misses
    /// of their searches (each search's reads depend on the one before, the batch's do not).
    #[inline]
    pub fn warm(&self, ip: IpAddr) {
        match looked_up(ip) {
            IpAddr::V4(v4) => self.v4.warm(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.warm(u128::from(v6)),
        }
    }

    /// What [`AsnDb::lookup`] answers, from the table alone (the AS's number, name and
    /// country are [`AsnDb::names`]' entry [`Found::as_index`], read when wanted): nothing is
    /// copied, so a stream of addresses can be written straight from it.
    pub fn find(&self, ip: IpAddr) -> Option<Found> {
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
            range_start: start,
            range_end: end,
            cidr: cidr_within(piece_start, piece_end, ip),
        })
    }
}

/// The AS names of a database, read in place from its compiled index: `n` records of 16
/// bytes at `bytes[at..]` (AS number, where its text begins in `bytes[text]`, the name's
/// length, the country's or `u32::MAX` for none), each checked when the names were made.
#[derive(Debug)]
pub struct Names {
    bytes: Arc<cache::Bytes>,
    at: usize,
    n: usize,
    text: std::ops::Range<usize>,
}

/// Bytes of one record of [`Names`].
const NAME_RECORD: usize = 16;

impl Names {
    /// The names of the `n` records at `bytes[at..]` over the text `bytes[text]`, checked
    /// once here: every record lies inside the bytes, and its name and country inside the
    /// text, each UTF-8. What is wrong, if anything.
    pub(crate) fn new(
        bytes: Arc<cache::Bytes>,
        at: usize,
        n: usize,
        text: std::ops::Range<usize>,
    ) -> Result<Self, String> {
        let fits = n
            .checked_mul(NAME_RECORD)
            .and_then(|len| len.checked_add(at))
            .is_some_and(|end| end <= bytes.len());
        if !fits || text.start > text.end || text.end > bytes.len() {
            return Err(format!("{n} names do not fit in the index"));
        }
        let names = Names { bytes, at, n, text };
        // The text is checked as UTF-8 once, then each record's bounds against it (in it, and
        // on character boundaries), which is what `get` checks again for one entry.
        let Ok(text) = std::str::from_utf8(&names.bytes[names.text.clone()]) else {
            return Err("the AS names are not UTF-8".into());
        };
        for i in 0..n {
            let (_, from, name_len, country_len) = names.fields(i);
            let name_end = from.checked_add(name_len);
            let end = match country_len {
                u32::MAX => name_end,
                len => name_end.and_then(|e| e.checked_add(len as usize)),
            };
            let fits = |a: usize, b: Option<usize>| b.is_some_and(|b| text.get(a..b).is_some());
            if !fits(from, name_end) || !name_end.is_some_and(|e| fits(e, end)) {
                return Err(format!("AS name {i} is not valid"));
            }
        }
        Ok(names)
    }

    /// The fields of record `i < n` (AS, where its text begins, the name's length, the
    /// country's or `u32::MAX`).
    fn fields(&self, i: usize) -> (u32, usize, usize, u32) {
        let at = self.at + NAME_RECORD * i;
        let r = &self.bytes[at..at + NAME_RECORD];
        let field = |k: usize| u32::from_le_bytes(r[4 * k..4 * k + 4].try_into().expect("4 bytes"));
        (field(0), field(1) as usize, field(2) as usize, field(3))
    }

    /// AS entry `i` (`None` past the last). Its text is checked as it is read, which cannot
    /// fail after the check of [`Names::new`], but costs only this entry's few bytes.
    #[inline]
    pub fn get(&self, i: usize) -> Option<AsName<'_>> {
        if i >= self.n {
            return None;
        }
        let (asn, from, name_len, country_len) = self.fields(i);
        let text = self.bytes.get(self.text.clone())?;
        let name_end = from.checked_add(name_len)?;
        let name = std::str::from_utf8(text.get(from..name_end)?).ok()?;
        let country = match country_len {
            u32::MAX => None,
            len => Some(std::str::from_utf8(text.get(name_end..name_end.checked_add(len as usize)?)?).ok()?),
        };
        Some(AsName { asn, name, country })
    }

    /// Number of AS entries.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = AsName<'_>> + '_ {
        (0..self.n).filter_map(|i| self.get(i))
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

/// An [`AsnHit`] as the table answers it ([`AsnDb::find`]), without the AS's number, name
/// and country (its entry in [`AsnDb::names`], read when wanted: reading it on every answer
/// was one more cache miss per address) nor its cover (the cover is the address's, not the
/// table's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// Index of the AS in [`AsnDb::names`] (its number, name and country).
    pub as_index: u32,
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
