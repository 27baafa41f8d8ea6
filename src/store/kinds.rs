//! One failure kind per cause, for `GROUP BY kind`.
//!
//! The crawl reports failures as a coarse class (`Error::kind`, such as `refused-by-policy`)
//! with a message, and list statuses as a reason. The store keeps those as they are and adds
//! one fine kind per cause (`robots`, `opted_out`, `authorized_fetch`, `token_rejected`,
//! `redirect_cap`, `address_refused`, `dns`, `timeout`, `http_status`, …). Each mapping is one
//! table of rules: to add a cause, add a row.

use crate::model::account::{Cause, ListStatus};

/// A kind recognised from the crawl's class and the message it carried: the first rule whose
/// class matches (`*` for any) and whose needle occurs in the message wins.
const RULES: &[(&str, &str, &str)] = &[
    ("robots", "", "robots"),
    ("refused-by-policy", "robots.txt unavailable", "robots_unavailable"),
    ("refused-by-policy", "access token was rejected", "token_rejected"),
    ("refused-by-policy", "redirects", "redirect_cap"),
    ("refused-by-policy", "redirect loop", "redirect_loop"),
    (
        "refused-by-policy",
        "network.allow_private_addresses",
        "address_refused",
    ),
    ("refused-by-policy", "plain http is not allowed", "scheme_refused"),
    ("refused-by-policy", "scheme", "scheme_refused"),
    ("transport", "timed out", "timeout"),
    ("transport", "", "connection"),
    // The kinds `dns_kind` gives the same DNS answer, so that one failure has one kind
    // whether the DNS look-up or a fetch that needed it reports it.
    ("dns", "NXDOMAIN", "dns_nxdomain"),
    ("dns", "no address records", "dns_no_records"),
    ("dns-no-answer", "SERVFAIL", "dns_servfail"),
    ("dns-no-answer", "nameserver not answering", "dns_not_answering"),
    ("dns-no-answer", "timeout", "dns_timeout"),
    ("dns", "timeout", "dns_timeout"),
    ("dns", "", "dns"),
    ("unauthorized", "", "http_unauthorized"),
    ("not-found", "", "not_found"),
    ("http-status", "", "http_status"),
    ("rate-limited", "", "rate_limited"),
    ("too-large", "", "too_large"),
    ("malformed", "", "malformed"),
    ("bad-handle", "", "bad_handle"),
    ("*", "host given up: ", "host_gave_up"),
    ("*", "opts out of crawlers", "opted_out"),
    ("*", "only signed requests", "authorized_fetch"),
    ("*", "paging loop", "paging_loop"),
    ("*", "repeats accounts already listed", "paging_loop"),
    ("*", "crawl.max_accounts", "max_accounts"),
    ("*", "timed out", "timeout"),
    ("*", "robots.txt of", "robots"),
    ("*", "malformed response", "malformed"),
    ("*", "gave up after", "rate_limited"),
    ("*", "response larger than", "too_large"),
    ("*", ": HTTP ", "http_status"),
];

/// The fine kind of a failure of class `class` (the crawl's `Error::kind`, or for failures
/// known only by their message the kind to fall back on) with `message`.
pub fn failure_kind(class: &str, message: &str) -> String {
    RULES
        .iter()
        .find(|(c, needle, _)| (*c == class || *c == "*") && message.contains(needle))
        .map(|(_, _, kind)| (*kind).to_string())
        .unwrap_or_else(|| class.replace('-', "_"))
}

/// The kind of a list status that is a failure (refused or partial): its cause, as the crawl
/// named it (`robots`, `opted_out`, `authorized_fetch`, `page_cap`, `loop` …); `None`
/// otherwise.
pub fn list_kind(status: &ListStatus) -> Option<String> {
    match status {
        ListStatus::Refused { kind, .. } | ListStatus::Partial { kind, .. } => Some(cause_name(*kind)),
        ListStatus::Complete | ListStatus::Hidden { .. } | ListStatus::NotExposed { .. } => None,
    }
}

/// The snake_case name of a cause (its serde name).
pub fn cause_name(cause: Cause) -> String {
    match serde_json::to_value(cause) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{cause:?}"),
    }
}

/// The cause named `name` (see [`cause_name`]).
pub fn cause_of(name: &str) -> Option<Cause> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// DNS answers as `dns::Resolution::error` words them, and their fine kinds.
const DNS_KINDS: &[(&str, &str)] = &[
    ("NXDOMAIN", "dns_nxdomain"),
    ("SERVFAIL", "dns_servfail"),
    ("timeout", "dns_timeout"),
    (crate::error::DNS_NOT_ANSWERING, "dns_not_answering"),
    ("no address records", "dns_no_records"),
];

/// A kind of snapshot in words, for messages that name one: "a follows snapshot", "a
/// contacts snapshot", "a survey (of instances)".
pub fn snapshot_words(kind: &str) -> String {
    match kind {
        super::instances::KIND => "a survey (of instances)".into(),
        other => format!("a {other} snapshot"),
    }
}

