//! The trend of a report: the complete snapshots of the same seeds up to the reported one,
//! each with its stored metrics at the report's levels and the changes since the one before
//! (from [`super::diff`]).

use serde::Serialize;

use super::diff::{Diff, Topic};
use super::text::{percent, wrap};
use super::{Options, Report};
use crate::error::Result;
use crate::metrics::Level;
use crate::store::{SnapshotInfo, Status, Store};

/// Snapshots the text trend shows (the last ones; JSON and HTML show the whole trend).
pub const TEXT_STEPS: usize = 6;

/// Sentences of changes per step, the one counting what is left out included (more only
/// when the list changes and accounts added and gone take more).
pub const CHANGES_SHOWN: usize = 6;

/// One level's headline figures in one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub level: Level,
    /// Whether the level had anything to attribute; when not, the figures below are 0 and
    /// are not shown as a rating.
    pub rated: bool,
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
    /// What changed since the step before, in plain words, each fact once (empty for the
    /// first step): the list changes and the accounts added and gone always, the rest up to
    /// [`CHANGES_SHOWN`] sentences in all, the last of them counting what was left out ("also
    /// 2 instances appeared: …").
    pub changes: Vec<String>,
}

/// The complete snapshots of the series that snapshot `id` belongs to, up to and including
/// `id`, oldest first ([`Store::series`]): follows snapshots that crawled the same seed
/// accounts, whatever order and spelling the command gave them.
///
/// # Errors
/// SQLite errors.
pub fn series(store: &Store, id: i64) -> Result<Vec<SnapshotInfo>> {
    store.series(id)
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
    Ok(Some(format!(
        "Snapshot {id} starts a new series: its seeds differ from those of snapshot {} ({}), so \
         no trend is drawn across them.",
        before.id,
        seed_change(store, before.id, id)?
    )))
}

/// How the seeds of crawl `to` differ from those of crawl `from` (`added @a; dropped @b`).
///
/// # Errors
/// SQLite errors.
pub fn seed_change(store: &Store, from: i64, to: i64) -> Result<String> {
    let (now, then) = (store.seed_accounts(to)?, store.seed_accounts(from)?);
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
    Ok(how.join("; "))
}

/// The trend ending at snapshot `id`; empty when no earlier complete snapshot has the same
/// seed accounts.
///
/// # Errors
/// SQLite and query errors.
pub fn steps(store: &Store, id: i64, options: &Options) -> Result<Vec<Step>> {
    walk(series(store, id)?, options.trend_depth, |info, previous| {
        let metrics = store.metrics(info.id)?;
        let points = options
            .levels
            .iter()
            .filter_map(|l| metrics.get(*l, options.weight))
            .map(|m| Point {
                level: m.level,
                rated: m.summary.buckets > 0,
                top3: m.summary.top3,
                k50: m.summary.k50,
                hhi: m.summary.hhi,
            })
            .collect();
        let changes = match previous {
            Some(prev) => shortened(
                Diff::between(store, prev, info.id, &[], options.weight)?.topical_sentences(),
                prev,
                info.id,
            ),
            None => vec![],
        };
        Ok(Some(Step {
            snapshot: info.id,
            finished_at: info.finished_at.clone(),
            points,
            changes,
        }))
    })
}

/// The steps of a trend over the last `depth` snapshots of `series`: `step` is given each
/// snapshot and the one of the step before (`None` for the first), and may skip a snapshot
/// (`Ok(None)`: the next step is then compared with the step before it). Empty when the
/// series has fewer than two snapshots. The one walk of every trend: follows, contacts and
/// surveys.
///
/// # Errors
/// What `step` returns.
pub fn walk<T>(
    series: Vec<SnapshotInfo>,
    depth: usize,
    mut step: impl FnMut(&SnapshotInfo, Option<i64>) -> Result<Option<T>>,
) -> Result<Vec<T>> {
    let infos = &series[series.len().saturating_sub(depth)..];
    if infos.len() < 2 {
        return Ok(vec![]);
    }
    let mut out = Vec::with_capacity(infos.len());
    let mut previous = None;
    for info in infos {
        if let Some(s) = step(info, previous)? {
            out.push(s);
            previous = Some(info.id);
        }
    }
    Ok(out)
}

