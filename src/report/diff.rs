//! `whohosts diff A B`: what changed between two snapshots — follow lists whose status
//! changed first ([`super::diff_lists`]), then accounts added, gone (with why, when the crawl
//! learnt it), no longer visible and moved ([`super::diff_accounts`]); instances that changed AS, organisation or CDN; instances that appeared, vanished or
//! became unreachable; and the change of each metric per level under one weight.
//!
//! The rows come from the shipped comparing queries (`queries/account-changes.sql`,
//! `host-changes.sql`, `instance-changes.sql`: one implementation, the same answers as
//! `whohosts query`), read from the query's table as records, the metrics from each
//! snapshot's stored metrics.

use std::fmt::Write as _;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::diff_accounts::{self as words, OptedOutCount};
use super::diff_lists::{self, ListChange};
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
    /// `added`, `gone` (no longer listed by a list still read whole), `no-longer-visible`
    /// (every list that listed it can no longer be read whole) or `moved` (still listed, now
    /// says it moved).
    pub change: String,
    pub instance: Option<String>,
    pub moved_to: Option<String>,
    /// Why a `no-longer-visible` account left the view ("the following list of @x became
    /// hidden").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
    /// Why a `gone` account left, as the crawl learnt by fetching it once: `moved`,
    /// `deleted`, `suspended`, `unfollowed` or `unknown`; absent when it was not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
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
    /// Why the two snapshots are not like for like (crawls of different seeds), one sentence;
    /// absent when `from` is of `to`'s series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_like_for_like: Option<String>,
    /// Follow lists whose status changed (reported first: they explain what left the view).
    pub lists: Vec<ListChange>,
    /// Accounts by name (never one that opted out of crawlers).
    pub accounts: Vec<AccountChange>,
    /// Accounts that opted out of crawlers, only counted.
    pub opted_out: Vec<OptedOutCount>,
    /// Every account row, opted-out ones included, for the counts (never written out).
    #[serde(skip)]
    pub counted: Vec<AccountChange>,
    pub hosts: Vec<HostChange>,
    pub instances: Vec<InstanceChange>,
    pub metrics: Vec<MetricChange>,
}

/// `account-changes` with each opted-out account under its hash, to be counted (never shown).
const HASHED: &[(&str, &str)] = &[("opted_out", "hashed")];

/// The rows of shipped query `name` between `from` and `to`, given `more` parameters, as `T`.
pub(super) fn rows<T: DeserializeOwned>(
    store: &Store,
    name: &str,
    from: i64,
    to: i64,
    more: &[(&str, &str)],
) -> Result<Vec<T>> {
    let q = query::find(name)?;
    let mut given = vec![
        ("from".to_string(), from.to_string()),
        ("to".to_string(), to.to_string()),
    ];
    given.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    // A pair the comparison refuses (failed, of two kinds) is `diff`'s usage error, worded as
    // `diff` was asked, not as the query it runs.
    let table = query::run(store.connection(), name, q.sql, &given).map_err(|e| match e {
        Error::QueryUsage { message, .. } => {
            let message = ["from: ", "to: "]
                .iter()
                .find_map(|p| message.strip_prefix(p))
                .unwrap_or(&message);
            Error::Usage(format!("diff {from} {to}: {message}"))
        }
        e => e,
    })?;
    table.records().map_err(|e| Error::Query {
        name: name.into(),
        message: format!("unexpected columns: {e}"),
    })
}

