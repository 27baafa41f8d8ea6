//! IP address → autonomous system, offline and fast.
//!
//! # Architecture
//! Every supported format ([`load`]) is turned into rows `(start, end, AS)`; overlapping rows
//! are flattened once at load time so lookups are a single search: the narrowest row wins on
//! the overlap, and between rows of equal size the one earlier in the file (deterministic, and
//! what a brute-force scan with the same rule returns). IPv4 and IPv6 each get a [`Table`] of
//! sorted starts, ends and AS indices, with a bucket index on the leading bits (16 for IPv4,
//! 20 for IPv6), so a lookup searches one bucket's few entries. AS 0 ("Not routed") rows are left out: no AS.

pub mod cymru;
pub mod load;
pub mod store;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::attribution::DbInfo;
use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

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

/// One input row before flattening.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub start: u128,
    pub end: u128,
    pub info: u32,
}

/// A piece of the flattened table: `start..=end` belongs to AS index `info`; `cut` holds the
/// database row's own bounds when an overlapping row cut it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: u128,
    pub end: u128,
    pub info: u32,
    pub cut: Option<(u128, u128)>,
}

/// A sorted, non-overlapping range table for one address family.
#[derive(Debug)]
pub struct Table<T: Key> {
    starts: Vec<T>,
    /// `starts[i].short()`, the search keys.
    shorts: Vec<T::Short>,
    ends: Vec<T>,
    info: Vec<u32>,
    /// Original bounds of rows that an overlapping row cut (segment index → row bounds).
    cut: HashMap<u32, (T, T)>,
    /// `bucket[b]..bucket[b + 1]` are the entries whose start has leading bits `b`; empty
    /// when the table is.
    bucket: Vec<u32>,
}

/// Address-family integers the table works on.
pub trait Key: Copy + Ord + Default + TryFrom<u128> + Into<u128> {
    /// Leading bits that index the buckets: 16 for IPv4 (65 536 buckets); 20 for IPv6, whose
    /// rows crowd into a few /16s (2a01::/16, 2a02::/16 …), so a finer index pays (4 MB).
    const BITS: u32;
    /// Width of the integer.
    const WIDTH: u32;
    /// What the binary search compares: the value itself (IPv4) or its top 64 bits (IPv6,
    /// where `u64` comparisons over half the memory beat `u128` ones).
    type Short: Copy + Ord + Default;
    fn short(self) -> Self::Short;
    fn top(self) -> usize {
        (self.into() >> (Self::WIDTH - Self::BITS)) as usize
    }
}
impl Key for u32 {
    const BITS: u32 = 16;
    const WIDTH: u32 = 32;
    type Short = u32;
    fn short(self) -> u32 {
        self
    }
}
impl Key for u128 {
    const BITS: u32 = 20;
    const WIDTH: u32 = 128;
    type Short = u64;
    fn short(self) -> u64 {
        (self >> 64) as u64
    }
}

impl<T: Key> Table<T> {
    fn build(segments: impl Iterator<Item = Segment>, capacity: usize) -> Self {
        let conv =
            |v: u128| T::try_from(v).unwrap_or_else(|_| unreachable!("rows are split by family before building"));
        let mut t = Table {
            starts: Vec::with_capacity(capacity),
            shorts: Vec::with_capacity(capacity),
            ends: Vec::with_capacity(capacity),
            info: Vec::with_capacity(capacity),
            cut: HashMap::new(),
            bucket: vec![],
        };
        for (
            i,
            Segment {
                start: s,
                end: e,
                info,
                cut: orig,
            },
        ) in segments.into_iter().enumerate()
        {
            t.starts.push(conv(s));
            t.shorts.push(conv(s).short());
            t.ends.push(conv(e));
            t.info.push(info);
            if let Some((os, oe)) = orig {
                t.cut.insert(i as u32, (conv(os), conv(oe)));
            }
        }
        if t.starts.is_empty() {
            // No index for an empty family (a v4-only file need not pay 4 MB for IPv6).
            return t;
        }
        let buckets = 1usize << T::BITS;
        t.bucket = vec![0; buckets + 1];
        let mut next = 0usize;
        for b in 0..buckets {
            t.bucket[b] = next as u32;
            while next < t.starts.len() && t.starts[next].top() == b {
                next += 1;
            }
        }
        t.bucket[buckets] = t.starts.len() as u32;
        t
    }

