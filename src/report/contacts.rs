//! The contacts report (text and JSON): who serves the addresses of an address book or a
//! mailbox, at every level, with the same figures as the follows report (top-k shares,
//! k50/k75, HHI and its band, effective number), from the one implementation in
//! [`crate::metrics::concentration`].

use std::fmt::Write as _;

use serde_json::json;

use crate::metrics::concentration;
use crate::model::contact::Measurement;
use crate::model::format::Format;

/// The formats the contacts report is written in.
pub const FORMATS: &[Format] = &[Format::Text, Format::Json];

/// Buckets listed per level in text.
const LISTED: usize = 10;

/// A level's buckets, largest first (ties by name).
fn ranked(buckets: &std::collections::BTreeMap<String, f64>) -> Vec<(&str, f64)> {
    let mut v: Vec<(&str, f64)> = buckets
        .iter()
        .map(|(k, w)| (k.as_str(), *w))
        .filter(|(_, w)| *w > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

/// What a weight counts, for sentences (`contacts`, `messages`).
fn unit(m: &Measurement) -> &'static str {
    m.weight
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
            "Of your {} {}, none has a server that was found: nothing to attribute.",
            fmt_w(m.total),
            unit(m)
        );
    }
    let top: Vec<&str> = r.iter().take(c.k50).map(|b| b.0).collect();
    let share: f64 = r.iter().take(c.k50).map(|b| b.1).sum::<f64>() / c.total;
    let found = if (c.total - m.total).abs() > 1e-9 {
        format!(" whose server was found (of {} in all)", fmt_w(m.total))
    } else {
        String::new()
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
    format!(
        "Of your {} {}{found}, {:.0} % {verb} {} {} ({}); {} {} cover 75 %.",
        fmt_w(c.total),
        unit(m),
        share * 100.0,
        c.k50,
        plural(c.k50, noun),
        top.join(", "),
        c.k75,
        plural(c.k75, noun),
    )
}

/// The services of `provider`, largest first, as text: `Gmail 30, Google Workspace 20`.
fn services(m: &Measurement, provider: &str) -> Option<String> {
    let s = m.services.get(provider)?;
    let parts: Vec<String> = ranked(s).iter().map(|(k, w)| format!("{k} {}", fmt_w(*w))).collect();
    Some(parts.join(", "))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// A weight as a person reads it: whole numbers without decimals.
fn fmt_w(w: f64) -> String {
    if (w - w.round()).abs() < 1e-9 {
        format!("{}", w.round() as i64)
    } else {
        format!("{w:.2}")
    }
}

/// The report of `m` in `format` (JSON, or text for every other format), through the one
/// terminal sanitiser as every report is: names from files and servers (display names, AS
/// names) reach a terminal with their control characters made visible.
pub fn render(m: &Measurement, format: Format) -> String {
    let rendered = match format {
        Format::Json => json(m),
        _ => text(m),
    };
    format.safe(rendered, false)
}

/// The text report.
pub fn text(m: &Measurement) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(m));
    let _ = writeln!(
        out,
        "{} distinct addresses, weighed by {}; {} malformed entries skipped.",
        m.addresses, m.weight, m.malformed
    );
    if !m.apart.is_empty() {
        let parts: Vec<String> = m.apart.iter().map(|(why, w)| format!("{} {why}", fmt_w(*w))).collect();
        let _ = writeln!(out, "Server not found: {}.", parts.join("; "));
    }
    for (level, buckets) in &m.levels {
        let r = ranked(buckets);
        let c = concentration(&r.iter().map(|b| b.1).collect::<Vec<_>>());
        let _ = writeln!(
            out,
            "\nBy {level} ({} {}, {} {})",
            r.len(),
            match (level.as_str(), r.len()) {
                ("country", n) if n != 1 => "countries".to_string(),
                (l, n) => plural(n, l),
            },
            fmt_w(c.total),
            unit(m)
        );
        if c.total <= 0.0 {
            let _ = writeln!(out, "  nothing to attribute");
            continue;
        }
        for (name, w) in r.iter().take(LISTED) {
            let beside = match services(m, name) {
                Some(s) if level == "provider" => format!(" ({s})"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:>5.1} %  {:>7}  {name}{beside}",
                100.0 * w / c.total,
                fmt_w(*w)
            );
        }
        if r.len() > LISTED {
            let _ = writeln!(out, "  … {} more", r.len() - LISTED);
        }
        let _ = writeln!(
            out,
            "  top-3 {:.1} %, k50 {}, k75 {}, HHI {:.0} ({}), effective number {:.1}",
            c.top3 * 100.0,
            c.k50,
            c.k75,
            c.hhi,
            c.band.as_str(),
            c.effective
        );
    }
    out
}

/// The JSON report.
pub fn json(m: &Measurement) -> String {
    let levels: Vec<serde_json::Value> = m
        .levels
        .iter()
        .map(|(level, buckets)| {
            let r = ranked(buckets);
            let c = concentration(&r.iter().map(|b| b.1).collect::<Vec<_>>());
            json!({
                "level": level,
                "metrics": c,
                "buckets": r.iter().map(|(k, w)| {
                    let mut b = json!({"key": k, "weight": w, "share": if c.total > 0.0 { w / c.total } else { 0.0 }});
                    if let (true, Some(s)) = (level == "provider", m.services.get(*k)) {
                        b["services"] = json!(s);
                    }
                    b
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "kind": "contacts",
        "headline": headline(m),
        "weight": m.weight,
        "addresses": m.addresses,
        "total": m.total,
        "malformed": m.malformed,
        "not_found": m.apart,
        "levels": levels,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
