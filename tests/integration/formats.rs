//! The four report formats of the demo world say the same thing: every figure comes from the
//! same stored metrics. Also: the text fits 80 columns, colour only on a terminal and never
//! with NO_COLOR, every output states its weight.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::html::{demo_db, with_db};

/// Rows the text and HTML reports show per level (`--top`'s default).
const TOP: usize = 10;

/// (label, amount, share as printed) of the rows each level shows (the first TOP buckets,
/// then one "(N more)" row summing the rest).
type Rows = BTreeMap<String, Vec<(String, String, String)>>;

fn amount(x: f64) -> String {
    whohosts::report::text::amount(x)
}

fn pct(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// The rows shown of (label, amount, share) buckets, ranked.
fn shown(buckets: &[(String, f64, f64)]) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = buckets
        .iter()
        .take(TOP)
        .map(|(l, a, s)| (l.clone(), amount(*a), pct(*s)))
        .collect();
    if buckets.len() > TOP {
        let rest = &buckets[TOP..];
        let (a, s) = rest.iter().fold((0.0, 0.0), |(a, s), b| (a + b.1, s + b.2));
        rows.push((format!("({} more)", rest.len()), amount(a), pct(s)));
    }
    rows
}

fn from_json(v: &Value) -> Rows {
    v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let buckets: Vec<(String, f64, f64)> = l["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    (
                        b["label"].as_str().unwrap().to_string(),
                        b["weight"].as_f64().unwrap(),
                        b["share"].as_f64().unwrap(),
                    )
                })
                .collect();
            (l["level"].as_str().unwrap().to_string(), shown(&buckets))
        })
        .collect()
}

/// A label as the text table shows it: cut with "…" when longer than its column.
fn same_label(text: &str, full: &str) -> bool {
    text == full || text.strip_suffix('…').is_some_and(|p| full.starts_with(p))
}

/// The same rows from the text tables ("By instance (…)" then ranked rows, then "(N more)").
fn from_text(text: &str, json: &Rows) -> Rows {
    let titles = [
        ("By instance ", "instance"),
        ("By hosting organisation ", "organisation"),
        ("By autonomous system ", "as"),
    ];
    let mut out = Rows::new();
    for (title, level) in titles {
        let section = text
            .split(title)
            .nth(1)
            .unwrap_or_else(|| panic!("no {title} in {text}"));
        let rows = section
            .lines()
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with("top-3"))
            .zip(&json[level])
            .map(|(l, want)| {
                let cells: Vec<&str> = l.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
                // The "(N more)" row has no rank.
                let cells = if cells[0].starts_with('(') {
                    &cells[..]
                } else {
                    &cells[1..]
                };
                let label = if same_label(cells[0], &want.0) {
                    want.0.clone()
                } else {
                    cells[0].to_string()
                };
                (label, cells[1].to_string(), cells[2].to_string())
            });
        out.insert(level.to_string(), rows.collect());
    }
    out
}

/// Every bucket of the CSV: level → (label, amount, share), ranked.
fn csv_buckets(csv: &str) -> BTreeMap<String, Vec<(String, f64, f64)>> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        whohosts::report::csv::COLUMNS
    );
    let mut out: BTreeMap<String, Vec<(String, f64, f64)>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        assert_eq!(&rec[2], "accounts");
        let rows = out.entry(rec[1].to_string()).or_default();
        assert_eq!(rec[3].parse::<usize>().unwrap(), rows.len() + 1, "ranked");
        rows.push((rec[5].to_string(), rec[6].parse().unwrap(), rec[7].parse().unwrap()));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text between `<tag…>` and `</tag>` after `from`.
fn inner<'a>(html: &'a str, from: &str, end: &str) -> &'a str {
    let at = html.find(from).unwrap_or_else(|| panic!("no {from}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    &rest[start..rest.find(end).unwrap()]
}

fn from_html(html: &str) -> Rows {
    let mut out = Rows::new();
    for level in ["instance", "organisation", "as"] {
        let body = inner(html, &format!("<table id=\"table-{level}\""), "</tbody>");
        let rows = body.lines().filter(|l| l.starts_with("<tr><td")).map(|l| {
            let cells: Vec<String> = l
                .split("<td")
                .skip(1)
                .map(|c| unescape(&c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()]))
                .collect();
            (cells[1].clone(), cells[2].clone(), cells[3].clone())
        });
        out.insert(level.to_string(), rows.collect());
    }
    out
}