    /// The entry holding `ip`.
    #[inline]
    pub fn find(&self, ip: T) -> Option<usize> {
        if self.bucket.is_empty() {
            return None;
        }
        let b = ip.top();
        let (lo, hi) = (self.bucket[b] as usize, self.bucket[b + 1] as usize);
        let key = ip.short();
        let mut i = lo + self.shorts[lo..hi].partition_point(|s| *s <= key);
        // Entries sharing `key` may still start after `ip`: step back over them.
        while i > 0 && self.starts[i - 1] > ip {
            i -= 1;
        }
        let j = i.checked_sub(1)?;
        (ip <= self.ends[j]).then_some(j)
    }

    /// The AS index of the entry holding `ip`.
    #[inline]
    pub fn lookup(&self, ip: T) -> Option<u32> {
        self.find(ip).map(|j| self.info[j])
    }

    /// The database row bounds of entry `j`.
    pub fn bounds(&self, j: usize) -> (T, T) {
        self.cut
            .get(&(j as u32))
            .copied()
            .unwrap_or((self.starts[j], self.ends[j]))
    }

    /// The bounds of entry `j` itself: the part of its row no other row overlaps.
    pub fn piece(&self, j: usize) -> (T, T) {
        (self.starts[j], self.ends[j])
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// Flatten rows so no two overlap: on an overlap the narrowest row wins, then the earliest.
/// Segments come out lazily in address order. Only clusters of rows that overlap each other
/// are swept; every other row passes straight through, so flattening holds no second copy
/// of the table.
pub fn flatten(rows: &[Row]) -> Box<dyn Iterator<Item = Segment> + '_> {
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_by_key(|&i| (rows[i as usize].start, i));
    let mut k = 0;
    let mut pending = std::collections::VecDeque::new();
    Box::new(std::iter::from_fn(move || loop {
        if let Some(seg) = pending.pop_front() {
            return Some(seg);
        }
        let first = *order.get(k)? as usize;
        let mut m = k + 1;
        let mut reach = rows[first].end;
        while m < order.len() && rows[order[m] as usize].start <= reach {
            reach = reach.max(rows[order[m] as usize].end);
            m += 1;
        }
        let cluster = &order[k..m];
        k = m;
        if let [only] = cluster {
            let r = rows[*only as usize];
            return Some(Segment {
                start: r.start,
                end: r.end,
                info: r.info,
                cut: None,
            });
        }
        pending.extend(sweep(rows, cluster));
    }))
}

/// Flatten one cluster of overlapping rows (`members` index `rows`, whose order breaks ties).
fn sweep(rows: &[Row], members: &[u32]) -> Vec<Segment> {
    // Events: (point, is_add, row). Removals sort before additions at the same point.
    let mut events: Vec<(u128, bool, u32)> = Vec::with_capacity(members.len() * 2);
    for &i in members {
        let r = rows[i as usize];
        events.push((r.start, true, i));
        if let Some(after) = r.end.checked_add(1) {
            events.push((after, false, i));
        }
    }
    events.sort_unstable();
    let mut active: BTreeSet<(u128, u32)> = BTreeSet::new();
    let mut out: Vec<Segment> = vec![];
    let mut winners: Vec<u32> = vec![];
    let mut k = 0;
    while k < events.len() {
        let point = events[k].0;
        while k < events.len() && events[k].0 == point {
            let (_, add, i) = events[k];
            let r = rows[i as usize];
            let key = (r.end - r.start, i);
            if add {
                active.insert(key);
            } else {
                active.remove(&key);
            }
            k += 1;
        }
        let Some(&(_, win)) = active.first() else {
            continue;
        };
        let end = if k < events.len() {
            events[k].0 - 1
        } else {
            rows[win as usize].end
        };
        let r = rows[win as usize];
        if winners.last() == Some(&win) && out.last().is_some_and(|s| s.end.checked_add(1) == Some(point)) {
            out.last_mut().expect("checked above").end = end;
        } else {
            out.push(Segment {
                start: point,
                end,
                info: r.info,
                cut: None,
            });
            winners.push(win);
        }
    }
    for (seg, win) in out.iter_mut().zip(&winners) {
        let r = rows[*win as usize];
        if (seg.start, seg.end) != (r.start, r.end) {
            seg.cut = Some((r.start, r.end));
        }
    }
    out
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
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        // The row's bounds, and the piece of it that answers for `ip` (the whole row unless
        // another row overlaps it): the CIDR is taken inside the piece, so it never holds
        // addresses another row answers for.
        let ((start, end), (piece_start, piece_end), info) = match ip {
            IpAddr::V4(v4) => {
                let j = self.v4.find(u32::from(v4))?;
                let v4 = |(s, e): (u32, u32)| (IpAddr::V4(s.into()), IpAddr::V4(e.into()));
                (v4(self.v4.bounds(j)), v4(self.v4.piece(j)), self.v4.info[j])
            }
            IpAddr::V6(v6) => {
                let j = self.v6.find(u128::from(v6))?;
                let v6 = |(s, e): (u128, u128)| (IpAddr::V6(s.into()), IpAddr::V6(e.into()));
                (v6(self.v6.bounds(j)), v6(self.v6.piece(j)), self.v6.info[j])
            }
        };
        let as_info = &self.names[info as usize];
        Some(AsnHit {
            asn: as_info.asn,
            name: as_info.name.clone(),
            country: as_info.country.clone(),
            range_start: start,
            range_end: end,
            cidr: cidr_within(piece_start, piece_end, ip),
            cover: cover(ip),
        })
    }
}

