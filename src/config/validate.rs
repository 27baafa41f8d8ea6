//! Checking values that parse but make no sense: durations, counts, `[hosts]` keys,
//! nameservers and organisation keys, each refusal naming its key.

use std::collections::BTreeMap;

use super::{parse_nameserver, Config, HostOverride, RateLimit, MAX_SECS};
use crate::error::{Error, Result};

impl Config {
    /// Check values that parse but make no sense.
    ///
    /// # Errors
    /// [`Error::ConfigValue`] naming the key.
    pub fn validate(&self) -> Result<()> {
        let net = &self.network;
        check_secs(
            "network.request_timeout_secs",
            net.request_timeout_secs,
            Floor::AboveZero,
        )?;
        check_secs(
            "network.connect_timeout_secs",
            net.connect_timeout_secs,
            Floor::AboveZero,
        )?;
        check_secs("network.retry_base_secs", net.retry_base_secs, Floor::Zero)?;
        check_secs("network.max_wait_secs", net.max_wait_secs, Floor::Zero)?;
        check_secs("network.max_host_wait_secs", net.max_host_wait_secs, Floor::Zero)?;
        check_secs("network.idle_connection_secs", net.idle_connection_secs, Floor::Zero)?;
        check_secs("dns.timeout_secs", self.dns.timeout_secs, Floor::AboveZero)?;
        self.dns.validate()?;
        check_count("network.global_concurrency", net.global_concurrency)?;
        check_count("network.host_concurrency", net.host_concurrency)?;
        check_count("crawl.max_accounts", self.crawl.max_accounts)?;
        check_count("crawl.max_actor_fetches", self.crawl.max_actor_fetches)?;
        check_count(
            "instances.max_users",
            usize::try_from(self.instances.max_users).unwrap_or(usize::MAX),
        )?;
        check_count("contacts.max_lookups_per_domain", self.contacts.max_lookups_per_domain)?;
        check_count("crawl.max_pages", self.crawl.max_pages as usize)?;
        check_count(
            "crawl.max_actor_bytes",
            usize::try_from(self.crawl.max_actor_bytes).unwrap_or(usize::MAX),
        )?;
        // `export.min_instance_users` may be 0: no instance is generalised for its size.
        check_count(
            "query.time_limit_seconds",
            usize::try_from(self.query.time_limit_seconds).unwrap_or(usize::MAX),
        )?;
        check_count(
            "query.memory_limit_mb",
            usize::try_from(self.query.memory_limit_mb).unwrap_or(usize::MAX),
        )?;
        check_count(
            "export.min_group_members",
            usize::try_from(self.export.min_group_members).unwrap_or(usize::MAX),
        )?;
        let unseen = self.report.max_unseen_share;
        if !(0.0..=1.0).contains(&unseen) {
            return Err(Error::ConfigValue(format!(
                "report.max_unseen_share = {unseen}: expected a share from 0 to 1"
            )));
        }
        self.rate_limit.validate("rate_limit")?;
        for (host, o) in &self.hosts {
            check_host_key(host)?;
            let (budget, concurrency) = self.host_budget(host);
            budget.validate(&format!("hosts.{host:?}"))?;
            if o.concurrency.is_some() {
                check_count(&format!("hosts.{host:?}.concurrency"), concurrency)?;
            }
        }
        for ns in &self.dns.nameservers {
            parse_nameserver(ns)?;
        }
        for asn in self.attribution.organisations.keys() {
            asn.trim_start_matches("AS").parse::<u32>().map_err(|_| {
                Error::ConfigValue(format!("attribution.organisations key {asn:?} is not an AS number"))
            })?;
        }
        for (table, rules) in [
            ("mail_providers", &self.attribution.mail_providers),
            ("mail_gateways", &self.attribution.mail_gateways),
        ] {
            for (suffix, name) in rules {
                if crate::model::handle::domain_problem(suffix.trim_end_matches('.')).is_some() || suffix.contains(':')
                {
                    return Err(Error::ConfigValue(format!(
                        "attribution.{table} key {suffix:?} is not a host-name suffix"
                    )));
                }
                if name.trim().is_empty() {
                    return Err(Error::ConfigValue(format!(
                        "attribution.{table}.{suffix:?} names no one"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl RateLimit {
    /// Check a budget; `table` names it in errors (`rate_limit`, `hosts."name"`).
    fn validate(&self, table: &str) -> Result<()> {
        check_secs(&format!("{table}.period_secs"), self.period_secs, Floor::AboveZero)?;
        check_secs(
            &format!("{table}.paged_period_secs"),
            self.paged_period_secs,
            Floor::AboveZero,
        )?;
        check_count(&format!("{table}.requests"), self.requests as usize)?;
        check_count(&format!("{table}.paged_requests"), self.paged_requests as usize)?;
        check_count(&format!("{table}.burst"), self.burst as usize)
    }
}

/// The smallest value a `*_secs` key may hold.
#[derive(Clone, Copy)]
enum Floor {
    Zero,
    AboveZero,
}

/// A number of seconds: finite, at least the floor, at most [`MAX_SECS`].
fn check_secs(key: &str, v: f64, floor: Floor) -> Result<()> {
    let (low_ok, low) = match floor {
        Floor::Zero => (v >= 0.0, "0 or more"),
        Floor::AboveZero => (v > 0.0, "above 0"),
    };
    if v.is_finite() && low_ok && v <= MAX_SECS {
        return Ok(());
    }
    Err(Error::ConfigValue(format!(
        "{key} must be a number of seconds, {low} and at most {MAX_SECS}, not {v}"
    )))
}

fn check_count(key: &str, v: usize) -> Result<()> {
    match v {
        0 => Err(Error::ConfigValue(format!("{key} must be at least 1"))),
        _ => Ok(()),
    }
}

/// A `[hosts]` key in the form instance hosts take: lower-case, no trailing dot, IDNs in
/// punycode, no port.
fn normalised_host_key(key: &str) -> Result<String> {
    let norm = crate::model::handle::InstanceHost::new(key).as_str().to_string();
    match url::Host::parse(&norm) {
        Ok(_) if !norm.is_empty() => Ok(norm),
        _ => Err(Error::ConfigValue(format!(
            "hosts key {key:?} is not a host name (write [hosts.\"mastodon.example\"], no scheme, port or path)"
        ))),
    }
}

fn check_host_key(key: &str) -> Result<()> {
    match normalised_host_key(key)? == key {
        true => Ok(()),
        false => Err(Error::ConfigValue(format!("hosts key {key:?} is not normalised"))),
    }
}

/// `[hosts]` with every key normalised; two keys naming the same host are refused.
pub(super) fn normalised_hosts(hosts: BTreeMap<String, HostOverride>) -> Result<BTreeMap<String, HostOverride>> {
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (key, o) in hosts {
        let norm = normalised_host_key(&key)?;
        if let Some(first) = seen.insert(norm.clone(), key.clone()) {
            return Err(Error::ConfigValue(format!(
                "hosts keys {first:?} and {key:?} both name {norm}"
            )));
        }
        out.insert(norm, o);
    }
    Ok(out)
}
