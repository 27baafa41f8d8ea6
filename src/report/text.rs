//! The text report (what `crawl`, `demo` and `report` print): a headline in plain words, the
//! trend when there is one, then each seed, each level as a ranked table with bars, the
//! population and the data credits. Every line fits [`WIDTH`] columns; colour (ANSI) only
//! when the caller asks for it ([`color_wanted`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{plural, Report};
use crate::metrics::{apart_counts_instances, Band, Concentration, Level, LevelMetrics, Population, Weight};

/// Columns the text report fits.
pub const WIDTH: usize = 80;

/// Longest bucket label shown in a table (longer ones end in "…").
const LABEL_MAX: usize = 37;

/// Longest name (a host, a list's path, a series) shown within a sentence or before what
/// became of it (longer ones end in "…", [`cut`]).
pub const NAME_MAX: usize = 40;

const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/// Colour for a terminal that wants it: stdout is a terminal and `NO_COLOR` is unset or
/// empty (<https://no-color.org>).
pub fn color_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn code(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// A weight as a whole number when it is one, else to one decimal.
pub fn amount(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{:.0}", x.round())
    } else {
        format!("{x:.1}")
    }
}

/// An HHI as a whole number (half up, as everywhere in the reports).
pub fn hhi(x: f64) -> String {
    format!("{}", x.round())
}

/// A share (0–1) as `32.0 %`.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// `text` word-wrapped to [`WIDTH`]: the first line after `first`, the others after `rest`.
/// A word longer than a whole line (a long name or path) is [`cut`] to the line, so no line
/// passes [`WIDTH`] columns.
pub fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    // A lone "%" stays with its number.
    let mut words: Vec<String> = vec![];
    for w in text.split(' ').filter(|w| !w.is_empty()) {
        match words.last_mut() {
            Some(last) if w.starts_with('%') => {
                last.push(' ');
                last.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
    }
    for word in &words {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out += line.trim_end();
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        let room = WIDTH.saturating_sub(line.chars().count()).max(1);
        line += &cut(word, room);
        empty = false;
    }
    out += line.trim_end();
    out.push('\n');
    out
}

/// A horizontal bar of `share` (0–1) on `width` cells, in eighths of a cell.
pub fn bar(share: f64, width: usize) -> String {
    let eighths = (share.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    "█".repeat(eighths / 8) + EIGHTHS[eighths % 8]
}

/// What a level is called in a title.
pub fn level_title(l: Level) -> &'static str {
    match l {
        Level::Instance => "instance",
        Level::Organisation => "hosting organisation",
        Level::As => "autonomous system",
        Level::Range => "address range",
        Level::Block => "/24 or /48 block",
        Level::Country => "country",
        Level::Hosting => "managed-hosting service",
    }
}

/// What one bucket of a level is, singular and plural.
pub fn bucket_nouns(l: Level) -> (&'static str, &'static str) {
    match l {
        Level::Instance => ("instance", "instances"),
        Level::Organisation => ("organisation", "organisations"),
        Level::As => ("autonomous system", "autonomous systems"),
        Level::Range => ("address range", "address ranges"),
        Level::Block => ("block", "blocks"),
        Level::Country => ("country", "countries"),
        Level::Hosting => ("service", "services"),
    }
}

/// What one unit of a weight is, singular and plural (as a level heading counts it, and a
/// survey's headline).
pub(super) fn weight_nouns(w: Weight) -> (&'static str, &'static str) {
    match w {
        Weight::Accounts => ("account", "accounts"),
        Weight::Edges => ("follow edge", "follow edges"),
        Weight::Instances => ("instance", "instances"),
        Weight::Users => ("user", "users"),
        Weight::Active => ("active account", "active accounts"),
    }
}

/// `n` and its noun, singular for exactly one.
fn counted(n: f64, (one, many): (&str, &str)) -> String {
    let noun = if (n - 1.0).abs() < 1e-9 { one } else { many };
    format!("{} {noun}", amount(n))
}

/// A level's heading, counting what it names: "By hosting organisation (11 organisations,
/// 408 accounts)" (the same in every format).
pub fn level_heading(l: &LevelMetrics) -> String {
    heading(
        level_title(l.level),
        (l.summary.buckets, bucket_nouns(l.level)),
        (l.summary.total, weight_nouns(l.weight)),
    )
}

/// The heading of a level of any report (follows, contacts): "By TITLE (N buckets, M units)",
/// each count with its noun, singular for exactly one; one count when both count the same
/// thing (instances weighted by instances: "By instance (31 instances)").
pub fn heading(title: &str, buckets: (usize, (&str, &str)), total: (f64, (&str, &str))) -> String {
    if buckets.1 == total.1 && buckets.0 as f64 == total.0 {
        return format!("By {title} ({})", counted(total.0, total.1));
    }
    format!(
        "By {title} ({}, {})",
        counted(buckets.0 as f64, buckets.1),
        counted(total.0, total.1)
    )
}

/// What a weight counts, in words.
pub fn weight_about(w: Weight) -> &'static str {
    match w {
        Weight::Accounts => "distinct accounts (one followed by two seeds counts once)",
        Weight::Edges => "follow edges (seed to account, per direction)",
        Weight::Instances => "instances (each counts once)",
        Weight::Users => "the users each instance declares (NodeInfo)",
        Weight::Active => "accounts that posted within the last 90 days",
    }
}

