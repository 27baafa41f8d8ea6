//! Summaries of a crawl: grouped by instance and by who hosts it, as text or JSON.
//!
//! The full metrics suite (HHI, entropy, Gini, k75 at every level) comes with the report
//! issue; this module already states the population, shares and the smallest number of actors
//! that reach half and three quarters of the accounts, and it is what `crawl` and `demo` print.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::account::ListStatus;
use crate::attribution::{AttributionSource, HostAttribution};
use crate::crawl::CrawlReport;

/// A crawl with the attribution of every instance met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub crawl: CrawlReport,
    pub attribution: AttributionSource,
    pub hosts: BTreeMap<String, HostAttribution>,
}

/// Version of the JSON document (`crawl --format json`, `-o`); raised on any change that
/// renames, removes or re-means a field.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON document: version, the summary the text report shows, then the snapshot.
#[derive(Debug, Serialize)]
pub struct Document {
    pub schema_version: u32,
    pub summary: Summary,
    #[serde(flatten)]
    pub snapshot: Snapshot,
}

/// The numbers behind the text report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// What one unit of weight is: `list entries`.
    pub weight: String,
    pub population: Population,
    pub groupings: Vec<Grouping>,
}

/// One row of a grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub name: String,
    pub weight: f64,
    pub share: f64,
}

/// Who was counted and who was not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Population {
    pub seeds: usize,
    pub seeds_failed: usize,
    /// List entries: an account listed by two seeds, or in both directions, counts twice.
    pub accounts_listed: usize,
    /// Distinct accounts among the list entries (by handle, else actor URI).
    pub distinct_accounts: usize,
    pub accounts_without_server: usize,
    pub hidden_lists: usize,
    pub hidden_accounts: u64,
    pub refused_lists: usize,
    pub partial_lists: usize,
    /// Lists whose server declares a count but exposes no items.
    #[serde(default)]
    pub not_exposed_lists: usize,
    #[serde(default)]
    pub not_exposed_accounts: u64,
    /// Items servers listed that were not accounts (skipped, their pages kept).
    #[serde(default)]
    pub skipped_items: u64,
    pub instances: usize,
    pub unresolved_instances: usize,
}

/// Shares sorted largest first (ties by name).
pub fn ranked(weights: &BTreeMap<String, f64>) -> Vec<Share> {
    let total: f64 = weights.values().sum();
    let mut v: Vec<Share> = weights
        .iter()
        .map(|(n, w)| Share {
            name: n.clone(),
            weight: *w,
            share: if total > 0.0 { w / total } else { 0.0 },
        })
        .collect();
    v.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.name.cmp(&b.name)));
    v
}

/// The smallest number of rows whose shares reach `target` (0–1), as
/// [`crate::metrics::k_to_reach`] counts it.
pub fn k_to_reach(shares: &[Share], target: f64) -> usize {
    let shares: Vec<f64> = shares.iter().map(|s| s.share).collect();
    crate::metrics::k_to_reach(&shares, target)
}

impl Snapshot {
    /// Followed accounts per instance host.
    pub fn by_instance(&self) -> BTreeMap<String, f64> {
        self.crawl
            .instances
            .iter()
            .filter(|(_, r)| r.accounts > 0)
            .map(|(h, r)| (h.to_string(), r.accounts as f64))
            .collect()
    }

    /// Followed accounts per hosting bucket (organisation, or "behind CDN X").
    pub fn by_organisation(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (host, r) in &self.crawl.instances {
            if r.accounts == 0 {
                continue;
            }
            let Some(h) = self.hosts.get(host.as_str()) else {
                continue;
            };
            for (bucket, part) in &h.shares {
                *out.entry(bucket.clone()).or_insert(0.0) += part * r.accounts as f64;
            }
        }
        out
    }

    /// Who was counted.
    pub fn population(&self) -> Population {
        let mut p = Population {
            seeds: self.crawl.seeds.len(),
            instances: self.by_instance().len(),
            ..Population::default()
        };
        for s in &self.crawl.seeds {
            if s.error.is_some() {
                p.seeds_failed += 1;
            }
            for l in [&s.following, &s.followers].into_iter().flatten() {
                p.accounts_listed += l.accounts.len();
                p.accounts_without_server += l.accounts.iter().filter(|a| a.server.is_none()).count();
                p.skipped_items = p.skipped_items.saturating_add(l.skipped_total());
                match &l.status {
                    ListStatus::Hidden { unseen } => {
                        p.hidden_lists += 1;
                        p.hidden_accounts += unseen.unwrap_or(0);
                    }
                    ListStatus::NotExposed { unseen } => {
                        p.not_exposed_lists += 1;
                        p.not_exposed_accounts += unseen.unwrap_or(0);
                    }
                    ListStatus::Refused { .. } => p.refused_lists += 1,
                    ListStatus::Partial { .. } => p.partial_lists += 1,
                    ListStatus::Complete => {}
                }
            }
        }
        p.distinct_accounts = self.distinct_accounts();
        p.unresolved_instances = self.hosts.values().filter(|h| h.dns_error.is_some()).count();
        p
    }