pub(super) fn delta(a: &Concentration, b: &Concentration) -> Delta {
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
        let not_like_for_like = match store.series(to)?.iter().any(|s| s.id == from) {
            true => None,
            false => Some(format!(
                "Not like for like: snapshots {from} and {to} are crawls of different seeds ({}), so \
                 the accounts of a seed crawled in only one of them count as added or gone.",
                super::trend::seed_change(store, from, to)?
            )),
        };
        let (lists, accounts) = accounts(store, from, to)?;
        let counted = accounts.clone();
        let (accounts, opted_out) = words::split(accounts);
        Ok(Diff {
            schema_version: super::SCHEMA_VERSION,
            from,
            to,
            weight,
            not_like_for_like,
            lists,
            accounts,
            opted_out,
            counted,
            hosts: rows(store, "host-changes", from, to, &[])?,
            instances: rows(store, "instance-changes", from, to, &[])?,
            metrics,
        })
    }

    /// The changes in plain words, one sentence each and each fact once, with what each is
    /// about: list status changes (with the accounts each hid), other accounts no longer
    /// visible and the count of accounts added and gone first ([`Topic::Summary`]), then
    /// hosts, instances, accounts still listed that say they moved, and the count of
    /// opted-out accounts still listed that say they moved (summary too).
    pub fn topical_sentences(&self) -> Vec<(Topic, String)> {
        let summary = |s: String| (Topic::Summary, s);
        // Each fact once: a list change carries the accounts it hid ("the following list of
        // @x became hidden: 12 accounts no longer visible"); the other accounts no longer
        // visible follow in one sentence.
        let mut unseen: Vec<AccountChange> = self
            .counted
            .iter()
            .filter(|a| a.change == "no-longer-visible")
            .cloned()
            .collect();
        let mut out: Vec<(Topic, String)> = vec![];
        for l in &self.lists {
            let why = l.sentence();
            let hid = unseen.iter().filter(|a| a.because.as_deref() == Some(&why)).count();
            unseen.retain(|a| a.because.as_deref() != Some(&why));
            out.push(summary(match hid {
                0 => why,
                n => format!("{why}: {} no longer visible", super::plural(n as u64, "account")),
            }));
        }
        out.extend(words::unseen_sentence(&unseen).map(summary));
        let added = self.counted.iter().filter(|a| a.change == "added").count() as u64;
        match (added, words::gone_sentence(&self.counted)) {
            (0, None) => {}
            (0, Some(g)) => out.push(summary(g)),
            (n, None) => out.push(summary(format!("{} added", super::plural(n, "account")))),
            (n, Some(g)) => out.push(summary(format!("{} added, {g}", super::plural(n, "account")))),
        }
        for h in &self.hosts {
            out.push((Topic::Instance("changed host"), host_sentence(h)));
        }
        for i in &self.instances {
            let what = match i.change.as_str() {
                "appeared" => "appeared",
                "disappeared" => "left the lists",
                _ => "became unreachable",
            };
            out.push((Topic::Instance(what), instance_sentence(i)));
        }
        for a in self.accounts.iter().filter(|a| a.change == "moved") {
            out.push((
                Topic::Accounts(1, "still listed but marked moved"),
                words::still_listed_sentence(a),
            ));
        }
        // Opted-out accounts added, gone or no longer visible are in the counts above already;
        // those still listed but marked moved are not.
        out.extend(
            self.opted_out
                .iter()
                .filter(|c| c.change == "moved")
                .map(|c| summary(words::opted_out_sentence(c))),
        );
        out
    }

    /// [`Diff::topical_sentences`] without their topics.
    pub fn sentences(&self) -> Vec<String> {
        self.topical_sentences().into_iter().map(|(_, s)| s).collect()
    }
}

