//! A simulated world: providers (test ASes owning loopback ranges), instances and accounts.
//!
//! Read from TOML (see `tests/fixtures/worlds/`) or generated from a seed and a size with a
//! heavy tail (one instance holding about 30 % of accounts, a long tail of single-user ones).
//! Each instance gets its own 127.x.y.z address inside its provider's range, so attribution
//! sees distinct addresses; the world also writes the ASN fixture mapping those ranges to its
//! providers' AS numbers.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Server software an instance imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Software {
    #[default]
    Mastodon,
    Pleroma,
    Misskey,
    Gotosocial,
    Pixelfed,
    /// A plain ActivityPub server using `items` and unordered collections.
    Generic,
}

/// Whether the Mastodon REST API answers unauthenticated requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Open,
    /// 401 for every account endpoint (restricted to logged-in users).
    Closed,
    /// 404: not Mastodon-compatible.
    None,
}

/// A fault an instance shows on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    #[default]
    None,
    /// 500 on everything but robots.txt.
    Error500,
    /// Never answers (until the client times out).
    Stall,
    /// Broken JSON everywhere.
    MalformedJson,
    /// 5 MiB bodies.
    Oversized,
    /// Collection and API pages whose `next` points back to the first page.
    LoopNext,
    /// WebFinger redirects to a link-local address (169.254.169.254).
    RedirectPrivate,
    /// Every third request is answered 429 without warning (reset 0.3 s later).
    Storm,
    /// WebFinger redirects to itself, forever.
    RedirectLoop,
}

/// How the instance's name fails in DNS, on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DnsFault {
    #[default]
    None,
    /// SERVFAIL for every query.
    Servfail,
    /// No answer at all (the resolver times out).
    Timeout,
}

/// A server-enforced rate limit (fixed windows, Mastodon's headers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimitSpec {
    pub limit: u32,
    pub window_secs: f64,
}

/// A hosting provider: an AS owning a loopback /16 (and an IPv6 /32 never connected to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub name: String,
    pub asn: u32,
    pub as_name: String,
    /// Second octet of its 127.N.0.0/16 range.
    pub octet: u8,
    #[serde(default = "default_country")]
    pub country: String,
}

fn default_country() -> String {
    "DE".into()
}

/// One virtual instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub domain: String,
    #[serde(default)]
    pub software: Software,
    pub provider: String,
    pub api: Option<Api>,
    /// ActivityPub requests need signatures (GoToSocial, authorized-fetch Mastodon).
    pub signed_only: Option<bool>,
    /// Collection items as embedded objects instead of URIs.
    #[serde(default)]
    pub embed_items: bool,
    /// WebFinger answers 404; only host-meta's LRDD template leads to it.
    #[serde(default)]
    pub host_meta_only: bool,
    /// A handle domain whose WebFinger this instance answers (`alice@example.com` hosted here).
    pub handle_domain: Option<String>,
    /// A domain whose WebFinger 301-redirects here.
    pub redirect_from: Option<String>,
    /// The domain is a CNAME to this name (managed hosting, CDN).
    pub cname: Option<String>,
    /// Also publish an AAAA record (in a range never connected to).
    #[serde(default)]
    pub ipv6: bool,
    #[serde(default)]
    pub robots_disallow: Vec<String>,
    pub rate_limit: Option<RateLimitSpec>,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub fault: Fault,
    #[serde(default)]
    pub dns_fault: DnsFault,
    pub users_total: Option<u64>,
    /// No NodeInfo (404).
    #[serde(default)]
    pub no_nodeinfo: bool,
}

/// One account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// `user@instance-domain`.
    pub handle: String,
    #[serde(default)]
    pub follows: Vec<String>,
    #[serde(default)]
    pub hide_collections: bool,
    #[serde(default)]
    pub bot: bool,
    #[serde(default)]
    pub noindex: bool,
    pub discoverable: Option<bool>,
    pub moved_to: Option<String>,
    #[serde(default)]
    pub bio: String,
    pub display_name: Option<String>,
}

/// A whole world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(default = "default_providers")]
    pub providers: Vec<Provider>,
    #[serde(default, rename = "instance")]
    pub instances: Vec<Instance>,
    #[serde(default, rename = "account")]
    pub accounts: Vec<AccountSpec>,
}

fn provider(name: &str, asn: u32, as_name: &str, octet: u8, country: &str) -> Provider {
    Provider {
        name: name.into(),
        asn,
        as_name: as_name.into(),
        octet,
        country: country.into(),
    }
}

