//! Configuration: the `config.toml` file, merged under command-line flags and `WHOHOSTS_*`
//! environment variables.
//!
//! Every key has a `DEFAULT_*` constant here and the same value in the shipped `config.toml`
//! (a test checks the two agree). Production defaults are the safe ones: https only, public
//! addresses only, bounded bodies and timeouts. Tests loosen them through this file, never
//! through `cfg(test)` code.
//!
//! One file per table (`network`, `rate_limit` with `[hosts]`, `dns`, `crawl`, `attribution`,
//! `export`, `report`, `query`, `instances`, `contacts`), re-exported here; `load` reads text and files, `validate` checks the values,
//! `de` explains values serde would refuse in its own terms.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::model::attribution::AddressPolicy;

mod attribution;
mod contacts;
mod crawl;
mod de;
mod dns;
mod export;
mod instances;
mod load;
mod loopback;
mod network;
mod query;
mod rate_limit;
mod report;
mod validate;

pub use attribution::{Attribution, Paths};
pub use contacts::Contacts;
pub use crawl::Crawl;
pub use dns::{parse_nameserver, Dns};
pub use export::Export;
pub use instances::Instances;
pub use network::{Network, PrivateAddresses};
pub use query::Query;
pub use rate_limit::{HostOverride, RateLimit};
pub use report::Report;

/// Contact URL put into the User-Agent unless configured.
pub const DEFAULT_CONTACT_URL: &str = "https://github.com/whohosts/whohosts";
/// Largest response body accepted, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// Redirects followed per request, each re-checked.
pub const DEFAULT_MAX_REDIRECTS: usize = 5;
/// Seconds to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: f64 = 10.0;
/// Seconds for a whole request, body included.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: f64 = 30.0;
/// Retries of a request answered 429, 502 or 503 (not transport failures).
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// First retry delay, doubled at each attempt (plus jitter).
pub const DEFAULT_RETRY_BASE_SECS: f64 = 1.0;
/// Longest wait for one host's rate-limit reset before giving up on that request.
pub const DEFAULT_MAX_WAIT_SECS: f64 = 900.0;
/// Default `network.max_host_wait_secs` (an hour).
pub const DEFAULT_MAX_HOST_WAIT_SECS: f64 = 3600.0;
/// Default `network.idle_connection_secs`: long enough to keep a connection between a
/// host's requests at the shipped steady rates (one a second, one paged request every three
/// seconds), short enough that a run touching thousands of hosts (a survey) does not keep one
/// open connection, about 28 KB, per host it has finished with (reqwest's own default, 90 s,
/// kept every host of a 10,000-instance survey: `bench/RESULTS.md`).
pub const DEFAULT_IDLE_CONNECTION_SECS: f64 = 5.0;
/// Requests in flight across all hosts.
pub const DEFAULT_GLOBAL_CONCURRENCY: usize = 32;
/// Requests in flight to one host.
pub const DEFAULT_HOST_CONCURRENCY: usize = 2;
/// Mastodon's unauthenticated limit: 300 requests per 5 minutes per IP.
pub const DEFAULT_REQUESTS: u32 = 300;
/// The window of [`DEFAULT_REQUESTS`], in seconds.
pub const DEFAULT_PERIOD_SECS: f64 = 300.0;
/// Mastodon's limit for paged requests (`max_id`, `min_id`, `since_id`, `page`): 300 / 15 min.
pub const DEFAULT_PAGED_REQUESTS: u32 = 300;
/// The window of [`DEFAULT_PAGED_REQUESTS`], in seconds.
pub const DEFAULT_PAGED_PERIOD_SECS: f64 = 900.0;
/// Requests a host may receive back to back before the steady rate applies.
pub const DEFAULT_BURST: u32 = 10;
/// Seconds per DNS query attempt.
pub const DEFAULT_DNS_TIMEOUT_SECS: f64 = 5.0;
/// DNS tries per query, the first included (`dns.attempts`).
pub const DEFAULT_DNS_ATTEMPTS: usize = 2;
/// The most tries per query `dns.attempts` may ask for: beyond it a query that gets no
/// answer holds its domain for minutes.
pub const MAX_DNS_ATTEMPTS: usize = 10;
/// Queries in a row that time out with no answer after which the nameserver is taken for
/// not answering and the run's remaining queries fail at once (`dns.not_answering_after`).
pub const DEFAULT_DNS_NOT_ANSWERING_AFTER: usize = 5;
/// The largest value any `*_secs` key may hold (one week): beyond it no timeout, period or
/// wait makes sense, and every value stays far inside what a `Duration` or `Instant` can hold.
pub const MAX_SECS: f64 = 604_800.0;
/// Upper bound on accounts listed per follow list (a safety net against endless paging).
pub const DEFAULT_MAX_ACCOUNTS: usize = 100_000;
/// Upper bound on the accounts a follow list names only by actor URI (each costs an actor
/// fetch): a hostile endless list of fresh URIs stops here, long before `max_pages`.
pub const DEFAULT_MAX_ACTOR_FETCHES: usize = 5_000;
/// Upper bound on pages read per follow list (80 accounts a REST page, 10–40 an ActivityPub
/// page): a server cannot keep a walk going for ever.
pub const DEFAULT_MAX_PAGES: u32 = 2_000;
/// Default `crawl.max_actor_bytes` (256 KiB).
pub const DEFAULT_MAX_ACTOR_BYTES: u64 = 256 * 1024;

