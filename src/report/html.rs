//! The HTML report: one self-contained page (no script, no external font, style sheet or
//! image; nothing is fetched) with the headline, the trend charts when there is a trend, a
//! bar chart and a table per level, the population and the credits. Charts are inline SVG
//! ([`super::svg`]) with text alternatives; a print style sheet keeps it readable on paper.

use std::fmt::Write as _;

use super::svg::{self, escape, Bar, Line};
use super::text::{self, amount, hhi, percent};
use super::Report;
use crate::metrics::LevelMetrics;

pub(super) const STYLE: &str = "\
:root { color-scheme: light dark; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1a1a1a;
  background: #fff; max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem; line-height: 1.45;
  overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid #ddd; }
figure { margin: 0; }
figcaption { font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.legend span { margin-right: 1rem; font-weight: 600; }
.headline { font-size: 1.2rem; font-weight: 600; }
.muted { color: #555; }
svg { max-width: 100%; height: auto; font-size: 13px; display: block; margin: .5rem 0; }
svg text:not([fill]) { fill: #1a1a1a; }
table { border-collapse: collapse; margin: .5rem 0; display: block; max-width: 100%; overflow-x: auto; }
dl.glossary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.glossary dt { font-weight: 600; }
dl.glossary dd { margin: 0; }
svg.key { display: inline; vertical-align: middle; margin: 0 .2rem 0 0; }
@media (max-width: 40rem) {
  body { padding: .5rem .75rem; }
  dl.glossary { grid-template-columns: 1fr; }
  dl.glossary dd { margin: 0 0 .4rem 1rem; }
}
@media (prefers-color-scheme: dark) {
  body { color: #e8e8e8; background: #121212; }
  .muted { color: #b0b0b0; }
  h2 { border-bottom-color: #444; }
  th, td { border-bottom-color: #444; }
  svg text:not([fill]) { fill: #e8e8e8; }
}
th, td { padding: .2rem .6rem; border-bottom: 1px solid #ccc; text-align: left; vertical-align: top; }
th, td { overflow-wrap: normal; }
td.changes { overflow-wrap: anywhere; }
tbody th[scope=\"rowgroup\"] { padding-top: .6rem; }
.note { font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section { break-inside: avoid; }
  h2 { break-after: avoid; }
  svg { max-width: 17cm; }
}
";

/// What the figures mean, in a few words, beside them.
pub(super) const GLOSSARY: &str = "<section id=\"glossary\">\n<h2>Reading the figures</h2>\n<dl class=\"glossary\">\n\
<dt>top-3</dt><dd>The share of the weight the three largest hold together.</dd>\n\
<dt>k50, k75</dt><dd>The fewest organisations (or instances, autonomous systems …) that hold half, or three \
quarters, of the weight: how few would need to act to reach most people.</dd>\n\
<dt>HHI</dt><dd>Herfindahl–Hirschman index: the sum of the squared percentage shares, 0 to 10,000. Under 1,000 \
unconcentrated, 1,000 to 1,800 moderately, over 1,800 highly concentrated (the 2023 US merger guidelines; the \
dotted lines of the HHI chart).</dd>\n\
<dt>effective number</dt><dd>How many equal holders would be as diverse as these (e to the Shannon entropy).</dd>\n\
<dt>Gini</dt><dd>0 when every holder holds the same, towards 1 when one holds nearly everything.</dd>\n\
</dl>\n</section>\n";

/// `r` as one HTML page; `top` buckets per level in charts and tables (the rest summed).
pub fn render(r: &Report, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p class=\"headline\" id=\"headline\">{}</p>",
        escape(&text::headline(r))
    );
    let _ = writeln!(
        out,
        "<p>Weight: <strong id=\"weight\">{}</strong> — {}. Seeds: {}. Crawled {} to {}.</p>",
        r.weight,
        escape(text::weight_about(r.weight)),
        escape(&r.snapshot.seeds.join(", ")),
        escape(&r.snapshot.started_at),
        escape(&r.snapshot.finished_at)
    );
    if let Some(note) = &r.new_series {
        let _ = writeln!(out, "<p class=\"note\" id=\"new-series\">{}</p>", escape(note));
    }
    out += &trend(r);
    out += GLOSSARY;
    for l in &r.levels {
        out += &level(l, top, l.level.as_str(), crate::metrics::apart_counts_instances);
    }
    out += &footer(r);
    let title = format!("snapshot {}", r.snapshot.id);
    page(
        &format!("who hosts the accounts of {title}"),
        &format!("Who hosts them: {title}"),
        &out,
    )
}

/// One self-contained page: `title` (after "whohosts: ") in the head, `heading` as its `h1`,
/// then `body` (already HTML) in the style every report shares; `heading` is escaped here.
pub(super) fn page(title: &str, heading: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>whohosts: {}</title>\n<style>\n{STYLE}{}</style>\n</head>\n\
         <body>\n<main>\n<h1>{}</h1>\n{body}</main>\n</body>\n</html>\n",
        escape(title),
        svg::dark_style(),
        escape(heading)
    )
}

/// The buckets shown (the first `top`) and, when there are more, one "(N more)" bar.
fn shown(l: &LevelMetrics, top: usize) -> Vec<(String, String, f64, f64)> {
    let mut rows: Vec<(String, String, f64, f64)> = l
        .buckets
        .iter()
        .take(top)
        .enumerate()
        .map(|(i, b)| ((i + 1).to_string(), b.label.clone(), b.weight, b.share))
        .collect();
    if let Some(rest) = l.buckets.get(top..).filter(|r| !r.is_empty()) {
        let (w, s) = rest.iter().fold((0.0, 0.0), |(w, s), b| (w + b.weight, s + b.share));
        rows.push((String::new(), format!("({} more)", rest.len()), w, s));
    }
    rows
}

/// One level as a section (heading, bar chart, table, figures, what it counts apart); `name`
/// makes its element ids (`level-NAME`, `chart-NAME`, `table-NAME`) unique on the page.
pub(super) fn level(l: &LevelMetrics, top: usize, name: &str, counts: text::CountsInstances) -> String {
    let title = text::level_heading(l);
    let rows = shown(l, top);
    let mut out = format!("<section id=\"level-{name}\">\n<h2>{}</h2>\n", escape(&title));
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(rank, label, _, share)| Bar {
            label: label.clone(),
            share: *share,
            rest: rank.is_empty(),
        })
        .collect();
    out += &svg::bars(&format!("chart-{name}"), &title, svg::paint(l.level), &bars);
    let _ = write!(
        out,
        "<table id=\"table-{name}\">\n<caption>{}</caption>\n<thead><tr><th class=\"n\">rank</th><th>{}</th>\
         <th class=\"n\">{}</th><th class=\"n\">share</th></tr></thead>\n<tbody>\n",
        escape(&title),
        escape(text::level_title(l.level)),
        l.weight
    );
    for (rank, label, weight, share) in &rows {
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{rank}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(label),
            amount(*weight),
            percent(*share)
        );
    }
    let line = text::metrics_line(&l.summary);
    let _ = writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"metrics\">{}{}</p>",
        line[..1].to_uppercase(),
        escape(&line[1..])
    );
    if let Some(apart) = text::apart_as(l, counts) {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", escape(&apart));
    }
    out + "</section>\n"
}

/// A trend chart: id, title, lines, least y maximum, how a value is written.
type TrendChart = (
    &'static str,
    &'static str,
    Vec<Line>,
    (f64, &'static [f64]),
    fn(f64) -> String,
);

/// Trend charts (top-3 share, k50, HHI: one line per level) and the table of changes.
fn trend(r: &Report) -> String {
    let Some(first) = r.trend.first() else {
        return String::new();
    };
    let mut out = format!(
        "<section id=\"trend\">\n<h2>Trend over {} snapshots of the same seeds</h2>\n",
        r.trend.len()
    );
    let legend: Vec<String> = first
        .points
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let (paint, name) = (svg::paint(p.level), text::level_title(p.level));
            format!(
                "<span class=\"{}\">{} {}</span>",
                paint.class,
                svg::key(n, paint),
                escape(name)
            )
        })
        .collect();
    let _ = writeln!(out, "<p class=\"legend\">{}</p>", legend.join(" "));
    out += &trend_charts(r, &first.points);
    out += &trend_table(r, &first.points);
    out + "</section>\n"
}

/// One line chart per figure (top-3 share, k50, HHI), one line per level of `levels`.
fn trend_charts(r: &Report, levels: &[super::trend::Point]) -> String {
    let xs: Vec<String> = r.trend.iter().map(|s| format!("#{}", s.snapshot)).collect();
    let series = |f: fn(&super::trend::Point) -> f64| -> Vec<Line> {
        levels
            .iter()
            .map(|p0| Line {
                name: text::level_title(p0.level).to_string(),
                paint: svg::paint(p0.level),
                values: r
                    .trend
                    .iter()
                    // A level not rated is a gap in its line, not a 0.
                    .map(|s| {
                        s.points
                            .iter()
                            .find(|p| p.level == p0.level)
                            .filter(|p| p.rated)
                            .map_or(f64::NAN, f)
                    })
                    .collect(),
            })
            .collect()
    };
    let pct: fn(f64) -> String = |v| format!("{:.0} %", v * 100.0);
    let count: fn(f64) -> String = |v| format!("{v:.0}");
    let charts: [TrendChart; 3] = [
        (
            "trend-top3",
            "Share of the three largest",
            series(|p| p.top3),
            (1.0, &[]),
            pct,
        ),
        (
            "trend-k50",
            "k50: fewest that hold half",
            series(|p| p.k50 as f64),
            (1.0, &[]),
            count,
        ),
        (
            "trend-hhi",
            "HHI (dotted: the 1,000 and 1,800 bands)",
            series(|p| p.hhi),
            (2000.0, &[1000.0, 1800.0]),
            hhi,
        ),
    ];
    let mut out = String::from("<div class=\"charts\">\n");
    for (id, title, lines, y, fmt) in charts {
        let _ = write!(out, "<figure>\n<figcaption>{}</figcaption>\n", escape(title));
        out += &svg::lines(id, title, &xs, &lines, y, fmt);
        out += "</figure>\n";
    }
    out + "</div>\n"
}

/// The trend's figures and changes as a table narrow enough for a phone: per snapshot a
/// heading row, a row per level with one figure per cell, and its changes in a full-width row.
fn trend_table(r: &Report, levels: &[super::trend::Point]) -> String {
    let mut out = String::from(
        "<table id=\"table-trend\">\n<caption>The same figures, and what changed</caption>\n<thead><tr><th>level</th>\
         <th class=\"n\">top-3</th><th class=\"n\">k50</th><th class=\"n\">HHI</th></tr></thead>\n",
    );
    for s in &r.trend {
        let _ = writeln!(
            out,
            "<tbody>\n<tr><th colspan=\"4\" scope=\"rowgroup\">snapshot #{} of {}</th></tr>",
            s.snapshot,
            escape(crate::model::time::date(&s.finished_at))
        );
        for p0 in levels {
            let name = escape(text::level_title(p0.level));
            match s.points.iter().find(|p| p.level == p0.level) {
                Some(p) if p.rated => {
                    let _ = writeln!(
                        out,
                        "<tr><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                        percent(p.top3),
                        p.k50,
                        hhi(p.hhi)
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "<tr><td>{name}</td><td colspan=\"3\">nothing to attribute: not rated</td></tr>"
                    );
                }
            }
        }
        if !s.changes.is_empty() {
            let _ = writeln!(
                out,
                "<tr><td class=\"changes\" colspan=\"4\">Since the one before: {}</td></tr>",
                escape(&s.changes.join("; "))
            );
        }
        out += "</tbody>\n";
    }
    out + "</table>\n"
}

fn footer(r: &Report) -> String {
    let mut out = format!(
        "<section id=\"population\">\n<h2>Who was counted</h2>\n<p>{}</p>\n",
        escape(&text::population(&r.population))
    );
    let managed = text::managed(r);
    if !managed.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(&managed.replace("\n ", "")));
    }
    out += "<ul>\n";
    for s in &r.data.crawl.seeds {
        let _ = writeln!(out, "<li>{}</li>", escape(&text::seed_line(s)));
    }
    let _ = write!(
        out,
        "</ul>\n</section>\n<section id=\"credits\">\n<h2>Data</h2>\n<p>{}</p>\n\
         <p class=\"muted\">Made by whohosts {} from the stored snapshot {}.</p>\n</section>\n",
        escape(&text::credits(r)),
        env!("CARGO_PKG_VERSION"),
        r.snapshot.id
    );
    out
}
