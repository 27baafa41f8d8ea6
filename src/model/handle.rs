//! Validated account handles and instance host names.
//!
//! `Handle` accepts the four spellings people paste (`@user@domain`, `user@domain`,
//! `acct:user@domain`, `https://host/@user`) and keeps one canonical form; [`AccountRef`]
//! also takes any other profile or actor URL (`https://host/users/name`, `/u/name`,
//! `/profile/name` …), which WebFinger or the actor itself turns into a handle.
//! `InstanceHost` is a host name lower-cased once, the key everything is grouped by.
//!
//! Absurd inputs are refused before any request: at most [`MAX_INPUT`] characters in all,
//! [`MAX_USER`] in the user name, and a domain within RFC 1035's limits (253 characters,
//! 63 per label) in its ASCII (punycode) form, so a parsed handle always prints as a handle
//! that parses again. IP literals are refused in every form (`u@1.2.3.4`, `u@[::1]`,
//! `https://1.2.3.4/@u`): a handle names an account by domain, and an instance without a
//! name has no handle domain to group by. Errors echo at most [`ECHOED`] characters.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Longest input accepted, in characters (a URL included).
pub const MAX_INPUT: usize = 1024;
/// Longest user name accepted, in bytes.
pub const MAX_USER: usize = 128;
/// Characters of a refused input repeated in its error message.
pub const ECHOED: usize = 60;

/// A fediverse account handle: a user name and the domain of the handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Handle {
    /// The local part, as given (servers compare it case-insensitively).
    pub user: String,
    /// The handle's domain, lower-cased. It may differ from the server that hosts the account.
    pub domain: String,
}

impl Handle {
    /// Build a handle from parts that came from a server (already split). The domain is
    /// lower-cased and, when internationalised, put in its ASCII (punycode) form, the form host
    /// names take in URLs, so handles and instance hosts compare equal.
    pub fn new(user: impl Into<String>, domain: &str) -> Self {
        Handle {
            user: user.into(),
            domain: ascii_domain(domain),
        }
    }

    /// The `acct:` URI used as WebFinger resource.
    pub fn acct_uri(&self) -> String {
        format!("acct:{}@{}", self.user, self.domain)
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}@{}", self.user, self.domain)
    }
}

/// `domain` (with an optional `:port`) lower-cased, without a trailing dot, IDNs in punycode.
fn ascii_domain(domain: &str) -> String {
    let d = domain.trim_end_matches('.').to_lowercase();
    let (name, port) = match d.rsplit_once(':') {
        // A port in its shortest form (`:0443` is `:443`), so a handle prints as it parses.
        Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) => (
            n.to_string(),
            Some(p.parse::<u16>().map_or_else(|_| p.to_string(), |n| n.to_string())),
        ),
        _ => (d.clone(), None),
    };
    let name = match url::Host::parse(&name) {
        Ok(url::Host::Domain(ascii)) => ascii,
        _ => name,
    };
    match port {
        Some(p) => format!("{name}:{p}"),
        None => name,
    }
}

/// `input`, cut to [`ECHOED`] characters with `…` when longer.
pub fn echo(input: &str) -> String {
    super::text::marked(input, ECHOED).into_owned()
}

fn bad(input: &str, reason: &'static str) -> Error {
    Error::Handle {
        input: echo(input),
        reason,
    }
}

/// Why `user` cannot be a handle's user name, if it cannot.
fn user_problem(user: &str) -> Option<&'static str> {
    if user.is_empty() {
        Some("user name is empty")
    } else if user.len() > MAX_USER {
        Some("user name is longer than 128 bytes")
    } else if !user
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'))
    {
        Some("user name has a character a handle cannot have (letters, digits, _ . - + only)")
    } else {
        None
    }
}

/// Said of an IP literal where a handle's domain belongs, in every form it is written.
pub const IP_REFUSED: &str = "IP addresses are not accepted as handle domains";

/// Said of a domain without a dot where a handle's domain belongs.
pub const NO_DOT: &str = "domain has no dot (a handle's domain is a full name such as example.social)";