/// The band in words.
pub fn band_words(b: Band) -> &'static str {
    match b {
        Band::Unconcentrated => "unconcentrated",
        Band::Moderate => "moderately concentrated",
        Band::High => "highly concentrated",
    }
}

fn unit(w: Weight, followers: bool) -> &'static str {
    units(w, followers, false)
}

/// What one unit of weight is, in the plural or (`one`) the singular.
fn units(w: Weight, followers: bool, one: bool) -> &'static str {
    match (w, followers) {
        (Weight::Accounts, false) if one => "account followed",
        (Weight::Accounts, true) if one => "account listed",
        (Weight::Edges, _) if one => "follow edge",
        (Weight::Instances, _) if one => "instance",
        (Weight::Users, _) if one => "user of these instances",
        (Weight::Active, _) if one => "active account",
        (Weight::Accounts, false) => "accounts followed",
        (Weight::Accounts, true) => "accounts listed",
        (Weight::Edges, _) => "follow edges",
        (Weight::Instances, _) => "instances",
        (Weight::Users, _) => "users of these instances",
        (Weight::Active, _) => "active accounts",
    }
}

/// The headline in plain words (shared by the text and HTML reports).
pub fn headline(r: &Report) -> String {
    let h = &r.headline;
    if h.total <= 0.0 {
        return format!(
            "Nothing to attribute: no {} could be attributed to a hosting organisation.",
            unit(r.weight, h.followers)
        );
    }
    let mut notes = vec![];
    if h.apart > 0.0 {
        notes.push(format!("{} with a known host", amount(h.total)));
    }
    if h.instances_apart > 0.0 {
        notes.push(format!(
            "{} without a user count counted apart",
            counted(h.instances_apart, ("instance", "instances"))
        ));
    }
    let known = match notes.is_empty() {
        true => String::new(),
        false => format!(" ({})", notes.join("; ")),
    };
    let mut leaders: Vec<String> = h.k50_names.iter().take(3).cloned().collect();
    if h.k50 > 3 {
        leaders.push("…".into());
    }
    let names = name_list(&leaders);
    let orgs = |n: usize| {
        if n == 1 {
            "1 organisation".to_string()
        } else {
            format!("{n} organisations")
        }
    };
    let all = h.total + h.apart;
    let cover = if h.k75 == 1 { "covers" } else { "cover" };
    let cdn = match (h.k75, h.k75_cdn) {
        (_, 0) => String::new(),
        (1, _) => ", a CDN that hides the origin".to_string(),
        (_, 1) => ", one of them a CDN that hides the origin".to_string(),
        (_, n) => format!(", {n} of them CDNs that hide the origin"),
    };
    let mut s = format!(
        "Of the {} {}{known}, {:.0} % are hosted by {} ({names}); {} {cover} 75 %{cdn}. Hosting \
         is {} (HHI {}).",
        amount(all),
        units(r.weight, h.followers, (all - 1.0).abs() < 1e-9),
        h.k50_share * 100.0,
        orgs(h.k50),
        orgs(h.k75),
        band_words(h.band),
        hhi(h.hhi)
    );
    if let Some(top) = &h.top_instance {
        // Under `instances` each instance counts once: "the largest" would mean nothing.
        let holds = match r.weight {
            Weight::Instances => None,
            Weight::Users => Some("declares"),
            _ => Some("holds"),
        };
        let of = match r.weight {
            Weight::Users => " of the users",
            _ => "",
        };
        if let Some(holds) = holds {
            let _ = write!(
                s,
                " Instances: {}; the largest, {top}, {holds} {:.0} %{of}.",
                h.instances,
                h.top_instance_share * 100.0
            );
        }
    }
    s
}

/// Names listed in prose, unambiguous: joined with ", ", or with "; " when a name holds a
/// comma ("behind CDN Cloudflare, origin unknown"), so that no name reads as two.
pub fn name_list(names: &[String]) -> String {
    let sep = if names.iter().any(|n| n.contains(',')) {
        "; "
    } else {
        ", "
    };
    names.join(sep)
}

