//! Instance lists, the studies' method: read a list of instances ([`list`]), ask each its
//! NodeInfo once ([`read_one`]) and judge the user counts it claims ([`claims`]).
//!
//! # Architecture
//! [`list::read`] tells a text list from the JSON lists of instances.social and
//! fediverse.observer by content and reduces every entry to an [`InstanceHost`]; bad entries
//! are kept with their line. [`read_one`] walks NodeInfo once for a host through the
//! crawl's polite client (robots.txt, per-host limits; `pipeline::instances` runs it through
//! the one bounded fan-out); a host that fails (DNS, refused, no NodeInfo) is a
//! row with its [`Failure`], never an error of the run. Attribution (a peer stage) and the
//! metrics are added above: `pipeline::instances` and `report::instances`.

pub mod claims;
pub mod list;

use serde::Serialize;
use url::Url;

use crate::model::attribution::HostAttribution;
use crate::model::handle::InstanceHost;
use crate::model::snapshot::Failure;
use crate::net::http::Fetcher;
use crate::protocol::nodeinfo;

pub use claims::Claims;
pub use list::{BadEntry, List};

/// The failure kind of a host that publishes no NodeInfo.
pub const NO_NODEINFO: &str = "no_nodeinfo";

/// One instance of the list, as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    pub host: String,
    /// NodeInfo `software.name`, lower-cased.
    pub software: Option<String>,
    pub version: Option<String>,
    /// The NodeInfo schema version read (`2.0` …), when read.
    #[serde(skip)]
    pub schema: Option<String>,
    /// The judged counts (trusted only when `claims.implausible` is empty).
    pub claims: Claims,
    /// Why NodeInfo could not be read (DNS, refused, robots.txt, no NodeInfo …).
    pub failure: Option<Failure>,
    /// Who hosts it, when attributed.
    pub attribution: Option<HostAttribution>,
    /// The address the client connected to, when it connected.
    #[serde(skip)]
    pub connected: Option<std::net::IpAddr>,
}

/// An instance list surveyed, but for its instances (stored as they are surveyed, read back
/// one at a time: [`crate::store::Store::survey_instances`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survey {
    /// The list's format.
    pub format: list::Format,
    pub duplicates: usize,
    pub bad: Vec<BadEntry>,
    /// The ceiling a user count may reach (`instances.max_users`).
    pub max_users: u64,
    /// Started and finished (UTC, RFC 3339).
    pub started_at: String,
    pub finished_at: String,
}

/// The row of `host` whose NodeInfo could not be read, and why.
pub fn failed(host: &str, failure: Failure) -> Instance {
    Instance {
        host: host.to_string(),
        software: None,
        version: None,
        schema: None,
        claims: Claims::default(),
        failure: Some(failure),
        attribution: None,
        connected: None,
    }
}

fn no_nodeinfo(host: &InstanceHost) -> Failure {
    Failure {
        kind: NO_NODEINFO.into(),
        message: format!("{host} publishes no NodeInfo"),
    }
}

/// Read the NodeInfo of `host` once (the discovery document, then the highest 2.x schema)
/// and judge its counts against `max_users`; a host that fails is a row with its failure.
pub async fn read_one(f: &Fetcher, host: &InstanceHost, max_users: u64) -> Instance {
    let origin = match Url::parse(&f.config().origin_for(host.as_str())) {
        Ok(o) => o,
        Err(e) => {
            return failed(
                host.as_str(),
                Failure {
                    kind: "malformed".into(),
                    message: format!("no URL for {host}: {e}"),
                },
            )
        }
    };
    // A survey asks nothing more of the host: its last connection is closed, not kept idle.
    let mut row = match nodeinfo::fetch_document(f, &origin, true).await {
        Ok(Some((schema, doc))) => {
            let n = nodeinfo::parse(&schema, &doc);
            Instance {
                claims: claims::judge(&doc, n.software.as_deref(), max_users),
                software: n.software,
                version: n.version,
                schema: Some(schema),
                failure: None,
                ..failed(host.as_str(), no_nodeinfo(host))
            }
        }
        Ok(None) => failed(host.as_str(), no_nodeinfo(host)),
        Err(e) => failed(host.as_str(), Failure::from(&e)),
    };
    row.connected = f.connected(host.as_str());
    row
}