/// Snapshots of `kind` in the plural, for messages: "follows snapshots", "surveys (of
/// instances)".
pub fn snapshots_words(kind: &str) -> String {
    match kind {
        super::instances::KIND => "surveys (of instances)".into(),
        other => format!("{other} snapshots"),
    }
}

/// What makes snapshots of `kind` one series ([`super::Store::series`]), in words, for a line
/// that says which series was picked.
pub fn series_words(kind: &str) -> &'static str {
    match kind {
        super::contacts::KIND => "contacts snapshots of one --series and weight",
        super::instances::KIND => "surveys of one list and --software filter",
        _ => "crawls of the same seeds",
    }
}

/// The fine kind of a DNS error message (as `dns::Resolution::error` words it).
pub fn dns_kind(message: &str) -> String {
    DNS_KINDS
        .iter()
        .find(|(m, _)| *m == message)
        .map_or("dns", |(_, k)| k)
        .to_string()
}

/// The DNS answer a fine kind stands for (`dns_timeout`: `timeout`; plain `dns`: `other DNS
/// failure`); `None` for a kind that is no DNS failure.
pub fn dns_answer(kind: &str) -> Option<&'static str> {
    match DNS_KINDS.iter().find(|(_, k)| *k == kind) {
        Some((m, _)) => Some(m),
        None => (kind == "dns").then_some("other DNS failure"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn kind_of(e: &Error) -> String {
        failure_kind(e.kind(), &e.to_string())
    }

    #[test]
    fn one_kind_per_cause() {
        let refused = |reason: &str| Error::Refused {
            url: "https://a.example/".into(),
            reason: reason.into(),
        };
        assert_eq!(kind_of(&refused("more than 5 redirects")), "redirect_cap");
        assert_eq!(
            kind_of(&refused(
                "127.0.0.1 is loopback (network.allow_private_addresses does not allow it)"
            )),
            "address_refused"
        );
        assert_eq!(
            kind_of(&refused(
                "the access token was rejected (check WHOHOSTS_TOKEN / --token)"
            )),
            "token_rejected"
        );
        assert_eq!(
            kind_of(&refused(
                "robots.txt unavailable (HTTP 503), so the host is not crawled (RFC 9309)"
            )),
            "robots_unavailable"
        );
        let robots = Error::RobotsDisallowed {
            host: "a.example".into(),
            path: "/api".into(),
        };
        assert_eq!(kind_of(&robots), "robots");
        let timeout = Error::Transport {
            url: "https://a.example/".into(),
            message: "timed out".into(),
        };
        assert_eq!(kind_of(&timeout), "timeout");
        let status = Error::Status {
            url: "https://a.example/".into(),
            status: 500,
        };
        assert_eq!(kind_of(&status), "http_status");
        let gave_up = Error::HostWaitBudget {
            url: "https://a.example/users/x".into(),
            host: "a.example".into(),
            budget_secs: 2.0,
        };
        assert_eq!(gave_up.kind(), "host-gave-up");
        assert_eq!(kind_of(&gave_up), "host_gave_up");
        // As an actor's fetch_error, known only by its message.
        assert_eq!(failure_kind("actor_fetch", &gave_up.to_string()), "host_gave_up");
    }

    #[test]
    fn list_statuses_name_their_cause() {
        use crate::model::account::Cause;
        let refused = |kind| ListStatus::Refused {
            kind,
            reason: "words".into(),
        };
        assert_eq!(list_kind(&refused(Cause::OptedOut)).as_deref(), Some("opted_out"));
        assert_eq!(
            list_kind(&refused(Cause::AuthorizedFetch)).as_deref(),
            Some("authorized_fetch")
        );
        let partial = ListStatus::Partial {
            kind: Cause::Loop,
            reason: "paging loop: https://a.example/p was already read".into(),
        };
        assert_eq!(list_kind(&partial).as_deref(), Some("loop"));
        assert_eq!(list_kind(&ListStatus::Hidden { unseen: Some(3) }), None);
        assert_eq!(list_kind(&ListStatus::NotExposed { unseen: Some(3) }), None);
        for cause in [Cause::Robots, Cause::PageCap, Cause::NoProgress, Cause::BadNext] {
            assert_eq!(cause_of(&cause_name(cause)), Some(cause), "{cause:?}");
        }
        assert_eq!(dns_kind("NXDOMAIN"), "dns_nxdomain");
        // A fetch that failed on the same DNS answer has the same kind, not a second one.
        for answer in [
            "NXDOMAIN",
            "SERVFAIL",
            "timeout",
            "no address records",
            crate::error::DNS_NOT_ANSWERING,
        ] {
            let e = Error::Dns {
                host: "node52.example".into(),
                message: answer.into(),
            };
            assert_eq!(kind_of(&e), dns_kind(answer), "{answer}: {e}");
            assert_eq!(dns_answer(&dns_kind(answer)), Some(answer));
        }
    }
}
