//! The range table: input rows flattened so no two overlap, then sorted per address family
//! with a bucket index on the leading bits, and a bit per bucket saying whether any entry
//! reaches it (most of the address space is in no range, and is answered from that bit).
//! The entries themselves stay in the compiled index's bytes ([`super::cache`]), where
//! each is one piece (start, end, AS index), so an answer reads one cache line.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::cache::Bytes;

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

/// An entry an overlap cut, and the bounds of its database row.
pub type Cut<T> = (u32, (T, T));

/// A sorted, non-overlapping range table for one address family, read in place from the
/// compiled index's bytes ([`super::cache`]): its entries are never copied out of them.
#[derive(Debug)]
pub struct Table<T: Key> {
    /// The compiled index; the entries are `bytes[at..end]`, [`Key::ENTRY`] bytes each
    /// (start, end, AS index, little-endian), checked when the table was made.
    bytes: Arc<Bytes>,
    at: usize,
    end: usize,
    /// `start(i).short()`, the search keys, dense so a search touches few cache lines
    /// (IPv6 only, [`Key::SHORTS`]: an IPv4 bucket's entries are searched in place).
    shorts: Vec<T::Short>,
    /// Original bounds of rows that an overlapping row cut (segment index → row bounds),
    /// sorted by index: a few entries (one pair in the real tables), searched on every answer.
    cut: Vec<Cut<T>>,
    /// The leading bits of the first entry's start: the buckets begin there, as no address
    /// below it is in an entry.
    base: usize,
    /// `bucket[b]..bucket[b + 1]` are the entries whose start has leading bits `base + b`,
    /// up to the bucket of the last entry's end (the only ones any entry reaches); empty when
    /// the table is. The IPv6 rows lie between 2001::/16 and 2c0f::/16, so its index is about
    /// 0.2 MB, built at every load, instead of 4 MB for all of the leading bits.
    bucket: Vec<u32>,
    /// One bit per bucket, set when an entry holds some address of the bucket: an address in
    /// a bucket whose bit is clear, or outside the buckets, is in no entry, answered from
    /// this small map without reading the index or the entries.
    live: Vec<u64>,
}

/// Address-family integers the table works on.
pub trait Key: Copy + Ord + Default + TryFrom<u128> + Into<u128> {
    /// Leading bits that index the buckets: 16 for IPv4 (65 536 buckets); 20 for IPv6, whose
    /// rows crowd into a few /16s (2a01::/16, 2a02::/16 …), so a finer index pays (only the
    /// buckets between the first entry and the last are kept: the table's `base`).
    const BITS: u32;
    /// Width of the integer.
    const WIDTH: u32;
    /// Bytes of the integer, and of an entry (start, end, AS index).
    const BYTES: usize = (Self::WIDTH / 8) as usize;
    const ENTRY: usize = 2 * Self::BYTES + 4;
    /// What the binary search compares: the value itself (IPv4) or its top 64 bits (IPv6,
    /// where `u64` comparisons over half the memory beat `u128` ones).
    type Short: Copy + Ord + Default;
    /// Whether the search runs over the short keys kept apart (IPv6, whose buckets can hold
    /// hundreds of 36-byte entries) or over the entries themselves (IPv4: a bucket holds a
    /// few 12-byte entries, so the search and the answer read the same cache line).
    const SHORTS: bool;
    fn short(self) -> Self::Short;
    /// The integer of `b` ([`Key::BYTES`] bytes, little-endian).
    fn from_le(b: &[u8]) -> Self;
    fn top(self) -> usize {
        (self.into() >> (Self::WIDTH - Self::BITS)) as usize
    }
}
impl Key for u32 {
    const BITS: u32 = 16;
    const WIDTH: u32 = 32;
    type Short = u32;
    const SHORTS: bool = false;
    fn short(self) -> u32 {
        self
    }
    #[inline]
    fn from_le(b: &[u8]) -> u32 {
        u32::from_le_bytes(b.try_into().expect("4 bytes"))
    }
}
impl Key for u128 {
    const BITS: u32 = 20;
    const WIDTH: u32 = 128;
    type Short = u64;
    const SHORTS: bool = true;
    fn short(self) -> u64 {
        (self >> 64) as u64
    }
    #[inline]
    fn from_le(b: &[u8]) -> u128 {
        u128::from_le_bytes(b.try_into().expect("16 bytes"))
    }
}

