//! `[network]`: the HTTP client's safety and politeness settings.

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use super::{
    de, DEFAULT_CONNECT_TIMEOUT_SECS, DEFAULT_GLOBAL_CONCURRENCY, DEFAULT_HOST_CONCURRENCY,
    DEFAULT_IDLE_CONNECTION_SECS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HOST_WAIT_SECS, DEFAULT_MAX_REDIRECTS,
    DEFAULT_MAX_RETRIES, DEFAULT_MAX_WAIT_SECS, DEFAULT_REQUEST_TIMEOUT_SECS, DEFAULT_RETRY_BASE_SECS,
};

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
    /// How long a connection left idle is kept open for the same host's next request (0:
    /// never reused).
    #[serde(deserialize_with = "de::seconds")]
    pub idle_connection_secs: f64,
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
            idle_connection_secs: DEFAULT_IDLE_CONNECTION_SECS,
        }
    }
}
