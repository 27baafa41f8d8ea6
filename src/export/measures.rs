//! The stored metrics of a snapshot as rows: `metric_summary` the figures of every level as
//! stored (those the report states), `metric_buckets` its buckets re-bucketed so that small
//! instances appear only as their generalised bucket.
//!
//! Re-bucketing merges the weights of the instances that share a generalised name (and, at
//! the range and block levels, of the buckets that hold no large instance, which would locate
//! small ones), ranked with [`crate::metrics::rank`], the one ranking of a level; the figures
//! are not recomputed from the merged buckets, which would count a merged bucket as one actor.
//! Then, at every level, the minimum group size ([`MinGroup`]) holds: a bucket with fewer
//! accounts (its amount under the `accounts` weight) or NodeInfo users (under `users`) than
//! the minimum is merged, under every weight, into one [`SMALL_GROUPS`] bucket; when that
//! bucket is itself under the minimum, its weight is counted apart (`metric_apart`, what
//! `small groups`) rather than published, so bucket total plus apart stays the level's total.

use std::collections::BTreeMap;

use super::privacy::{MinGroup, Privacy, SMALL_GROUPS};
use super::table::{count, Value};
use super::Tables;
use crate::metrics::{rank, Bucket, Concentration, Level, LevelMetrics, SnapshotMetrics, Weight};

/// What `metric_apart` calls the weight of a [`SMALL_GROUPS`] bucket under the minimum.
pub const SMALL_GROUPS_APART: &str = "small groups";

/// A level's figures without its names: the ranked buckets, their summary and what the level
/// counts apart. The export's rows are written from it, for a follows level (a
/// [`LevelMetrics`]) and for a contacts level (named by the measurement) alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Ranked: weight descending, then key ascending.
    pub buckets: Vec<Bucket>,
    pub summary: Concentration,
    pub apart: BTreeMap<String, f64>,
}

impl Ranking {
    /// The figures of a stored level.
    pub fn of(l: &LevelMetrics) -> Ranking {
        Ranking {
            buckets: l.buckets.clone(),
            summary: l.summary.clone(),
            apart: l.apart.clone(),
        }
    }

    /// Buckets of the given keys, labels and weights, ranked, shared and summarised by
    /// [`rank`], the one ranking of a level; `apart` kept as given.
    pub fn new(weights: impl IntoIterator<Item = (String, String, f64)>, apart: BTreeMap<String, f64>) -> Ranking {
        let (buckets, summary) = rank(weights);
        Ranking {
            buckets,
            summary,
            apart,
        }
    }
}

/// `l` with its buckets renamed by `rename` and merged; `None` when nothing changes.
pub fn rebucket(l: &Ranking, rename: impl Fn(&str) -> String) -> Option<Ranking> {
    if l.buckets.iter().all(|b| rename(&b.key) == b.key) {
        return None;
    }
    let mut merged: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for b in &l.buckets {
        let key = rename(&b.key);
        let label = if key == b.key { b.label.clone() } else { key.clone() };
        merged.entry(key).or_insert((0.0, label)).0 += b.weight;
    }
    let weights = merged.into_iter().map(|(key, (weight, label))| (key, label, weight));
    Some(Ranking::new(weights, l.apart.clone()))
}

/// Add the metric rows and the population of snapshot `id`.
pub fn add(tables: &mut Tables, id: i64, metrics: &SnapshotMetrics, view: &Privacy<'_>) {
    let figures = metrics
        .population
        .figures()
        .into_iter()
        .map(|(name, v)| (name, v.as_i64()));
    population(tables, id, figures);
    levels(tables, id, metrics, view);
}

/// Add population figures of snapshot `id` (a figure that is no whole number is null).
pub fn population(tables: &mut Tables, id: i64, figures: impl IntoIterator<Item = (String, Option<i64>)>) {
    for (name, v) in figures {
        tables
            .get("population")
            .push(vec![id.into(), name.into(), v.map_or(Value::Null, Value::Int)]);
    }
}