/// Why `domain` (with an optional `:port`) is not a syntactically plausible DNS name, if it
/// is not.
pub fn domain_problem(domain: &str) -> Option<&'static str> {
    let (name, port) = match domain.rsplit_once(':') {
        Some((n, _)) if !n.ends_with(']') && n.contains(':') => (domain, None),
        Some((n, p)) => (n, Some(p)),
        None => (domain, None),
    };
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Some(IP_REFUSED);
    }
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Some("port is not a number from 0 to 65535");
    }
    let labels = || name.split('.');
    let problem = if name.is_empty() {
        "domain is empty"
    } else if name.len() > 253 {
        "domain is longer than 253 characters"
    } else if !name.contains('.') {
        NO_DOT
    } else if labels().any(str::is_empty) {
        "domain has an empty label (two dots in a row, or a leading dot)"
    } else if labels().any(|l| l.len() > 63) {
        "domain has a label longer than 63 characters"
    } else if labels().any(|l| l.starts_with('-') || l.ends_with('-')) {
        "domain has a label that starts or ends with '-'"
    } else if !labels().all(|l| l.chars().all(|c| c.is_alphanumeric() || c == '-')) {
        "domain has a character a host name cannot have"
    } else if name.rsplit('.').next().is_some_and(|tld| {
        // A last label URLs read as a number (`1`, `0x1f`: WHATWG "ends in a number") makes
        // the name an IPv4 address to a URL parser, so it is no host name.
        let hex = tld.strip_prefix("0x").or_else(|| tld.strip_prefix("0X"));
        tld.chars().all(|c| c.is_ascii_digit()) || hex.is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
    }) {
        "domain ends in a numeric label"
    } else {
        return None;
    };
    Some(problem)
}

/// Whether `domain` is a syntactically plausible DNS name (with an optional `:port`).
pub fn valid_domain(domain: &str) -> bool {
    domain_problem(domain).is_none()
}

impl FromStr for Handle {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        if s.is_empty() {
            return Err(bad(input, "empty"));
        }
        if s.chars().count() > MAX_INPUT {
            return Err(bad(input, "longer than 1024 characters"));
        }
        if s.starts_with("https://") || s.starts_with("http://") {
            return from_profile_url(input, s);
        }
        if s.contains("://") {
            return Err(bad(input, "URL scheme is not http or https"));
        }
        let rest = s.strip_prefix("acct:").unwrap_or(s);
        let rest = rest.strip_prefix('@').unwrap_or(rest);
        let (user, domain) = rest.split_once('@').ok_or_else(|| bad(input, "expected user@domain"))?;
        if domain.contains('@') {
            return Err(bad(input, "more than one @ after the user name"));
        }
        checked(input, user, domain)
    }
}

/// A handle from its parts, refused unless both are valid and the domain's ASCII form is
/// still a valid host name (an IDN label can grow past 63 characters in punycode).
fn checked(input: &str, user: &str, domain: &str) -> Result<Handle, Error> {
    if let Some(why) = user_problem(user) {
        return Err(bad(input, why));
    }
    // A fully qualified name (`example.social.`) is the same name.
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if let Some(why) = domain_problem(domain) {
        return Err(bad(input, why));
    }
    let handle = Handle::new(user, domain);
    if !handle.domain.is_ascii() {
        return Err(bad(input, "domain has no ASCII (punycode) form (IDNA refuses it)"));
    }
    if !valid_domain(&handle.domain) {
        return Err(bad(input, "domain is too long in its ASCII (punycode) form"));
    }
    Ok(handle)
}

fn from_profile_url(input: &str, s: &str) -> Result<Handle, Error> {
    let url = url::Url::parse(s).map_err(|_| bad(input, "not a valid URL"))?;
    let host = url.host_str().ok_or_else(|| bad(input, "URL has no host"))?;
    let mut segments = url.path_segments().into_iter().flatten().filter(|p| !p.is_empty());
    let first = segments.next().ok_or_else(|| bad(input, "URL has no /@user path"))?;
    if segments.next().is_some() {
        return Err(bad(input, "profile URL must be https://host/@user"));
    }
    let user = first
        .strip_prefix('@')
        .ok_or_else(|| bad(input, "profile URL must be https://host/@user"))?;
    let (user, domain) = match user.split_once('@') {
        Some((u, d)) => (u, d.to_string()),
        None => (
            user,
            match url.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            },
        ),
    };
    checked(input, user, &domain)
}

/// What a user may name as a seed: a handle, or a profile or actor URL that is not of the
/// `https://host/@user` form (`/users/name`, `/u/name`, `/profile/name` …), resolved through
/// WebFinger with the URL as `resource`, or through the actor it points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    Handle(Handle),
    Url(url::Url),
}

impl FromStr for AccountRef {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        match s.parse::<Handle>() {
            Ok(h) => Ok(AccountRef::Handle(h)),
            Err(e) if !(s.starts_with("https://") || s.starts_with("http://")) => Err(e),
            Err(_) => account_url(input, s).map(AccountRef::Url),
        }
    }
}

/// A profile or actor URL: a valid domain as host (no IP literal), no credentials, a path.
fn account_url(input: &str, s: &str) -> Result<url::Url, Error> {
    if s.chars().count() > MAX_INPUT {
        return Err(bad(input, "longer than 1024 characters"));
    }
    let url = url::Url::parse(s).map_err(|_| bad(input, "not a valid URL"))?;
    let Some(url::Host::Domain(host)) = url.host() else {
        return Err(bad(input, IP_REFUSED));
    };
    if let Some(why) = domain_problem(host) {
        return Err(bad(input, why));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(input, "URL must not carry a user name or password"));
    }
    if url.path_segments().into_iter().flatten().all(str::is_empty) {
        return Err(bad(input, "URL has no profile path (such as /@user or /users/user)"));
    }
    Ok(url)
}

