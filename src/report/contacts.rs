//! The contacts report (text, JSON, CSV, HTML): who serves the addresses of an address book
//! or a mailbox, at every level, with the same figures as the follows report (top-k shares,
//! k50/k75, HHI and its band, effective number), from the one implementation in
//! [`crate::metrics::concentration`].
//!
//! [`ContactsReport::build`] reads a stored contacts snapshot back (its measurement, the
//! figures stored with it, and the trend of its series from [`super::contacts_diff`]);
//! `whohosts contacts`, `demo --contacts` and `whohosts report` all print from it.

use std::fmt::Write as _;

use serde_json::json;

use serde::Serialize;

use super::contacts_diff::{self, Step};
use super::plural;
use crate::error::Result;
use crate::metrics::{concentration, Bucket, Concentration};
use crate::model::contact::{ranked, DomainRecord, Measurement};
use crate::model::format::Format;
use crate::store::Store;

/// The formats the contacts report is written in.
pub const FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Csv, Format::Html];

/// Buckets listed per level in text and HTML, unless told otherwise.
pub const LISTED: usize = 10;

/// Which stored snapshot a report is of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotRef {
    pub id: i64,
    pub started_at: String,
    pub finished_at: String,
    /// What makes its series (`--series`, else the files read).
    pub series: String,
}

/// A contacts report: the measurement, and when it is a stored snapshot, which one, the
/// figures stored with it and the trend of its series.
#[derive(Debug, Clone)]
pub struct ContactsReport {
    pub snapshot: Option<SnapshotRef>,
    pub measurement: Measurement,
    /// Each level's stored figures (empty for a measurement not stored: then computed).
    pub figures: Vec<(String, Concentration)>,
    pub trend: Vec<Step>,
    /// Who serves each domain and the steps taken to find it (empty for a measurement not
    /// stored).
    pub domains: Vec<DomainRecord>,
}

impl ContactsReport {
    /// The report of a measurement that is not stored.
    pub fn of(measurement: Measurement) -> ContactsReport {
        ContactsReport {
            snapshot: None,
            measurement,
            figures: vec![],
            trend: vec![],
            domains: vec![],
        }
    }

    /// The report of contacts snapshot `id`, from the store.
    ///
    /// # Errors
    /// [`crate::error::Error::Store`] when it is no complete contacts snapshot; SQLite errors.
    pub fn build(store: &Store, id: i64) -> Result<ContactsReport> {
        let measurement = store.contacts(id)?;
        let info = store.list()?.into_iter().find(|s| s.id == id);
        let request = store.request(id)?;
        Ok(ContactsReport {
            snapshot: Some(SnapshotRef {
                id,
                started_at: info.as_ref().map(|i| i.started_at.clone()).unwrap_or_default(),
                finished_at: info.map(|i| i.finished_at).unwrap_or_default(),
                series: request["series"].as_str().unwrap_or_default().to_string(),
            }),
            measurement,
            figures: store.contact_summaries(id)?,
            trend: contacts_diff::steps(store, id)?,
            domains: store.contact_domains(id)?,
        })
    }

    /// The figures of `level` and its buckets ranked, each with its share.
    fn level(&self, level: &str, buckets: &std::collections::BTreeMap<String, f64>) -> (Concentration, Vec<Bucket>) {
        let ranked = ranked(buckets);
        let c = self.figures(level, &ranked);
        let rows = Bucket::of_ranked(&ranked, c.total);
        (c, rows)
    }

    /// The figures of `level`: as stored, else computed from its buckets.
    fn figures(&self, level: &str, ranked: &[(&str, f64)]) -> Concentration {
        match self.figures.iter().find(|(l, _)| l == level) {
            Some((_, c)) => c.clone(),
            None => concentration(&ranked.iter().map(|b| b.1).collect::<Vec<_>>()),
        }
    }
}

/// What a weight counts, for sentences: `contacts` (`contact` when there is one, `n`); under
/// the `messages` weight, `message-contact pairs`: a message counts once for each contact it
/// names, so the total is no number of messages.
fn unit(m: &Measurement, n: f64) -> &'static str {
    let one = (n - 1.0).abs() < 1e-9;
    match (m.weight, one) {
        ("messages", true) => "message-contact pair",
        ("messages", false) => "message-contact pairs",
        (w, true) => w.strip_suffix('s').unwrap_or(w),
        (w, false) => w,
    }
}