impl<T: Key> Table<T> {
    /// The table of the `n` entries at `bytes[at..]`, checked once here: every entry lies
    /// inside the bytes, starts at or before its end, after the end of the one before, and
    /// names an AS below `names`; every cut names an entry (in increasing order) and holds
    /// it. Then indexed (buckets, live bits, IPv6 search keys). What is wrong, if anything.
    pub(super) fn new(bytes: Arc<Bytes>, at: usize, n: usize, cut: Vec<Cut<T>>, names: usize) -> Result<Self, String> {
        let end = n
            .checked_mul(T::ENTRY)
            .and_then(|len| len.checked_add(at))
            .filter(|end| *end <= bytes.len() && n <= u32::MAX as usize)
            .ok_or_else(|| format!("{n} ranges do not fit in the index"))?;
        let entries = &bytes[at..end];
        let mut shorts = Vec::with_capacity(if T::SHORTS { n } else { 0 });
        let (mut bucket, mut live) = (vec![], vec![]);
        // The buckets from the first entry's start to the last one's end (in a valid table,
        // every entry lies between them: checked below). None for an empty family.
        let bound = |j: usize, k: usize| T::from_le(&entries[j * T::ENTRY + k * T::BYTES..][..T::BYTES]).top();
        let (base, reach) = match n {
            0 => (0, 0),
            _ => (bound(0, 0), bound(n - 1, 1)),
        };
        if n > 0 {
            let buckets = reach.saturating_sub(base) + 1;
            bucket = vec![0u32; buckets + 1];
            live = vec![0u64; buckets.div_ceil(64)];
        }
        // The first bucket not yet given its first entry, the first bucket not yet marked.
        let (mut next, mut unmarked) = (0usize, 0usize);
        let mut before: Option<T> = None;
        for (j, e) in entries.chunks_exact(T::ENTRY).enumerate() {
            let (start, end) = (T::from_le(&e[..T::BYTES]), T::from_le(&e[T::BYTES..2 * T::BYTES]));
            if start > end || before.is_some_and(|b| b >= start) {
                return Err(format!("range {j} is out of order"));
            }
            let info = u32::from_le_bytes(e[2 * T::BYTES..].try_into().expect("4 bytes"));
            if info as usize >= names {
                return Err(format!("a range names AS entry {info} of {names}"));
            }
            before = Some(end);
            if T::SHORTS {
                shorts.push(start.short());
            }
            // Buckets up to this entry's begin with it; every bucket it reaches is live,
            // each marked once (entries are in order, so each is inside the buckets).
            if end.top() > reach {
                return Err(format!("range {j} is out of order"));
            }
            let (first, last) = (start.top() - base, end.top() - base);
            while next <= first {
                bucket[next] = j as u32;
                next += 1;
            }
            for b in first.max(unmarked)..=last {
                live[b / 64] |= 1 << (b % 64);
            }
            unmarked = unmarked.max(last + 1);
        }
        if n > 0 {
            bucket[next..].fill(n as u32);
        }
        let mut t = Table {
            bytes,
            at,
            end,
            shorts,
            cut: vec![],
            base,
            bucket,
            live,
        };
        for (k, &(j, (s, e))) in cut.iter().enumerate() {
            if j as usize >= n {
                return Err(format!("a cut names entry {j}"));
            }
            let (start, end) = t.piece(j as usize);
            if (k > 0 && cut[k - 1].0 >= j) || s > start || e < end {
                return Err(format!("the cut of entry {j} is not valid"));
            }
        }
        t.cut = cut;
        Ok(t)
    }

    /// The entries' bytes.
    #[inline]
    fn entries(&self) -> &[u8] {
        &self.bytes[self.at..self.end]
    }

    /// The start of entry `j`.
    #[inline]
    fn start(&self, j: usize) -> T {
        T::from_le(&self.entries()[j * T::ENTRY..j * T::ENTRY + T::BYTES])
    }

    /// The entry holding `ip`.
    #[inline]
    pub fn find(&self, ip: T) -> Option<usize> {
        let b = self.live_bucket(ip)?;
        let (lo, hi) = (self.bucket[b] as usize, self.bucket[b + 1] as usize);
        let mut i = if T::SHORTS {
            let key = ip.short();
            lo + self.shorts[lo..hi].partition_point(|s| *s <= key)
        } else {
            // The first entry of the bucket that starts after `ip`.
            let (mut a, mut z) = (lo, hi);
            while a < z {
                let m = a + (z - a) / 2;
                if self.start(m) <= ip {
                    a = m + 1;
                } else {
                    z = m;
                }
            }
            a
        };
        // Entries sharing `key` may still start after `ip`: step back over them.
        while i > 0 && self.start(i - 1) > ip {
            i -= 1;
        }
        let j = i.checked_sub(1)?;
        (ip <= self.piece(j).1).then_some(j)
    }

    /// Read the first memory a [`Table::find`] of `ip` reads (its bucket's bounds, then the
    /// bucket's first search key), to no other end: see [`super::AsnDb::warm`].
    #[inline]
    pub fn warm(&self, ip: T) {
        if let Some(b) = self.live_bucket(ip) {
            let lo = self.bucket[b] as usize;
            if T::SHORTS {
                std::hint::black_box(self.shorts.get(lo).copied());
            } else {
                std::hint::black_box(self.entries().get(lo * T::ENTRY).copied());
            }
        }
    }

    /// The bucket of `ip` when it is live (`None`: no entry holds `ip`).
    #[inline]
    fn live_bucket(&self, ip: T) -> Option<usize> {
        // Below the base, the difference wraps past every bucket.
        let b = ip.top().wrapping_sub(self.base);
        (self.live.get(b / 64)? >> (b % 64) & 1 == 1).then_some(b)
    }

    /// The AS index of the entry holding `ip`.
    #[inline]
    pub fn lookup(&self, ip: T) -> Option<u32> {
        self.find(ip).map(|j| self.info(j))
    }

    /// The AS index of entry `j`.
    #[inline]
    pub fn info(&self, j: usize) -> u32 {
        let at = j * T::ENTRY + 2 * T::BYTES;
        u32::from_le_bytes(self.entries()[at..at + 4].try_into().expect("4 bytes"))
    }

    /// The database row bounds of entry `j`.
    pub fn bounds(&self, j: usize) -> (T, T) {
        self.cut_of(j).unwrap_or_else(|| self.piece(j))
    }

    /// The row bounds of entry `j` when an overlap cut it.
    #[inline]
    fn cut_of(&self, j: usize) -> Option<(T, T)> {
        let k = self.cut.binary_search_by_key(&(j as u32), |c| c.0).ok()?;
        Some(self.cut[k].1)
    }

    /// The bounds of entry `j` itself: the part of its row no other row overlaps.
    #[inline]
    pub fn piece(&self, j: usize) -> (T, T) {
        let e = &self.entries()[j * T::ENTRY..(j + 1) * T::ENTRY];
        (T::from_le(&e[..T::BYTES]), T::from_le(&e[T::BYTES..2 * T::BYTES]))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        (self.end - self.at) / T::ENTRY
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.end == self.at
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