/// The host name of an instance (the server that answers for its accounts), lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceHost(String);

impl InstanceHost {
    /// Lower-case, strip a trailing dot, IDNs in punycode (as in URLs).
    pub fn new(host: &str) -> Self {
        InstanceHost(ascii_domain(host))
    }

    /// `host` normalised, if it is a usable host: not empty (`"."` normalises to nothing) and
    /// a host a URL can be built on (an IDN that has no ASCII form is not).
    pub fn parse(host: &str) -> Option<Self> {
        let h = InstanceHost::new(host);
        let usable = !h.0.is_empty() && url::Url::parse(&format!("https://{}/", h.0)).is_ok();
        usable.then_some(h)
    }

    /// The host of a URL, if it has a usable one (see [`InstanceHost::parse`]).
    pub fn of_url(url: &url::Url) -> Option<Self> {
        url.host_str().and_then(InstanceHost::parse)
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_four_spellings() {
        for s in [
            "@alice@Example.ORG",
            "alice@example.org",
            "acct:alice@example.org",
            "https://example.org/@alice",
        ] {
            let h: Handle = s.parse().unwrap();
            assert_eq!(h, Handle::new("alice", "example.org"), "{s}");
        }
        let h: Handle = "https://a.example/@bob@b.example".parse().unwrap();
        assert_eq!(h.to_string(), "@bob@b.example");
    }

    #[test]
    fn absurd_inputs_are_refused_with_a_short_echo() {
        let long_user = format!("{}@example.org", "a".repeat(100_000));
        let err = long_user.parse::<Handle>().unwrap_err().to_string();
        assert_eq!(
            err,
            format!("invalid handle \"{}…\": longer than 1024 characters", "a".repeat(60))
        );
        let err = format!("{}@example.org", "a".repeat(129))
            .parse::<Handle>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("longer than 128 bytes"), "{err}");
        assert!(format!("{}@example.org", "a".repeat(128)).parse::<Handle>().is_ok());
        let label = "b".repeat(64);
        assert!(format!("u@{label}.example").parse::<Handle>().is_err());
        assert!(format!("u@{}.example", &label[1..]).parse::<Handle>().is_ok());
        let long_domain = vec!["c".repeat(63); 4].join(".");
        assert_eq!(long_domain.len(), 255);
        assert!(format!("u@{long_domain}").parse::<Handle>().is_err());
    }

    /// Fuzz find (rest_account, `crash-5e7a0b6a…`): a last label `0X1` reads as a number to
    /// URL parsers (the name becomes an invalid IPv4 address), yet passed as a domain.
    #[test]
    fn regression_hex_last_label_is_not_a_domain() {
        for input in ["222@88888229.0X1", "a@b.0x1f", "a@b.0x"] {
            let err = input.parse::<Handle>().unwrap_err().to_string();
            assert!(err.ends_with("domain ends in a numeric label"), "{err}");
        }
        assert!("a@b.0xg".parse::<Handle>().is_ok());
    }

    /// Fuzz find (rest_account, `crash-5bac6628…`): a domain IDNA refuses (a right-to-left
    /// letter among digits and CJK) parsed as a handle kept in Unicode, so the account's
    /// server was not a host a URL can be built from.
    #[test]
    fn regression_idna_refused_domain_is_not_a_handle() {
        let input = "222@628\u{844}\u{8888}888887r\u{9558}.80122h11";
        let err = input.parse::<Handle>().unwrap_err().to_string();
        assert!(
            err.ends_with("domain has no ASCII (punycode) form (IDNA refuses it)"),
            "{err}"
        );
    }

    /// Fuzz find (`/tmp/handle-crash-roundtrip.bin`): an IDN label whose punycode form is
    /// longer than 63 characters parsed, but its printed form did not parse again.
    #[test]
    fn regression_idn_label_too_long_in_punycode() {
        let input = "\nP@p.uuPZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZuuuuuu\u{435}pp.uuu.ppppp0.pppp0z2";
        let err = input.parse::<Handle>().unwrap_err().to_string();
        assert!(err.starts_with("invalid handle \"\\nP@p.uuPZZZ"), "{err}");
        assert!(
            err.ends_with("…\": domain is too long in its ASCII (punycode) form"),
            "{err}"
        );
    }

