//! Configuration: the `config.toml` file, merged under command-line flags and `WHOHOSTS_*`
//! environment variables.
//!
//! Every key has a `DEFAULT_*` constant here and the same value in the shipped `config.toml`
//! (a test checks the two agree). Production defaults are the safe ones: https only, public
//! addresses only, bounded bodies and timeouts. Tests loosen them through this file, never
//! through `cfg(test)` code.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::model::attribution::AddressPolicy;

mod de;
mod loopback;

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
/// DNS attempts per query.
pub const DEFAULT_DNS_ATTEMPTS: usize = 2;
/// The largest value any `*_secs` key may hold (one week): beyond it no timeout, period or
/// wait makes sense, and every value stays far inside what a `Duration` or `Instant` can hold.
pub const MAX_SECS: f64 = 604_800.0;
/// Upper bound on accounts listed per follow list (a safety net against endless paging).
pub const DEFAULT_MAX_ACCOUNTS: usize = 100_000;
/// Upper bound on pages read per follow list (80 accounts a REST page, 10–40 an ActivityPub
/// page): a server cannot keep a walk going for ever.
pub const DEFAULT_MAX_PAGES: u32 = 2_000;
/// Default `crawl.max_actor_bytes` (256 KiB).
pub const DEFAULT_MAX_ACTOR_BYTES: u64 = 256 * 1024;

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
}

/// Research export settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Export {
    /// Instances with fewer NodeInfo users than this (or no known size) are generalised to
    /// "small instance in ASn" in exports.
    pub min_instance_users: u64,
}

/// Default of `export.min_instance_users`.
pub const DEFAULT_MIN_INSTANCE_USERS: u64 = 10;

impl Default for Export {
    fn default() -> Self {
        Export {
            min_instance_users: DEFAULT_MIN_INSTANCE_USERS,
        }
    }
}

/// HTTP client settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// Accept `http://` URLs, and build URLs from bare domains with `http://` (test worlds only).
    pub allow_http: bool,
    /// `false` (default), `true`, or a list of networks such as `["127.0.0.0/8"]` that may be
    /// reached although private, loopback or link-local.
    pub allow_private_addresses: PrivateAddresses,
    /// Port used when a URL is built from a bare domain; 0 = the scheme's default.
    pub port: u16,
    /// PEM files of extra certificate authorities to trust besides the system's (a private
    /// CA, or a test world's).
    pub extra_root_certificates: Vec<String>,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    #[serde(deserialize_with = "de::seconds")]
    pub connect_timeout_secs: f64,
    #[serde(deserialize_with = "de::seconds")]
    pub request_timeout_secs: f64,
    pub max_retries: u32,
    #[serde(deserialize_with = "de::seconds")]
    pub retry_base_secs: f64,
    #[serde(deserialize_with = "de::seconds")]
    pub max_wait_secs: f64,
    /// Longest a host may make the crawl wait in all (announced pauses and back-offs); past
    /// it, every further request to the host fails at once.
    pub max_host_wait_secs: f64,
    pub global_concurrency: usize,
    pub host_concurrency: usize,
}

/// Which non-public addresses the client may connect to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PrivateAddresses {
    /// `true`: every address; `false`: public addresses only.
    All(bool),
    /// Only these networks, besides public addresses.
    Networks(Vec<IpNetwork>),
}

/// A host's request budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    #[serde(deserialize_with = "de::seconds")]
    pub period_secs: f64,
    pub paged_requests: u32,
    #[serde(deserialize_with = "de::seconds")]
    pub paged_period_secs: f64,
    pub burst: u32,
}

/// `[hosts."name"]`: any key left out keeps the global value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostOverride {
    pub requests: Option<u32>,
    #[serde(deserialize_with = "de::opt_seconds")]
    pub period_secs: Option<f64>,
    pub paged_requests: Option<u32>,
    #[serde(deserialize_with = "de::opt_seconds")]
    pub paged_period_secs: Option<f64>,
    pub burst: Option<u32>,
    pub concurrency: Option<usize>,
}

