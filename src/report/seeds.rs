//! What became of each seed, in words (the seed lines of the text report and the failure
//! lines on stderr), and the redaction of accounts that opted out of crawlers (DESIGN §6),
//! applied to every row-level output.

use super::plural;
use crate::model::account::ListStatus;
use crate::model::snapshot::Snapshot;

impl Snapshot {
    /// This snapshot with every listed account that opted out of crawlers (DESIGN §6) reduced
    /// to its instance and flags: no handle, display name or actor URI. Aggregates still
    /// count it. Taken by value: a deep crawl's snapshot is not copied for this.
    pub fn redacted(self) -> Snapshot {
        let mut s = self;
        for seed in &mut s.crawl.seeds {
            for l in [&mut seed.following, &mut seed.followers].into_iter().flatten() {
                for a in l.accounts.iter_mut().filter(|a| !a.may_expand()) {
                    a.handle = None;
                    a.display_name = None;
                    a.actor_uri = None;
                    a.moved_to = None;
                    a.fetch_error = None;
                }
            }
        }
        s
    }
}

/// The HTTP status at the end of a failure message (`…: HTTP 404`), if there is one.
fn trailing_status(message: &str) -> Option<&str> {
    let (_, status) = message.rsplit_once("HTTP ")?;
    let status = status.trim_end_matches(')');
    (status.len() == 3 && status.chars().all(|c| c.is_ascii_digit())).then_some(status)
}

/// What went wrong with a failed seed, in one sentence that names it, as said on stderr
/// and in the report: "no such account @x@y (the server answered 404)".
pub fn failure_sentence(s: &crate::model::snapshot::SeedReport) -> String {
    sentence(s, str::to_string)
}

/// [`failure_sentence`] for stderr: the error's message as a log line carries it
/// ([`crate::net::http::scrubbed`]: a URL as its origin and kind, never the credentials,
/// path or query a hostile redirect put in it); the seed named as given.
pub fn failure_line(s: &crate::model::snapshot::SeedReport) -> String {
    sentence(s, |m| crate::net::http::scrubbed(m))
}

fn sentence(s: &crate::model::snapshot::SeedReport, message: impl Fn(&str) -> String) -> String {
    let parsed = s
        .input
        .parse::<crate::model::handle::Handle>()
        .ok()
        .map(|h| h.to_string());
    let who = s.handle.as_deref().or(parsed.as_deref()).unwrap_or(&s.input);
    let Some(e) = &s.error else {
        return format!("{who}: no failure");
    };
    let answered = trailing_status(&e.message).map_or(String::new(), |st| format!(" (the server answered {st})"));
    let text = message(&e.message);
    match e.kind.as_str() {
        "bad-handle" => text,
        "not-found" => format!("no such account {who}{answered}"),
        "unauthorized" => format!("{who}: the server refused to show the account{answered}"),
        "dns" => format!("{who}: its domain does not resolve ({text})"),
        _ => format!("{who}: {text}"),
    }
}

/// What became of a seed, in one sentence: its lists with their status, or why it failed, or
/// which earlier seed it duplicates.
pub fn seed_line(s: &crate::model::snapshot::SeedReport) -> String {
    let who = s.handle.as_deref().unwrap_or(&s.input);
    if let Some(first) = &s.duplicate_of {
        return format!(
            "{}: duplicate of {first} (the same account, {who}), crawled once",
            s.input
        );
    }
    if s.error.is_some() {
        return format!("failed: {}", failure_sentence(s));
    }
    let server = s.server.as_ref().map(|h| h.to_string()).unwrap_or_default();
    let lists: Vec<String> = [&s.following, &s.followers]
        .into_iter()
        .flatten()
        .map(list_words)
        .collect();
    format!("{who} (on {server}): {}", lists.join("; "))
}

/// One list: how many listed, from where, and how completely.
fn list_words(l: &crate::model::account::FollowList) -> String {
    let unseen = |u: &Option<u64>| u.map_or("count unknown".into(), |n| n.to_string());
    let status = match &l.status {
        ListStatus::Complete => "complete".to_string(),
        ListStatus::Hidden { unseen: u } => format!("hidden by its owner ({} not visible)", unseen(u)),
        ListStatus::NotExposed { unseen: u } => {
            format!("items not exposed by the server ({} not visible)", unseen(u))
        }
        ListStatus::Refused { reason, .. } => format!("refused: {reason}"),
        ListStatus::Partial { reason, .. } => format!("partial: {reason}"),
    };
    let skipped = match l.skipped_total() {
        0 => String::new(),
        n => format!("; {} skipped", plural(n, "unreadable item")),
    };
    let repeated = match l.repeated() {
        0 => String::new(),
        n => format!("; {} counted once", plural(n, "repeated entry")),
    };
    let listed = match l.direction {
        crate::model::account::Direction::Followers => plural(l.accounts.len() as u64, "follower"),
        crate::model::account::Direction::Following => format!("{} following", l.accounts.len()),
    };
    let declared = l.declared.map_or("none".into(), |d| d.to_string());
    format!(
        "{listed} listed via {}, {declared} declared; {status}{skipped}{repeated}",
        l.source
    )
}

/// The line of a crawl deeper than 1: how deep, how many accounts were expanded beyond the
/// seeds, and what was left unexpanded and why (opted out, no handle, each budget).
pub fn depth_line(d: &crate::model::snapshot::DepthReport, seeds: usize) -> String {
    let budget = |flag: &str, max: Option<u64>, cut: u64| match max {
        Some(m) => format!("{flag} {m}: {}", plural(cut, "account")),
        None => format!("{flag} (none): 0 accounts"),
    };
    format!(
        "Depth {}: from {}, {} expanded (their lists read, each once); the population counts \
         every account reached at any depth once. Not expanded: {} opted out, {} without a \
         handle; cut by {}, {}, {}.",
        d.depth,
        plural(seeds as u64, "seed"),
        plural(d.expanded, "account"),
        d.opted_out,
        d.no_handle,
        budget("--max-accounts", d.max_accounts, d.cut_by_accounts),
        budget("--max-hosts", d.max_hosts, d.cut_by_hosts),
        budget("--max-requests", d.max_requests, d.cut_by_requests),
    )
}
