//! Names beyond the instances (`[[dns]]` in a world file): the domains of contacts and the
//! servers that receive their mail or serve their XMPP and Matrix accounts, each with the
//! records a test needs (MX, TXT such as SPF, SRV) and, when it names a provider, an address
//! in that provider's range, and the `.well-known/matrix/server` a Matrix server name
//! delegates with.

use serde::{Deserialize, Serialize};

use super::instance::DnsFault;

/// One DNS name and its records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameSpec {
    /// The name, lower case, no trailing dot.
    pub name: String,
    /// An A record in this provider's range (none: the name has no address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// MX records: (preference, exchange); an exchange of `"."` is RFC 7505's null MX.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mx: Vec<(u16, String)>,
    /// TXT records (one string each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub txt: Vec<String>,
    /// SRV records: (priority, weight, port, target).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub srv: Vec<(u16, u16, u16, String)>,
    /// A CNAME to another name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// What `https://NAME/.well-known/matrix/server` answers, as a homeserver serves it:
    /// `{"m.server": VALUE}` (application/json). Needs an address (`provider`); without this
    /// (and without `matrix_server_body`) the page is a 404.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix_server: Option<String>,
    /// Instead, this body verbatim (a broken answer: HTML, not JSON, oversized), as
    /// `text/html` when it starts with `<`, else `application/json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix_server_body: Option<String>,
    /// How the name fails, on demand (SERVFAIL, no answer, or NXDOMAIN despite the records).
    #[serde(default, skip_serializing_if = "is_none_fault")]
    pub dns_fault: DnsFault,
}

fn is_none_fault(f: &DnsFault) -> bool {
    *f == DnsFault::None
}