/// What the weight is, after "weighed by": `contacts`, or `messages` with how they count.
fn weighed_by(m: &Measurement) -> String {
    if m.weight == "messages" {
        "messages (a message counts once for each contact it names)".into()
    } else {
        m.weight.to_string()
    }
}

/// "Server not found: 1 receives no mail (null MX)." — the weight counted apart, by why;
/// `None` when every server was found. Text and HTML say it; CSV has its rows.
pub fn not_found_sentence(m: &Measurement) -> Option<String> {
    if m.apart.is_empty() {
        return None;
    }
    let parts: Vec<String> = m.apart.iter().map(|(why, w)| format!("{} {why}", fmt_w(*w))).collect();
    Some(format!("Server not found: {}.", parts.join("; ")))
}

/// The headline, over the `provider` level (the organisation level when a measurement has
/// none): the share the fewest providers reaching half carry, and how many reach 75 %. "receive
/// their mail through" when every address found is e-mail.
pub fn headline(m: &Measurement) -> String {
    let Some((level, buckets)) = ["provider", "organisation"]
        .iter()
        .find_map(|want| m.levels.iter().find(|(l, _)| l == want))
    else {
        return String::new();
    };
    let r = ranked(buckets);
    let c = concentration(&r.iter().map(|b| b.1).collect::<Vec<_>>());
    if c.total <= 0.0 {
        return format!(
            "Of {}{} {}, none has a server that was found: nothing to attribute.",
            if m.weight == "messages" { "" } else { "your " },
            fmt_w(m.total),
            unit(m, m.total)
        );
    }
    let top: Vec<&str> = r.iter().take(c.k50).map(|b| b.0).collect();
    let share = crate::metrics::sum(r.iter().take(c.k50).map(|b| b.1)) / c.total;
    // Fewer than all: some servers were not found, or (the level counting them apart, as a
    // server in no AS) their provider is not known.
    let unplaced = m.level_apart.get(level.as_str()).is_some_and(|a| !a.is_empty());
    let found = match ((c.total - m.total).abs() > 1e-9, unplaced) {
        (false, _) => String::new(),
        (true, false) => format!(" whose server was found (of {} in all)", fmt_w(m.total)),
        (true, true) => format!(
            " whose {} is known (of {} in all)",
            level_words(level).1 .0,
            fmt_w(m.total)
        ),
    };
    let all_mail = m
        .levels
        .iter()
        .find(|(l, _)| l == "protocol")
        .is_some_and(|(_, b)| b.iter().all(|(k, w)| k == "email" || *w <= 0.0));
    let verb = match (all_mail, m.weight) {
        (true, "contacts") => "receive their mail through",
        (true, _) => "go through",
        _ => "are served by",
    };
    let noun = if level == "provider" {
        "provider"
    } else {
        "organisation"
    };
    let whose = if m.weight == "messages" { "" } else { "your " };
    format!(
        "Of {whose}{} {}{found}, {:.0} % {verb} {} ({}); {} {} 75 %.",
        fmt_w(c.total),
        unit(m, c.total),
        share * 100.0,
        plural(c.k50 as u64, noun),
        top.join(", "),
        plural(c.k75 as u64, noun),
        if c.k75 == 1 { "covers" } else { "cover" },
    )
}

/// The services of `provider`, largest first, as text: `Gmail 30, Google Workspace 20`.
fn services(m: &Measurement, provider: &str) -> Option<String> {
    let s = m.services.get(provider)?;
    let parts: Vec<String> = ranked(s).iter().map(|(k, w)| format!("{k} {}", fmt_w(*w))).collect();
    Some(parts.join(", "))
}