/// The text report; `top` rows per level, ANSI colours when `color`.
pub fn render(r: &Report, top: usize, color: bool) -> String {
    let paint = Paint(color);
    let mut out = paint.code("1", wrap(&headline(r), "", "").trim_end()) + "\n";
    out += &wrap(&format!("Weight: {} — {}.", r.weight, weight_about(r.weight)), "", "  ");
    out += &super::trend::render_text(r);
    out.push('\n');
    for s in &r.data.crawl.seeds {
        out += &wrap(&seed_line(s), "", "  ");
    }
    if let Some(d) = &r.data.crawl.depth {
        out += &wrap(&super::seeds::depth_line(d, r.data.crawl.seeds.len()), "", "  ");
    }
    for l in &r.levels {
        out.push('\n');
        out += &level(l, top, paint);
    }
    out.push('\n');
    out += &managed(r);
    out += &wrap(&population(&r.population), "", "  ");
    out += &wrap(&credits(r), "", "  ");
    out
}

pub use super::seeds::seed_line;

/// `label` cut to at most `width` characters, ending in `…` when it was cut: a long name
/// in a table cell or on a line of text (text only: JSON and CSV keep the full value).
pub fn cut(label: &str, width: usize) -> String {
    if label.chars().count() <= width {
        label.to_string()
    } else {
        label.chars().take(width - 1).collect::<String>() + "…"
    }
}

/// Whether what a reason counted apart under a weight is a number of instances rather than an
/// amount of the weight (for the follows report, [`apart_counts_instances`]).
pub type CountsInstances = fn(Weight, &str) -> bool;

/// One level without colour, as every text report writes it (the instance-list report too,
/// whose own reasons count instances).
pub(super) fn plain_level(l: &LevelMetrics, top: usize, counts: CountsInstances) -> String {
    level_as(l, top, Paint(false), counts)
}

/// One level of the follows report.
fn level(l: &LevelMetrics, top: usize, paint: Paint) -> String {
    level_as(l, top, paint, apart_counts_instances)
}

/// One level: its ranked rows ([`ranked`]) and what it counted apart, `counts` telling which
/// reasons count instances.
fn level_as(l: &LevelMetrics, top: usize, paint: Paint, counts: CountsInstances) -> String {
    let mut out = ranked(&level_heading(l), &l.buckets, &l.summary, top, paint.0);
    if let Some(apart) = apart_as(l, counts) {
        out += &wrap(&apart, "  ", "  ");
    }
    out
}

/// A level of any report (follows, contacts) as text: its heading, its first `top` buckets
/// ranked with bars (the rest in one row), and its figures ([`metrics_line`], the band in
/// words, coloured when `color`); a level with no bucket is not rated.
pub fn ranked(heading: &str, buckets: &[crate::metrics::Bucket], s: &Concentration, top: usize, color: bool) -> String {
    let paint = Paint(color);
    let mut out = paint.code("1", heading) + "\n";
    let shown = &buckets[..top.min(buckets.len())];
    let label_w = shown
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(12, LABEL_MAX);
    let bar_w = WIDTH - 28 - label_w;
    for (i, b) in shown.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>3}  {:<label_w$}  {:>8}  {:>7}  {}",
            i + 1,
            cut(&b.label, label_w),
            amount(b.weight),
            percent(b.share),
            paint.code("36", &bar(b.share, bar_w))
        );
    }
    if let Some(rest) = buckets.get(top..).filter(|r| !r.is_empty()) {
        let share = crate::metrics::sum(rest.iter().map(|b| b.share));
        let weight = crate::metrics::sum(rest.iter().map(|b| b.weight));
        let more = format!("({} more)", rest.len());
        let _ = writeln!(
            out,
            "  {:>3}  {:<label_w$}  {:>8}  {:>7}  {}",
            "",
            more,
            amount(weight),
            percent(share),
            paint.code("2", &bar(share, bar_w))
        );
    }
    let band = band_words(s.band);
    let line = metrics_line(s);
    let colour = match s.band {
        Band::High => "31",
        Band::Moderate => "33",
        Band::Unconcentrated => "32",
    };
    out += &if s.buckets == 0 {
        wrap(&line, "  ", "  ")
    } else {
        wrap(&line, "  ", "  ").replacen(band, &paint.code(colour, band), 1)
    };
    out
}

/// Managed hosting seen in DNS, one line (empty when none).
pub fn managed(r: &Report) -> String {
    if r.managed.is_empty() {
        return String::new();
    }
    let list: Vec<String> = r
        .managed
        .iter()
        .map(|m| {
            format!(
                "{} ({} instances, {} {})",
                m.service,
                amount(m.instances),
                amount(m.amount),
                r.weight
            )
        })
        .collect();
    wrap(&format!("Managed hosting seen in DNS: {}.", list.join("; ")), "", "  ")
}