    /// The JSON document of this snapshot, with opted-out accounts redacted.
    pub fn document(&self) -> Document {
        Document {
            schema_version: SCHEMA_VERSION,
            summary: Summary {
                weight: "list entries".into(),
                population: self.population(),
                groupings: self.groupings(),
            },
            snapshot: self.redacted(),
        }
    }

    /// The document as pretty JSON, with a final newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.document()).expect("a document serialises: string keys, finite numbers")
            + "\n"
    }

    /// This snapshot with every listed account that opted out of crawlers (DESIGN §6) reduced
    /// to its instance and flags: no handle, display name or actor URI. Aggregates still
    /// count it.
    pub fn redacted(&self) -> Snapshot {
        let mut s = self.clone();
        for seed in &mut s.crawl.seeds {
            for l in [&mut seed.following, &mut seed.followers].into_iter().flatten() {
                for a in l.accounts.iter_mut().filter(|a| !a.may_expand()) {
                    a.handle = None;
                    a.display_name = None;
                    a.actor_uri = None;
                    a.moved_to = None;
                    a.fetch_error = None;
                }
            }
        }
        s
    }

    /// Distinct accounts over every list (by handle, else actor URI; an account with
    /// neither counts once per entry).
    fn distinct_accounts(&self) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        let mut anonymous = 0;
        for s in &self.crawl.seeds {
            for l in [&s.following, &s.followers].into_iter().flatten() {
                for a in &l.accounts {
                    match a.handle.as_deref().or(a.actor_uri.as_deref()) {
                        Some(key) => {
                            seen.insert(key.to_lowercase());
                        }
                        None => anonymous += 1,
                    }
                }
            }
        }
        seen.len() + anonymous
    }

    /// The groupings the report shows, each with its shares and k50/k75.
    pub fn groupings(&self) -> Vec<Grouping> {
        [
            ("instances", self.by_instance()),
            ("hosting organisations", self.by_organisation()),
        ]
        .into_iter()
        .map(|(level, weights)| Grouping::new(level, &weights))
        .collect()
    }

    /// The text report; `top` rows per grouping, 0 meaning all of them.
    pub fn render(&self, top: usize) -> String {
        let mut out = String::new();
        for s in &self.crawl.seeds {
            render_seed(&mut out, s);
        }
        let p = self.population();
        let _ = writeln!(
            out,
            "\nPopulation: {} ({}) on {} ({}, {} failed; {} hidden with {} unseen, {} refused, {} partial{}{}).",
            plural(p.accounts_listed as u64, "list entry"),
            plural(p.distinct_accounts as u64, "distinct account"),
            plural(p.instances as u64, "instance"),
            plural(p.seeds as u64, "seed"),
            p.seeds_failed,
            plural(p.hidden_lists as u64, "list"),
            plural(p.hidden_accounts, "account"),
            p.refused_lists,
            p.partial_lists,
            match p.not_exposed_lists {
                0 => String::new(),
                n => format!(", {n} not exposing items ({} unseen)", p.not_exposed_accounts),
            },
            match p.skipped_items {
                0 => String::new(),
                n => format!("; {} skipped", plural(n, "unreadable item")),
            }
        );
        let src = &self.attribution;
        let db = match &src.database {
            Some(d) => format!(
                "{} ({}, {}, sha256 {}…, licence: {})",
                d.file,
                d.format,
                d.date,
                &d.sha256[..12.min(d.sha256.len())],
                d.licence
            ),
            None if src.online_fallback => crate::asn::cymru::SOURCE.to_string(),
            None => "none: no AS attribution".to_string(),
        };
        let _ = writeln!(out, "Attribution: {db}; address policy {}.", src.address_policy);
        if p.accounts_listed == 0 {
            let _ = writeln!(out, "\nNothing to attribute: no follow list gave any account.");
        }
        for g in self.groupings() {
            section(&mut out, &g, top);
        }
        let services = self.hosting_services();
        if !services.is_empty() {
            let list: Vec<String> = services
                .iter()
                .map(|(name, (instances, accounts))| {
                    format!(
                        "{name} ({}, {})",
                        plural(*instances, "instance"),
                        plural(*accounts, "account")
                    )
                })
                .collect();
            let _ = writeln!(out, "\nManaged hosting seen in DNS: {}.", list.join("; "));
        }
        out
    }

    /// Managed hosting services named in CNAME chains: instances and accounts on each.
    pub fn hosting_services(&self) -> BTreeMap<String, (u64, u64)> {
        let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (host, r) in self.crawl.instances.iter().filter(|(_, r)| r.accounts > 0) {
            if let Some(service) = self.hosts.get(host.as_str()).and_then(|h| h.hosting_service.clone()) {
                let e = out.entry(service).or_default();
                e.0 += 1;
                e.1 += r.accounts;
            }
        }
        out
    }
}

/// `1 account`, `2 accounts`, `2 list entries`.
pub fn plural(n: u64, word: &str) -> String {
    match (n, word.strip_suffix('y')) {
        (1, _) => format!("1 {word}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {word}s"),
    }
}