/// Add the metric rows of snapshot `id`, every bucket under the minimum group size merged.
/// A group's members are the accounts it holds; a survey (kind `instances`), which counts no
/// accounts, has the users its instances declare for members.
pub fn levels(tables: &mut Tables, id: i64, metrics: &SnapshotMetrics, view: &Privacy<'_>) {
    let renamed: Vec<(&LevelMetrics, Ranking, bool)> = metrics
        .levels
        .iter()
        .map(|l| {
            let ranking = Ranking::of(l);
            let redone = match l.level {
                Level::Instance => rebucket(&ranking, |k| view.instance(k)),
                Level::Range | Level::Block => rebucket(&ranking, |k| {
                    if view.shows_place(k) {
                        k.to_string()
                    } else {
                        SMALL_GROUPS.to_string()
                    }
                }),
                _ => None,
            };
            match redone {
                Some(r) => (l, r, true),
                None => (l, ranking, false),
            }
        })
        .collect();
    let min = view.min_group();
    for (l, r, redone) in &renamed {
        let sizes = |weight: Weight| -> BTreeMap<String, f64> {
            renamed
                .iter()
                .find(|(o, _, _)| o.level == l.level && o.weight == weight)
                .map(|(_, o, _)| o.buckets.iter().map(|b| (b.key.clone(), b.weight)).collect())
                .unwrap_or_default()
        };
        let counts_accounts = metrics.levels.iter().any(|o| o.weight == Weight::Accounts);
        let members = sizes(if counts_accounts {
            Weight::Accounts
        } else {
            Weight::Users
        });
        let users = sizes(Weight::Users);
        let (grouped, changed) = small_groups(r, min, &members, &users);
        let names = (l.level.as_str(), l.weight.as_str());
        level(tables, id, names, &grouped, &l.summary, *redone || changed);
    }
}

/// `l` with every bucket under `min` (by its size in `members` and `users`, missing = 0)
/// merged into [`SMALL_GROUPS`], and that bucket counted apart when it is under `min` too;
/// whether anything changed.
pub fn small_groups(
    l: &Ranking,
    min: MinGroup,
    members: &BTreeMap<String, f64>,
    users: &BTreeMap<String, f64>,
) -> (Ranking, bool) {
    let size = |k: &str| {
        (
            members.get(k).copied().unwrap_or(0.0),
            users.get(k).copied().unwrap_or(0.0),
        )
    };
    let small = |k: &str| {
        let (m, u) = size(k);
        k == SMALL_GROUPS || !min.admits(m, u)
    };
    let (mut merged_m, mut merged_u) = (0.0, 0.0);
    for k in members.keys().chain(users.keys().filter(|k| !members.contains_key(*k))) {
        if small(k) {
            let (m, u) = size(k);
            merged_m += m;
            merged_u += u;
        }
    }
    let mut changed = l.buckets.iter().any(|b| small(&b.key) && b.key != SMALL_GROUPS);
    let mut out = rebucket(l, |k| {
        if small(k) {
            SMALL_GROUPS.to_string()
        } else {
            k.to_string()
        }
    })
    .unwrap_or_else(|| l.clone());
    if !min.admits(merged_m, merged_u) {
        changed |= out.buckets.iter().any(|b| b.key == SMALL_GROUPS);
        if let Some(i) = out.buckets.iter().position(|b| b.key == SMALL_GROUPS) {
            let gone = out.buckets.remove(i);
            *out.apart.entry(SMALL_GROUPS_APART.to_string()).or_default() += gone.weight;
            (out.buckets, out.summary) = rank(out.buckets.drain(..).map(|b| (b.key, b.label, b.weight)));
        }
    }
    (out, changed)
}

