//! The instance-list report (`whohosts instances`): the same levels and figures as the
//! follows report, weighted by NodeInfo `users`, `active` users (`activeMonth`) and
//! `instances` (each once), the method of Raman et al. (IMC 2019) and Polinski et al. (CCR
//! 2024). The buckets come from [`crate::metrics::by_host`], the one implementation of the
//! metrics; counts NodeInfo did not give, or gave implausibly, are counted apart, in
//! instances.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::svg::escape;
use super::text::{amount, hhi, percent};
use crate::instances::{BadEntry, Instance, Survey};
use crate::metrics::{by_host, Attributed, Level, LevelMetrics, Weight};
use crate::model::attribution::{AttributionSource, HostAttribution};
use crate::model::format::Format;

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

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstancesReport {
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
    /// The instances counted, with their NodeInfo, claims and attribution.
    pub instances: Vec<Instance>,
    /// Instances whose NodeInfo could not be read: host, kind, message.
    pub failures: Vec<(String, String, String)>,
    pub bad: Vec<BadEntry>,
    pub attribution: AttributionSource,
    /// The earlier surveys of the same list (the same instances and software filter), oldest
    /// first, this one last; empty for the first of its series.
    pub trend: Vec<super::survey_diff::Step>,
}

fn weight_of(i: &Instance, weight: Weight) -> Result<f64, &'static str> {
    if !i.claims.implausible.is_empty() && weight != Weight::Instances {
        return Err(IMPLAUSIBLE);
    }
    match weight {
        Weight::Users => i.claims.users.map(|u| u as f64).ok_or(NO_USER_COUNT),
        Weight::Active => i.claims.active.map(|u| u as f64).ok_or(NO_USER_COUNT),
        _ => Ok(1.0),
    }
}

fn software_table(s: &Survey) -> Vec<SoftwareRow> {
    let mut by: BTreeMap<String, SoftwareRow> = BTreeMap::new();
    for i in s.instances.iter().filter(|i| i.failure.is_none()) {
        let name = i.software.clone().unwrap_or_else(|| "unknown".into());
        let row = by.entry(name.clone()).or_insert(SoftwareRow {
            software: name,
            instances: 0,
            users: 0,
            active: 0,
        });
        row.instances += 1;
        row.users += i.claims.users.unwrap_or(0);
        row.active += i.claims.active.unwrap_or(0);
    }
    let mut rows: Vec<SoftwareRow> = by.into_values().collect();
    rows.sort_by(|a, b| b.instances.cmp(&a.instances).then(b.users.cmp(&a.users)));
    rows
}

fn headline(weight: Weight, as_level: &LevelMetrics) -> String {
    let c = &as_level.summary;
    let what = match weight {
        Weight::Users => "users",
        Weight::Active => "active users (NodeInfo activeMonth)",
        _ => "instances",
    };
    if c.total <= 0.0 {
        return format!("Weighted by {}: nothing attributed.", weight.as_str());
    }
    format!(
        "Top 3 ASes host {} of {} {what}; {} {} half (HHI {}).",
        percent(c.top3),
        amount(c.total),
        c.k50,
        if c.k50 == 1 { "AS reaches" } else { "ASes reach" },
        hhi(c.hhi)
    )
}

impl InstancesReport {
    /// The report of `survey` under `options`.
    pub fn build(survey: Survey, attribution: AttributionSource, options: &Options) -> InstancesReport {
        let filter = options.software.as_ref().map(|s| s.trim().to_ascii_lowercase());
        let software = software_table(&survey);
        let mut p = Population {
            listed: survey.instances.len(),
            duplicates: survey.duplicates,
            bad_entries: survey.bad.len(),
            ..Population::default()
        };
        let mut counted = vec![];
        let mut failures = vec![];
        for i in survey.instances {
            if let Some(f) = &i.failure {
                *p.failed.entry(f.kind.clone()).or_default() += 1;
                failures.push((i.host.clone(), f.kind.clone(), f.message.clone()));
                if filter.is_none() {
                    counted.push(i);
                }
                continue;
            }
            if filter.as_ref().is_some_and(|f| i.software.as_ref() != Some(f)) {
                p.other_software += 1;
                continue;
            }
            p.nodeinfo_read += 1;
            p.implausible += usize::from(!i.claims.implausible.is_empty());
            p.users += i.claims.users.unwrap_or(0);
            p.active += i.claims.active.unwrap_or(0);
            counted.push(i);
        }
        let hosts: BTreeMap<String, HostAttribution> = counted
            .iter()
            .filter_map(|i| i.attribution.clone().map(|a| (i.host.clone(), a)))
            .collect();
        let attributed = Attributed {
            hosts: &hosts,
            policy: attribution.address_policy,
        };
        let weights = WEIGHTS
            .iter()
            .map(|&weight| {
                let (mut w, mut apart) = (BTreeMap::new(), BTreeMap::new());
                for i in &counted {
                    let slot = match &i.failure {
                        Some(f) => Err(f.kind.as_str()),
                        None => weight_of(i, weight),
                    };
                    match slot {
                        Ok(x) => *w.entry(i.host.clone()).or_insert(0.0) += x,
                        Err(why) => *apart.entry(why.to_string()).or_insert(0.0) += 1.0,
                    }
                }
                let levels: Vec<LevelMetrics> = Level::ALL
                    .iter()
                    .map(|&l| by_host(&attributed, l, weight, &w, &apart))
                    .collect();
                let as_level = levels.iter().find(|l| l.level == Level::As).expect("Level::ALL has As");
                Weighted {
                    weight,
                    headline: headline(weight, as_level),
                    levels,
                }
            })
            .collect();
        InstancesReport {
            kind: "instances",
            snapshot: None,
            list: None,
            trend: vec![],
            software_filter: filter,
            started_at: survey.started_at,
            finished_at: survey.finished_at,
            max_users: survey.max_users,
            population: p,
            weights,
            software,
            instances: counted,
            failures,
            bad: survey.bad,
            attribution,
        }
    }