/// The providers every world has unless it lists its own.
pub fn default_providers() -> Vec<Provider> {
    vec![
        provider("hetzner", 24940, "Hetzner Online GmbH", 1, "DE"),
        provider("hetzner-cloud", 213230, "Hetzner Cloud GmbH", 2, "DE"),
        provider("cloudflare", 13335, "Cloudflare, Inc.", 3, "US"),
        provider("ovh", 16276, "OVH SAS", 4, "FR"),
        provider("amazon", 16509, "Amazon.com, Inc.", 5, "US"),
        provider("amazon-aes", 14618, "Amazon.com, Inc.", 6, "US"),
        provider("digitalocean", 14061, "DigitalOcean, LLC", 7, "US"),
        provider("contabo", 51167, "Contabo GmbH", 8, "DE"),
        provider("netcup", 197540, "netcup GmbH", 9, "DE"),
        provider("scaleway", 12876, "Scaleway S.A.S.", 10, "FR"),
        provider("fastly", 54113, "Fastly, Inc.", 11, "US"),
        provider(
            "association",
            64500,
            "TINYHOST - Tiny Association Hosting e.V., DE",
            12,
            "DE",
        ),
        provider("home", 64501, "HOMENET - Residential Broadband AG, CH", 13, "CH"),
    ]
}

impl Instance {
    /// A Mastodon instance on `provider` with everything else default.
    pub fn new(domain: &str, software: Software, provider: &str) -> Self {
        Instance {
            domain: domain.into(),
            software,
            provider: provider.into(),
            api: None,
            signed_only: None,
            embed_items: false,
            host_meta_only: false,
            handle_domain: None,
            redirect_from: None,
            cname: None,
            ipv6: false,
            robots_disallow: vec![],
            rate_limit: None,
            latency_ms: 0,
            fault: Fault::None,
            dns_fault: DnsFault::None,
            users_total: None,
            no_nodeinfo: false,
        }
    }

    /// The REST API's behaviour (by software unless set).
    pub fn api(&self) -> Api {
        self.api.unwrap_or(match self.software {
            Software::Mastodon | Software::Pleroma => Api::Open,
            Software::Gotosocial => Api::Closed,
            Software::Misskey | Software::Pixelfed | Software::Generic => Api::None,
        })
    }

    /// Whether ActivityPub needs signatures (GoToSocial by default).
    pub fn signed_only(&self) -> bool {
        self.signed_only.unwrap_or(self.software == Software::Gotosocial)
    }
}

/// A world with its addresses laid out.
#[derive(Debug, Clone)]
pub struct Layout {
    pub world: World,
    /// Instance domain → (IPv4, optional IPv6).
    pub addresses: BTreeMap<String, (Ipv4Addr, Option<Ipv6Addr>)>,
    /// Extra names (handle domains, redirecting domains, CNAME targets) → the instance they lead to.
    pub aliases: BTreeMap<String, String>,
}

impl World {
    /// Parse a world from TOML.
    ///
    /// # Errors
    /// [`Error::World`] naming the problem.
    pub fn from_toml(text: &str) -> Result<Self> {
        let w: World = toml::from_str(text).map_err(|e| Error::World(e.to_string().replace('\n', " ")))?;
        w.check()?;
        Ok(w)
    }

    /// Read a world file: JSON when it ends in `.json`, TOML otherwise.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::World`], naming the file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str::<World>(&text)
                .map_err(|e| Error::World(e.to_string()))
                .and_then(|w| w.check().map(|_| w))
        } else {
            World::from_toml(&text)
        };
        parsed.map_err(|e| {
            Error::World(format!(
                "{}: {}",
                path.display(),
                e.to_string().trim_start_matches("world ")
            ))
        })
    }

    fn check(&self) -> Result<()> {
        let providers: HashMap<&str, &Provider> = self.providers.iter().map(|p| (p.name.as_str(), p)).collect();
        let mut domains = HashMap::new();
        for i in &self.instances {
            if !providers.contains_key(i.provider.as_str()) {
                return Err(Error::World(format!(
                    "instance {}: unknown provider {:?}",
                    i.domain, i.provider
                )));
            }
            if domains.insert(i.domain.as_str(), ()).is_some() {
                return Err(Error::World(format!("instance {} is listed twice", i.domain)));
            }
        }
        for a in &self.accounts {
            let (_, d) = a
                .handle
                .split_once('@')
                .ok_or_else(|| Error::World(format!("account {:?} is not user@domain", a.handle)))?;
            if !domains.contains_key(d) {
                return Err(Error::World(format!("account {}: no instance {d}", a.handle)));
            }
        }
        Ok(())
    }

    /// Assign addresses: instance n of a provider gets 127.<octet>.<n / 250>.<n % 250 + 2>.
    pub fn layout(self) -> Layout {
        let mut next: HashMap<String, u32> = HashMap::new();
        let mut addresses = BTreeMap::new();
        let mut aliases = BTreeMap::new();
        let octets: HashMap<&str, u8> = self.providers.iter().map(|p| (p.name.as_str(), p.octet)).collect();
        for i in &self.instances {
            let n = next.entry(i.provider.clone()).or_insert(0);
            let octet = octets[i.provider.as_str()];
            let v4 = Ipv4Addr::new(127, octet, (*n / 250) as u8, (*n % 250 + 2) as u8);
            let v6 = i
                .ipv6
                .then(|| Ipv6Addr::new(0xfd00, u16::from(octet), 0, 0, 0, 0, 0, (*n + 2) as u16));
            *n += 1;
            addresses.insert(i.domain.clone(), (v4, v6));
            for alias in [&i.handle_domain, &i.redirect_from, &i.cname].into_iter().flatten() {
                aliases.insert(alias.clone(), i.domain.clone());
            }
        }
        Layout {
            world: self,
            addresses,
            aliases,
        }
    }
}

