//! The stored metrics of a snapshot as rows, the instance level re-bucketed so that small
//! instances appear only as their generalised bucket.
//!
//! Re-bucketing merges the weights of the instances that share a generalised name and
//! recomputes the figures with [`crate::metrics::concentration`], the one implementation.

use std::collections::BTreeMap;

use super::privacy::Privacy;
use super::table::{count, Value};
use super::Tables;
use crate::metrics::{concentration, Bucket, Level, LevelMetrics, SnapshotMetrics};

/// `l` with its buckets renamed by `rename` and merged; `None` when nothing changes.
pub fn rebucket(l: &LevelMetrics, rename: impl Fn(&str) -> String) -> Option<LevelMetrics> {
    if l.buckets.iter().all(|b| rename(&b.key) == b.key) {
        return None;
    }
    let mut merged: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for b in &l.buckets {
        let key = rename(&b.key);
        let label = if key == b.key { b.label.clone() } else { key.clone() };
        merged.entry(key).or_insert((0.0, label)).0 += b.weight;
    }
    let weights: Vec<f64> = merged.values().map(|(w, _)| *w).collect();
    let summary = concentration(&weights);
    let mut buckets: Vec<Bucket> = merged
        .into_iter()
        .map(|(key, (weight, label))| Bucket {
            share: if summary.total > 0.0 {
                weight / summary.total
            } else {
                0.0
            },
            key,
            label,
            weight,
        })
        .collect();
    buckets.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.key.cmp(&b.key)));
    Some(LevelMetrics {
        buckets,
        summary,
        ..l.clone()
    })
}

/// Add the metric rows and the population of snapshot `id`.
pub fn add(tables: &mut Tables, id: i64, metrics: &SnapshotMetrics, view: &Privacy<'_>) {
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&metrics.population) {
        for (name, v) in fields {
            let value = v.as_i64().map_or(Value::Null, Value::Int);
            tables.get("population").push(vec![id.into(), name.into(), value]);
        }
    }
    for l in &metrics.levels {
        let redone = match l.level {
            Level::Instance => rebucket(l, |k| view.instance(k)),
            _ => None,
        };
        level(tables, id, redone.as_ref().unwrap_or(l), redone.is_some());
    }
}

fn level(tables: &mut Tables, id: i64, l: &LevelMetrics, rebucketed: bool) {
    let (lv, w, s) = (l.level.as_str(), l.weight.as_str(), &l.summary);
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
    use crate::metrics::{Concentration, Weight};

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
        let l = LevelMetrics {
            level: Level::Instance,
            weight: Weight::Accounts,
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
}