/// "Services: Google: Gmail 30, Google Workspace 20; Microsoft: Microsoft 365 12." — the
/// services of the first `top` providers of `rows` (level `provider` only: Gmail, Microsoft
/// 365, what SPF inferred); `None` for another level or when none is known. Text and HTML
/// say it, JSON has it per provider.
fn services_sentence(m: &Measurement, level: &str, rows: &[Bucket], top: usize) -> Option<String> {
    if level != "provider" {
        return None;
    }
    let said: Vec<String> = rows
        .iter()
        .take(top)
        .filter_map(|b| services(m, &b.key).map(|s| format!("{}: {s}", b.key)))
        .collect();
    (!said.is_empty()).then(|| format!("Services: {}.", said.join("; ")))
}

/// A weight as a person reads it: whole numbers without decimals.
fn fmt_w(w: f64) -> String {
    if (w - w.round()).abs() < 1e-9 {
        format!("{}", w.round() as i64)
    } else {
        format!("{w:.2}")
    }
}

/// The report `r` in `format`, `top` buckets per level in text and HTML (0: all), through
/// the one terminal sanitiser as every report is: names from files and servers (display
/// names, AS names) reach a terminal with their control characters made visible.
pub fn render(r: &ContactsReport, format: Format, top: usize) -> String {
    let top = if top == 0 { usize::MAX } else { top };
    let rendered = match format {
        Format::Json => json(r),
        Format::Csv => csv(r),
        Format::Html => html(r, top),
        _ => text(r, top),
    };
    format.safe(rendered, false)
}

/// The text report: each level through the one rendering every text report uses
/// ([`super::text::ranked`]: heading, ranked rows with bars, figures with the band in
/// words), sentences wrapped to [`super::text::WIDTH`].
pub fn text(r: &ContactsReport, top: usize) -> String {
    use super::text::wrap;
    let m = &r.measurement;
    let mut out = wrap(&headline(m), "", "");
    out += &wrap(
        &format!(
            "{}, weighed by {}; {} skipped.",
            plural(m.addresses as u64, "distinct address"),
            weighed_by(m),
            plural(m.malformed as u64, "malformed entry")
        ),
        "",
        "  ",
    );
    if let Some(line) = not_found_sentence(m) {
        out += &wrap(&line, "", "  ");
    }
    for (level, buckets) in &m.levels {
        let (c, rows) = r.level(level, buckets);
        out.push('\n');
        out += &super::text::ranked(&heading(m, level, &c), &rows, &c, top, false);
        if let Some(line) = counted_apart(m, level) {
            out += &wrap(&line, "  ", "  ");
        }
        if let Some(line) = services_sentence(m, level, &rows, top) {
            out += &wrap(&line, "  ", "  ");
        }
    }
    out += &trend_text(r);
    out
}

/// "Counted apart: 1 no AS." — what `level` could not place of the weight whose server was
/// found, in the follows report's words ([`super::text::apart_line`]); `None` when nothing.
fn counted_apart(m: &Measurement, level: &str) -> Option<String> {
    super::text::apart_line(m.level_apart.get(level)?, |_| false)
}

/// What a contacts level is called, and what one bucket of it is (singular, plural): the
/// follows report's words where the level is the same (organisation, AS, country).
fn level_words(level: &str) -> (&'static str, (&'static str, &'static str)) {
    use super::text::{bucket_nouns, level_title};
    use crate::metrics::Level;
    let shared = |l: Level| (level_title(l), bucket_nouns(l));
    match level {
        "organisation" => shared(Level::Organisation),
        "as" => shared(Level::As),
        "country" => shared(Level::Country),
        "protocol" => ("protocol", ("protocol", "protocols")),
        "domain" => ("domain", ("domain", "domains")),
        "server" => ("server", ("server", "servers")),
        "provider" => ("provider", ("provider", "providers")),
        "gateway" => ("gateway", ("gateway", "gateways")),
        _ => ("level", ("bucket", "buckets")),
    }
}

/// "By provider (12 providers, 150 contacts)", "By autonomous system (3 autonomous systems,
/// 26 contacts)": the one heading of every report ([`super::text::heading`]).
fn heading(m: &Measurement, level: &str, c: &Concentration) -> String {
    let (title, nouns) = level_words(level);
    super::text::heading(title, (c.buckets, nouns), (c.total, (unit(m, 1.0), unit(m, 2.0))))
}

