//! The instance-list report (`whohosts instances`): the same levels and figures as the
//! follows report, weighted by NodeInfo `users`, `active` users (`activeMonth`) and
//! `instances` (each once), the method of Raman et al. (IMC 2019) and Polinski et al. (CCR
//! 2024). The buckets come from [`crate::metrics::by_host`], the one implementation of the
//! metrics; counts NodeInfo did not give, or gave implausibly, are counted apart, in
//! instances.
//!
//! The report is built from the store in two passes over the survey's instances, each read
//! one at a time ([`crate::store::Store::survey_instances`]): the population, the software
//! table, the failures and what is counted apart in the list's order, then every level's
//! buckets summed by host ([`LevelSums`], in the order of the hosts' names, so the figures are
//! the same to the last bit as [`crate::metrics::by_host`]'s). What is held is a sum per
//! bucket (the level `instance` has one per instance), the failures and the implausible
//! counts. The instances the JSON report lists are read from the store again, one at a time,
//! as it is serialised ([`Rows`]) and written out ([`write`]), never held whole.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Serialize, Serializer};

use super::svg::escape;
use super::text::{amount, cut, hhi, percent, wrap};
use crate::error::{Error, Result};
use crate::instances::{BadEntry, Instance, Survey};
use crate::metrics::{Level, LevelMetrics, LevelSums, Weight};
use crate::model::attribution::AttributionSource;
use crate::model::format::Format;
use crate::store::instances::Order;
use crate::store::Store;

/// The formats the instance-list report is written in.
pub const FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Csv, Format::Html];

/// The weights of an instance list, in the order shown.
pub const WEIGHTS: [Weight; 3] = crate::store::instances::WEIGHTS;

/// Levels shown in text and HTML (JSON and CSV carry every level).
const TEXT_LEVELS: [Level; 3] = [Level::As, Level::Organisation, Level::Instance];

/// Counted apart: an implausible count; no count.
pub const IMPLAUSIBLE: &str = "implausible count";
pub const NO_USER_COUNT: &str = "no user count";

/// What the report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Only instances running this software (NodeInfo `software.name`, any case).
    pub software: Option<String>,
}

/// Who was counted, and what could not be.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Population {
    /// Distinct instances in the list.
    pub listed: usize,
    pub duplicates: usize,
    pub bad_entries: usize,
    /// Instances whose NodeInfo was read (after the software filter, if any).
    pub nodeinfo_read: usize,
    /// Instances whose NodeInfo could not be read, by failure kind (their software is unknown,
    /// so a software filter leaves them out, but they are still counted here).
    pub failed: BTreeMap<String, usize>,
    /// Instances whose counts are implausible (counted apart, not trusted).
    pub implausible: usize,
    /// Instances of other software, left out by the filter.
    pub other_software: usize,
    /// Trusted totals.
    pub users: u64,
    pub active: u64,
}

/// One software's instances and trusted counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoftwareRow {
    pub software: String,
    pub instances: usize,
    pub users: u64,
    pub active: u64,
}

/// Every level under one weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weighted {
    pub weight: Weight,
    /// "Top 3 ASes host 62.0 % of users", as the studies state it.
    pub headline: String,
    pub levels: Vec<LevelMetrics>,
}

/// The report, reading its instances from `'s`, the store it was built from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstancesReport<'s> {
    pub kind: &'static str,
    /// The stored survey it reports (every survey is stored; `None` only before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<i64>,
    /// The list surveyed, as the command named it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    pub software_filter: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub max_users: u64,
    pub population: Population,
    pub weights: Vec<Weighted>,
    /// Every software met (before the filter), most instances first.
    pub software: Vec<SoftwareRow>,
    /// The instances counted, with their NodeInfo, claims and attribution (read from the
    /// store as they are written).
    pub instances: Rows<'s>,
    /// Instances whose NodeInfo could not be read: host, kind, message.
    pub failures: Vec<(String, String, String)>,
    /// The instances counted whose counts are implausible: host, why (in the list's order).
    #[serde(skip)]
    pub implausible: Vec<(String, String)>,
    pub bad: Vec<BadEntry>,
    pub attribution: AttributionSource,
    /// The earlier surveys of the same list (the same instances and software filter), oldest
    /// first, this one last; empty for the first of its series.
    pub trend: Vec<super::survey_diff::Step>,
}