fn report(db: &Path, format: &str) -> String {
    with_db(db, &["report", "--format", format])
}

#[test]
fn text_json_csv_and_html_agree_on_the_demo_world() {
    let dir = tempfile::tempdir().unwrap();
    let (db, printed) = demo_db(dir.path());
    let text = report(&db, "text");
    assert!(printed.starts_with(&text), "the demo prints the stored report first");
    compare_all_formats(&db);
    // A figure summed from nothing is 0, never `-0.0` (the demo has no instance set apart).
    for format in ["json", "csv", "text", "html"] {
        let out = report(&db, format);
        let negative_zero = out
            .split(|c: char| !(c.is_ascii_digit() || c == '-' || c == '.'))
            .find(|t| t.starts_with('-') && t.len() > 1 && t[1..].chars().all(|c| c == '0' || c == '.'));
        assert_eq!(negative_zero, None, "{format}");
    }
    let json: Value = serde_json::from_str(&report(&db, "json")).unwrap();
    assert_eq!(json["headline"]["instances_apart"].to_string(), "0.0");
}

/// The figures a level's summary holds, recomputed from its buckets' shares.
fn recomputed(shares: &[f64]) -> (f64, usize, usize, f64) {
    let top3: f64 = shares.iter().take(3).sum();
    let k = |q: f64| {
        let mut sum = 0.0;
        shares
            .iter()
            .position(|s| {
                sum += s;
                sum >= q - 1e-9
            })
            .map_or(0, |i| i + 1)
    };
    let hhi = shares.iter().map(|s| (s * 100.0).powi(2)).sum();
    (top3, k(0.5), k(0.75), hhi)
}

/// The report of `db` in text, JSON, CSV and HTML carries the same numbers: every row the
/// text and HTML show (the "(N more)" row too) is the JSON's and the CSV's at the precision
/// shown; each level's figures (top-3, k50, k75, HHI, effective number, Gini) are the JSON's
/// in text and HTML, and the CSV's buckets give them again; the headline is the same.
pub fn compare_all_formats(db: &Path) {
    let text = report(db, "text");
    let v: Value = serde_json::from_str(&report(db, "json")).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["weight"], "accounts");
    let rows = from_json(&v);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows["organisation"][0].0, v["headline"]["k50_names"][0]);
    assert_eq!(from_text(&text, &rows), rows);
    let csv = csv_buckets(&report(db, "csv"));
    let csv_rows: Rows = csv.iter().map(|(l, b)| (l.clone(), shown(b))).collect();
    assert_eq!(csv_rows, rows);
    let html = report(db, "html");
    assert_eq!(from_html(&html), rows);
    // Each level's figures: the JSON's, printed alike in text and HTML, and recomputed
    // from the CSV's buckets.
    for l in v["levels"].as_array().unwrap() {
        let s = &l["summary"];
        let f = |k: &str| s[k].as_f64().unwrap();
        let shares: Vec<f64> = csv[l["level"].as_str().unwrap()].iter().map(|b| b.2).collect();
        let (top3, k50, k75, hhi) = recomputed(&shares);
        assert!((top3 - f("top3")).abs() < 1e-9 && (hhi - f("hhi")).abs() < 1e-6, "{l}");
        assert_eq!((k50 as f64, k75 as f64), (f("k50"), f("k75")), "{l}");
        let metrics = format!(
            "top-3 {:.1} %, k50 {}, k75 {}, HHI {} ",
            f("top3") * 100.0,
            s["k50"],
            s["k75"],
            f("hhi").round()
        );
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let tail = format!("effective number {:.1}, Gini {:.2}.", f("effective"), f("gini"));
        let at = flat.find(&metrics).unwrap_or_else(|| panic!("{metrics} not in {text}"));
        assert!(
            flat[at..].split_once(&tail).is_some_and(|(b, _)| b.len() < 100),
            "{tail} after {metrics}"
        );
        assert!(
            html.contains(&format!("Top-3{}", &metrics[5..])),
            "{metrics} not in the HTML"
        );
    }
    // The headline: the same sentence in text and HTML, its figures those of the JSON.
    let h = &v["headline"];
    let headline = text.split("\nWeight:").next().unwrap().replace('\n', " ");
    assert_eq!(unescape(inner(&html, "<p class=\"headline\"", "</p>")), headline);
    let names: Vec<&str> = h["k50_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    // The demo's leaders include a CDN bucket, and the headline says so.
    assert_eq!(h["k75_cdn"], 1);
    let expected = format!(
        "% are hosted by {} organisations ({}); {} organisations cover 75 %, one of them a CDN that hides the origin. Hosting is {} concentrated (HHI {}).",
        h["k50"],
        names.join(", "),
        h["k75"],
        if h["band"] == "high" { "highly" } else { "moderately" },
        h["hhi"].as_f64().unwrap().round()
    );
    assert!(headline.contains(&expected), "{expected:?} not in {headline:?}");
    let share = format!("{:.0} % are hosted", h["k50_share"].as_f64().unwrap() * 100.0);
    assert!(headline.contains(&share), "{share} not in {headline}");
    let org = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "organisation")
        .unwrap();
    assert_eq!(org["summary"]["k50"], h["k50"]);
    // Each level's heading counts its buckets and their weight, the same in text and HTML.
    for (level, title, noun) in [
        ("instance", "instance", "instances"),
        ("organisation", "hosting organisation", "organisations"),
        ("as", "autonomous system", "autonomous systems"),
    ] {
        let l = v["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["level"] == level)
            .unwrap();
        let heading = format!(
            "By {title} ({} {noun}, {} accounts)",
            l["summary"]["buckets"],
            l["summary"]["total"].as_f64().unwrap()
        );
        assert!(text.contains(&format!("\n{heading}\n")), "{heading} not in {text}");
        assert!(
            html.contains(&format!("<h2>{heading}</h2>")),
            "{heading} not in the HTML"
        );
    }
}