/// Which snapshot, and the trend of its series (one line per snapshot, the changes under
/// it); empty for a measurement not stored.
fn trend_text(r: &ContactsReport) -> String {
    let Some(s) = &r.snapshot else { return String::new() };
    let mut out = "\n".to_string()
        + &super::text::wrap(
            &format!(
                "Snapshot {} (series: {}), measured {}.",
                s.id,
                super::text::cut(&s.series, super::text::NAME_MAX),
                s.finished_at
            ),
            "",
            "  ",
        );
    let Some(first) = r.trend.first() else { return out };
    let _ = writeln!(
        out,
        "Trend by {} over {} snapshots of this series:",
        first.level,
        r.trend.len()
    );
    for step in &r.trend {
        let _ = writeln!(
            out,
            "  snapshot {:<3} {:<10}  top-3 {:>5.1} %  k50 {:>3}  k75 {:>3}  HHI {:>5.0}",
            step.snapshot,
            crate::model::time::date(&step.finished_at),
            step.top3 * 100.0,
            step.k50,
            step.k75,
            step.hhi
        );
        if !step.changes.is_empty() {
            out += &super::text::wrap(&format!("{}.", step.changes.join("; ")), "      ", "      ");
        }
    }
    out
}

/// The JSON report: the figures of every level, the trend, and each domain with who serves
/// it and the steps taken to find it.
pub fn json(r: &ContactsReport) -> String {
    let m = &r.measurement;
    let levels: Vec<serde_json::Value> = m
        .levels
        .iter()
        .map(|(level, buckets)| {
            let (c, rows) = r.level(level, buckets);
            json!({
                "level": level,
                "metrics": c,
                "apart": m.level_apart.get(level).cloned().unwrap_or_default(),
                "buckets": rows.iter().map(|row| {
                    let mut b = json!({"key": row.key, "weight": row.weight, "share": row.share});
                    if let (true, Some(s)) = (level == "provider", m.services.get(&row.key)) {
                        b["services"] = json!(s);
                    }
                    b
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "kind": "contacts",
        "snapshot": r.snapshot,
        "headline": headline(m),
        "weight": m.weight,
        "addresses": m.addresses,
        "total": m.total,
        "malformed": m.malformed,
        "not_found": m.apart,
        "levels": levels,
        "trend": r.trend,
        "domains": r.domains,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The level name of the CSV rows that count the weight whose server was not found.
pub const NOT_FOUND_LEVEL: &str = "not-found";

/// The level name of the CSV rows that count what `level` counted apart: `gateway-apart`.
pub fn apart_level(level: &str) -> String {
    format!("{level}-apart")
}

/// The CSV report: the columns of every CSV report ([`super::csv::COLUMNS`]), one row per
/// (level, bucket), every bucket; then one row per reason a server was not found (level
/// [`NOT_FOUND_LEVEL`], its share of every address's weight); then, of each level that
/// counted some of the rest apart, one row per reason (level [`apart_level`]:
/// `gateway-apart`, `reach their provider directly`; its share of every address's weight
/// too); text cells neutralised as there.
pub fn csv(r: &ContactsReport) -> String {
    let m = &r.measurement;
    let mut w = ::csv::Writer::from_writer(vec![]);
    let _ = w.write_record(super::csv::COLUMNS);
    let id = r.snapshot.as_ref().map(|s| s.id.to_string()).unwrap_or_default();
    // One row per bucket: its level, rank, name (twice: key and label), amount and share.
    let mut row = |level: &str, i: usize, name: &str, amount: f64, total: f64| {
        let cell = crate::model::text::spreadsheet(name).into_owned();
        let share = if total > 0.0 { amount / total } else { 0.0 };
        let _ = w.write_record([
            id.clone(),
            level.to_string(),
            m.weight.to_string(),
            (i + 1).to_string(),
            cell.clone(),
            cell,
            amount.to_string(),
            share.to_string(),
        ]);
    };
    for (level, buckets) in &m.levels {
        let ranked = ranked(buckets);
        let c = r.figures(level, &ranked);
        for (i, (k, amount)) in ranked.iter().enumerate() {
            row(level, i, k, *amount, c.total);
        }
    }
    for (i, (why, amount)) in ranked(&m.apart).iter().enumerate() {
        row(NOT_FOUND_LEVEL, i, why, *amount, m.total);
    }
    // What each level counted apart, as the text's "Counted apart" line and the JSON's
    // `apart` say it (the same figures, `level_apart`).
    for (level, _) in &m.levels {
        let Some(apart) = m.level_apart.get(level) else {
            continue;
        };
        for (i, (why, amount)) in ranked(apart).iter().enumerate() {
            row(&apart_level(level), i, why, *amount, m.total);
        }
    }
    String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned()
}

/// The HTML report: one self-contained page in the style of the follows report (no script,
/// nothing fetched): the headline, per level a bar chart and its table, and the trend.
pub fn html(r: &ContactsReport, top: usize) -> String {
    use super::svg::{bars, escape, Bar};
    let m = &r.measurement;
    let title = match &r.snapshot {
        Some(s) => format!("snapshot {}", s.id),
        None => "a contact book".to_string(),
    };
    let mut out = format!(
        "<p class=\"headline\" id=\"headline\">{}</p>\n\
         <p>{}, weighed by <strong id=\"weight\">{}</strong>{}; {} skipped.</p>\n",
        escape(&headline(m)),
        plural(m.addresses as u64, "distinct address"),
        m.weight,
        escape(weighed_by(m).strip_prefix(m.weight).unwrap_or_default()),
        plural(m.malformed as u64, "malformed entry")
    );
    if let Some(line) = not_found_sentence(m) {
        let _ = writeln!(out, "<p id=\"not-found\">{}</p>", escape(&line));
    }
    for (level, buckets) in &m.levels {
        let (c, rows) = r.level(level, buckets);
        let shown: Vec<Bar> = rows
            .iter()
            .take(top)
            .map(|b| Bar {
                label: b.key.clone(),
                share: b.share,
                rest: false,
            })
            .collect();
        let heading = heading(m, level, &c);
        let _ = writeln!(out, "<section id=\"level-{level}\">\n<h2>{}</h2>", escape(&heading));
        out += &bars(
            &format!("chart-{level}"),
            &heading,
            super::svg::paint(crate::metrics::Level::Instance),
            &shown,
        );
        let _ = writeln!(
            out,
            "<table id=\"table-{level}\">\n<thead><tr><th class=\"n\">share</th><th class=\"n\">{}</th><th>{level}</th></tr></thead>\n<tbody>",
            unit(m, 0.0)
        );
        for b in rows.iter().take(top) {
            // A long server name may break after each dot, so the table fits a phone.
            let _ = writeln!(
                out,
                "<tr><td class=\"n\">{:.1} %</td><td class=\"n\">{}</td><td>{}</td></tr>",
                b.share * 100.0,
                fmt_w(b.weight),
                escape(&b.key).replace('.', ".<wbr>")
            );
        }
        let _ = writeln!(
            out,
            "</tbody>\n</table>\n<p class=\"muted\">{}</p>",
            escape(&super::text::metrics_line(&c))
        );
        if let Some(line) = counted_apart(m, level) {
            let _ = writeln!(out, "<p class=\"muted\">{}</p>", escape(&line));
        }
        if let Some(line) = services_sentence(m, level, &rows, top) {
            let _ = writeln!(out, "<p id=\"services\">{}</p>", escape(&line));
        }
        out += "</section>\n";
    }
    if !r.trend.is_empty() {
        out += "<section id=\"trend\">\n<h2>Trend of this series</h2>\n<table>\n<thead><tr><th>snapshot</th>\
                <th>finished</th><th class=\"n\">top-3</th><th class=\"n\">k50</th><th class=\"n\">k75</th>\
                <th class=\"n\">HHI</th><th>changes</th></tr></thead>\n<tbody>\n";
        for s in &r.trend {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.1} %</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{:.0}</td><td class=\"changes\">{}</td></tr>",
                s.snapshot,
                escape(&s.finished_at),
                s.top3 * 100.0,
                s.k50,
                s.k75,
                s.hhi,
                escape(&s.changes.join("; "))
            );
        }
        out += "</tbody>\n</table>\n</section>\n";
    }
    super::html::page(
        &format!("who serves the contacts of {title}"),
        &format!("Who serves your contacts: {title}"),
        &out,
    )
}
