//! Instance-list surveys compared: `diff A B` between two of them (instances that joined or
//! left the list, whose NodeInfo failed or recovered, that changed software or moved to other
//! hosting, and the AS and organisation figures under each weight then and now), and the
//! series and trend a survey's report shows.
//!
//! The instance rows come from the shipped query `queries/survey-changes.sql` (one
//! implementation: `whohosts query survey-changes` gives the same rows); the figures from each
//! survey's stored metrics. Surveys of one list are one series: the same set of instances
//! (and the same `--software` filter), however the list was spelled or ordered.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::diff::{delta, figures_line, rows, Delta};
use super::text::wrap;
use crate::error::{Error, Result};
use crate::metrics::{Concentration, Level, Weight};
use crate::model::format::Format;
use crate::store::{SnapshotInfo, Store};

/// The kind of snapshot `whohosts instances` stores.
pub const KIND: &str = crate::store::instances::KIND;

/// Surveys a trend shows at most (the last ones).
pub const TREND_STEPS: usize = 12;

/// The levels a survey diff and trend compare.
const LEVELS: [Level; 2] = [Level::As, Level::Organisation];

/// An instance that joined or left, failed or recovered, changed software or moved (a row of
/// `survey-changes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceChange {
    pub instance: String,
    /// `joined`, `left`, `failed`, `recovered`, `software` or `moved`.
    pub change: String,
    pub from_software: Option<String>,
    pub to_software: Option<String>,
    pub from_hosting: Option<String>,
    pub to_hosting: Option<String>,
    pub from_users: Option<i64>,
    pub to_users: Option<i64>,
}

/// One level under one weight in both surveys, and its change (`to − from`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelChange {
    pub weight: Weight,
    pub level: Level,
    pub from: Concentration,
    pub to: Concentration,
    pub change: Delta,
}

/// What changed from survey `from` to survey `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyDiff {
    pub schema_version: u32,
    pub kind: &'static str,
    pub from: i64,
    pub to: i64,
    /// What makes the two surveys measure different things, in one sentence: another
    /// `--software` filter, another list of instances; absent when they are like for like.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlike: Option<String>,
    pub instances: Vec<InstanceChange>,
    pub levels: Vec<LevelChange>,
}

/// Why surveys `from` and `to` are not like for like (one sentence), from the requests that
/// made them: the `--software` filter each ran with, and the set of instances each listed
/// (the digest a series is matched on). `None` when both match.
fn unlike(store: &Store, from: i64, to: i64) -> Result<Option<String>> {
    let (a, b) = (store.request(from)?, store.request(to)?);
    let mut parts = vec![];
    if a["software"] != b["software"] {
        let filter = |r: &serde_json::Value| match r["software"].as_str() {
            Some(s) => format!("--software {s}"),
            None => "every software".to_string(),
        };
        parts.push(format!(
            "survey {from} counted {}, survey {to} {}",
            filter(&a),
            filter(&b)
        ));
    }
    if a["domains"] != b["domains"] {
        let listed = |r: &serde_json::Value| r["instances"].as_u64().map_or("?".into(), |n| n.to_string());
        parts.push(format!(
            "they surveyed different lists of instances ({} listed, then {})",
            listed(&a),
            listed(&b)
        ));
    }
    Ok((!parts.is_empty()).then(|| format!("Not like for like: {}.", parts.join("; "))))
}

/// The stored figures of survey `id` at [`LEVELS`] under every weight of a survey.
fn figures(store: &Store, id: i64) -> Result<Vec<(Weight, Level, Concentration)>> {
    let m = store.metrics(id)?;
    let mut out = vec![];
    for w in super::instances::WEIGHTS {
        for l in LEVELS {
            if let Some(x) = m.levels.iter().find(|x| x.weight == w && x.level == l) {
                out.push((w, l, x.summary.clone()));
            }
        }
    }
    Ok(out)
}

/// Refuse a snapshot that is not a complete survey.
fn check(store: &Store, id: i64) -> Result<()> {
    match store.kind(id)?.as_deref() {
        Some(KIND) => Ok(()),
        Some(other) => Err(Error::Store(format!(
            "snapshot {id} is a {other} snapshot, not a survey"
        ))),
        None => Err(Error::Store(format!("no snapshot {id} in {}", store.path().display()))),
    }
}

impl SurveyDiff {
    /// Compare survey `from` with survey `to`.
    ///
    /// # Errors
    /// [`Error::Store`] when either is missing or no survey; SQLite and query errors.
    pub fn between(store: &Store, from: i64, to: i64) -> Result<SurveyDiff> {
        check(store, from)?;
        check(store, to)?;
        let then = figures(store, from)?;
        let levels = figures(store, to)?
            .into_iter()
            .filter_map(|(weight, level, y)| {
                let (_, _, x) = then.iter().find(|(w, l, _)| *w == weight && *l == level)?;
                Some(LevelChange {
                    change: delta(x, &y),
                    weight,
                    level,
                    from: x.clone(),
                    to: y,
                })
            })
            .collect();
        Ok(SurveyDiff {
            schema_version: super::SCHEMA_VERSION,
            kind: KIND,
            from,
            to,
            unlike: unlike(store, from, to)?,
            instances: rows(store, "survey-changes", from, to, &[])?,
            levels,
        })
    }

