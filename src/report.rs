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
    pub accounts_listed: usize,
    pub accounts_without_server: usize,
    pub hidden_lists: usize,
    pub hidden_accounts: u64,
    pub refused_lists: usize,
    pub partial_lists: usize,
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
                match &l.status {
                    ListStatus::Hidden { unseen } => {
                        p.hidden_lists += 1;
                        p.hidden_accounts += unseen.unwrap_or(0);
                    }
                    ListStatus::Refused { .. } => p.refused_lists += 1,
                    ListStatus::Partial { .. } => p.partial_lists += 1,
                    ListStatus::Complete => {}
                }
            }
        }
        p.unresolved_instances = self.hosts.values().filter(|h| h.dns_error.is_some()).count();
        p
    }

    /// The text report.
    pub fn render(&self, top: usize) -> String {
        let mut out = String::new();
        for s in &self.crawl.seeds {
            render_seed(&mut out, s);
        }
        let p = self.population();
        let _ = writeln!(
            out,
            "\nPopulation: {} listed on {} ({}, {} failed; {} hidden with {} unseen, {} refused, {} partial).",
            plural(p.accounts_listed as u64, "account"),
            plural(p.instances as u64, "instance"),
            plural(p.seeds as u64, "seed"),
            p.seeds_failed,
            plural(p.hidden_lists as u64, "list"),
            plural(p.hidden_accounts, "account"),
            p.refused_lists,
            p.partial_lists
        );
        let src = &self.attribution;
        let db = match &src.database {
            Some(d) => format!(
                "{} ({}, {}, sha256 {}…, {})",
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
        section(&mut out, "instances", &ranked(&self.by_instance()), top);
        section(&mut out, "hosting organisations", &ranked(&self.by_organisation()), top);
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

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
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
    if let Some(e) = &s.error {
        let _ = writeln!(out, "{who}: failed: {}", e.message);
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
            ListStatus::Refused { reason } => format!("refused: {reason}"),
            ListStatus::Partial { reason } => format!("partial: {reason}"),
        };
        let _ = writeln!(
            out,
            "{who} (on {server}): {} {} listed via {}, {} declared; {status}",
            l.accounts.len(),
            l.direction.segment(),
            l.source,
            l.declared.map_or("none".into(), |d| d.to_string()),
        );
    }
}

fn section(out: &mut String, title: &str, shares: &[Share], top: usize) {
    if shares.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nBy {title}: {} in all; {} reach 50 %, {} reach 75 %.",
        shares.len(),
        k_to_reach(shares, 0.5),
        k_to_reach(shares, 0.75)
    );
    for s in shares.iter().take(top) {
        let _ = writeln!(out, "  {:>6.1} %  {:>8.1}  {}", s.share * 100.0, s.weight, s.name);
    }
    if shares.len() > top {
        let rest: f64 = shares[top..].iter().map(|s| s.share).sum();
        let _ = writeln!(
            out,
            "  {:>6.1} %            ({} more)",
            rest * 100.0,
            shares.len() - top
        );
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