    /// The report of stored survey `id`, as the command printed it (the software filter it
    /// was run with), with the trend of its series.
    ///
    /// # Errors
    /// [`crate::error::Error::Store`] when it is no complete survey; SQLite and query errors.
    pub fn stored(store: &crate::store::Store, id: i64) -> crate::error::Result<InstancesReport> {
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
    pub fn failed(store: &crate::store::Store, id: i64) -> crate::error::Result<InstancesReport> {
        let (survey, source) = store.survey_so_far(id)?;
        InstancesReport::of_stored(store, id, survey, source)
    }

    /// The report of stored survey `id` read as `survey`, under the software filter it was
    /// run with.
    fn of_stored(
        store: &crate::store::Store,
        id: i64,
        survey: Survey,
        source: AttributionSource,
    ) -> crate::error::Result<InstancesReport> {
        let request = store.request(id)?;
        let options = Options {
            software: request["software"].as_str().map(str::to_string),
        };
        let mut r = InstancesReport::build(survey, source, &options);
        r.snapshot = Some(id);
        r.list = request["list"].as_str().map(str::to_string);
        Ok(r)
    }

    /// Every level under every weight, as the store keeps them.
    pub fn levels(&self) -> Vec<LevelMetrics> {
        self.weights.iter().flat_map(|w| w.levels.iter().cloned()).collect()
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

/// `report` in `format` (one of [`FORMATS`]), `top` rows per table (0: all).
///
/// # Errors
/// [`crate::error::Error::Input`] for a format not offered.
pub fn render(report: &InstancesReport, format: Format, top: usize) -> crate::error::Result<String> {
    let top = if top == 0 { usize::MAX } else { top };
    let out = match format {
        Format::Text => text(report, top),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("reports serialise: string keys, finite numbers") + "\n"
        }
        Format::Csv => csv(report),
        Format::Html => html(report, top),
        _ => return Err(format.not_offered("an instance-list report", FORMATS)),
    };
    Ok(format.safe(out, false))
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
    lines.push(format!(
        "Implausible counts: {} instances (counted apart, not trusted; ceiling instances.max_users = {}).",
        p.implausible, r.max_users
    ));
    lines
}

/// The instances whose counts are implausible, and why.
fn implausible(r: &InstancesReport) -> Vec<&Instance> {
    r.instances
        .iter()
        .filter(|i| !i.claims.implausible.is_empty())
        .collect()
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

fn text(r: &InstancesReport, top: usize) -> String {
    let mut out = String::new();
    for line in summary(r) {
        let _ = writeln!(out, "{line}");
    }
    for w in &r.weights {
        let _ = writeln!(out, "{}", w.headline);
    }
    let _ = writeln!(out, "\nSoftware (instances, users, active users)");
    for s in r.software.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:<20} {:>7} {:>10} {:>10}",
            s.software, s.instances, s.users, s.active
        );
    }
    for w in &r.weights {
        let _ = writeln!(out, "\nWeighted by {}: {}", w.weight.as_str(), weight_about(w.weight));
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
            let _ = writeln!(out, "  {host}  {kind}: {message}");
        }
        if r.failures.len() > top {
            let _ = writeln!(out, "  … {} more (--top 0 lists all)", r.failures.len() - top);
        }
    }
    let odd = implausible(r);
    if !odd.is_empty() {
        let _ = writeln!(out, "\nImplausible counts ({})", odd.len());
        for i in odd.iter().take(top) {
            let _ = writeln!(out, "  {}  {}", i.host, i.claims.implausible.join("; "));
        }
    }
    if let Some(line) = attribution_line(r) {
        let _ = writeln!(out, "\n{line}");
    }
    out += &trend_text(r);
    out
}

/// Which survey, and the trend of its series: one line per survey, the changes since the one
/// before under it.
fn trend_text(r: &InstancesReport) -> String {
    let Some(id) = r.snapshot else { return String::new() };
    let mut out = format!(
        "\nSurvey {id} (list: {}), measured {}.\n",
        r.list.as_deref().unwrap_or("?"),
        r.finished_at
    );
    if r.trend.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "Trend by AS, weighted by users, over {} surveys of this list:",
        r.trend.len()
    );
    for s in &r.trend {
        if s.rated {
            let _ = writeln!(
                out,
                "  {:>4}  {}  {} users  top-3 {}  k50 {}  HHI {}  (instances: top-3 {})",
                s.snapshot,
                s.finished_at,
                amount(s.users),
                percent(s.top3),
                s.k50,
                hhi(s.hhi),
                percent(s.instances_top3)
            );
        } else {
            let _ = writeln!(
                out,
                "  {:>4}  {}  {} users  nothing to attribute: not rated",
                s.snapshot,
                s.finished_at,
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
            <th class=\"n\">instances</th><th class=\"n\">users</th><th class=\"n\">active users</th></tr></thead>\n<tbody>\n";
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
    let odd = implausible(r);
    if !odd.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"implausible\">\n<h2>Implausible counts ({})</h2>\n<ul>",
            odd.len()
        );
        for i in odd.iter().take(top) {
            let _ = writeln!(
                out,
                "<li>{}: {}</li>",
                escape(&i.host),
                escape(&i.claims.implausible.join("; "))
            );
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
    use super::csv::{neutralised, COLUMNS};
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
                    neutralised(&b.key),
                    neutralised(&b.label),
                    b.weight.to_string(),
                    b.share.to_string(),
                ]);
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