impl Layout {
    /// The ASN fixture for this world, as ip-location-db CSV.
    pub fn asn_csv(&self) -> String {
        let mut out = String::new();
        for p in &self.world.providers {
            let name = if p.as_name.contains(',') || p.as_name.contains('"') {
                format!("\"{}\"", p.as_name.replace('"', "\"\""))
            } else {
                p.as_name.clone()
            };
            out.push_str(&format!("127.{0}.0.0,127.{0}.255.255,{1},{name}\n", p.octet, p.asn));
        }
        for p in &self.world.providers {
            let name = format!("\"{}\"", p.as_name.replace('"', "\"\""));
            out.push_str(&format!(
                "fd00:{0:x}::,fd00:{0:x}:ffff:ffff:ffff:ffff:ffff:ffff,{1},{name}\n",
                p.octet, p.asn
            ));
        }
        out
    }

    /// The ASN data of this world as iptoasn TSV (what `asn-db update` downloads in tests).
    pub fn asn_tsv(&self) -> String {
        let mut out = String::new();
        for p in &self.world.providers {
            out.push_str(&format!(
                "127.{0}.0.0\t127.{0}.255.255\t{1}\t{2}\t{3}\n",
                p.octet, p.asn, p.country, p.as_name
            ));
        }
        out.push_str("127.250.0.0\t127.250.255.255\t0\tNone\tNot routed\n");
        for p in &self.world.providers {
            out.push_str(&format!(
                "fd00:{0:x}::\tfd00:{0:x}:ffff:ffff:ffff:ffff:ffff:ffff\t{1}\t{2}\t{3}\n",
                p.octet, p.asn, p.country, p.as_name
            ));
        }
        out
    }

    /// The provider owning an address, if any.
    pub fn provider_of(&self, ip: IpAddr) -> Option<&Provider> {
        let octet = match ip {
            IpAddr::V4(v4) if v4.octets()[0] == 127 => v4.octets()[1],
            IpAddr::V6(v6) if v6.segments()[0] == 0xfd00 => v6.segments()[1] as u8,
            _ => return None,
        };
        self.world.providers.iter().find(|p| p.octet == octet)
    }

    /// The instance serving `domain` (itself or through an alias).
    pub fn instance(&self, domain: &str) -> Option<&Instance> {
        let target = self.aliases.get(domain).map(String::as_str).unwrap_or(domain);
        self.world.instances.iter().find(|i| i.domain == target)
    }
}