/// One grouping of the summary: its rows and how few of them reach half and three quarters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grouping {
    /// `instances` or `hosting organisations`.
    pub level: String,
    /// Sum of the weights (list entries).
    pub total: f64,
    pub k50: usize,
    pub k75: usize,
    /// Every row, largest first.
    pub rows: Vec<Share>,
}

impl Grouping {
    fn new(level: &str, weights: &BTreeMap<String, f64>) -> Self {
        let rows = ranked(weights);
        Grouping {
            level: level.to_string(),
            total: weights.values().fold(0.0, |a, b| a + b),
            k50: k_to_reach(&rows, 0.5),
            k75: k_to_reach(&rows, 0.75),
            rows,
        }
    }
}

/// The HTTP status at the end of a failure message (`…: HTTP 404`), if there is one.
fn trailing_status(message: &str) -> Option<&str> {
    let (_, status) = message.rsplit_once("HTTP ")?;
    let status = status.trim_end_matches(')');
    (status.len() == 3 && status.chars().all(|c| c.is_ascii_digit())).then_some(status)
}

/// What went wrong with a failed seed, in one sentence that names it, as said on stderr
/// and in the report: "no such account @x@y (the server answered 404)".
pub fn failure_sentence(s: &crate::crawl::SeedReport) -> String {
    let parsed = s.input.parse::<crate::handle::Handle>().ok().map(|h| h.to_string());
    let who = s.handle.as_deref().or(parsed.as_deref()).unwrap_or(&s.input);
    let Some(e) = &s.error else {
        return format!("{who}: no failure");
    };
    let answered = trailing_status(&e.message).map_or(String::new(), |st| format!(" (the server answered {st})"));
    match e.kind.as_str() {
        "bad-handle" => e.message.clone(),
        "not-found" => format!("no such account {who}{answered}"),
        "unauthorized" => format!("{who}: the server refused to show the account{answered}"),
        "dns" => format!("{who}: its domain does not resolve ({})", e.message),
        _ => format!("{who}: {}", e.message),
    }
}

fn render_seed(out: &mut String, s: &crate::crawl::SeedReport) {
    let who = s.handle.as_deref().unwrap_or(&s.input);
    if let Some(first) = &s.duplicate_of {
        let _ = writeln!(
            out,
            "{}: duplicate of {first} (the same account, {who}), crawled once",
            s.input
        );
        return;
    }
    if s.error.is_some() {
        let _ = writeln!(out, "failed: {}", failure_sentence(s));
        return;
    }
    let server = s.server.as_ref().map(|h| h.to_string()).unwrap_or_default();
    for l in [&s.following, &s.followers].into_iter().flatten() {
        let status = match &l.status {
            ListStatus::Complete => "complete".to_string(),
            ListStatus::Hidden { unseen } => format!(
                "hidden by its owner ({} not visible)",
                unseen.map_or("count unknown".into(), |n| n.to_string())
            ),
            ListStatus::NotExposed { unseen } => format!(
                "items not exposed by the server ({} not visible)",
                unseen.map_or("count unknown".into(), |n| n.to_string())
            ),
            ListStatus::Refused { reason, .. } => format!("refused: {reason}"),
            ListStatus::Partial { reason, .. } => format!("partial: {reason}"),
        };
        let skipped = match l.skipped_total() {
            0 => String::new(),
            n => format!("; {} skipped", plural(n, "unreadable item")),
        };
        let listed = match l.direction {
            crate::account::Direction::Followers => plural(l.accounts.len() as u64, "follower"),
            crate::account::Direction::Following => format!("{} following", l.accounts.len()),
        };
        let _ = writeln!(
            out,
            "{who} (on {server}): {listed} listed via {}, {} declared; {status}{skipped}",
            l.source,
            l.declared.map_or("none".into(), |d| d.to_string()),
        );
    }
}

/// `1 reaches`, `3 reach`.
fn reach(k: usize) -> String {
    if k == 1 {
        "1 reaches".into()
    } else {
        format!("{k} reach")
    }
}

fn section(out: &mut String, g: &Grouping, top: usize) {
    if g.rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nBy {}: {} in all; {} 50 %, {} 75 %.",
        g.level,
        g.rows.len(),
        reach(g.k50),
        reach(g.k75)
    );
    let shown = if top == 0 { g.rows.len() } else { top.min(g.rows.len()) };
    let (head, rest) = g.rows.split_at(shown);
    for s in head {
        let _ = writeln!(out, "  {:>6.1} %  {:>8.1}  {}", s.share * 100.0, s.weight, s.name);
    }
    if !rest.is_empty() {
        let share: f64 = rest.iter().map(|s| s.share).sum();
        let _ = writeln!(out, "  {:>6.1} %            ({} more)", share * 100.0, rest.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_counts_the_smallest_prefix() {
        let w = BTreeMap::from([
            ("a".to_string(), 53.0),
            ("b".to_string(), 22.0),
            ("c".to_string(), 25.0),
        ]);
        let r = ranked(&w);
        assert_eq!(r.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a", "c", "b"]);
        assert_eq!(k_to_reach(&r, 0.5), 1);
        assert_eq!(k_to_reach(&r, 0.75), 2);
        assert_eq!(k_to_reach(&r, 0.79), 3);
    }
}
