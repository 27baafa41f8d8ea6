//! The range table: input rows flattened so no two overlap, then sorted per address family
//! with a bucket index on the leading bits, and a bit per bucket saying whether any entry
//! reaches it (most of the address space is in no range, and is answered from that bit).

use std::collections::BTreeSet;

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

/// One entry of a table: `start..=end` belongs to AS index `info`. An entry is kept in one
/// piece, so an answer reads one cache line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<T> {
    pub start: T,
    pub end: T,
    pub info: u32,
}

/// A sorted, non-overlapping range table for one address family.
#[derive(Debug)]
pub struct Table<T: Key> {
    /// `rows[i].start.short()`, the search keys, dense so a search touches few cache lines
    /// (IPv6 only, [`Key::SHORTS`]: an IPv4 bucket's entries are searched in place).
    shorts: Vec<T::Short>,
    rows: Vec<Entry<T>>,
    /// Original bounds of rows that an overlapping row cut (segment index → row bounds),
    /// sorted by index: a few entries (one pair in the real tables), searched on every answer.
    cut: Vec<Cut<T>>,
    /// `bucket[b]..bucket[b + 1]` are the entries whose start has leading bits `b`; empty
    /// when the table is.
    bucket: Vec<u32>,
    /// One bit per bucket, set when an entry holds some address of the bucket: an address in
    /// a bucket whose bit is clear is in no entry, answered from this small map (16 KB of it
    /// covers 2000::/3) without reading the index or the entries.
    live: Vec<u64>,
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
    /// Whether the search runs over the short keys kept apart (IPv6, whose buckets can hold
    /// hundreds of 48-byte entries) or over the entries themselves (IPv4: a bucket holds a
    /// few 12-byte entries, so the search and the answer read the same cache line).
    const SHORTS: bool;
    fn short(self) -> Self::Short;
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
}
impl Key for u128 {
    const BITS: u32 = 20;
    const WIDTH: u32 = 128;
    type Short = u64;
    const SHORTS: bool = true;
    fn short(self) -> u64 {
        (self >> 64) as u64
    }
}

impl<T: Key> Table<T> {
    pub(super) fn build(segments: impl Iterator<Item = Segment>, capacity: usize) -> Self {
        let conv =
            |v: u128| T::try_from(v).unwrap_or_else(|_| unreachable!("rows are split by family before building"));
        let mut rows = Vec::with_capacity(capacity);
        let mut cut = vec![];
        for (
            i,
            Segment {
                start: s,
                end: e,
                info: as_index,
                cut: orig,
            },
        ) in segments.into_iter().enumerate()
        {
            rows.push(Entry {
                start: conv(s),
                end: conv(e),
                info: as_index,
            });
            if let Some((os, oe)) = orig {
                cut.push((i as u32, (conv(os), conv(oe))));
            }
        }
        Table::from_rows(rows, cut)
    }

    /// A table of entries already in order without overlap (`cut`: the row bounds of
    /// entries an overlap cut, by increasing entry), indexed.
    pub(super) fn from_rows(rows: Vec<Entry<T>>, cut: Vec<Cut<T>>) -> Self {
        let shorts = if T::SHORTS {
            rows.iter().map(|r| r.start.short()).collect()
        } else {
            vec![]
        };
        let mut t = Table {
            shorts,
            rows,
            cut,
            bucket: vec![],
            live: vec![],
        };
        if t.rows.is_empty() {
            // No index for an empty family (a v4-only file need not pay 4 MB for IPv6).
            return t;
        }
        let buckets = 1usize << T::BITS;
        t.bucket = vec![0; buckets + 1];
        let mut next = 0usize;
        for b in 0..buckets {
            t.bucket[b] = next as u32;
            while next < t.rows.len() && t.rows[next].start.top() == b {
                next += 1;
            }
        }
        t.bucket[buckets] = t.rows.len() as u32;
        // Every bucket an entry reaches, each marked once (entries are in order).
        t.live = vec![0; buckets.div_ceil(64)];
        let mut unmarked = 0usize;
        for r in &t.rows {
            let last = r.end.top();
            for b in r.start.top().max(unmarked)..=last {
                t.live[b / 64] |= 1 << (b % 64);
            }
            unmarked = unmarked.max(last + 1);
        }
        t
    }

    /// The entry holding `ip`.
    #[inline]
    pub fn find(&self, ip: T) -> Option<usize> {
        let b = ip.top();
        if self.live.get(b / 64)? >> (b % 64) & 1 == 0 {
            return None;
        }
        let (lo, hi) = (self.bucket[b] as usize, self.bucket[b + 1] as usize);
        let mut i = lo
            + if T::SHORTS {
                let key = ip.short();
                self.shorts[lo..hi].partition_point(|s| *s <= key)
            } else {
                self.rows[lo..hi].partition_point(|r| r.start <= ip)
            };
        // Entries sharing `key` may still start after `ip`: step back over them.
        while i > 0 && self.rows[i - 1].start > ip {
            i -= 1;
        }
        let j = i.checked_sub(1)?;
        (ip <= self.rows[j].end).then_some(j)
    }

    /// The AS index of the entry holding `ip`.
    #[inline]
    pub fn lookup(&self, ip: T) -> Option<u32> {
        self.find(ip).map(|j| self.rows[j].info)
    }

    /// The AS index of entry `j`.
    #[inline]
    pub fn info(&self, j: usize) -> u32 {
        self.rows[j].info
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
    pub fn piece(&self, j: usize) -> (T, T) {
        (self.rows[j].start, self.rows[j].end)
    }

    /// The entries as segments, in address order (what [`Table::build`] takes back).
    pub(super) fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        (0..self.rows.len()).map(|j| Segment {
            start: self.rows[j].start.into(),
            end: self.rows[j].end.into(),
            info: self.rows[j].info,
            cut: self.cut_of(j).map(|(s, e)| (s.into(), e.into())),
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
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