/// What a sentence of a diff is about, so that a shortened list of them can still count
/// every change it leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// List status changes, accounts no longer visible, accounts added and gone, opted-out
    /// accounts (only ever counted): always kept.
    Summary,
    /// One instance, and what happened to it ("changed host", "appeared" …).
    Instance(&'static str),
    /// This many accounts, and what they did.
    Accounts(u64, &'static str),
}

/// The list status changes and the account rows of `from` → `to`: accounts that left are
/// `no-longer-visible` when no list that listed them is still read whole, else `gone`.
fn accounts(store: &Store, from: i64, to: i64) -> Result<(Vec<ListChange>, Vec<AccountChange>)> {
    let mut rows: Vec<AccountChange> = rows(store, "account-changes", from, to, HASHED)?;
    let left = rows
        .iter()
        .filter(|r| r.change == "removed")
        .map(|r| r.account.clone())
        .collect();
    let seen = diff_lists::compare(&store.load(from)?, &store.load(to)?, &left);
    // Why each account left, as learned by the snapshots after `from` up to `to` in `to`'s
    // series (`diff 1 4` reads what 2, 3 and 4 learned; a later cause overrides an earlier).
    let series = store.series(to)?;
    let mut causes = std::collections::BTreeMap::<String, crate::model::snapshot::Departure>::new();
    for s in series.iter().filter(|s| s.id > from) {
        causes.extend(store.departures(s.id)?.into_iter().map(|d| (d.account.clone(), d)));
    }
    for r in rows.iter_mut().filter(|r| r.change == "removed") {
        match seen.unseen.get(&r.account) {
            Some(why) => {
                r.change = "no-longer-visible".into();
                r.because = Some(why.clone());
            }
            None => {
                r.change = "gone".into();
                if let Some(d) = causes.get(&r.account) {
                    r.cause = Some(d.cause.clone());
                    r.moved_to = d.moved_to.clone();
                }
            }
        }
    }
    // An account that a snapshot in between saw still listed but marked moved, then left with
    // no cause learnt (not checked, or a check that failed), left because it moved: to where
    // the last of those snapshots saw it go (`diff 1 4` says what `diff 3 4` says of it).
    let unexplained = |r: &AccountChange| r.change == "gone" && r.cause.as_deref().is_none_or(|c| c == "unknown");
    if rows.iter().any(unexplained) {
        let mut moves = std::collections::BTreeMap::<String, Option<String>>::new();
        for s in series.iter().filter(|s| s.id > from && s.id < to) {
            let seen: Vec<AccountChange> = self::rows(store, "account-changes", from, s.id, HASHED)?;
            moves.extend(
                seen.into_iter()
                    .filter(|m| m.change == "moved")
                    .map(|m| (m.account, m.moved_to)),
            );
        }
        for r in rows.iter_mut().filter(|r| unexplained(r)) {
            if let Some(to) = moves.get(&r.account) {
                r.cause = Some("moved".into());
                r.moved_to = to.clone();
            }
        }
    }
    // A move is one change: the new account is not also "added".
    let targets: std::collections::BTreeSet<String> = rows
        .iter()
        .filter(|r| r.change == "gone" && r.cause.as_deref() == Some("moved"))
        .filter_map(|r| r.moved_to.clone())
        .collect();
    rows.retain(|r| !(r.change == "added" && targets.contains(&r.account)));
    Ok((seen.changes, rows))
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
    if let Some(why) = &d.not_like_for_like {
        out += &wrap(why, "", "  ");
    }
    if !d.lists.is_empty() {
        let _ = writeln!(out, "\nLists whose status changed: {}.", d.lists.len());
        for l in &d.lists {
            out += &wrap(
                &format!("{} {}: {} → {}", l.seed, l.direction, l.from, l.to),
                "  ",
                "    ",
            );
        }
    }
    out += "\n";
    out += &wrap(
        &format!("Accounts that changed: {}.", words::headline(&d.counted)),
        "",
        "  ",
    );
    for a in &d.accounts {
        out += &wrap(&words::line(a), "  ", "    ");
    }
    for c in &d.opted_out {
        out += &wrap(&format!("{}.", words::opted_out_sentence(c)), "  ", "    ");
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
    figures_line(m.level.as_str(), &m.from, &m.to)
}

/// One level's figures then → now, as `diff` prints them (follows and contacts alike). Each
/// change is that of the figures shown, as rounded ("54.3→53.8 % (−0.5)"), so the line adds
/// up; a level with nothing to attribute in either snapshot is not rated.
pub(super) fn figures_line(level: &str, a: &Concentration, b: &Concentration) -> String {
    if a.buckets == 0 || b.buckets == 0 {
        let side = |c: &Concentration| match c.buckets {
            0 => "not rated".to_string(),
            _ => format!("top-3 {:.1} %, HHI {}", c.top3 * 100.0, c.hhi.round()),
        };
        return format!("  {:<12} {} → {} (nothing to attribute)\n", level, side(a), side(b));
    }
    // Tenths of a point, as shown.
    let tenths = |x: f64| (x * 1000.0).round();
    let pct = |t: f64| format!("{:.1}", t / 10.0);
    let (ta, tb) = (tenths(a.top3), tenths(b.top3));
    let (ha, hb) = (a.hhi.round(), b.hhi.round());
    format!(
        "  {:<12} top-3 {}→{} % ({})  k50 {}→{}  k75 {}→{}  HHI {ha}→{hb} ({})\n",
        level,
        pct(ta),
        pct(tb),
        signed(tb - ta, pct(tb - ta)),
        a.k50,
        b.k50,
        a.k75,
        b.k75,
        signed(hb - ha, amount(hb - ha)),
    )
}
