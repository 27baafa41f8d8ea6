//! The trend of a report: the complete snapshots of the same seeds up to the reported one,
//! each with its stored metrics at the report's levels and the changes since the one before
//! (from [`super::diff`]).

use serde::Serialize;

use super::diff::Diff;
use super::text::{percent, wrap};
use super::{Options, Report};
use crate::error::Result;
use crate::metrics::Level;
use crate::store::{Status, Store};

/// Snapshots the text trend shows (the last ones; JSON and HTML show the whole trend).
pub const TEXT_STEPS: usize = 6;

/// Sentences of changes kept per step (the rest are counted).
pub const CHANGES_SHOWN: usize = 6;

/// One level's headline figures in one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub level: Level,
    pub top3: f64,
    pub k50: usize,
    pub hhi: f64,
}

/// One snapshot of a trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub snapshot: i64,
    pub finished_at: String,
    pub points: Vec<Point>,
    /// What changed since the step before, in plain words (empty for the first step); at
    /// most [`CHANGES_SHOWN`], then "and N more changes".
    pub changes: Vec<String>,
}

/// The complete snapshots of the series that snapshot `id` belongs to, up to and including
/// `id`, oldest first: follows snapshots that crawled the same seed accounts ([`Store::seed_accounts`]),
/// whatever order and spelling the command gave them.
///
/// # Errors
/// SQLite errors.
pub fn series(store: &Store, id: i64) -> Result<Vec<crate::store::SnapshotInfo>> {
    let seeds = store.seed_accounts(id)?;
    let kind = store.kind(id)?;
    let mut out = vec![];
    for info in store.list()? {
        if info.id <= id
            && info.status == Status::Complete.as_str()
            && Some(&info.kind) == kind.as_ref()
            && store.seed_accounts(info.id)? == seeds
        {
            out.push(info);
        }
    }
    Ok(out)
}

/// The complete snapshot of the same series just before `id`, if any.
///
/// # Errors
/// SQLite errors.
pub fn previous(store: &Store, id: i64) -> Result<Option<i64>> {
    Ok(series(store, id)?.iter().rev().map(|s| s.id).find(|s| *s < id))
}

/// When snapshot `id` starts a new series although an earlier complete snapshot exists (the
/// seeds changed), a sentence saying so and how.
///
/// # Errors
/// SQLite errors.
pub fn new_series(store: &Store, id: i64) -> Result<Option<String>> {
    let kind = store.kind(id)?;
    let Some(before) = store
        .list()?
        .into_iter()
        .rfind(|s| s.id < id && s.status == Status::Complete.as_str() && Some(&s.kind) == kind.as_ref())
    else {
        return Ok(None);
    };
    if previous(store, id)?.is_some() {
        return Ok(None);
    }
    let (now, then) = (store.seed_accounts(id)?, store.seed_accounts(before.id)?);
    let list = |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<_>>().join(", ");
    let mut how = vec![];
    let added = list(now.difference(&then).collect());
    let dropped = list(then.difference(&now).collect());
    if !added.is_empty() {
        how.push(format!("added {added}"));
    }
    if !dropped.is_empty() {
        how.push(format!("dropped {dropped}"));
    }
    Ok(Some(format!(
        "Snapshot {id} starts a new series: its seeds differ from those of snapshot {} ({}), so \
         no trend is drawn across them.",
        before.id,
        how.join("; ")
    )))
}

/// The trend ending at snapshot `id`; empty when no earlier complete snapshot has the same
/// seed accounts.
///
/// # Errors
/// SQLite and query errors.
pub fn steps(store: &Store, id: i64, options: &Options) -> Result<Vec<Step>> {
    let infos = series(store, id)?;
    let infos = &infos[infos.len().saturating_sub(options.trend_depth)..];
    if infos.len() < 2 {
        return Ok(vec![]);
    }
    let mut out: Vec<Step> = Vec::with_capacity(infos.len());
    let mut previous: Option<i64> = None;
    for info in infos {
        let metrics = store.metrics(info.id)?;
        let points = options
            .levels
            .iter()
            .filter_map(|l| metrics.get(*l, options.weight))
            .map(|m| Point {
                level: m.level,
                top3: m.summary.top3,
                k50: m.summary.k50,
                hhi: m.summary.hhi,
            })
            .collect();
        let changes = match previous {
            Some(prev) => shortened(Diff::between(store, prev, info.id, &[], options.weight)?.sentences()),
            None => vec![],
        };
        out.push(Step {
            snapshot: info.id,
            finished_at: info.finished_at.clone(),
            points,
            changes,
        });
        previous = Some(info.id);
    }
    Ok(out)
}

/// The first [`CHANGES_SHOWN`] sentences, then "and N more".
fn shortened(mut changes: Vec<String>) -> Vec<String> {
    if changes.len() > CHANGES_SHOWN {
        let more = changes.len() - CHANGES_SHOWN;
        changes.truncate(CHANGES_SHOWN);
        changes.push(format!("and {more} more"));
    }
    changes
}

/// The level a text trend follows: organisations when shown, else the first level.
pub fn text_level(r: &Report) -> Option<Level> {
    let points = &r.trend.first()?.points;
    let first = points.first()?.level;
    let has_org = points.iter().any(|p| p.level == Level::Organisation);
    Some(if has_org { Level::Organisation } else { first })
}

/// The trend as text: one line per snapshot, the changes under it; empty without a trend.
pub fn render_text(r: &Report) -> String {
    let Some(level) = text_level(r) else {
        return match &r.new_series {
            Some(note) => format!("\n{}", wrap(note, "", "  ")),
            None => String::new(),
        };
    };
    let span = match r.trend.len() {
        n if n > TEXT_STEPS => format!("the last {TEXT_STEPS} of {n} snapshots"),
        n => format!("{n} snapshots"),
    };
    let mut out = format!(
        "\nTrend by {} over {span} of these seeds:\n",
        super::text::level_title(level)
    );
    for s in &r.trend[r.trend.len().saturating_sub(TEXT_STEPS)..] {
        if let Some(p) = s.points.iter().find(|p| p.level == level) {
            out += &format!(
                "  snapshot {:<3} {:<10}  top-3 {:>7}  k50 {:>3}  HHI {:>5}\n",
                s.snapshot,
                crate::model::time::date(&s.finished_at),
                percent(p.top3),
                p.k50,
                super::text::hhi(p.hhi)
            );
        }
        if !s.changes.is_empty() {
            out += &wrap(&format!("{}.", s.changes.join("; ")), "      ", "      ");
        }
    }
    out
}
