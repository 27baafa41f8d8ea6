//! `[dns]`: name resolution settings, and reading a nameserver entry.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::{de, DEFAULT_DNS_ATTEMPTS, DEFAULT_DNS_NOT_ANSWERING_AFTER, DEFAULT_DNS_TIMEOUT_SECS, MAX_DNS_ATTEMPTS};
use crate::error::{Error, Result};

/// DNS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dns {
    /// `ip` or `ip:port`; empty = the system's resolvers (`/etc/resolv.conf`).
    pub nameservers: Vec<String>,
    /// Seconds one try of a query waits for its answer.
    #[serde(deserialize_with = "de::seconds")]
    pub timeout_secs: f64,
    /// Tries per query, the first included (1 to [`MAX_DNS_ATTEMPTS`]): a query that gets no
    /// answer fails after `attempts × timeout_secs`.
    pub attempts: usize,
    /// After this many queries in a row time out with no answer at all, the nameserver is
    /// taken for not answering and the run's remaining queries fail at once as "nameserver
    /// not answering"; any answer before that starts the count again. 0: never.
    pub not_answering_after: usize,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            nameservers: Vec::new(),
            timeout_secs: DEFAULT_DNS_TIMEOUT_SECS,
            attempts: DEFAULT_DNS_ATTEMPTS,
            not_answering_after: DEFAULT_DNS_NOT_ANSWERING_AFTER,
        }
    }
}

impl Dns {
    /// Check `attempts` (`timeout_secs` and the nameservers are checked with the rest).
    ///
    /// # Errors
    /// [`Error::ConfigValue`] naming the key, its value and what it may be.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_DNS_ATTEMPTS).contains(&self.attempts) {
            return Err(Error::ConfigValue(format!(
                "dns.attempts must be from 1 to {MAX_DNS_ATTEMPTS} (tries per query, the first included), not {}",
                self.attempts
            )));
        }
        Ok(())
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