fn weight_of(i: &Instance, weight: Weight) -> std::result::Result<f64, &'static str> {
    if !i.claims.implausible.is_empty() && weight != Weight::Instances {
        return Err(IMPLAUSIBLE);
    }
    match weight {
        Weight::Users => i.claims.users.map(|u| u as f64).ok_or(NO_USER_COUNT),
        Weight::Active => i.claims.active.map(|u| u as f64).ok_or(NO_USER_COUNT),
        _ => Ok(1.0),
    }
}

/// The instances of a stored survey a report counts, as they are serialised: read from the
/// store one at a time, in the list's order, when the report is written (JSON), never held;
/// over the connection the report was built on, so a report written inside one
/// [`Store::reading`] reads everything it shows from one state of the database.
#[derive(Clone)]
pub struct Rows<'s> {
    /// The store the report was built from, and the survey.
    store: &'s Store,
    snapshot: i64,
    /// The software filter (lower case), as [`counted`] applies it.
    software: Option<String>,
}

impl std::fmt::Debug for Rows<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("db", &self.store.path())
            .field("snapshot", &self.snapshot)
            .field("software", &self.software)
            .finish()
    }
}

impl PartialEq for Rows<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.store.path(), self.snapshot, &self.software) == (other.store.path(), other.snapshot, &other.software)
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        self.store
            .survey_instances(self.snapshot, Order::List, true, |i| {
                if counted(&i, self.software.as_deref()) {
                    seq.serialize_element(&i)?;
                }
                Ok(())
            })
            .map_err(S::Error::custom)??;
        seq.end()
    }
}

/// Whether instance `i` is counted under software filter `filter`: one whose NodeInfo was
/// read, of that software; one whose NodeInfo was not read only without a filter.
fn counted(i: &Instance, filter: Option<&str>) -> bool {
    match &i.failure {
        Some(_) => filter.is_none(),
        None => filter.is_none_or(|f| i.software.as_deref() == Some(f)),
    }
}

fn headline(weight: Weight, as_level: &LevelMetrics) -> String {
    let c = &as_level.summary;
    let one = c.total == 1.0;
    // The level headings' nouns (`text::weight_nouns`), the active ones said as NodeInfo's.
    let (single, plural) = super::text::weight_nouns(weight);
    let noun = if one { single } else { plural };
    let what = match weight {
        Weight::Active => format!("{noun} (NodeInfo activeMonth)"),
        _ => noun.to_string(),
    };
    if c.total <= 0.0 {
        return format!("Weighted by {}: nothing attributed.", weight.as_str());
    }
    // "Top 3" only when there are three: fewer ASes are named as many as there are.
    let top = match c.buckets {
        1 => "The one AS hosts",
        2 => "The two ASes host",
        _ => "Top 3 ASes host",
    };
    format!(
        "{top} {} of {} {what}; {} {} half (HHI {}).",
        percent(c.top3),
        amount(c.total),
        c.k50,
        if c.k50 == 1 { "AS reaches" } else { "ASes reach" },
        hhi(c.hhi)
    )
}