/// A level's figures in one sentence: top-3, k50, k75, HHI and band, effective number, Gini;
/// a level with no bucket is not rated ("nothing to attribute").
pub fn metrics_line(s: &Concentration) -> String {
    if s.buckets == 0 {
        return "nothing to attribute at this level: not rated.".into();
    }
    format!(
        "top-3 {}, k50 {}, k75 {}, HHI {} ({}), effective number {:.1}, Gini {:.2}.",
        percent(s.top3),
        s.k50,
        s.k75,
        hhi(s.hhi),
        band_words(s.band),
        s.effective,
        s.gini
    )
}

/// What a level counted apart, in one sentence; `None` when nothing was.
pub fn apart(l: &LevelMetrics) -> Option<String> {
    apart_as(l, apart_counts_instances)
}

/// As [`apart`], with `counts` telling which reasons count instances.
pub(super) fn apart_as(l: &LevelMetrics, counts: CountsInstances) -> Option<String> {
    apart_line(&l.apart, |what| counts(l.weight, what))
}

/// "Counted apart: 3 no AS, 1 unresolved." — what a level of any report (follows, survey,
/// contacts) counted apart, by reason; `instances` tells which reasons count instances
/// rather than an amount of the weight. `None` when nothing was.
pub(super) fn apart_line(apart: &BTreeMap<String, f64>, instances: impl Fn(&str) -> bool) -> Option<String> {
    if apart.is_empty() {
        return None;
    }
    let apart: Vec<String> = apart
        .iter()
        .map(|(what, n)| match instances(what) {
            true => format!("{} ({what})", counted(*n, ("instance", "instances"))),
            false => format!("{} {what}", amount(*n)),
        })
        .collect();
    Some(format!("Counted apart: {}.", apart.join(", ")))
}

/// The population line.
pub fn population(p: &Population) -> String {
    let duplicates = match p.seeds_duplicate {
        0 => String::new(),
        n => format!(", {n} duplicate"),
    };
    let mut out = format!(
        "Population: {} ({}, {}) on {}, from {} ({} failed{duplicates}).",
        plural(p.accounts as u64, "distinct account"),
        plural(p.list_entries as u64, "list entry"),
        plural(p.edges as u64, "follow edge"),
        plural(p.instances as u64, "instance"),
        plural(p.seeds as u64, "seed"),
        p.seeds_failed,
    );
    // A deeper crawl: which lists, of which depth, the figures above count.
    if !p.by_depth.is_empty() {
        let parts: Vec<String> = p
            .by_depth
            .iter()
            .map(|d| {
                let whose = if d.depth == 1 { "the seeds'; " } else { "" };
                format!(
                    "{} at depth {} ({whose}{}, {} complete)",
                    plural(d.lists as u64, "list"),
                    d.depth,
                    plural(d.list_entries as u64, "entry"),
                    d.lists_complete
                )
            })
            .collect();
        let _ = write!(out, " Lists read: {}.", parts.join(", "));
    }
    // Only what there is: a category with none is left out.
    let unseen = "Declared but unseen in hidden and not-exposed lists";
    for (what, n, noun) in [
        ("Hidden", p.lists_hidden as u64, "list"),
        ("Not exposed", p.lists_not_exposed as u64, "list"),
        (unseen, p.accounts_unseen, "account"),
        ("Refused", p.lists_refused as u64, "list"),
        ("Partial", p.lists_partial as u64, "list"),
        ("Unresolved", p.instances_unresolved as u64, "instance"),
        ("Opted out", p.accounts_opted_out as u64, "account"),
    ] {
        if n > 0 {
            let _ = write!(out, " {what}: {}.", plural(n, noun));
        }
    }
    out
}

/// The data credits: which ASN database (date, licence) and the address policy.
pub fn credits(r: &Report) -> String {
    let src = &r.data.attribution;
    let db = match &src.database {
        Some(d) => format!(
            "{} ({}, dated {}, sha256 {}…{}), licence: {}",
            d.file,
            d.format,
            d.date,
            d.sha256.get(..12).unwrap_or(&d.sha256),
            match d.skipped_lines {
                0 => String::new(),
                n => format!(", {} skipped under --lenient", plural(n, "bad line")),
            },
            d.licence
        ),
        None if src.online_fallback => crate::attribution::asn::cymru::SOURCE.to_string(),
        None => "none: no AS attribution".to_string(),
    };
    format!("Data: IP-to-AS {db}; address policy {}.", src.address_policy)
}
