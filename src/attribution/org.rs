//! Organisations: AS numbers merged into the companies people recognise, CDNs, and managed
//! hosting services seen in CNAME chains.
//!
//! The mapping ships as `data/organisations.toml` inside the binary and can be extended or
//! overridden from config (`[attribution.organisations]`). Unmapped ASes keep their AS name,
//! cleaned of registry handles and country suffixes.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

/// The shipped mapping.
pub const SHIPPED: &str = include_str!("../../data/organisations.toml");

#[derive(Debug, Deserialize)]
struct File {
    organisation: Vec<OrgEntry>,
    #[serde(default)]
    cdn_cname: Vec<Suffix>,
    #[serde(default)]
    hosting_cname: Vec<Suffix>,
}

#[derive(Debug, Deserialize)]
struct OrgEntry {
    name: String,
    asns: Vec<u32>,
    #[serde(default)]
    cdn_asns: Vec<u32>,
}

#[derive(Debug, Clone, Deserialize)]
struct Suffix {
    suffix: String,
    name: String,
}

/// The organisation behind an AS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub name: String,
    /// The AS is a CDN edge: the origin behind it is unknown.
    pub cdn: bool,
}

/// The mapping in force.
#[derive(Debug, Clone)]
pub struct Orgs {
    by_asn: HashMap<u32, Org>,
    cdn_cnames: Vec<Suffix>,
    hosting_cnames: Vec<Suffix>,
}

impl Orgs {
    /// The shipped mapping plus `overrides` ("AS number" → organisation name).
    pub fn new(overrides: &BTreeMap<String, String>) -> Self {
        let file: File = toml::from_str(SHIPPED).expect("the shipped organisations.toml parses (tested)");
        let mut by_asn = HashMap::new();
        for o in file.organisation {
            for asn in &o.asns {
                by_asn.insert(
                    *asn,
                    Org {
                        name: o.name.clone(),
                        cdn: o.cdn_asns.contains(asn),
                    },
                );
            }
        }
        for (asn, name) in overrides {
            if let Ok(n) = asn.trim_start_matches("AS").parse::<u32>() {
                by_asn.insert(
                    n,
                    Org {
                        name: name.clone(),
                        cdn: false,
                    },
                );
            }
        }
        Orgs {
            by_asn,
            cdn_cnames: file.cdn_cname,
            hosting_cnames: file.hosting_cname,
        }
    }

    /// The organisation of `asn`, or its cleaned AS name.
    pub fn of(&self, asn: u32, as_name: &str) -> Org {
        self.by_asn.get(&asn).cloned().unwrap_or_else(|| Org {
            name: clean_as_name(asn, as_name),
            cdn: false,
        })
    }

    /// A CDN named by the CNAME chain.
    pub fn cdn_in(&self, cnames: &[String]) -> Option<String> {
        first_suffix(&self.cdn_cnames, cnames)
    }

    /// A managed hosting service named by the CNAME chain.
    pub fn hosting_in(&self, cnames: &[String]) -> Option<String> {
        first_suffix(&self.hosting_cnames, cnames)
    }
}

fn first_suffix(rules: &[Suffix], names: &[String]) -> Option<String> {
    names.iter().find_map(|n| {
        rules
            .iter()
            .filter(|r| has_suffix(n, &r.suffix))
            .max_by_key(|r| r.suffix.len())
            .map(|r| r.name.clone())
    })
}

/// Whether `host` is `suffix` or ends with `.suffix` (a label boundary), ignoring case and a
/// trailing dot.
pub fn has_suffix(host: &str, suffix: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let s = suffix.trim_end_matches('.').to_ascii_lowercase();
    h == s || h.ends_with(&format!(".{s}"))
}

/// `CLOUDFLARENET - Cloudflare, Inc., US` → `Cloudflare, Inc.`; empty → `AS64500`.
pub fn clean_as_name(asn: u32, name: &str) -> String {
    let mut n = name.trim();
    if let Some((handle, rest)) = n.split_once(" - ") {
        if !handle.contains(' ') {
            n = rest.trim();
        }
    }
    if let Some((rest, cc)) = n.rsplit_once(", ") {
        if cc.len() == 2 && cc.chars().all(|c| c.is_ascii_uppercase()) {
            n = rest.trim();
        }
    }
    if n.is_empty() {
        format!("AS{asn}")
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_mapping_merges_known_companies() {
        let o = Orgs::new(&BTreeMap::new());
        assert_eq!(o.of(16509, "AMAZON-02").name, "Amazon");
        assert_eq!(o.of(14618, "AMAZON-AES").name, "Amazon");
        for asn in [24940, 213230, 212317] {
            assert_eq!(o.of(asn, "x").name, "Hetzner");
        }
        assert_eq!(o.of(35540, "x").name, "OVH");
        assert_eq!(o.of(396982, "x").name, "Google");
        assert!(o.of(13335, "x").cdn);
        assert!(!o.of(63949, "x").cdn, "Linode hosting is not a CDN edge");
        assert_eq!(o.of(64500, "TEST-AS - Tiny Host e.V., DE").name, "Tiny Host e.V.");
    }

    #[test]
    fn overrides_and_cnames() {
        let o = Orgs::new(&BTreeMap::from([("64512".to_string(), "Our Association".to_string())]));
        assert_eq!(o.of(64512, "whatever").name, "Our Association");
        let chain = vec!["social.example.org".to_string(), "example.masto.host".to_string()];
        assert_eq!(o.hosting_in(&chain).as_deref(), Some("Masto.host"));
        assert_eq!(
            o.cdn_in(&["d1.cloudfront.net".to_string()]).as_deref(),
            Some("Amazon CloudFront")
        );
        assert!(!has_suffix("notmasto.host", "masto.host"));
    }
}