impl<'s> InstancesReport<'s> {
    /// The report of survey `id` in `store` (its head `survey`, its instances read from the
    /// store) under `options`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn build(
        store: &'s Store,
        id: i64,
        survey: Survey,
        attribution: AttributionSource,
        options: &Options,
    ) -> Result<InstancesReport<'s>> {
        let filter = options.software.as_ref().map(|s| s.trim().to_ascii_lowercase());
        let mut p = Population {
            duplicates: survey.duplicates,
            bad_entries: survey.bad.len(),
            ..Population::default()
        };
        let mut software: BTreeMap<String, SoftwareRow> = BTreeMap::new();
        let mut failures = vec![];
        let mut implausible = vec![];
        // What each weight counts apart, by instance (no count, an implausible one, NodeInfo
        // not read): whole instances, so their order does not matter.
        let mut apart: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); WEIGHTS.len()];
        store
            .survey_instances(id, Order::List, false, |i| {
                p.listed += 1;
                let counts = counted(&i, filter.as_deref());
                match &i.failure {
                    Some(f) => {
                        *p.failed.entry(f.kind.clone()).or_default() += 1;
                        failures.push((i.host.clone(), f.kind.clone(), f.message.clone()));
                    }
                    None => {
                        let name = i.software.clone().unwrap_or_else(|| "unknown".into());
                        let row = software.entry(name.clone()).or_insert(SoftwareRow {
                            software: name,
                            instances: 0,
                            users: 0,
                            active: 0,
                        });
                        row.instances += 1;
                        row.users = row.users.saturating_add(i.claims.users.unwrap_or(0));
                        row.active = row.active.saturating_add(i.claims.active.unwrap_or(0));
                        if counts {
                            p.nodeinfo_read += 1;
                            p.implausible += usize::from(!i.claims.implausible.is_empty());
                            p.users = p.users.saturating_add(i.claims.users.unwrap_or(0));
                            p.active = p.active.saturating_add(i.claims.active.unwrap_or(0));
                        } else {
                            p.other_software += 1;
                        }
                    }
                }
                if !counts {
                    return Ok(());
                }
                if !i.claims.implausible.is_empty() {
                    implausible.push((i.host.clone(), i.claims.implausible.join("; ")));
                }
                for (apart, &weight) in apart.iter_mut().zip(&WEIGHTS) {
                    let why = match &i.failure {
                        Some(f) => f.kind.as_str(),
                        None => match weight_of(&i, weight) {
                            Ok(_) => continue,
                            Err(why) => why,
                        },
                    };
                    *apart.entry(why.to_string()).or_insert(0.0) += 1.0;
                }
                Ok::<(), std::convert::Infallible>(())
            })?
            .unwrap_or_else(|never| match never {});
        // Every level under every weight, each instance's weight shared between its buckets
        // one instance at a time, by host.
        let policy = attribution.address_policy;
        let mut sums: Vec<Vec<LevelSums>> = WEIGHTS
            .iter()
            .zip(apart)
            .map(|(&weight, apart)| {
                Level::ALL
                    .iter()
                    .map(|&level| LevelSums::new(level, weight, apart.clone()))
                    .collect()
            })
            .collect();
        store
            .survey_instances(id, Order::Host, true, |i| {
                if i.failure.is_some() || !counted(&i, filter.as_deref()) {
                    return Ok(());
                }
                for (levels, &weight) in sums.iter_mut().zip(&WEIGHTS) {
                    if let Ok(x) = weight_of(&i, weight) {
                        for level in levels.iter_mut() {
                            level.add(i.attribution.as_ref(), policy, &i.host, x);
                        }
                    }
                }
                Ok::<(), std::convert::Infallible>(())
            })?
            .unwrap_or_else(|never| match never {});
        let weights = WEIGHTS
            .iter()
            .zip(sums)
            .map(|(&weight, levels)| {
                let levels: Vec<LevelMetrics> = levels.into_iter().map(LevelSums::finish).collect();
                let as_level = levels.iter().find(|l| l.level == Level::As).expect("Level::ALL has As");
                Weighted {
                    weight,
                    headline: headline(weight, as_level),
                    levels,
                }
            })
            .collect();
        let mut software: Vec<SoftwareRow> = software.into_values().collect();
        software.sort_by(|a, b| b.instances.cmp(&a.instances).then(b.users.cmp(&a.users)));
        Ok(InstancesReport {
            kind: "instances",
            snapshot: None,
            list: None,
            trend: vec![],
            instances: Rows {
                store,
                snapshot: id,
                software: filter.clone(),
            },
            software_filter: filter,
            started_at: survey.started_at,
            finished_at: survey.finished_at,
            max_users: survey.max_users,
            population: p,
            weights,
            software,
            failures,
            implausible,
            bad: survey.bad,
            attribution,
        })
    }

    /// The report of stored survey `id`, as the command printed it (the software filter it
    /// was run with), with the trend of its series.
    ///
    /// # Errors
    /// [`crate::error::Error::Store`] when it is no complete survey; SQLite and query errors.
    pub fn stored(store: &'s Store, id: i64) -> Result<InstancesReport<'s>> {
        let (survey, source) = store.survey(id)?;
        let mut r = InstancesReport::of_stored(store, id, survey, source)?;
        r.trend = super::survey_diff::steps(store, id)?;
        Ok(r)
    }

    /// The report of survey `id` stored as failed (no instance answered): what it saw, each
    /// instance and why it failed, with no trend (a failed survey is in no series).
    ///
    /// # Errors
    /// [`crate::error::Error::Store`] when there is no such snapshot; SQLite errors.
    pub fn failed(store: &'s Store, id: i64) -> Result<InstancesReport<'s>> {
        let (survey, source) = store.survey_so_far(id)?;
        InstancesReport::of_stored(store, id, survey, source)
    }

    /// The report of stored survey `id` read as `survey`, under the software filter it was
    /// run with.
    fn of_stored(store: &'s Store, id: i64, survey: Survey, source: AttributionSource) -> Result<InstancesReport<'s>> {
        let request = store.request(id)?;
        let options = Options {
            software: request["software"].as_str().map(str::to_string),
        };
        let mut r = InstancesReport::build(store, id, survey, source, &options)?;
        r.snapshot = Some(id);
        r.list = request["list"].as_str().map(str::to_string);
        Ok(r)
    }

    /// Who was counted, as the named figures the store keeps (`listed`, `nodeinfo_read`,
    /// `failed`, `implausible`, `users` …).
    pub fn figures(&self) -> Vec<(String, f64)> {
        let p = &self.population;
        [
            ("listed", p.listed as f64),
            ("duplicates", p.duplicates as f64),
            ("bad_entries", p.bad_entries as f64),
            ("nodeinfo_read", p.nodeinfo_read as f64),
            ("failed", p.failed.values().sum::<usize>() as f64),
            ("implausible", p.implausible as f64),
            ("other_software", p.other_software as f64),
            ("users", p.users as f64),
            ("active", p.active as f64),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The levels of `weight`.
    pub fn get(&self, weight: Weight, level: Level) -> Option<&LevelMetrics> {
        self.weights
            .iter()
            .find(|w| w.weight == weight)?
            .levels
            .iter()
            .find(|l| l.level == level)
    }
}

/// Write `report` in `format` (one of [`FORMATS`]) to `out`, `top` rows per table (0: all),
/// safe for a terminal as [`Format::safe`] makes every answer. JSON is written as it is
/// serialised, its instances read from the store one at a time ([`Rows`]), never held whole;
/// the other formats, the size of the buckets and not of the instances' rows, are rendered
/// first. The outer error is the report's, the inner one the writing's.
///
/// # Errors
/// [`crate::error::Error::Input`] for a format not offered; store errors.
pub fn write(
    report: &InstancesReport,
    format: Format,
    top: usize,
    out: &mut dyn std::io::Write,
) -> Result<std::io::Result<()>> {
    use std::io::Write as _;
    let top = if top == 0 { usize::MAX } else { top };
    let rendered = match format {
        Format::Json => {
            let mut w = crate::model::text::JsonWriter::new(std::io::BufWriter::new(out));
            return match serde_json::to_writer_pretty(&mut w, report) {
                Ok(()) => Ok(w.write_all(b"\n").and_then(|()| w.flush())),
                Err(e) if e.is_io() => Ok(Err(e.into())),
                // Not the writing's: the store's, reading the instances (keys are strings and
                // numbers finite otherwise).
                Err(e) => Err(Error::Store(format!("survey instances: {e}"))),
            };
        }
        Format::Text => text(report, top),
        Format::Csv => csv(report),
        Format::Html => html(report, top),
        _ => return Err(format.not_offered("an instance-list report", FORMATS)),
    };
    Ok(out.write_all(format.safe(rendered, false).as_bytes()))
}

/// What the instance list counts apart: an instance whose NodeInfo was not read (by failure
/// kind), or whose count is missing or implausible, counts once, under every weight; only what
/// attribution could not place (no AS, unresolved …) is an amount of the weight.
fn counts_instances(weight: Weight, reason: &str) -> bool {
    weight == Weight::Instances || !crate::metrics::apart_by_attribution(reason)
}

/// What a weight of an instance list counts, in words.
fn weight_about(w: Weight) -> &'static str {
    match w {
        Weight::Users => "the users each instance declares (NodeInfo usage.users.total)",
        Weight::Active => {
            "the users each instance declares active in the last month (NodeInfo usage.users.activeMonth)"
        }
        _ => "instances whose NodeInfo was read, each once",
    }
}

/// When `--software` matched no instance whose NodeInfo was read (a typo, another name):
/// one sentence naming the software that was read, most instances first.
pub fn unmatched_filter(r: &InstancesReport) -> Option<String> {
    let s = r.software_filter.as_ref()?;
    if r.population.nodeinfo_read > 0 || r.population.other_software == 0 {
        return None;
    }
    let seen: Vec<String> = r
        .software
        .iter()
        .take(5)
        .map(|row| format!("{} ({})", row.software, row.instances))
        .collect();
    let more = if r.software.len() > 5 { ", …" } else { "" };
    Some(format!(
        "No instance read runs {s}: --software takes NodeInfo's software.name, and this list's are {}{more}.",
        seen.join(", ")
    ))
}

/// Who was listed and read, the software filter and the implausible counts: the report's
/// opening sentences, in text and HTML alike.
fn summary(r: &InstancesReport) -> Vec<String> {
    let p = &r.population;
    let failed: usize = p.failed.values().sum();
    let kinds: Vec<String> = p.failed.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let mut lines = vec![format!(
        "Instance list: {} ({}, {}); NodeInfo read from {}, failed for {failed}{}.",
        super::plural(p.listed as u64, "instance"),
        super::plural(p.duplicates as u64, "duplicate"),
        super::plural(p.bad_entries as u64, "bad entry"),
        p.nodeinfo_read,
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    )];
    if let Some(s) = &r.software_filter {
        lines.push(format!(
            "Software: {s} only ({} of other software left out).",
            super::plural(p.other_software as u64, "instance")
        ));
    }
    lines.extend(unmatched_filter(r));
    lines.push(format!(
        "Implausible counts: {} instances (counted apart, not trusted; ceiling instances.max_users = {}).",
        p.implausible, r.max_users
    ));
    lines
}

/// Where the attribution data came from, one sentence (none without a database).
fn attribution_line(r: &InstancesReport) -> Option<String> {
    r.attribution.database.as_ref().map(|db| {
        format!(
            "Attribution: {} ({}, dated {}), licence: {}",
            db.file, db.format, db.date, db.licence
        )
    })
}

/// One host's line of a text list ("  host  why"), the host [`cut`] to
/// [`super::text::NAME_MAX`] and `why` wrapped under it, within [`super::text::WIDTH`].
fn host_line(host: &str, why: &str) -> String {
    wrap(why, &format!("  {}  ", cut(host, super::text::NAME_MAX)), "      ")
}

/// The text report: sentences wrapped, names cut, every line within [`super::text::WIDTH`]
/// columns.
fn text(r: &InstancesReport, top: usize) -> String {
    let mut out = String::new();
    for line in summary(r) {
        out += &wrap(&line, "", "  ");
    }
    for w in &r.weights {
        out += &wrap(&w.headline, "", "  ");
    }
    let _ = writeln!(out, "\nSoftware (instances, users, active accounts)");
    for s in r.software.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:<20} {:>7} {:>10} {:>10}",
            cut(&s.software, 20),
            s.instances,
            s.users,
            s.active
        );
    }
    for w in &r.weights {
        out.push('\n');
        out += &wrap(
            &format!("Weighted by {}: {}", w.weight.as_str(), weight_about(w.weight)),
            "",
            "  ",
        );
        for level in TEXT_LEVELS {
            if let Some(l) = r.get(w.weight, level) {
                out += "\n";
                out += &super::text::plain_level(l, top, counts_instances);
            }
        }
    }
    if !r.failures.is_empty() {
        let _ = writeln!(out, "\nNodeInfo not read ({})", r.failures.len());
        for (host, kind, message) in r.failures.iter().take(top) {
            out += &host_line(host, &format!("{kind}: {message}"));
        }
        if r.failures.len() > top {
            let _ = writeln!(out, "  … {} more (--top 0 lists all)", r.failures.len() - top);
        }
    }
    let odd = &r.implausible;
    if !odd.is_empty() {
        let _ = writeln!(out, "\nImplausible counts ({})", odd.len());
        for (host, why) in odd.iter().take(top) {
            out += &host_line(host, why);
        }
    }
    if let Some(line) = attribution_line(r) {
        out.push('\n');
        out += &wrap(&line, "", "  ");
    }
    out += &trend_text(r);
    out
}

