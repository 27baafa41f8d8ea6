//! Contacts snapshots compared: `diff A B` between two of them (contacts added and removed,
//! domains that moved to another provider, lost or found their server, came or went, and
//! each level's figures then and now), and the series and trend a contacts report shows.
//!
//! The domain rows come from the shipped query `queries/contact-changes.sql` (one
//! implementation: `whohosts query contact-changes` gives the same rows); the figures from
//! each snapshot's stored metrics; contacts added and removed from the keyed hashes the store
//! keeps of their addresses (never the addresses).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::diff::{delta, figures_line, rows, Delta};
use super::text::wrap;
use crate::error::{Error, Result};
use crate::metrics::Concentration;
use crate::model::format::Format;
use crate::store::{SnapshotInfo, Store};

/// The kind of snapshot `whohosts contacts` stores.
pub const KIND: &str = crate::store::contacts::KIND;

/// Snapshots a trend shows at most (the last ones).
pub const TREND_STEPS: usize = 12;

/// A domain whose server changed, or that came or went (a row of `contact-changes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainChange {
    pub domain: String,
    pub protocol: String,
    /// `moved`, `lost`, `found`, `added` or `removed`.
    pub change: String,
    pub from_provider: Option<String>,
    pub to_provider: Option<String>,
    pub from_contacts: Option<i64>,
    pub to_contacts: Option<i64>,
}

/// One level's stored figures in both snapshots, and their change (`to − from`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelChange {
    pub level: String,
    pub from: Concentration,
    pub to: Concentration,
    pub change: Delta,
}

/// What changed from contacts snapshot `from` to contacts snapshot `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactsDiff {
    pub schema_version: u32,
    pub kind: &'static str,
    pub from: i64,
    pub to: i64,
    pub weight: String,
    /// Distinct contacts in each snapshot, and how many are new or gone (by keyed hash).
    pub contacts_from: usize,
    pub contacts_to: usize,
    pub contacts_added: usize,
    pub contacts_removed: usize,
    pub domains: Vec<DomainChange>,
    pub levels: Vec<LevelChange>,
}

/// The weight snapshot `id` was measured under (`contacts` or `messages`).
fn weight_of(store: &Store, id: i64) -> Result<String> {
    Ok(store.contacts(id)?.weight.to_string())
}

/// `n contacts` / `1 contact`.
fn contacts(n: i64) -> String {
    super::plural(n.max(0) as u64, "contact")
}

impl ContactsDiff {
    /// Compare contacts snapshot `from` with contacts snapshot `to`.
    ///
    /// # Errors
    /// [`Error::Store`] when either is missing or not complete; [`Error::Usage`] when they
    /// were weighed differently; SQLite and query errors.
    pub fn between(store: &Store, from: i64, to: i64) -> Result<ContactsDiff> {
        let (wa, wb) = (weight_of(store, from)?, weight_of(store, to)?);
        if wa != wb {
            return Err(Error::Usage(crate::store::contacts::weights_differ(
                &from.to_string(),
                &wa,
                &to.to_string(),
                &wb,
            )));
        }
        let (a, b) = (store.contact_hashes(from)?, store.contact_hashes(to)?);
        let then = store.contact_summaries(from)?;
        let levels = store
            .contact_summaries(to)?
            .into_iter()
            .filter_map(|(level, y)| {
                let (_, x) = then.iter().find(|(l, _)| *l == level)?;
                Some(LevelChange {
                    change: delta(x, &y),
                    level,
                    from: x.clone(),
                    to: y,
                })
            })
            .collect();
        Ok(ContactsDiff {
            schema_version: super::SCHEMA_VERSION,
            kind: KIND,
            from,
            to,
            weight: wb,
            contacts_from: a.len(),
            contacts_to: b.len(),
            contacts_added: b.difference(&a).count(),
            contacts_removed: a.difference(&b).count(),
            domains: rows(store, "contact-changes", from, to, &[])?,
            levels,
        })
    }

    /// The changes in plain words, one sentence each: domains first, then the contacts.
    pub fn sentences(&self) -> Vec<String> {
        let mut out: Vec<String> = self.domains.iter().map(sentence).collect();
        if self.contacts_added + self.contacts_removed > 0 {
            out.push(format!(
                "{} added, {} removed",
                contacts(self.contacts_added as i64),
                self.contacts_removed
            ));
        }
        out
    }
}

