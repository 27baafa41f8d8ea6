//! `whohosts diff A B`: what changed between two snapshots — accounts added, removed and
//! moved; instances that changed AS, organisation or CDN; instances that appeared, vanished or
//! became unreachable; and the change of each metric per level under one weight.
//!
//! The rows come from the shipped comparing queries (`queries/account-changes.sql`,
//! `host-changes.sql`, `instance-changes.sql`: one implementation, the same answers as
//! `whohosts query`), read from the query's table as records, the metrics from each
//! snapshot's stored metrics.

use std::fmt::Write as _;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::text::{amount, wrap};
use crate::error::{Error, Result};
use crate::metrics::{Concentration, Level, Weight};
use crate::model::format::Format;
use crate::query;
use crate::store::Store;

/// An account that entered or left the lists, or moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountChange {
    pub account: String,
    /// `added`, `removed` or `moved`.
    pub change: String,
    pub instance: Option<String>,
    pub moved_to: Option<String>,
}

impl AccountChange {
    /// The account in words: its handle, or for one that opted out of crawlers (stored as a
    /// keyed hash, `store::optout`) "an opted-out account on HOST".
    pub fn who(&self) -> String {
        if self.account.starts_with(crate::store::optout::PREFIX) {
            match &self.instance {
                Some(host) => format!("an opted-out account on {host}"),
                None => "an opted-out account".to_string(),
            }
        } else {
            self.account.clone()
        }
    }
}

/// An instance whose AS numbers or hosting buckets changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostChange {
    pub instance: String,
    pub from_asn: Option<String>,
    pub to_asn: Option<String>,
    pub from_hosting: Option<String>,
    pub to_hosting: Option<String>,
}

/// An instance that appeared in the lists, disappeared from them, or became unreachable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceChange {
    pub instance: String,
    /// `appeared`, `disappeared` or `unreachable`.
    pub change: String,
    pub from_accounts: Option<i64>,
    pub to_accounts: Option<i64>,
    pub failure: Option<String>,
}

/// One level's figures in both snapshots, and their change (`to − from`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricChange {
    pub level: Level,
    pub from: Concentration,
    pub to: Concentration,
    pub change: Delta,
}

/// `to − from` of the figures a person compares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    pub buckets: i64,
    pub top1: f64,
    pub top3: f64,
    pub k50: i64,
    pub k75: i64,
    pub hhi: f64,
    pub effective: f64,
}

/// What changed from snapshot `from` to snapshot `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub schema_version: u32,
    pub from: i64,
    pub to: i64,
    pub weight: Weight,
    pub accounts: Vec<AccountChange>,
    pub hosts: Vec<HostChange>,
    pub instances: Vec<InstanceChange>,
    pub metrics: Vec<MetricChange>,
}

/// The rows of shipped query `name` between `from` and `to`, as `T`.
fn rows<T: DeserializeOwned>(store: &Store, name: &str, from: i64, to: i64) -> Result<Vec<T>> {
    let q = query::find(name)?;
    let given = [
        ("from".to_string(), from.to_string()),
        ("to".to_string(), to.to_string()),
    ];
    let table = query::run(store.connection(), name, q.sql, &given)?;
    table.records().map_err(|e| Error::Query {
        name: name.into(),
        message: format!("unexpected columns: {e}"),
    })
}

fn delta(a: &Concentration, b: &Concentration) -> Delta {
    let int = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    Delta {
        buckets: int(b.buckets) - int(a.buckets),
        top1: b.top1 - a.top1,
        top3: b.top3 - a.top3,
        k50: int(b.k50) - int(a.k50),
        k75: int(b.k75) - int(a.k75),
        hhi: b.hhi - a.hhi,
        effective: b.effective - a.effective,
    }
}

impl Diff {
    /// Compare snapshot `from` with snapshot `to` at `levels` under `weight`.
    ///
    /// # Errors
    /// [`Error::Store`] when either snapshot does not exist; SQLite and query errors.
    pub fn between(store: &Store, from: i64, to: i64, levels: &[Level], weight: Weight) -> Result<Diff> {
        let known: Vec<i64> = store.list()?.iter().map(|s| s.id).collect();
        if let Some(missing) = [from, to].into_iter().find(|id| !known.contains(id)) {
            return Err(Error::Store(format!(
                "no snapshot {missing} in {}",
                store.path().display()
            )));
        }
        let (a, b) = (store.metrics(from)?, store.metrics(to)?);
        let metrics = levels
            .iter()
            .filter_map(|l| {
                let (x, y) = (&a.get(*l, weight)?.summary, &b.get(*l, weight)?.summary);
                Some(MetricChange {
                    level: *l,
                    from: x.clone(),
                    to: y.clone(),
                    change: delta(x, y),
                })
            })
            .collect();
        Ok(Diff {
            schema_version: super::SCHEMA_VERSION,
            from,
            to,
            weight,
            accounts: rows(store, "account-changes", from, to)?,
            hosts: rows(store, "host-changes", from, to)?,
            instances: rows(store, "instance-changes", from, to)?,
            metrics,
        })
    }

