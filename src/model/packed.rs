//! Reports kept packed: the accounts a deeper crawl expanded, each report held in memory as
//! its JSON, deflated, and read back one at a time.
//!
//! A depth-2 crawl that reaches a million accounts holds a million list rows until its
//! snapshot is stored; as [`Account`](crate::model::account::Account) values they took about
//! 450 bytes each (the struct and five strings), packed they take a tenth of that. Every
//! reader (consent, instance counts, metrics, the store) walks them in order, one decoded
//! report at a time ([`Reports::iter`]); nothing else changes: a report reads back exactly as
//! it was pushed (the JSON of the model is lossless), so the rows stored are the same.
//! Packing is pure computation in memory (no I/O), as `model` requires.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::snapshot::SeedReport;

/// Seed reports in order, each packed (JSON, deflated).
#[derive(Clone, Default)]
pub struct Reports {
    packed: Vec<Packed>,
}

/// One seed report, packed (JSON, deflated).
#[derive(Clone)]
pub struct Packed(Box<[u8]>);

impl Packed {
    /// `r`, packed.
    pub fn of(r: SeedReport) -> Packed {
        Packed(pack(&r))
    }

    /// The report, unpacked.
    pub fn unpack(&self) -> SeedReport {
        unpack(&self.0)
    }
}

fn pack(r: &SeedReport) -> Box<[u8]> {
    let mut out = DeflateEncoder::new(Vec::new(), Compression::fast());
    // Writing into memory does not fail, and the model's values all serialise.
    serde_json::to_writer(&mut out, r).expect("a report serialises");
    out.finish().expect("deflating into memory").into_boxed_slice()
}

fn unpack(bytes: &[u8]) -> SeedReport {
    let mut json = Vec::with_capacity(bytes.len() * 4);
    // Only bytes [`pack`] made are read: they inflate and parse.
    DeflateDecoder::new(bytes)
        .read_to_end(&mut json)
        .expect("a packed report inflates");
    serde_json::from_slice(&json).expect("a packed report parses")
}

impl Reports {
    /// How many reports.
    pub fn len(&self) -> usize {
        self.packed.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    /// Add `r` after the others.
    pub fn push(&mut self, r: &SeedReport) {
        self.packed.push(Packed(pack(r)));
    }

    /// The report at `i`, unpacked.
    pub fn get(&self, i: usize) -> Option<SeedReport> {
        self.packed.get(i).map(Packed::unpack)
    }

    /// Every report in order, each unpacked as it is reached.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = SeedReport> + '_ {
        self.packed.iter().map(Packed::unpack)
    }

    /// The reports at `range`, in order, each unpacked as it is reached.
    pub fn range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = SeedReport> + '_ {
        self.packed.get(range).unwrap_or_default().iter().map(Packed::unpack)
    }

    /// Change every report with `f`, in order (each unpacked, changed, packed again).
    pub fn update(&mut self, mut f: impl FnMut(&mut SeedReport)) {
        for b in &mut self.packed {
            let mut r = b.unpack();
            f(&mut r);
            b.0 = pack(&r);
        }
    }

    /// The bytes the packed reports take (without the list that holds them).
    pub fn packed_bytes(&self) -> usize {
        self.packed.iter().map(|b| b.0.len()).sum()
    }
}

impl FromIterator<Packed> for Reports {
    fn from_iter<I: IntoIterator<Item = Packed>>(packed: I) -> Self {
        Reports {
            packed: packed.into_iter().collect(),
        }
    }
}

impl From<Vec<SeedReport>> for Reports {
    fn from(v: Vec<SeedReport>) -> Self {
        Reports {
            packed: v.into_iter().map(Packed::of).collect(),
        }
    }
}

/// `seeds`, then the reports of `expanded`: every report of a crawl, in the order stored.
pub fn all<'a>(seeds: &'a [SeedReport], expanded: &'a Reports) -> impl Iterator<Item = Cow<'a, SeedReport>> + 'a {
    seeds.iter().map(Cow::Borrowed).chain(expanded.iter().map(Cow::Owned))
}