/// DNS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dns {
    /// `ip` or `ip:port`; empty = the system's resolvers (`/etc/resolv.conf`).
    pub nameservers: Vec<String>,
    #[serde(deserialize_with = "de::seconds")]
    pub timeout_secs: f64,
    pub attempts: usize,
}

/// Crawl settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Crawl {
    /// Walk followers as well as follows.
    pub followers: bool,
    /// Fetch the actor of every account an ActivityPub collection lists only by URI.
    pub fetch_actors: bool,
    /// Stop listing a follow list after this many accounts.
    pub max_accounts: usize,
    /// Stop listing a follow list after this many pages.
    pub max_pages: u32,
    /// Largest actor document read (real ones are a few KiB); a larger one is a fetch error
    /// for that account. Never above `network.max_body_bytes`, which applies too.
    pub max_actor_bytes: u64,
}

/// Attribution settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Attribution {
    /// `split` (default), `ipv4` or `first`: which addresses of a host count.
    pub address_policy: AddressPolicy,
    /// IP-to-ASN database file, or a list of files read as one (say separate IPv4 and IPv6
    /// files); empty = the one `whohosts asn-db update` downloaded.
    pub asn_database: Paths,
    /// Skip bad database lines (and count them) instead of failing.
    pub lenient: bool,
    /// The licence of `asn_database` as the user knows it (not applied to the downloaded
    /// database, whose sidecar states its own); reports say "not stated" without either.
    pub asn_licence: Option<String>,
    /// Without a database, ask Team Cymru's DNS service (through the configured resolver).
    pub online_fallback: bool,
    /// `"AS number" = "Organisation"` entries added to, or replacing, the shipped mapping.
    pub organisations: BTreeMap<String, String>,
}

/// One path or a list of paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Paths {
    One(String),
    Many(Vec<String>),
}

impl Default for Paths {
    fn default() -> Self {
        Paths::One(String::new())
    }
}

impl Paths {
    /// The non-empty paths.
    pub fn list(&self) -> Vec<PathBuf> {
        let all: Vec<&String> = match self {
            Paths::One(p) => vec![p],
            Paths::Many(v) => v.iter().collect(),
        };
        all.into_iter().filter(|p| !p.is_empty()).map(PathBuf::from).collect()
    }
}

impl From<&Path> for Paths {
    fn from(p: &Path) -> Self {
        Paths::One(p.to_string_lossy().into_owned())
    }
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
        }
    }
}

impl Default for Network {
    fn default() -> Self {
        Network {
            allow_http: false,
            allow_private_addresses: PrivateAddresses::All(false),
            port: 0,
            extra_root_certificates: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_base_secs: DEFAULT_RETRY_BASE_SECS,
            max_wait_secs: DEFAULT_MAX_WAIT_SECS,
            max_host_wait_secs: DEFAULT_MAX_HOST_WAIT_SECS,
            global_concurrency: DEFAULT_GLOBAL_CONCURRENCY,
            host_concurrency: DEFAULT_HOST_CONCURRENCY,
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            requests: DEFAULT_REQUESTS,
            period_secs: DEFAULT_PERIOD_SECS,
            paged_requests: DEFAULT_PAGED_REQUESTS,
            paged_period_secs: DEFAULT_PAGED_PERIOD_SECS,
            burst: DEFAULT_BURST,
        }
    }
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            nameservers: Vec::new(),
            timeout_secs: DEFAULT_DNS_TIMEOUT_SECS,
            attempts: DEFAULT_DNS_ATTEMPTS,
        }
    }
}

impl Default for Crawl {
    fn default() -> Self {
        Crawl {
            followers: false,
            fetch_actors: true,
            max_accounts: DEFAULT_MAX_ACCOUNTS,
            max_pages: DEFAULT_MAX_PAGES,
            max_actor_bytes: DEFAULT_MAX_ACTOR_BYTES,
        }
    }
}