/// Which survey, and the trend of its series: one line per survey, the changes since the one
/// before under it.
fn trend_text(r: &InstancesReport) -> String {
    let Some(id) = r.snapshot else { return String::new() };
    let mut out = "\n".to_string();
    out += &wrap(
        &format!(
            "Survey {id} (list: {}), measured {}.",
            cut(r.list.as_deref().unwrap_or("?"), super::text::NAME_MAX),
            r.finished_at
        ),
        "",
        "  ",
    );
    if r.trend.is_empty() {
        return out;
    }
    out += &wrap(
        &format!(
            "Trend by AS, weighted by users, over {} surveys of this list (in brackets: the top-3 \
             weighted by instances):",
            r.trend.len()
        ),
        "",
        "  ",
    );
    for s in &r.trend {
        let date = crate::model::time::date(&s.finished_at);
        if s.rated {
            let _ = writeln!(
                out,
                "  {:>4}  {date}  {} users  top-3 {}  k50 {}  HHI {}  ({})",
                s.snapshot,
                amount(s.users),
                percent(s.top3),
                s.k50,
                hhi(s.hhi),
                percent(s.instances_top3)
            );
        } else {
            let _ = writeln!(
                out,
                "  {:>4}  {date}  {} users  nothing to attribute: not rated",
                s.snapshot,
                amount(s.users)
            );
        }
        if let Some(c) = &s.changes {
            let _ = writeln!(out, "        {c}");
        }
    }
    out
}