    /// The changes in plain words, one sentence each (hosts, instances, moves, then counts).
    pub fn sentences(&self) -> Vec<String> {
        let mut out: Vec<String> = self.hosts.iter().map(host_sentence).collect();
        out.extend(self.instances.iter().map(instance_sentence));
        for a in self.accounts.iter().filter(|a| a.change == "moved") {
            out.push(format!("{} moved to {}", a.who(), a.moved_to.as_deref().unwrap_or("?")));
        }
        let count = |c: &str| self.accounts.iter().filter(|a| a.change == c).count() as u64;
        let (added, removed) = (count("added"), count("removed"));
        if added + removed > 0 {
            out.push(format!("{} added, {removed} removed", super::plural(added, "account")));
        }
        out
    }
}

fn host_sentence(h: &HostChange) -> String {
    let side = |hosting: &Option<String>, asn: &Option<String>| {
        let hosting = hosting.as_deref().unwrap_or("unknown").replace(", origin unknown", "");
        format!("{hosting} (AS{})", asn.as_deref().unwrap_or("?").replace(',', ", AS"))
    };
    let (from, to) = (side(&h.from_hosting, &h.from_asn), side(&h.to_hosting, &h.to_asn));
    match to.strip_prefix("behind ") {
        Some(cdn) => format!("{} went behind {cdn}, from {from}", h.instance),
        None => format!("{} moved from {from} to {to}", h.instance),
    }
}

fn instance_sentence(i: &InstanceChange) -> String {
    match i.change.as_str() {
        "appeared" => format!(
            "{} appeared ({})",
            i.instance,
            super::plural(i.to_accounts.unwrap_or(0).max(0) as u64, "account")
        ),
        "disappeared" => format!("{} left the lists", i.instance),
        _ => format!(
            "{} became unreachable ({})",
            i.instance,
            i.failure.as_deref().unwrap_or("unknown")
        ),
    }
}

/// A signed change, with the unit after it.
fn signed(x: f64, text: String) -> String {
    if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        "±0".to_string()
    } else if x > 0.0 {
        format!("+{text}")
    } else if x < 0.0 {
        format!("−{}", text.trim_start_matches('-'))
    } else {
        "±0".to_string()
    }
}

/// The formats a diff is written in.
pub const FORMATS: &[Format] = &[Format::Text, Format::Json];

/// `d` in `format` (one of [`FORMATS`]): [`render_text`], or the [`Diff`] serialised.
///
/// # Errors
/// [`Error::Input`] for a format not in [`FORMATS`].
pub fn render(d: &Diff, format: Format) -> Result<String> {
    match format {
        Format::Text => Ok(format.safe(render_text(d), false)),
        Format::Json => Ok(format.safe(
            serde_json::to_string_pretty(d).expect("diffs serialise: string keys") + "\n",
            false,
        )),
        Format::Csv | Format::Tsv | Format::Html => Err(format.not_offered("a diff", FORMATS)),
    }
}

/// `diff` as text, fitting 80 columns.
pub fn render_text(d: &Diff) -> String {
    let mut out = format!(
        "Changes from snapshot {} to snapshot {} (weight: {}).\n",
        d.from, d.to, d.weight
    );
    let (added, removed, moved) = ["added", "removed", "moved"]
        .map(|c| d.accounts.iter().filter(|a| a.change == c).count())
        .into();
    let _ = writeln!(out, "\nAccounts: {added} added, {removed} removed, {moved} moved.");
    for a in &d.accounts {
        let mark = match a.change.as_str() {
            "added" => "+",
            "removed" => "-",
            _ => ">",
        };
        let to = a
            .moved_to
            .as_deref()
            .map(|m| format!(" moved to {m}"))
            .unwrap_or_default();
        out += &wrap(&format!("{mark} {}{to}", a.who()), "  ", "    ");
    }
    let _ = writeln!(out, "\nInstances that changed host: {}.", d.hosts.len());
    for h in &d.hosts {
        out += &wrap(&host_sentence(h), "  ", "    ");
    }
    let _ = writeln!(
        out,
        "\nInstances that appeared, left or became unreachable: {}.",
        d.instances.len()
    );
    for i in &d.instances {
        out += &wrap(&instance_sentence(i), "  ", "    ");
    }
    let _ = writeln!(out, "\nMetrics (weight: {}), then → now:", d.weight);
    for m in &d.metrics {
        out += &metric_line(m);
    }
    out
}

fn metric_line(m: &MetricChange) -> String {
    let (a, b) = (&m.from, &m.to);
    let pct = |x: f64| format!("{:.1}", x * 100.0);
    let (ha, hb) = (a.hhi.round(), b.hhi.round());
    format!(
        "  {:<12} top-3 {}→{} % ({})  k50 {}→{}  k75 {}→{}  HHI {ha}→{hb} ({})\n",
        m.level.as_str(),
        pct(a.top3),
        pct(b.top3),
        signed(m.change.top3, pct(m.change.top3)),
        a.k50,
        b.k50,
        a.k75,
        b.k75,
        signed(hb - ha, amount(hb - ha)),
    )
}