impl Default for Attribution {
    fn default() -> Self {
        Attribution {
            address_policy: AddressPolicy::Split,
            asn_database: Paths::default(),
            lenient: false,
            asn_licence: None,
            online_fallback: true,
            organisations: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Parse a configuration from TOML text; `path` only names the source in errors.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file, line and key when the text is not valid.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let mut config: Config = toml::from_str(text).map_err(|e| syntax_error(text, path, &e))?;
        let in_file = |e: Error| Error::Config {
            path: path.to_path_buf(),
            message: match e {
                Error::ConfigValue(m) => m,
                other => other.to_string(),
            },
        };
        config.hosts = normalised_hosts(std::mem::take(&mut config.hosts)).map_err(in_file)?;
        config.validate().map_err(in_file)?;
        Ok(config)
    }

    /// Read and parse a configuration file. Relative paths in it are relative to the file's
    /// directory, wherever whohosts is run from.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Config`] when it does not parse.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file("config file", path, e))?;
        let mut config = Config::from_toml(&text, path)?;
        config.resolve_paths(path.parent().unwrap_or(Path::new("")));
        config.check_files(path)?;
        Ok(config)
    }

    /// Check that the files a config names exist, so a wrong path is reported with its key
    /// and the config file, not later as a bare file name.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file, the key and the path it resolved to.
    fn check_files(&self, path: &Path) -> Result<()> {
        let certs = self.network.extra_root_certificates.iter().map(PathBuf::from);
        let named = certs.map(|p| ("network.extra_root_certificates", p)).chain(
            self.attribution
                .asn_database
                .list()
                .into_iter()
                .map(|p| ("attribution.asn_database", p)),
        );
        for (key, file) in named {
            if !file.is_file() {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!(
                        "{key}: no file {} (relative paths are relative to the config file)",
                        file.display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Make every relative path key (`data_dir`, `network.extra_root_certificates`,
    /// `attribution.asn_database`) relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        let under = |p: &String| -> String {
            if p.is_empty() || Path::new(p).is_absolute() {
                p.clone()
            } else {
                base.join(p).to_string_lossy().into_owned()
            }
        };
        self.data_dir = under(&self.data_dir);
        self.network.extra_root_certificates = self.network.extra_root_certificates.iter().map(under).collect();
        self.attribution.asn_database = match &self.attribution.asn_database {
            Paths::One(p) => Paths::One(under(p)),
            Paths::Many(v) => Paths::Many(v.iter().map(under).collect()),
        };
    }

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
        check_secs("dns.timeout_secs", self.dns.timeout_secs, Floor::AboveZero)?;
        check_count("network.global_concurrency", net.global_concurrency)?;
        check_count("network.host_concurrency", net.host_concurrency)?;
        check_count("crawl.max_accounts", self.crawl.max_accounts)?;
        check_count("crawl.max_pages", self.crawl.max_pages as usize)?;
        check_count(
            "crawl.max_actor_bytes",
            usize::try_from(self.crawl.max_actor_bytes).unwrap_or(usize::MAX),
        )?;
        check_count(
            "export.min_instance_users",
            usize::try_from(self.export.min_instance_users).unwrap_or(usize::MAX),
        )?;
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
        Ok(())
    }

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

/// A `*_secs` value as a [`Duration`], never a panic: values [`Config::validate`] would refuse
/// (only in a config that skipped it) are clamped into `0..=MAX_SECS`, NaN is zero.
pub fn seconds(v: f64) -> Duration {
    Duration::try_from_secs_f64(v.clamp(0.0, MAX_SECS)).unwrap_or(Duration::ZERO)
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
fn normalised_hosts(hosts: BTreeMap<String, HostOverride>) -> Result<BTreeMap<String, HostOverride>> {
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

/// Parse `ip` or `ip:port` (port 53 by default).
///
/// # Errors
/// [`Error::ConfigValue`] naming the bad entry.
pub fn parse_nameserver(s: &str) -> Result<SocketAddr> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    s.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| Error::ConfigValue(format!("dns.nameservers entry {s:?} is not ip or ip:port")))
}

/// A TOML error as one precise line: `FILE:LINE:COLUMN: message (in `the line`)`.
fn syntax_error(text: &str, path: &Path, e: &toml::de::Error) -> Error {
    let start = e.span().map_or(0, |s| s.start).min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    let source_line = text.lines().nth(line - 1).unwrap_or("").trim();
    let shown: String = source_line.chars().take(80).collect();
    let message = e.message().trim().replace('\n', " ");
    Error::ConfigSyntax {
        path: path.to_path_buf(),
        line,
        column,
        message: if shown.is_empty() {
            message
        } else {
            format!("{message} (in `{shown}`)")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_is_the_defaults() {
        let text = include_str!("../../config.toml");
        let parsed = Config::from_toml(text, Path::new("config.toml")).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn bad_lines_name_the_file_and_key() {
        let err = Config::from_toml("[network]\nallow_htp = true\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config c.toml:2:1: unknown field `allow_htp`"), "{err}");
        assert!(err.ends_with(" (in `allow_htp = true`)"), "{err}");
        assert!(!err.contains('\n'), "{err}");
        let err = Config::from_toml("[network]\n\nport = \"x\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config c.toml:3:8: invalid type: string \"x\""),
            "{err}"
        );
        let err = Config::from_toml("[rate_limit]\nrequests = 0\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "config c.toml: rate_limit.requests must be at least 1");
        let err = Config::from_toml("[crawl]\nmax_actor_bytes = 0\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "config c.toml: crawl.max_actor_bytes must be at least 1");
        let err = Config::from_toml("[crawl]\nmax_pages = 0\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "config c.toml: crawl.max_pages must be at least 1");
        let err = Config::from_toml("[crawl]\nmax_pages = -1\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_pages"), "{err}");
    }

    #[test]
    fn paths_in_a_file_are_relative_to_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "data_dir = \"data\"\n[network]\nextra_root_certificates = [\"ca.pem\", \"/etc/abs.pem\"]\n[attribution]\nasn_database = [\"v4.csv\", \"sub/v6.csv\"]\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "config {}: network.extra_root_certificates: no file {} (relative paths are relative to the config file)",
                path.display(),
                dir.path().join("ca.pem").display()
            )
        );
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["ca.pem", "v4.csv", "sub/v6.csv"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains(": network.extra_root_certificates: no file /etc/abs.pem "),
            "{err}"
        );
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("/etc/abs.pem", "abs.pem");
        std::fs::write(&path, text).unwrap();
        std::fs::write(dir.path().join("abs.pem"), "").unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.data_dir(), dir.path().join("data"));
        assert_eq!(
            c.network.extra_root_certificates,
            [
                dir.path().join("ca.pem").to_string_lossy().into_owned(),
                dir.path().join("abs.pem").to_string_lossy().into_owned()
            ]
        );
        assert_eq!(
            c.attribution.asn_database.list(),
            [dir.path().join("v4.csv"), dir.path().join("sub/v6.csv")]
        );
    }

    #[test]
    fn host_override_keeps_unset_keys() {
        let c = Config::from_toml(
            "[hosts.\"big.example\"]\nrequests = 50\nconcurrency = 4\n",
            Path::new("c"),
        )
        .unwrap();
        let (rl, conc) = c.host_budget("big.example");
        assert_eq!((rl.requests, rl.period_secs, conc), (50, 300.0, 4));
        assert_eq!(c.host_budget("other.example").0.requests, 300);
    }

    /// The error for `text`, or "accepted"; the message is checked to name the file.
    fn refusal(text: &str) -> String {
        match Config::from_toml(text, Path::new("c.toml")) {
            Ok(_) => format!("accepted: {text}"),
            Err(e) => {
                let e = e.to_string();
                assert!(e.starts_with("config c.toml: "), "{e}");
                e
            }
        }
    }

    fn assert_ends(err: &str, message: &str) {
        assert!(err.ends_with(&format!(": {message}")), "{err}");
    }

    #[test]
    fn every_duration_is_validated_at_load() {
        let keys = [
            "[network]\nrequest_timeout_secs",
            "[network]\nconnect_timeout_secs",
            "[network]\nretry_base_secs",
            "[network]\nmax_wait_secs",
            "[network]\nmax_host_wait_secs",
            "[dns]\ntimeout_secs",
            "[rate_limit]\nperiod_secs",
            "[rate_limit]\npaged_period_secs",
            "[hosts.\"big.example\"]\nperiod_secs",
            "[hosts.\"big.example\"]\npaged_period_secs",
        ];
        for key in keys {
            for bad in ["-1.0", "nan", "inf", "-inf", "1e300", "604801.0"] {
                let err = refusal(&format!("{key} = {bad}\n"));
                let name = key.replace("]\n", ".").replace('[', "");
                assert!(err.starts_with("config c.toml: "), "{key} = {bad}: {err}");
                assert!(
                    err.contains(&format!("{name} must be a number of seconds")),
                    "{key} = {bad}: {err}"
                );
            }
        }
        for zero_is_bad in [
            "[rate_limit]\nperiod_secs",
            "[hosts.\"big.example\"]\nperiod_secs",
            "[dns]\ntimeout_secs",
        ] {
            assert!(
                refusal(&format!("{zero_is_bad} = 0.0\n")).contains("above 0"),
                "{zero_is_bad}"
            );
        }
        assert_ends(
            &refusal("[hosts.\"big.example\"]\nperiod_secs = 0.0\n"),
            "hosts.\"big.example\".period_secs must be a number of seconds, above 0 and at most 604800, not 0",
        );
        assert_ends(
            &refusal("[hosts.\"big.example\"]\nrequests = 0\n"),
            "hosts.\"big.example\".requests must be at least 1",
        );
        assert!(refusal("[hosts.\"big.example\"]\nconcurrency = 0\n").contains("concurrency must be at least 1"));
        assert!(refusal("[network]\nmax_wait_secs = 0.0\nretry_base_secs = 0.0\n").starts_with("accepted"));
    }

    #[test]
    fn host_keys_are_normalised_like_instance_hosts() {
        let c = Config::from_toml(
            "[hosts.\"Big.Example.\"]\nrequests = 50\n[hosts.\"bücher.example\"]\nburst = 2\n",
            Path::new("c"),
        )
        .unwrap();
        assert_eq!(c.host_budget("big.example").0.requests, 50);
        assert_eq!(c.host_budget("xn--bcher-kva.example").0.burst, 2);
        assert_eq!(c.host_budget("big.example.").0.requests, 50);
        assert_eq!(c.host_budget("BÜCHER.example.").0.burst, 2);
        assert_ends(
            &refusal("[hosts.\"a.example\"]\nburst = 1\n[hosts.\"A.example\"]\nburst = 2\n"),
            "hosts keys \"A.example\" and \"a.example\" both name a.example",
        );
        for bad in ["https://a.example", "a.example:8443", "a.example/x", ""] {
            let err = refusal(&format!("[hosts.\"{bad}\"]\nburst = 1\n"));
            assert!(err.contains(&format!("hosts key {bad:?} is not a host name")), "{err}");
        }
    }

    #[test]
    fn asn_database_takes_one_path_or_a_list() {
        let one = Config::from_toml("[attribution]\nasn_database = \"a.csv\"\n", Path::new("c")).unwrap();
        assert_eq!(one.attribution.asn_database.list(), vec![PathBuf::from("a.csv")]);
        let many = Config::from_toml(
            "[attribution]\nasn_database = [\"v4.csv.gz\", \"v6.csv.gz\"]\n",
            Path::new("c"),
        )
        .unwrap();
        assert_eq!(
            many.attribution.asn_database.list(),
            vec![PathBuf::from("v4.csv.gz"), PathBuf::from("v6.csv.gz")]
        );
        assert!(Config::default().attribution.asn_database.list().is_empty());
    }

    #[test]
    fn private_addresses_accepts_bool_or_networks() {
        let c = Config::from_toml(
            "[network]\nallow_private_addresses = [\"127.0.0.0/8\"]\n",
            Path::new("c"),
        )
        .unwrap();
        assert_eq!(
            c.network.allow_private_addresses,
            PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().unwrap()])
        );
    }
}