/// Default of `export.min_instance_users`.
pub const DEFAULT_MIN_INSTANCE_USERS: u64 = 10;
/// Default of `instances.max_users`: a NodeInfo user count above it is implausible.
pub const DEFAULT_MAX_USERS: u64 = 50_000_000;
/// Default of `export.min_group_members`.
pub const DEFAULT_MIN_GROUP_MEMBERS: u64 = 5;
/// Default of `contacts.max_lookups_per_domain`: the fediverse contacts of one domain a
/// `contacts` run asks by WebFinger (five minutes of a host's default budget, 300 requests
/// per 5 minutes); the others are counted on the instance those were found on.
pub const DEFAULT_MAX_LOOKUPS_PER_DOMAIN: usize = 300;
/// Default of `report.max_unseen_share`: warn when lists hide more than a quarter of the
/// accounts they declare.
pub const DEFAULT_MAX_UNSEEN_SHARE: f64 = 0.25;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Contact URL in the User-Agent: `whohosts/VERSION (+CONTACT_URL)`.
    pub contact_url: String,
    /// Where downloaded databases live; empty = `$XDG_DATA_HOME/whohosts`.
    pub data_dir: String,
    /// The snapshot database; empty = `whohosts.db` in the data directory.
    pub database: String,
    /// HTTP client safety and politeness.
    pub network: Network,
    /// Default per-host request budget.
    pub rate_limit: RateLimit,
    /// Per-host overrides, `[hosts."mastodon.social"]`.
    pub hosts: BTreeMap<String, HostOverride>,
    /// Name resolution.
    pub dns: Dns,
    /// What a crawl fetches.
    pub crawl: Crawl,
    /// How hosts are turned into organisations.
    pub attribution: Attribution,
    /// Research exports.
    pub export: Export,
    /// When a report calls its data degraded.
    pub report: Report,
    /// How far a query may go.
    pub query: Query,
    /// How `whohosts instances` judges NodeInfo user counts.
    pub instances: Instances,
    /// How far `whohosts contacts` asks a contact book's servers.
    pub contacts: Contacts,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            contact_url: DEFAULT_CONTACT_URL.into(),
            data_dir: String::new(),
            database: String::new(),
            network: Network::default(),
            rate_limit: RateLimit::default(),
            hosts: BTreeMap::new(),
            dns: Dns::default(),
            crawl: Crawl::default(),
            attribution: Attribution::default(),
            export: Export::default(),
            report: Report::default(),
            query: Query::default(),
            instances: Instances::default(),
            contacts: Contacts::default(),
        }
    }
}

impl Config {
    /// The User-Agent header value.
    pub fn user_agent(&self) -> String {
        format!("whohosts/{} (+{})", env!("CARGO_PKG_VERSION"), self.contact_url)
    }

    /// The data directory, resolved.
    pub fn data_dir(&self) -> PathBuf {
        if !self.data_dir.is_empty() {
            return PathBuf::from(&self.data_dir);
        }
        if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir).join("whohosts");
        }
        match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".local/share/whohosts"),
            None => PathBuf::from(".whohosts"),
        }
    }

    /// The effective budget of one host: the global one with its `[hosts]` override applied
    /// (`host` is normalised as the keys are, so `Big.example.` finds `big.example`).
    pub fn host_budget(&self, host: &str) -> (RateLimit, usize) {
        let base = &self.rate_limit;
        match self.hosts.get(crate::model::handle::InstanceHost::new(host).as_str()) {
            None => (base.clone(), self.network.host_concurrency),
            Some(o) => (
                RateLimit {
                    requests: o.requests.unwrap_or(base.requests),
                    period_secs: o.period_secs.unwrap_or(base.period_secs),
                    paged_requests: o.paged_requests.unwrap_or(base.paged_requests),
                    paged_period_secs: o.paged_period_secs.unwrap_or(base.paged_period_secs),
                    burst: o.burst.unwrap_or(base.burst),
                },
                o.concurrency.unwrap_or(self.network.host_concurrency),
            ),
        }
    }

    /// The origin (`scheme://host[:port]`) used for URLs built from a bare host name.
    pub fn origin_for(&self, host: &str) -> String {
        let scheme = if self.network.allow_http { "http" } else { "https" };
        if self.network.port == 0 || host.contains(':') {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}:{}", self.network.port)
        }
    }
}

/// A `*_secs` value as a [`Duration`], never a panic: values [`Config::validate`] would refuse
/// (only in a config that skipped it) are clamped into `0..=MAX_SECS`, NaN is zero.
pub fn seconds(v: f64) -> Duration {
    Duration::try_from_secs_f64(v.clamp(0.0, MAX_SECS)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests;
