//! The [`Report`]: everything any format shows, gathered once from the store. Its JSON form is
//! the documented schema (README, "JSON report"); text, CSV and HTML render from it.

use serde::Serialize;

use super::trend;
use crate::error::{Error, Result};
use crate::metrics::{apart_counts_instances, Level, LevelMetrics, Population, SnapshotMetrics, Weight};
use crate::model::attribution::AttributionSource;
use crate::model::snapshot::Snapshot;
use crate::store::Store;

/// Version of the JSON report schema; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Levels shown when none is asked for.
pub const DEFAULT_LEVELS: [Level; 3] = [Level::Instance, Level::Organisation, Level::As];

/// Snapshots a trend covers at most (the chosen one and those before it).
pub const DEFAULT_TREND_DEPTH: usize = 12;

/// What a report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub levels: Vec<Level>,
    pub weight: Weight,
    /// Snapshots of the same seeds the trend covers at most (0: no trend).
    pub trend_depth: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            levels: DEFAULT_LEVELS.to_vec(),
            weight: Weight::Accounts,
            trend_depth: DEFAULT_TREND_DEPTH,
        }
    }
}

/// Which snapshot a report is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotRef {
    pub id: i64,
    pub started_at: String,
    pub finished_at: String,
    /// The seeds as the command named them.
    pub seeds: Vec<String>,
}

/// The figures of the headline: organisations reaching half and three quarters of the
/// weight, and the largest instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// Weight attributed to an organisation (the organisation level's total).
    pub total: f64,
    /// Weight the organisation level counted apart (unresolved, not attributed …), in the
    /// weight's unit.
    pub apart: f64,
    /// Instances counted apart because their amount is unknown (under `users`: no NodeInfo or
    /// no user count); never added to `total` or `apart`.
    pub instances_apart: f64,
    /// Whether any list read was of followers (then "listed", not "followed").
    pub followers: bool,
    pub organisations: usize,
    pub k50: usize,
    /// Share held by the `k50` largest organisations together.
    pub k50_share: f64,
    /// Labels of the `k50` largest organisations.
    pub k50_names: Vec<String>,
    pub k75: usize,
    /// How many of the `k75` largest organisations are CDN buckets (origin hidden).
    pub k75_cdn: usize,
    pub hhi: f64,
    pub band: crate::metrics::Band,
    pub instances: usize,
    pub top_instance: Option<String>,
    pub top_instance_share: f64,
}

/// A managed-hosting service named in CNAME chains (the `hosting` level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Managed {
    pub service: String,
    pub instances: f64,
    /// Its amount under the report's weight.
    pub amount: f64,
}

/// The services of the stored `hosting` level, with their instances.
fn managed(metrics: &SnapshotMetrics, weight: Weight) -> Vec<Managed> {
    let Some(level) = metrics.get(Level::Hosting, weight) else {
        return vec![];
    };
    let instances = metrics.get(Level::Hosting, Weight::Instances);
    level
        .buckets
        .iter()
        .map(|b| Managed {
            service: b.label.clone(),
            instances: instances
                .and_then(|i| i.buckets.iter().find(|x| x.key == b.key))
                .map_or(0.0, |x| x.weight),
            amount: b.weight,
        })
        .collect()
}

/// A report: one snapshot, one weight, the chosen levels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub snapshot: SnapshotRef,
    pub weight: Weight,
    pub headline: Headline,
    /// The chosen levels under `weight`, as stored (buckets ranked, summary, apart).
    pub levels: Vec<LevelMetrics>,
    pub population: Population,
    /// Managed-hosting services seen in DNS (the `hosting` level in brief).
    pub managed: Vec<Managed>,
    /// Earlier snapshots of the same seeds and this one, oldest first (empty: no earlier one).
    pub trend: Vec<trend::Step>,
    /// When this snapshot's seeds differ from the previous complete snapshot's, so that a new
    /// series (and trend) starts here: the sentence saying so.
    pub new_series: Option<String>,
    /// The crawl as stored: seeds, lists, accounts, instances, and each host's attribution;
    /// accounts that opted out of crawlers keep only their instance and flags.
    #[serde(flatten)]
    pub data: Snapshot,
}

pub type Credits = AttributionSource;

impl Headline {
    fn of(metrics: &SnapshotMetrics, weight: Weight, data: &Snapshot) -> Headline {
        let empty = LevelMetrics {
            level: Level::Organisation,
            weight,
            buckets: vec![],
            summary: crate::metrics::Concentration::EMPTY,
            apart: Default::default(),
        };
        let org = metrics.get(Level::Organisation, weight).unwrap_or(&empty);
        let inst = metrics.get(Level::Instance, weight).unwrap_or(&empty);
        let leaders = org.buckets.iter().take(org.summary.k50);
        Headline {
            total: org.summary.total,
            apart: crate::metrics::sum(
                org.apart
                    .iter()
                    .filter(|(why, _)| !apart_counts_instances(weight, why))
                    .map(|(_, n)| *n),
            ),
            instances_apart: crate::metrics::sum(
                org.apart
                    .iter()
                    .filter(|(why, _)| apart_counts_instances(weight, why))
                    .map(|(_, n)| *n),
            ),
            followers: data.crawl.seeds.iter().any(|s| s.followers.is_some()),
            organisations: org.summary.buckets,
            k50: org.summary.k50,
            k50_share: crate::metrics::sum(leaders.clone().map(|b| b.share)),
            k50_names: leaders.map(|b| b.label.clone()).collect(),
            k75: org.summary.k75,
            k75_cdn: org
                .buckets
                .iter()
                .take(org.summary.k75)
                .filter(|b| crate::model::attribution::is_cdn_bucket(&b.label))
                .count(),
            hhi: org.summary.hhi,
            band: org.summary.band,
            instances: inst.summary.buckets,
            top_instance: inst.buckets.first().map(|b| b.label.clone()),
            top_instance_share: inst.summary.top1,
        }
    }
}

impl Report {
    /// The report of snapshot `id` in `store`, from its stored metrics.
    ///
    /// # Errors
    /// [`Error::Store`] when there is no such snapshot; SQLite errors.
    pub fn build(store: &Store, id: i64, options: &Options) -> Result<Report> {
        // A crawl that read no seed is stored failed; its report says why each seed failed
        // (and has no trend: it is no step of its series).
        let (data, measured) = match store.load(id) {
            Ok(data) => (data, true),
            Err(e) => match store.load_stored(id)? {
                Some(data) if store.status(id)?.as_deref() == Some("failed") && data.crawl.no_seed_read() => {
                    (data, false)
                }
                _ => return Err(e),
            },
        };
        let metrics = store.metrics(id)?;
        let info = store
            .list()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| Error::Store(format!("no snapshot {id} in {}", store.path().display())))?;
        let levels = options
            .levels
            .iter()
            .filter_map(|l| metrics.get(*l, options.weight).cloned())
            .collect();
        Ok(Report {
            schema_version: SCHEMA_VERSION,
            headline: Headline::of(&metrics, options.weight, &data),
            snapshot: SnapshotRef {
                id,
                started_at: info.started_at,
                finished_at: info.finished_at,
                seeds: info.seeds.clone(),
            },
            weight: options.weight,
            levels,
            managed: managed(&metrics, options.weight),
            population: metrics.population,
            trend: if measured {
                trend::steps(store, id, options)?
            } else {
                vec![]
            },
            new_series: if measured { trend::new_series(store, id)? } else { None },
            // Row-level data never shows an account that opted out (DESIGN §6).
            data: data.redacted(),
        })
    }
}
