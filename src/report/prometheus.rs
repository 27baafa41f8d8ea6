//! A snapshot's stored metrics in the Prometheus text exposition format (version 0.0.4), for
//! node_exporter's textfile collector: `--metrics-file FILE` on `crawl` and `report`.
//!
//! Every level under every weight, as stored ([`SnapshotMetrics`]), labelled
//! `level="…",weight="…"`; the population as plain gauges; every metric named `whohosts_…`
//! with its `# HELP` and `# TYPE` lines. Values are written in Rust's shortest round-trip
//! decimal form, so a reader gets back the stored figure exactly. A level with nothing to
//! attribute has `whohosts_buckets 0` and no concentration figures (it is not rated).

use std::fmt::Write;

use crate::metrics::{Concentration, SnapshotMetrics};
use crate::model::time;

/// The per-level figures: name, help, and how to read it from a [`Concentration`].
type Figure = (&'static str, &'static str, fn(&Concentration) -> f64);

const LEVEL_FIGURES: &[Figure] = &[
    (
        "whohosts_total",
        "Weight attributed at this level (the sum of the buckets).",
        |c| c.total,
    ),
    ("whohosts_top1_share", "Share of the largest bucket (0-1).", |c| c.top1),
    (
        "whohosts_top3_share",
        "Share of the 3 largest buckets together (0-1).",
        |c| c.top3,
    ),
    (
        "whohosts_top5_share",
        "Share of the 5 largest buckets together (0-1).",
        |c| c.top5,
    ),
    (
        "whohosts_top10_share",
        "Share of the 10 largest buckets together (0-1).",
        |c| c.top10,
    ),
    (
        "whohosts_k50",
        "Fewest buckets that together hold half of the weight.",
        |c| c.k50 as f64,
    ),
    (
        "whohosts_k75",
        "Fewest buckets that together hold three quarters of the weight.",
        |c| c.k75 as f64,
    ),
    (
        "whohosts_hhi",
        "Herfindahl-Hirschman index, 0-10000 (over 1800: highly concentrated).",
        |c| c.hhi,
    ),
    (
        "whohosts_entropy_nats",
        "Shannon entropy of the shares, in nats.",
        |c| c.entropy,
    ),
    (
        "whohosts_effective_number",
        "Effective number of buckets, e^entropy.",
        |c| c.effective,
    ),
    ("whohosts_gini", "Gini coefficient of the bucket weights (0-1).", |c| {
        c.gini
    }),
];

fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, help);
    let _ = writeln!(out, "{name} {value}");
}

/// The exposition of snapshot `id`, finished at `finished_at` (RFC 3339; left out when it
/// does not parse), with its stored `metrics`.
pub fn render(id: i64, finished_at: &str, metrics: &SnapshotMetrics) -> String {
    let mut out = String::new();
    gauge(
        &mut out,
        "whohosts_snapshot_id",
        "The snapshot these figures are from.",
        id as f64,
    );
    if let Some(secs) = time::parse(finished_at)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
    {
        let help = "When the snapshot's crawl finished, in seconds since the epoch.";
        gauge(
            &mut out,
            "whohosts_snapshot_finished_timestamp_seconds",
            help,
            secs as f64,
        );
    }
    let p = &metrics.population;
    gauge(&mut out, "whohosts_seeds", "Seeds as given.", p.seeds as f64);
    gauge(
        &mut out,
        "whohosts_seeds_failed",
        "Seeds that could not be crawled.",
        p.seeds_failed as f64,
    );
    header(&mut out, "whohosts_lists", "Follow lists read or attempted, by status.");
    for (status, n) in [
        ("complete", p.lists_complete),
        ("hidden", p.lists_hidden),
        ("not_exposed", p.lists_not_exposed),
        ("refused", p.lists_refused),
        ("partial", p.lists_partial),
    ] {
        let _ = writeln!(out, "whohosts_lists{{status=\"{status}\"}} {n}");
    }
    gauge(
        &mut out,
        "whohosts_accounts",
        "Distinct accounts counted.",
        p.accounts as f64,
    );
    let help = "Accounts hidden or not-exposed lists declare but do not show.";
    gauge(&mut out, "whohosts_accounts_unseen", help, p.accounts_unseen as f64);
    let help = "Unseen accounts over unseen plus counted accounts (0-1).";
    gauge(&mut out, "whohosts_unseen_share", help, p.unseen_share());
    gauge(
        &mut out,
        "whohosts_instances",
        "Instances holding a counted account.",
        p.instances as f64,
    );
    header(
        &mut out,
        "whohosts_buckets",
        "Buckets (instances, organisations, ASes ...) at this level.",
    );
    for l in &metrics.levels {
        let _ = writeln!(
            out,
            "whohosts_buckets{{level=\"{}\",weight=\"{}\"}} {}",
            l.level, l.weight, l.summary.buckets
        );
    }
    for (name, help, read) in LEVEL_FIGURES {
        header(&mut out, name, help);
        for l in metrics.levels.iter().filter(|l| l.summary.buckets > 0) {
            let _ = writeln!(
                out,
                "{name}{{level=\"{}\",weight=\"{}\"}} {}",
                l.level,
                l.weight,
                read(&l.summary)
            );
        }
    }
    out
}
