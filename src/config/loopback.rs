//! The client settings for a fediverse served on loopback (the simulator behind `demo`,
//! `sim`, the integration tests and the benchmarks), built from plain values: where its DNS
//! server answers, its one HTTP port, the CA it signs with, its ASN fixture.

use std::net::SocketAddr;
use std::path::Path;

use super::{Config, PrivateAddresses};

impl Config {
    /// The client settings that point whohosts at a world on loopback: its DNS server
    /// (`dns_addr`), its port, plain http allowed (or, with `ca`, that CA trusted and https
    /// only), loopback allowed (127.0.0.0/8 and ::1, nothing else private), a short timeout and
    /// a generous request budget.
    pub fn loopback(dns_addr: SocketAddr, http_port: u16, ca: Option<&Path>) -> Config {
        let mut c = Config::default();
        match ca {
            // Over TLS the client stays https-only and trusts the world's CA.
            Some(ca) => c.network.extra_root_certificates = vec![ca.to_string_lossy().into_owned()],
            None => c.network.allow_http = true,
        }
        c.network.port = http_port;
        c.network.allow_private_addresses = PrivateAddresses::Networks(vec![
            "127.0.0.0/8".parse().expect("a valid network"),
            "::1/128".parse().expect("a valid network"),
        ]);
        c.network.request_timeout_secs = 5.0;
        c.network.retry_base_secs = 0.05;
        // The world is ours: a generous budget (its own rate limits still apply).
        c.rate_limit.requests = 10_000;
        c.rate_limit.period_secs = 1.0;
        c.rate_limit.paged_requests = 10_000;
        c.rate_limit.paged_period_secs = 1.0;
        c.rate_limit.burst = 100;
        c.network.host_concurrency = 4;
        c.dns.nameservers = vec![dns_addr.to_string()];
        c.dns.timeout_secs = 2.0;
        c
    }

    /// This config with attribution from the ASN database file at `path` (such as a
    /// simulated world's fixture), stating `licence`.
    #[must_use]
    pub fn with_asn_fixture(mut self, path: &Path, licence: &str) -> Config {
        self.attribution.asn_database = path.into();
        self.attribution.asn_licence = Some(licence.into());
        self
    }
}