/// The sentences of one step: every [`Topic::Summary`] one (list changes, accounts no longer
/// visible, added and gone with their causes), then the others, [`CHANGES_SHOWN`] sentences
/// in all; what is left out is still counted, by what it is about, in the last one ("also 2
/// instances became unreachable and 1 account still listed but marked moved: `whohosts diff
/// 3 4` lists them").
fn shortened(changes: Vec<(Topic, String)>, from: i64, to: i64) -> Vec<String> {
    let (summary, details): (Vec<_>, Vec<_>) = changes.into_iter().partition(|(t, _)| *t == Topic::Summary);
    let room = CHANGES_SHOWN.saturating_sub(summary.len());
    let mut out: Vec<String> = summary.into_iter().map(|(_, s)| s).collect();
    if details.len() <= room {
        out.extend(details.into_iter().map(|(_, s)| s));
        return out;
    }
    // The last place counts what is left out.
    let room = room.saturating_sub(1);
    let (shown, left) = details.split_at(room);
    out.extend(shown.iter().map(|(_, s)| s.clone()));
    // Counted by what they are about, in the order first met: (noun, what, how many).
    let mut counts: Vec<(&str, &str, u64)> = vec![];
    for (topic, _) in left {
        let (noun, what, n) = match *topic {
            Topic::Instance(what) => ("instance", what, 1),
            Topic::Accounts(n, what) => ("account", what, n),
            Topic::Summary => continue,
        };
        match counts.iter_mut().find(|c| c.0 == noun && c.1 == what) {
            Some(c) => c.2 += n,
            None => counts.push((noun, what, n)),
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(noun, what, n)| format!("{} {what}", super::plural(*n, noun)))
        .collect();
    out.push(format!(
        "also {}: `whohosts diff {from} {to}` lists them",
        and_list(&parts)
    ));
    out
}

/// "a", "a and b", "a, b and c".
fn and_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
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
        match s.points.iter().find(|p| p.level == level) {
            Some(p) if !p.rated => {
                out += &format!(
                    "  snapshot {:<3} {:<10}  nothing to attribute: not rated\n",
                    s.snapshot,
                    crate::model::time::date(&s.finished_at),
                );
            }
            Some(p) => {
                out += &format!(
                    "  snapshot {:<3} {:<10}  top-3 {:>7}  k50 {:>3}  HHI {:>5}\n",
                    s.snapshot,
                    crate::model::time::date(&s.finished_at),
                    percent(p.top3),
                    p.k50,
                    super::text::hhi(p.hhi)
                );
            }
            None => {}
        }
        if !s.changes.is_empty() {
            out += &wrap(&format!("{}.", s.changes.join("; ")), "      ", "      ");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{shortened, Topic, CHANGES_SHOWN};

    fn s(t: Topic, n: usize) -> Vec<(Topic, String)> {
        (0..n).map(|i| (t, format!("{t:?} {i}"))).collect()
    }

    #[test]
    fn summaries_stay_at_most_six_sentences_and_the_rest_is_counted() {
        // 2 summaries + 4 details = 6: all shown.
        let mut c = s(Topic::Summary, 2);
        c.extend(s(Topic::Instance("appeared"), 4));
        let out = shortened(c.clone(), 3, 4);
        assert_eq!(out.len(), 6);
        assert!(out.iter().all(|l| !l.starts_with("also")), "{out:?}");
        // 2 summaries + 5 details = 7: 3 details shown, the sixth sentence counts the 2 others.
        c.extend(s(Topic::Instance("appeared"), 1));
        let out = shortened(c.clone(), 3, 4);
        assert_eq!(out.len(), CHANGES_SHOWN);
        assert_eq!(out[5], "also 2 instances appeared: `whohosts diff 3 4` lists them");
        // 2 summaries + 8 details: 3 shown, the 5 others counted by what they are about.
        c.extend(s(Topic::Instance("became unreachable"), 1));
        c.extend(s(Topic::Accounts(1, "still listed but marked moved"), 2));
        let out = shortened(c, 3, 4);
        assert_eq!(out.len(), CHANGES_SHOWN);
        assert_eq!(&out[..2], ["Summary 0", "Summary 1"]);
        assert_eq!(
            out[5],
            "also 2 instances appeared, 1 instance became unreachable and 2 accounts still listed but \
             marked moved: `whohosts diff 3 4` lists them"
        );
        // Summaries are all kept, even past the limit.
        let out = shortened(s(Topic::Summary, 9), 1, 2);
        assert_eq!(out.len(), 9);
    }
}