#[test]
fn text_fits_80_columns_and_every_format_states_its_weight() {
    let dir = tempfile::tempdir().unwrap();
    let (db, printed) = demo_db(dir.path());
    for text in [&printed, &report(&db, "text")] {
        let wide: Vec<&str> = text.lines().filter(|l| l.chars().count() > 80).collect();
        assert_eq!(wide, Vec::<&str>::new());
    }
    let edges = |format: &str| {
        with_db(
            &db,
            &["report", "--weight", "edges", "--by", "country", "--format", format],
        )
    };
    assert!(edges("text").contains("\nWeight: edges — follow edges"));
    let country = serde_json::from_str::<Value>(&edges("json")).unwrap()["levels"][0].clone();
    assert_eq!(country["weight"], "edges");
    let heading = format!(
        "\nBy country ({} countries, {} follow edges)\n",
        country["summary"]["buckets"],
        country["summary"]["total"].as_f64().unwrap()
    );
    assert!(edges("text").contains(&heading), "{heading} not in the text");
    assert!(edges("csv")
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(2) == Some("edges")));
    assert!(edges("html").contains("Weight: <strong id=\"weight\">edges</strong>"));
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let (db, printed) = demo_db(dir.path());
    assert!(!printed.contains('\u{1b}'), "no escape codes in a pipe");
    // `script` gives the report a terminal.
    let on_terminal = |no_color: Option<&str>| {
        let bin = assert_cmd::cargo::cargo_bin("whohosts");
        let cmd = format!("{} --quiet --db {} report", bin.display(), db.display());
        let mut c = std::process::Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]).env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = c.output().expect("script(1) runs");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let coloured = on_terminal(None);
    assert!(coloured.contains("\u{1b}[1mOf the "), "{coloured:.200}");
    assert!(coloured.contains("\u{1b}[36m█"), "bars in colour");
    assert!(!on_terminal(Some("1")).contains('\u{1b}'));
    // An empty NO_COLOR does not count (no-color.org).
    assert!(on_terminal(Some("")).contains('\u{1b}'));
}