/// The rows of level `l` as `names` (level, weight): the figures of the whole level (`s`,
/// as the report states them: single numbers that name no bucket), the buckets `l` publishes
/// and what it counts apart. `rebucketed`: `l` merged or generalised buckets, so they do not
/// recompute `s` (a merged `(small groups)` bucket would rank as one actor). The names are
/// given because a contacts level is no [`Level`].
pub(super) fn level(
    tables: &mut Tables,
    id: i64,
    names: (&str, &str),
    l: &Ranking,
    s: &Concentration,
    rebucketed: bool,
) {
    let (lv, w) = names;
    tables.get("metric_summary").push(vec![
        id.into(),
        lv.into(),
        w.into(),
        s.total.into(),
        count(s.buckets),
        s.top1.into(),
        s.top3.into(),
        s.top5.into(),
        s.top10.into(),
        count(s.k50),
        count(s.k75),
        s.hhi.into(),
        s.band.as_str().into(),
        s.entropy.into(),
        s.effective.into(),
        s.gini.into(),
        rebucketed.into(),
    ]);
    for (rank, b) in l.buckets.iter().enumerate() {
        tables.get("metric_buckets").push(vec![
            id.into(),
            lv.into(),
            w.into(),
            count(rank + 1),
            b.key.as_str().into(),
            b.label.as_str().into(),
            b.weight.into(),
            b.share.into(),
        ]);
    }
    for (what, amount) in &l.apart {
        tables.get("metric_apart").push(vec![
            id.into(),
            lv.into(),
            w.into(),
            what.as_str().into(),
            (*amount).into(),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(key: &str, weight: f64) -> Bucket {
        Bucket {
            key: key.into(),
            label: key.into(),
            weight,
            share: 0.0,
        }
    }

    #[test]
    fn small_buckets_merge_and_figures_are_recomputed() {
        let l = Ranking {
            buckets: vec![bucket("big", 6.0), bucket("a", 1.0), bucket("b", 1.0), bucket("c", 2.0)],
            summary: Concentration::EMPTY,
            apart: BTreeMap::from([("no server".to_string(), 3.0)]),
        };
        let small = |k: &str| {
            if k == "big" {
                k.to_string()
            } else {
                "small instance in AS1".to_string()
            }
        };
        let r = rebucket(&l, small).unwrap();
        let keys: Vec<_> = r.buckets.iter().map(|b| (b.key.as_str(), b.weight, b.share)).collect();
        assert_eq!(keys, vec![("big", 6.0, 0.6), ("small instance in AS1", 4.0, 0.4)]);
        assert_eq!(r.summary.k50, 1);
        assert!((r.summary.hhi - 5200.0).abs() < 1e-9, "{}", r.summary.hhi);
        assert_eq!(r.apart, l.apart);
        assert!(rebucket(&l, |k| k.to_string()).is_none());
    }

    #[test]
    fn groups_under_the_minimum_merge_or_are_counted_apart() {
        let min = MinGroup { members: 5, users: 10 };
        let l = Ranking {
            buckets: vec![
                bucket("AS1", 12.0),
                bucket("AS2", 3.0),
                bucket("AS3", 4.0),
                bucket("AS4", 1.0),
            ],
            summary: Concentration::EMPTY,
            apart: BTreeMap::new(),
        };
        let members: BTreeMap<String, f64> = l.buckets.iter().map(|b| (b.key.clone(), b.weight)).collect();
        let users = BTreeMap::from([
            ("AS1".to_string(), 500.0),
            ("AS2".to_string(), 3.0),
            ("AS3".to_string(), 40.0),
        ]);
        // AS2 (3 users), AS3 (4 accounts) and AS4 (users unknown) merge: 8 accounts, 43 users.
        let (r, changed) = small_groups(&l, min, &members, &users);
        let keys: Vec<_> = r.buckets.iter().map(|b| (b.key.as_str(), b.weight)).collect();
        assert_eq!(keys, vec![("AS1", 12.0), (SMALL_GROUPS, 8.0)]);
        assert!(changed && r.apart.is_empty());
        assert!((r.summary.total - 20.0).abs() < 1e-9);
        // Without AS3 the merged bucket (4 accounts) is itself too small: counted apart.
        let members = BTreeMap::from([
            ("AS1".to_string(), 12.0),
            ("AS2".to_string(), 3.0),
            ("AS4".to_string(), 1.0),
        ]);
        let l2 = Ranking {
            buckets: vec![bucket("AS1", 12.0), bucket("AS2", 3.0), bucket("AS4", 1.0)],
            ..l.clone()
        };
        let (r, _) = small_groups(&l2, min, &members, &users);
        let keys: Vec<_> = r.buckets.iter().map(|b| (b.key.as_str(), b.weight, b.share)).collect();
        assert_eq!(keys, vec![("AS1", 12.0, 1.0)]);
        assert_eq!(r.apart, BTreeMap::from([(SMALL_GROUPS_APART.to_string(), 4.0)]));
        assert_eq!(r.summary.k50, 1);
        // Nothing small: unchanged.
        let big = BTreeMap::from([("AS1".to_string(), 12.0)]);
        let users1 = BTreeMap::from([("AS1".to_string(), 500.0)]);
        let l3 = Ranking {
            buckets: vec![bucket("AS1", 12.0)],
            ..l.clone()
        };
        assert!(!small_groups(&l3, min, &big, &users1).1);
    }
}
