//! `[dns]`: name resolution settings, and reading a nameserver entry.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::{de, DEFAULT_DNS_ATTEMPTS, DEFAULT_DNS_TIMEOUT_SECS};
use crate::error::{Error, Result};

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

impl Default for Dns {
    fn default() -> Self {
        Dns {
            nameservers: Vec::new(),
            timeout_secs: DEFAULT_DNS_TIMEOUT_SECS,
            attempts: DEFAULT_DNS_ATTEMPTS,
        }
    }
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
