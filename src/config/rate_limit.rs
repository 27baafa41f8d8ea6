//! `[rate_limit]` and `[hosts."name"]`: the default per-host request budget and its
//! per-host overrides.

use serde::{Deserialize, Serialize};

use super::{
    de, DEFAULT_BURST, DEFAULT_PAGED_PERIOD_SECS, DEFAULT_PAGED_REQUESTS, DEFAULT_PERIOD_SECS, DEFAULT_REQUESTS,
};

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
