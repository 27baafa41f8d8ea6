//! Who hosts a host, as recorded: the attribution of each address and host, and what produced
//! it (the AS database, the online fallback, the address policy).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Bucket for hosts whose name did not resolve.
pub const UNRESOLVED: &str = "(unresolved)";

/// Bucket for addresses no source could place in an AS.
pub const NO_AS: &str = "(no AS found)";

/// Bucket for addresses whose AS look-up failed (say a Team Cymru query timed out): unknown,
/// not "no AS".
pub const LOOKUP_FAILED: &str = "(AS look-up failed)";

/// One address, attributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressAttribution {
    pub ip: IpAddr,
    pub asn: Option<u32>,
    pub as_name: Option<String>,
    pub organisation: String,
    /// The CDN this address belongs to, when it is a CDN edge.
    pub cdn: Option<String>,
    pub range_start: Option<IpAddr>,
    pub range_end: Option<IpAddr>,
    pub cidr: Option<IpNetwork>,
    pub cover: IpNetwork,
    pub country: Option<String>,
    /// Which database (or service) said so.
    pub source: String,
    /// Why the look-up gave no answer when that is not "no AS found" (a timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_error: Option<String>,
}

/// How the bucket of a CDN-fronted address begins ("behind CDN X, origin unknown").
pub const CDN_BUCKET_PREFIX: &str = "behind CDN ";

/// Whether a bucket label is a CDN bucket (one that hides the origin it fronts).
pub fn is_cdn_bucket(label: &str) -> bool {
    label.starts_with(CDN_BUCKET_PREFIX)
}

impl AddressAttribution {
    /// The bucket this address is credited to in reports.
    pub fn bucket(&self) -> String {
        match &self.cdn {
            Some(cdn) => format!("{CDN_BUCKET_PREFIX}{cdn}, origin unknown"),
            None => self.organisation.clone(),
        }
    }
}

/// One host, attributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostAttribution {
    pub host: String,
    pub cnames: Vec<String>,
    pub dns_error: Option<String>,
    /// Smallest TTL of the answers, seconds (how long they are reused within the run).
    pub dns_ttl: u32,
    pub addresses: Vec<AddressAttribution>,
    /// The address the crawler connected to, when it did.
    pub connected: Option<IpAddr>,
    /// A managed hosting service named in the CNAME chain.
    pub hosting_service: Option<String>,
    /// The host's weight per bucket under the policy; sums to 1.
    pub shares: BTreeMap<String, f64>,
}

/// What produced the attributions, stated in every report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionSource {
    pub database: Option<DbInfo>,
    pub online_fallback: bool,
    pub address_policy: AddressPolicy,
}

/// Where a database came from, recorded with every attribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DbInfo {
    pub file: String,
    pub format: String,
    pub sha256: String,
    /// Build or download date (RFC 3339).
    pub date: String,
    pub ranges_v4: usize,
    pub ranges_v6: usize,
    /// Lines skipped under `--lenient`.
    pub skipped_lines: u64,
    /// The same, per file that had any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_by_file: BTreeMap<String, u64>,
    /// As stated by a sidecar from `asn-db update` or by `attribution.asn_licence`, else
    /// [`load::LICENCE_NOT_STATED`].
    pub licence: String,
}

/// Which of a host's addresses are credited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressPolicy {
    /// All addresses; the host's weight is split evenly between their distinct organisations.
    #[default]
    Split,
    /// IPv4 addresses only (IPv6 when a host has none).
    Ipv4,
    /// Only the address connected to (or the first one resolved).
    First,
}

impl std::str::FromStr for AddressPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "split" => Ok(AddressPolicy::Split),
            "ipv4" => Ok(AddressPolicy::Ipv4),
            "first" => Ok(AddressPolicy::First),
            _ => Err(Error::ConfigValue(format!(
                "address policy {s:?}: expected split, ipv4 or first"
            ))),
        }
    }
}

impl std::fmt::Display for AddressPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AddressPolicy::Split => "split: all addresses, weight split between their organisations",
            AddressPolicy::Ipv4 => "ipv4: IPv4 addresses only",
            AddressPolicy::First => "first: the address connected to",
        })
    }
}