fn sentence(d: &DomainChange) -> String {
    let from = d.from_provider.as_deref().unwrap_or("unknown");
    let to = d.to_provider.as_deref().unwrap_or("unknown");
    let n = |c: Option<i64>| contacts(c.unwrap_or(0));
    match d.change.as_str() {
        "moved" => format!("{} moved from {from} to {to} ({})", d.domain, n(d.to_contacts)),
        "lost" => format!("{}: server no longer found ({to}), was {from}", d.domain),
        "found" => format!("{}: server found again ({to}), was {from}", d.domain),
        "added" => format!("{} added ({}, {to})", d.domain, n(d.to_contacts)),
        _ => format!("{} removed ({}, was {from})", d.domain, n(d.from_contacts)),
    }
}

/// The formats a contacts diff is written in (those of every diff).
pub const FORMATS: &[Format] = super::diff::FORMATS;

/// `d` in `format` (text or JSON).
///
/// # Errors
/// [`Error::Input`] for a format not in [`FORMATS`].
pub fn render(d: &ContactsDiff, format: Format) -> Result<String> {
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
pub fn render_text(d: &ContactsDiff) -> String {
    let mut out = format!(
        "Changes from contacts snapshot {} to contacts snapshot {} (weight: {}).\n\n",
        d.from, d.to, d.weight
    );
    out += &wrap(
        &format!(
            "Contacts: {} added, {} removed ({} then, {} now).",
            d.contacts_added, d.contacts_removed, d.contacts_from, d.contacts_to
        ),
        "",
        "  ",
    );
    let served: Vec<&DomainChange> = d
        .domains
        .iter()
        .filter(|c| matches!(c.change.as_str(), "moved" | "lost" | "found"))
        .collect();
    let _ = writeln!(
        out,
        "\nDomains that moved to another provider, lost or found their server: {}.",
        served.len()
    );
    for c in served {
        out += &wrap(&sentence(c), "  ", "    ");
    }
    let came: Vec<&DomainChange> = d
        .domains
        .iter()
        .filter(|c| matches!(c.change.as_str(), "added" | "removed"))
        .collect();
    let _ = writeln!(out, "\nDomains added or removed: {}.", came.len());
    for c in came {
        let line = match c.change.as_str() {
            "added" => format!(
                "+ {} ({}, {})",
                c.domain,
                contacts(c.to_contacts.unwrap_or(0)),
                c.to_provider.as_deref().unwrap_or("unknown")
            ),
            _ => format!(
                "- {} ({}, was {})",
                c.domain,
                contacts(c.from_contacts.unwrap_or(0)),
                c.from_provider.as_deref().unwrap_or("unknown")
            ),
        };
        out += &wrap(&line, "  ", "    ");
    }
    let _ = writeln!(out, "\nFigures (weight: {}), then → now:", d.weight);
    for l in &d.levels {
        out += &figures_line(&l.level, &l.from, &l.to);
    }
    out
}

/// The complete contacts snapshots of the series of snapshot `id`, up to and including it,
/// oldest first: those of the same series name (`--series`, else the input files) and weight.
///
/// # Errors
/// SQLite errors.
pub fn series(store: &Store, id: i64) -> Result<Vec<SnapshotInfo>> {
    store.series(id)
}

/// One snapshot of a contacts trend: the provider level's stored figures (the organisation
/// level's when there is none) and what changed since the snapshot before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub snapshot: i64,
    pub finished_at: String,
    pub level: String,
    pub top3: f64,
    pub k50: usize,
    pub k75: usize,
    pub hhi: f64,
    /// Sentences ([`ContactsDiff::sentences`]); empty for the first step.
    pub changes: Vec<String>,
}

/// The trend ending at contacts snapshot `id` (its series' last [`TREND_STEPS`]); empty
/// when it is the first of its series.
///
/// # Errors
/// SQLite and query errors.
pub fn steps(store: &Store, id: i64) -> Result<Vec<Step>> {
    super::trend::walk(series(store, id)?, TREND_STEPS, |info, previous| {
        let levels = store.contact_summaries(info.id)?;
        let Some((level, c)) = ["provider", "organisation"]
            .iter()
            .find_map(|want| levels.iter().find(|(l, _)| l == want))
        else {
            return Ok(None);
        };
        let changes = match previous {
            Some(p) => ContactsDiff::between(store, p, info.id)?.sentences(),
            None => vec![],
        };
        Ok(Some(Step {
            snapshot: info.id,
            finished_at: info.finished_at.clone(),
            level: level.clone(),
            top3: c.top3,
            k50: c.k50,
            k75: c.k75,
            hhi: c.hhi,
            changes,
        }))
    })
}