/// The covering /24 (IPv4) or /48 (IPv6) of an address.
pub fn cover(ip: IpAddr) -> IpNetwork {
    let prefix = if ip.is_ipv4() { 24 } else { 48 };
    let net = IpNetwork::new(ip, prefix).expect("24 and 48 are valid prefixes");
    IpNetwork::new(net.network(), prefix).expect("same prefix")
}

/// The largest CIDR block that lies inside `start..=end` and holds `ip`.
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
    let mut prefix = bits;
    while prefix > 0 {
        let size_bits = bits - prefix + 1;
        let mask = if size_bits >= 128 {
            0
        } else {
            !((1u128 << size_bits) - 1)
        };
        let net = x & mask;
        let last = net | !mask & if bits == 32 { u128::from(u32::MAX) } else { u128::MAX };
        if net < s || last > e {
            break;
        }
        prefix -= 1;
    }
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
mod tests {
    use super::*;

    fn v4(s: &str) -> u128 {
        u128::from(u32::from(s.parse::<Ipv4Addr>().unwrap()))
    }

    #[test]
    fn narrowest_row_wins_on_overlap() {
        // The real quirk: 214.95.0.0–215.0.255.255 AS749 vs 215.0.0.0–215.1.3.255 AS721.
        let rows = [
            Row {
                start: v4("214.95.0.0"),
                end: v4("215.0.255.255"),
                info: 0,
            },
            Row {
                start: v4("215.0.0.0"),
                end: v4("215.1.3.255"),
                info: 1,
            },
        ];
        let names = vec![
            AsInfo {
                asn: 749,
                name: "DoD".into(),
                country: None,
            },
            AsInfo {
                asn: 721,
                name: "DoD NIC".into(),
                country: None,
            },
        ];
        let db = AsnDb::from_rows(&rows, &[], names, DbInfo::default());
        assert_eq!(db.lookup("214.200.0.1".parse().unwrap()).unwrap().asn, 749);
        let hit = db.lookup("215.0.5.5".parse().unwrap()).unwrap();
        assert_eq!(hit.asn, 721);
        assert_eq!(hit.range_start.to_string(), "215.0.0.0");
        let cut = db.lookup("214.95.0.9".parse().unwrap()).unwrap();
        assert_eq!(
            (cut.range_start.to_string(), cut.range_end.to_string()),
            ("214.95.0.0".into(), "215.0.255.255".into())
        );
        assert_eq!(db.lookup("215.1.4.0".parse().unwrap()), None);
    }