/// Generate a heavy-tailed world of `size` instances from `seed`. The account
/// `demo@<largest instance>` follows a few hundred accounts across it.
pub fn generate(seed: u64, size: usize) -> World {
    let mut rng = fastrand::Rng::with_seed(seed);
    let size = size.max(3);
    let provider_weights = [
        ("hetzner", 22),
        ("hetzner-cloud", 8),
        ("cloudflare", 12),
        ("ovh", 10),
        ("amazon", 6),
        ("amazon-aes", 2),
        ("digitalocean", 8),
        ("contabo", 6),
        ("netcup", 6),
        ("scaleway", 4),
        ("fastly", 2),
        ("association", 8),
        ("home", 6),
    ];
    let software_weights = [
        (Software::Mastodon, 70),
        (Software::Pleroma, 8),
        (Software::Misskey, 8),
        (Software::Gotosocial, 5),
        (Software::Pixelfed, 4),
        (Software::Generic, 5),
    ];
    let mut instances = vec![];
    for n in 0..size {
        let domain = if n == 0 {
            "flagship.example".to_string()
        } else {
            format!("node{n}.example")
        };
        let software = if n == 0 {
            Software::Mastodon
        } else {
            pick(&mut rng, &software_weights)
        };
        let mut i = Instance::new(&domain, software, pick(&mut rng, &provider_weights));
        if n == 0 {
            i.provider = "hetzner".into();
        }
        if n % 17 == 5 {
            i.cname = Some(format!("{}.masto.host", domain.trim_end_matches(".example")));
            i.software = Software::Mastodon;
        }
        i.ipv6 = n % 3 == 0;
        instances.push(i);
    }
    // Heavy tail: the flagship holds ~30 % of accounts, then a Zipf-like decline.
    let total_accounts = size * 6;
    let mut accounts = vec![];
    let mut per_instance = vec![0usize; size];
    per_instance[0] = total_accounts * 3 / 10;
    let rest = total_accounts - per_instance[0];
    let harmonic: f64 = (1..size).map(|k| 1.0 / (k as f64).powf(1.1)).sum();
    for (k, slot) in per_instance.iter_mut().enumerate().skip(1) {
        *slot = ((rest as f64) / (k as f64).powf(1.1) / harmonic).round().max(1.0) as usize;
    }
    for (k, count) in per_instance.iter().enumerate() {
        for u in 0..*count {
            accounts.push(AccountSpec {
                handle: format!("user{u}@{}", instances[k].domain),
                hide_collections: rng.u8(0..100) < 5,
                bot: rng.u8(0..100) < 4,
                noindex: rng.u8(0..100) < 6,
                ..AccountSpec::default()
            });
        }
    }
    let follow_count = accounts.len().min(400);
    let mut all: Vec<usize> = (0..accounts.len()).collect();
    rng.shuffle(&mut all);
    let follows: Vec<String> = all
        .iter()
        .take(follow_count)
        .map(|&i| accounts[i].handle.clone())
        .collect();
    accounts.push(AccountSpec {
        handle: "demo@flagship.example".into(),
        follows,
        display_name: Some("Demo User".into()),
        ..AccountSpec::default()
    });
    add_variety_seeds(&mut rng, &instances, &mut accounts);
    World {
        providers: default_providers(),
        instances,
        accounts,
    }
}

/// The handles `whohosts demo` crawls: accounts named `demo` or `demo-*`.
pub fn demo_seeds(world: &World) -> Vec<String> {
    world
        .accounts
        .iter()
        .filter(|a| a.handle.starts_with("demo@") || a.handle.starts_with("demo-"))
        .map(|a| format!("@{}", a.handle))
        .collect()
}

/// Seeds that show the other paths: ActivityPub (Misskey), a hidden list, authorized fetch.
fn add_variety_seeds(rng: &mut fastrand::Rng, instances: &[Instance], accounts: &mut Vec<AccountSpec>) {
    let pool: Vec<String> = accounts.iter().map(|a| a.handle.clone()).collect();
    let first = |sw: Software| instances.iter().skip(1).find(|i| i.software == sw && i.cname.is_none());
    let variants = [
        ("demo-misskey", first(Software::Misskey), false),
        ("demo-hidden", first(Software::Mastodon), true),
        ("demo-gts", first(Software::Gotosocial), false),
    ];
    for (user, inst, hidden) in variants {
        let Some(inst) = inst else { continue };
        let mut shuffled = pool.clone();
        rng.shuffle(&mut shuffled);
        shuffled.truncate(40);
        let follows = shuffled;
        accounts.push(AccountSpec {
            handle: format!("{user}@{}", inst.domain),
            follows,
            hide_collections: hidden,
            ..AccountSpec::default()
        });
    }
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, weights: &[(T, u32)]) -> T {
    let total: u32 = weights.iter().map(|w| w.1).sum();
    let mut x = rng.u32(0..total);
    for (v, w) in weights {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    weights[weights.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_world_is_heavy_tailed_and_deterministic() {
        let a = generate(7, 50);
        assert_eq!(a, generate(7, 50));
        let total = a.accounts.len() as f64;
        let flagship = a
            .accounts
            .iter()
            .filter(|x| x.handle.ends_with("@flagship.example"))
            .count() as f64;
        assert!((0.25..0.35).contains(&(flagship / total)), "{flagship}/{total}");
        let singles = a
            .instances
            .iter()
            .filter(|i| {
                a.accounts
                    .iter()
                    .filter(|x| x.handle.ends_with(&format!("@{}", i.domain)))
                    .count()
                    == 1
            })
            .count();
        assert!(singles >= 10, "{singles} single-user instances");
        assert!(World::from_toml(&toml::to_string(&a).unwrap()).is_ok());
    }

    #[test]
    fn layout_gives_distinct_addresses_inside_the_provider_range() {
        let l = generate(1, 30).layout();
        let mut seen = std::collections::HashSet::new();
        for (domain, (v4, _)) in &l.addresses {
            assert!(seen.insert(*v4), "{domain} reuses {v4}");
            let inst = l.instance(domain).unwrap();
            assert_eq!(l.provider_of(IpAddr::V4(*v4)).unwrap().name, inst.provider);
        }
    }
}
