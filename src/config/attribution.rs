//! `[attribution]`: how hosts are turned into organisations, and the ASN database paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AddressPolicy;

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
    /// `"MX host suffix" = "Company"` (or `"Company / Service"`) mailbox-provider rules added
    /// to, or replacing, the shipped `data/providers.toml`.
    pub mail_providers: BTreeMap<String, String>,
    /// `"MX host suffix" = "Gateway"` filtering-gateway rules added to, or replacing, the
    /// shipped ones.
    pub mail_gateways: BTreeMap<String, String>,
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

impl Default for Attribution {
    fn default() -> Self {
        Attribution {
            address_policy: AddressPolicy::Split,
            asn_database: Paths::default(),
            lenient: false,
            asn_licence: None,
            online_fallback: true,
            organisations: BTreeMap::new(),
            mail_providers: BTreeMap::new(),
            mail_gateways: BTreeMap::new(),
        }
    }
}