    #[test]
    fn nested_rows_split_the_outer_one() {
        let rows = [
            Row {
                start: 100,
                end: 200,
                info: 0,
            },
            Row {
                start: 120,
                end: 130,
                info: 1,
            },
        ];
        let segs: Vec<(u128, u128, u32)> = flatten(&rows).map(|s| (s.start, s.end, s.info)).collect();
        assert_eq!(segs, vec![(100, 119, 0), (120, 130, 1), (131, 200, 0)]);
    }

    #[test]
    fn cidr_and_cover() {
        let s = "104.16.0.0".parse().unwrap();
        let e = "104.21.127.255".parse().unwrap();
        let ip = "104.18.3.4".parse().unwrap();
        assert_eq!(cidr_within(s, e, ip).to_string(), "104.16.0.0/14");
        let tail = "104.21.100.1".parse().unwrap();
        assert_eq!(cidr_within(s, e, tail).to_string(), "104.21.0.0/17");
        assert_eq!(cover(ip).to_string(), "104.18.3.0/24");
        let ip6: IpAddr = "2a01:4f8:1:2::3".parse().unwrap();
        assert_eq!(cover(ip6).to_string(), "2a01:4f8:1::/48");
    }

    fn db_of(rows: &[(&str, &str, u32)]) -> AsnDb {
        let int = |s: &str| match s.parse::<IpAddr>().unwrap() {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        let rows: Vec<Row> = rows
            .iter()
            .enumerate()
            .map(|(i, (s, e, _))| Row {
                start: int(s),
                end: int(e),
                info: i as u32,
            })
            .collect();
        let names = (1..=rows.len() as u32)
            .map(|asn| AsInfo {
                asn,
                name: format!("AS{asn}"),
                country: None,
            })
            .collect();
        let (v6, v4): (Vec<Row>, Vec<Row>) = rows.iter().partition(|r| r.end > u128::from(u32::MAX));
        AsnDb::from_rows(&v4, &v6, names, DbInfo::default())
    }

    #[test]
    fn the_cidr_of_an_outer_row_holds_no_address_of_a_nested_one() {
        let db = db_of(&[
            ("10.0.0.0", "10.0.255.255", 1),
            ("10.0.128.0", "10.0.128.255", 2),
            ("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 3),
            ("2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff", 4),
        ]);
        for (ip, asn, cidr) in [
            ("10.0.0.1", 1, "10.0.0.0/17"),
            ("10.0.129.5", 1, "10.0.129.0/24"),
            ("10.0.200.1", 1, "10.0.192.0/18"),
            ("10.0.128.7", 2, "10.0.128.0/24"),
            ("2001:db8::1", 3, "2001:db8::/48"),
            ("2001:db8:2::1", 3, "2001:db8:2::/47"),
            ("2001:db8:ff00::1", 3, "2001:db8:8000::/33"),
            ("2001:db8:1:2::3", 4, "2001:db8:1::/48"),
        ] {
            let hit = db.lookup(ip.parse().unwrap()).unwrap();
            assert_eq!((hit.asn, hit.cidr.to_string().as_str()), (asn, cidr), "{ip}");
        }
        // The range is still the database row's.
        let hit = db.lookup("10.0.129.5".parse().unwrap()).unwrap();
        assert_eq!(
            (hit.range_start.to_string(), hit.range_end.to_string()),
            ("10.0.0.0".into(), "10.0.255.255".into())
        );
    }
}