    #[test]
    fn profile_and_actor_urls_are_account_refs() {
        for (input, path) in [
            ("https://example.org/users/alice", "/users/alice"),
            ("https://example.org/u/alice", "/u/alice"),
            ("https://example.org/profile/alice", "/profile/alice"),
        ] {
            match input.parse::<AccountRef>().unwrap() {
                AccountRef::Url(u) => assert_eq!(u.path(), path),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            "https://example.org/@alice".parse::<AccountRef>().unwrap(),
            AccountRef::Handle(Handle::new("alice", "example.org"))
        );
        for (input, reason) in [
            ("https://1.2.3.4/users/a", IP_REFUSED),
            ("https://[::1]/users/a", IP_REFUSED),
            ("https://example.org/", "no profile path"),
            ("https://me:pw@example.org/users/a", "user name or password"),
            ("https://localhost/users/a", "domain has no dot"),
        ] {
            let err = input.parse::<AccountRef>().unwrap_err().to_string();
            assert!(err.contains(reason), "{input}: {err}");
        }
    }

    #[test]
    fn internationalised_domains_use_their_ascii_form() {
        let h: Handle = "@anna@Bücher.example".parse().unwrap();
        assert_eq!(h.domain, "xn--bcher-kva.example");
        let url = url::Url::parse("https://bücher.example/users/anna").unwrap();
        assert_eq!(InstanceHost::of_url(&url).unwrap().as_str(), h.domain);
        assert_eq!(InstanceHost::new("Social.Example:8443").as_str(), "social.example:8443");
    }

    #[test]
    fn trailing_dots_and_ports_are_part_of_a_handle() {
        let h: Handle = "@Demo@FLAGSHIP.EXAMPLE.".parse().unwrap();
        assert_eq!(h, Handle::new("Demo", "flagship.example"));
        assert_eq!(h.to_string().parse::<Handle>().unwrap(), h);
        let h: Handle = "@u@Host.Example:8443".parse().unwrap();
        assert_eq!(h.domain, "host.example:8443");
        assert_eq!(h.to_string(), "@u@host.example:8443");
    }

    #[test]
    fn rejects_malformed_handles_with_a_reason() {
        let long_label = format!("u@{}.example", "a".repeat(64));
        let cases = [
            ("", "empty"),
            ("alice", "expected user@domain"),
            ("@alice@", "domain is empty"),
            ("@@x", "user name is empty"),
            ("al ice@example.org", "user name has a character a handle cannot have"),
            ("alice@exa_mple.org", "domain has a character a host name cannot have"),
            ("alice@localhost", "domain has no dot"),
            ("a@b@c.org", "more than one @"),
            ("https://example.org/users/alice", "profile URL must be"),
            ("ftp://host/@u", "URL scheme is not http or https"),
            ("u@1.2.3.4", IP_REFUSED),
            ("u@[::1]", IP_REFUSED),
            ("u@[::1]:443", IP_REFUSED),
            ("u@1.2.3.4:443", IP_REFUSED),
            ("https://1.2.3.4/@u", IP_REFUSED),
            (long_label.as_str(), "domain has a label longer than 63 characters"),
            ("u@a..example", "domain has an empty label"),
            ("u@host.example:99999", "port is not a number from 0 to 65535"),
        ];
        for (input, reason) in cases {
            let err = input.parse::<Handle>().unwrap_err().to_string();
            assert!(err.contains(reason), "{input:?}: {err}");
            assert!(err.starts_with(&format!("invalid handle {:?}", echo(input))), "{err}");
        }
    }

    /// Regressions found by the `activitypub` and `rest_account` fuzz targets: a server host
    /// that is empty (`https:.//…` parses with host ".") or has no ASCII form.
    #[test]
    fn fuzz_unusable_hosts_are_no_instance_host() {
        assert_eq!(InstanceHost::parse("."), None);
        assert_eq!(InstanceHost::parse(""), None);
        assert_eq!(InstanceHost::parse("n1\u{751}n.nn2"), None);
        assert_eq!(
            InstanceHost::parse("Social.Example."),
            Some(InstanceHost::new("social.example"))
        );
        let url = url::Url::parse("https:.//a.exampel/users/x").expect("the url crate accepts it");
        assert_eq!(InstanceHost::of_url(&url), None, "{url}");
    }

    /// Fuzz find (`handle`, 35 M runs): `i@0.m:000…0`, 1024 characters, parsed, but its printed
    /// form (with `@`) was 1025 characters and no longer parsed. A port is kept in its
    /// shortest form.
    #[test]
    fn fuzz_a_port_with_leading_zeros_prints_short() {
        let input = format!("i@0.m:{}", "0".repeat(1018));
        assert_eq!(input.len(), 1024);
        let h: Handle = input.parse().expect("a 1024-character handle is accepted");
        assert_eq!(h.to_string(), "@i@0.m:0");
        assert_eq!(h.to_string().parse::<Handle>().expect("its printed form parses"), h);
        let h: Handle = "u@host.example:0443".parse().expect("a port with a leading zero");
        assert_eq!(h.domain, "host.example:443");
    }
}