impl PartialEq for Reports {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for Reports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Reports {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Reports {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<SeedReport>::deserialize(d).map(Reports::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::account::{Account, Cause, Direction, FollowList, ListStatus, SkipKind, Skipped};
    use crate::model::handle::InstanceHost;
    use crate::model::snapshot::Failure;

    fn full() -> SeedReport {
        let a = Account {
            handle: Some("@ana@a.example".into()),
            server: Some(InstanceHost::new("A.example")),
            actor_uri: Some("https://a.example/users/ana".into()),
            display_name: Some("Ana \u{1F600} \"quoted\"".into()),
            bot: Some(false),
            moved_to: Some("@ana@b.example".into()),
            discoverable: Some(true),
            indexable: None,
            noindex: Some(false),
            hide_collections: Some(true),
            followers_count: Some(u64::MAX),
            following_count: Some(0),
            nobot_tag: true,
            last_status_at: Some("2026-12-01".into()),
            fetch_error: Some("timed out".into()),
        };
        let mut list = FollowList::empty(
            Direction::Following,
            "mastodon-api",
            Some(3),
            ListStatus::partial(Cause::AccountCap, "stopped"),
        );
        list.accounts = vec![a.clone(), Account::default()];
        list.pages = 2;
        list.skipped = vec![Skipped {
            kind: SkipKind::NoIdentity,
            count: 1,
            reason: "no id".into(),
        }];
        SeedReport {
            account: Some(a),
            following: Some(list),
            followers: Some(FollowList::empty(
                Direction::Followers,
                "activitypub",
                None,
                ListStatus::Hidden { unseen: Some(7) },
            )),
            error: Some(Failure {
                kind: "http".into(),
                message: "500".into(),
            }),
            duplicate_of: Some("x".into()),
            depth: 2,
            ..SeedReport::new("@ana@a.example")
        }
    }

    /// Every field of a report reads back as it was pushed, and the packed form is smaller.
    #[test]
    fn a_report_reads_back_exactly_as_pushed() {
        let r = full();
        let mut packed = Reports::default();
        packed.push(&r);
        packed.push(&SeedReport::new("b"));
        assert_eq!(packed.len(), 2);
        assert_eq!(packed.get(0), Some(r.clone()));
        assert_eq!(packed.iter().collect::<Vec<_>>(), vec![r.clone(), SeedReport::new("b")]);
        assert_eq!(packed.range(1..2).collect::<Vec<_>>(), vec![SeedReport::new("b")]);
        assert_eq!(packed.range(3..4).count(), 0);
        packed.update(|s| s.depth = 9);
        assert_eq!(packed.get(1).map(|s| s.depth), Some(9));
        let json = serde_json::to_string(&Reports::from(vec![r.clone()])).unwrap();
        assert_eq!(json, serde_json::to_string(&vec![r.clone()]).unwrap());
        let back: Reports = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Reports::from(vec![r]));
    }

    /// A thousand accounts of one instance pack into far less than they take as values.
    #[test]
    fn a_long_list_packs_small() {
        let mut list = FollowList::empty(Direction::Following, "mastodon-api", None, ListStatus::Complete);
        list.accounts = (0..1000)
            .map(|n| Account {
                handle: Some(format!("@user{n}@node{}.example", n % 50)),
                server: Some(InstanceHost::new(&format!("node{}.example", n % 50))),
                actor_uri: Some(format!("https://node{}.example/users/user{n}", n % 50)),
                display_name: Some(format!("User {n}")),
                last_status_at: Some("2026-11-30".into()),
                ..Account::default()
            })
            .collect();
        let r = SeedReport {
            following: Some(list),
            ..SeedReport::new("s")
        };
        let mut packed = Reports::default();
        packed.push(&r);
        let values = 1000 * std::mem::size_of::<Account>();
        assert!(
            packed.packed_bytes() * 5 < values,
            "{} packed bytes",
            packed.packed_bytes()
        );
        assert_eq!(packed.get(0), Some(r));
    }
}