    /// How many instances changed in each way, in one sentence ("2 joined, 1 left, 1 moved
    /// hosting"); `None` when nothing did.
    pub fn counts(&self) -> Option<String> {
        let n = |c: &str| self.instances.iter().filter(|i| i.change == c).count();
        let parts: Vec<String> = [
            ("joined", "joined"),
            ("left", "left"),
            ("failed", "failed"),
            ("recovered", "recovered"),
            ("software", "changed software"),
            ("moved", "moved hosting"),
        ]
        .iter()
        .filter(|(c, _)| n(c) > 0)
        .map(|(c, words)| format!("{} {words}", n(c)))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

fn sentence(c: &InstanceChange) -> String {
    let text = |s: &Option<String>| s.clone().unwrap_or_else(|| "unknown".into());
    let users = |u: Option<i64>| {
        u.map(|u| format!(", {}", super::plural(u.max(0) as u64, "user")))
            .unwrap_or_default()
    };
    match c.change.as_str() {
        "joined" => format!(
            "+ {} ({}, {}{})",
            c.instance,
            text(&c.to_software),
            text(&c.to_hosting),
            users(c.to_users)
        ),
        "left" => format!(
            "- {} (was {}, {}{})",
            c.instance,
            text(&c.from_software),
            text(&c.from_hosting),
            users(c.from_users)
        ),
        "failed" => format!(
            "{}: NodeInfo not read ({}), was {}",
            c.instance,
            text(&c.to_software),
            text(&c.from_software)
        ),
        "recovered" => format!(
            "{}: NodeInfo read again ({}), was {}",
            c.instance,
            text(&c.to_software),
            text(&c.from_software)
        ),
        "software" => format!("{}: {} → {}", c.instance, text(&c.from_software), text(&c.to_software)),
        _ => format!(
            "{} moved from {} to {}",
            c.instance,
            text(&c.from_hosting),
            text(&c.to_hosting)
        ),
    }
}

/// The formats a survey diff is written in (those of every diff).
pub const FORMATS: &[Format] = super::diff::FORMATS;

/// `d` in `format` (text or JSON).
///
/// # Errors
/// [`Error::Input`] for a format not in [`FORMATS`].
pub fn render(d: &SurveyDiff, format: Format) -> Result<String> {
    match format {
        Format::Text => Ok(format.safe(render_text(d), false)),
        Format::Json => Ok(format.safe(
            serde_json::to_string_pretty(d).expect("diffs serialise: string keys") + "\n",
            false,
        )),
        _ => Err(format.not_offered("a diff", FORMATS)),
    }
}

/// `d` as text, fitting 80 columns.
pub fn render_text(d: &SurveyDiff) -> String {
    let mut out = format!("Changes from survey {} to survey {}.\n", d.from, d.to);
    // One line, however long: the first thing to know about these figures.
    if let Some(unlike) = &d.unlike {
        let _ = writeln!(out, "{unlike}");
    }
    let sections: [(&str, &[&str]); 4] = [
        ("Instances that joined or left the list", &["joined", "left"]),
        (
            "Instances whose NodeInfo failed or was read again",
            &["failed", "recovered"],
        ),
        ("Instances that changed software", &["software"]),
        ("Instances that moved to other hosting (AS or organisation)", &["moved"]),
    ];
    for (title, changes) in sections {
        let rows: Vec<&InstanceChange> = d
            .instances
            .iter()
            .filter(|c| changes.contains(&c.change.as_str()))
            .collect();
        let _ = writeln!(out, "\n{title}: {}.", rows.len());
        for c in rows {
            out += &wrap(&sentence(c), "  ", "    ");
        }
    }
    let mut weight = None;
    for l in &d.levels {
        if weight != Some(l.weight) {
            let _ = writeln!(out, "\nFigures (weight: {}), then → now:", l.weight.as_str());
            weight = Some(l.weight);
        }
        out += &figures_line(l.level.as_str(), &l.from, &l.to);
    }
    out
}

/// The complete surveys of the series of survey `id`, up to and including it, oldest first:
/// those of the same set of instances listed (a digest of their sorted hosts) and the same
/// software filter.
///
/// # Errors
/// SQLite errors.
pub fn series(store: &Store, id: i64) -> Result<Vec<SnapshotInfo>> {
    store.series(id)
}

/// One survey of a trend: the AS level's users-weighted figures (and instances-weighted
/// top 3), and what changed since the survey before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub snapshot: i64,
    pub finished_at: String,
    /// Trusted users counted.
    pub users: f64,
    pub top3: f64,
    pub k50: usize,
    pub hhi: f64,
    /// Whether any user was attributed to an AS: a survey in which no instance answered (or
    /// none could be attributed) has nothing to attribute, and is not rated.
    pub rated: bool,
    /// The instances-weighted top-3 share at the AS level.
    pub instances_top3: f64,
    /// [`SurveyDiff::counts`]; `None` for the first step or when nothing changed.
    pub changes: Option<String>,
}

/// The trend ending at survey `id` (its series' last [`TREND_STEPS`]); empty when it is the
/// first of its series.
///
/// # Errors
/// SQLite and query errors.
pub fn steps(store: &Store, id: i64) -> Result<Vec<Step>> {
    super::trend::walk(series(store, id)?, TREND_STEPS, |info, previous| {
        let f = figures(store, info.id)?;
        let at = |w: Weight| f.iter().find(|(x, l, _)| *x == w && *l == Level::As).map(|(_, _, c)| c);
        let Some(users) = at(Weight::Users) else {
            return Ok(None);
        };
        let changes = match previous {
            Some(p) => SurveyDiff::between(store, p, info.id)?.counts(),
            None => None,
        };
        Ok(Some(Step {
            snapshot: info.id,
            finished_at: info.finished_at.clone(),
            users: users.total,
            top3: users.top3,
            k50: users.k50,
            hhi: users.hhi,
            rated: users.buckets > 0,
            instances_top3: at(Weight::Instances).map_or(0.0, |c| c.top3),
            changes,
        }))
    })
}