/// The HTML report: one self-contained page in the style of the follows report (no script,
/// nothing fetched): the opening sentences and headlines, the glossary, per weight the levels
/// of the text report (chart, table, figures), the software table, the instances whose
/// NodeInfo was not read or whose counts are implausible, and the data's credits.
fn html(r: &InstancesReport, top: usize) -> String {
    let mut out = String::new();
    for line in summary(r) {
        let _ = writeln!(out, "<p>{}</p>", escape(&line));
    }
    out += "<ul class=\"headline\" id=\"headline\">\n";
    for w in &r.weights {
        let _ = writeln!(out, "<li>{}</li>", escape(&w.headline));
    }
    out += "</ul>\n";
    out += super::html::GLOSSARY;
    for w in &r.weights {
        let name = w.weight.as_str();
        let _ = writeln!(
            out,
            "<section id=\"weight-{name}\">\n<h2>Weighted by {name}</h2>\n<p class=\"muted\">{}</p>\n</section>",
            escape(weight_about(w.weight))
        );
        for level in TEXT_LEVELS {
            if let Some(l) = r.get(w.weight, level) {
                out += &super::html::level(l, top, &format!("{name}-{}", level.as_str()), counts_instances);
            }
        }
    }
    out += "<section id=\"software\">\n<h2>Software</h2>\n<table>\n<thead><tr><th>software</th>\
            <th class=\"n\">instances</th><th class=\"n\">users</th><th class=\"n\">active accounts</th></tr></thead>\n<tbody>\n";
    for s in r.software.iter().take(top) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&s.software),
            s.instances,
            s.users,
            s.active
        );
    }
    out += "</tbody>\n</table>\n</section>\n";
    if !r.failures.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"failures\">\n<h2>NodeInfo not read ({})</h2>\n<table>\n<thead><tr><th>instance</th>\
             <th>kind</th><th>message</th></tr></thead>\n<tbody>",
            r.failures.len()
        );
        for (host, kind, message) in r.failures.iter().take(top) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(host),
                escape(kind),
                escape(message)
            );
        }
        out += "</tbody>\n</table>\n";
        if r.failures.len() > top {
            let _ = writeln!(out, "<p class=\"muted\">… {} more</p>", r.failures.len() - top);
        }
        out += "</section>\n";
    }
    let odd = &r.implausible;
    if !odd.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"implausible\">\n<h2>Implausible counts ({})</h2>\n<ul>",
            odd.len()
        );
        for (host, why) in odd.iter().take(top) {
            let _ = writeln!(out, "<li>{}: {}</li>", escape(host), escape(why));
        }
        out += "</ul>\n</section>\n";
    }
    if !r.trend.is_empty() {
        out += "<section id=\"trend\">\n<h2>Trend of this list</h2>\n<table>\n<thead><tr><th>survey</th>\
                <th>measured</th><th class=\"n\">users</th><th class=\"n\">top 3 (users, AS)</th><th class=\"n\">k50</th>\
                <th class=\"n\">HHI</th><th class=\"n\">top 3 (instances, AS)</th><th>changes</th></tr></thead>\n<tbody>\n";
        for s in &r.trend {
            if !s.rated {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
                     <td class=\"n\" colspan=\"4\">nothing to attribute: not rated</td><td>{}</td></tr>",
                    s.snapshot,
                    escape(&s.finished_at),
                    amount(s.users),
                    escape(s.changes.as_deref().unwrap_or(""))
                );
                continue;
            }
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                s.snapshot,
                escape(&s.finished_at),
                amount(s.users),
                percent(s.top3),
                s.k50,
                hhi(s.hhi),
                percent(s.instances_top3),
                escape(s.changes.as_deref().unwrap_or(""))
            );
        }
        out += "</tbody>\n</table>\n</section>\n";
    }
    out += "<section id=\"credits\">\n<h2>Data</h2>\n";
    if let Some(line) = attribution_line(r) {
        let _ = writeln!(out, "<p>{}</p>", escape(&line));
    }
    let _ = writeln!(
        out,
        "<p class=\"muted\">Made by whohosts {} from a survey run {} to {}.</p>\n</section>",
        env!("CARGO_PKG_VERSION"),
        escape(&r.started_at),
        escape(&r.finished_at)
    );
    super::html::page("who hosts a list of instances", "Who hosts these instances", &out)
}

/// The CSV report: the columns of every CSV report ([`super::csv::COLUMNS`]), one row per
/// (level, weight, bucket), every bucket, shares exact; text cells neutralised as there.
fn csv(r: &InstancesReport) -> String {
    use super::csv::COLUMNS;
    use crate::model::text::spreadsheet;
    let mut w = ::csv::Writer::from_writer(vec![]);
    let _ = w.write_record(COLUMNS);
    let id = r.snapshot.map(|id| id.to_string()).unwrap_or_default();
    for weighted in &r.weights {
        for l in &weighted.levels {
            for (n, b) in l.buckets.iter().enumerate() {
                let _ = w.write_record([
                    id.clone(),
                    l.level.to_string(),
                    weighted.weight.as_str().to_string(),
                    (n + 1).to_string(),
                    spreadsheet(&b.key).into_owned(),
                    spreadsheet(&b.label).into_owned(),
                    b.weight.to_string(),
                    b.share.to_string(),
                ]);
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
