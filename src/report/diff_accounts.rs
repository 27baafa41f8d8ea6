//! The accounts of a diff in words: added, gone (with the cause when the crawl learnt it),
//! no longer visible (the list that listed them can no longer be read whole) and moved; and
//! accounts that opted out of crawlers, which are only ever counted ("2 opted-out accounts
//! moved to eq.example"), never listed, not even by their stored hash.

use std::collections::BTreeMap;

use serde::Serialize;

use super::diff::AccountChange;
use crate::model::account::target_instance;
use crate::store::optout::PREFIX;

/// Opted-out accounts that changed alike, counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OptedOutCount {
    /// `added`, `gone`, `no-longer-visible` or `moved`.
    pub change: String,
    /// Their instance.
    pub instance: Option<String>,
    /// The instance they moved to (moved only).
    pub moved_to: Option<String>,
    pub count: u64,
}

/// Whether a stored identity is an opted-out account's hash.
pub fn opted_out(account: &str) -> bool {
    account.starts_with(PREFIX)
}

/// Split `rows` into named accounts and opted-out counts.
pub fn split(rows: Vec<AccountChange>) -> (Vec<AccountChange>, Vec<OptedOutCount>) {
    let mut named = vec![];
    let mut counts: BTreeMap<(String, Option<String>, Option<String>), u64> = BTreeMap::new();
    for r in rows {
        if opted_out(&r.account) {
            let key = (
                r.change.clone(),
                r.instance.clone(),
                r.moved_to.as_deref().and_then(target_instance),
            );
            *counts.entry(key).or_default() += 1;
        } else {
            named.push(r);
        }
    }
    let counts = counts
        .into_iter()
        .map(|((change, instance, moved_to), count)| OptedOutCount {
            change,
            instance,
            moved_to,
            count,
        })
        .collect();
    (named, counts)
}

/// "2 opted-out accounts on a.example still listed but marked moved to eq.example", "1
/// opted-out account on a.example added".
pub fn opted_out_sentence(c: &OptedOutCount) -> String {
    let who = match c.count {
        1 => "1 opted-out account".to_string(),
        n => format!("{n} opted-out accounts"),
    };
    let on = c.instance.as_deref().map(|i| format!(" on {i}")).unwrap_or_default();
    match c.change.as_str() {
        "moved" => format!(
            "{who}{on} still listed but marked moved to {}",
            c.moved_to.as_deref().unwrap_or("another instance")
        ),
        "added" => format!("{who}{on} added"),
        "no-longer-visible" => format!("{who}{on} no longer visible"),
        _ => format!("{who}{on} gone"),
    }
}

/// The cause of a gone account in words, grouping moves by destination.
fn cause_key(a: &AccountChange) -> String {
    match a.cause.as_deref() {
        Some("moved") => format!(
            "moved to {}",
            a.moved_to
                .as_deref()
                .and_then(target_instance)
                .unwrap_or_else(|| "another instance".into())
        ),
        Some(c) => c.to_string(),
        None => "not checked".to_string(),
    }
}

/// "14 gone (3 moved to flagship.example, 2 deleted, 9 unfollowed)": how many left, then why
/// (a move is a cause of leaving, not a category of its own); `None` when none left.
pub fn gone_sentence(accounts: &[AccountChange]) -> Option<String> {
    let gone: Vec<&AccountChange> = accounts.iter().filter(|a| a.change == "gone").collect();
    if gone.is_empty() {
        return None;
    }
    let mut causes: BTreeMap<String, u64> = BTreeMap::new();
    for a in &gone {
        *causes.entry(cause_key(a)).or_default() += 1;
    }
    let mut parts: Vec<(String, u64)> = causes.into_iter().collect();
    parts.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    let parts: Vec<String> = parts.into_iter().map(|(c, n)| format!("{n} {c}")).collect();
    Some(format!("{} gone ({})", gone.len(), parts.join(", ")))
}

/// "12 no longer visible (the following list of @x became not-exposed)"; `None` when none.
pub fn unseen_sentence(accounts: &[AccountChange]) -> Option<String> {
    let mut why: BTreeMap<&str, u64> = BTreeMap::new();
    for a in accounts.iter().filter(|a| a.change == "no-longer-visible") {
        *why.entry(a.because.as_deref().unwrap_or("a list can no longer be read"))
            .or_default() += 1;
    }
    if why.is_empty() {
        return None;
    }
    let total: u64 = why.values().sum();
    let reasons: Vec<String> = why
        .into_iter()
        .map(|(w, n)| if n == total { w.to_string() } else { format!("{n}: {w}") })
        .collect();
    Some(format!("{total} no longer visible ({})", reasons.join("; ")))
}

/// An account still listed that now says it moved, in words.
pub const STILL_LISTED: &str = "still listed, now marked moved";

/// The accounts' headline: how many changed, then each account once, in one category
/// (added; gone, with its causes; no longer visible; still listed, now marked moved),
/// categories with none left out: "5 — 4 added; 1 gone (1 moved to node71.example)".
pub fn headline(accounts: &[AccountChange]) -> String {
    let n = |c: &str| accounts.iter().filter(|a| a.change == c).count();
    let mut parts = vec![];
    if n("added") > 0 {
        parts.push(format!("{} added", n("added")));
    }
    parts.extend(gone_sentence(accounts));
    parts.extend(unseen_sentence(accounts));
    if n("moved") > 0 {
        parts.push(format!("{} {STILL_LISTED}", n("moved")));
    }
    match parts.is_empty() {
        true => accounts.len().to_string(),
        false => format!("{} — {}", accounts.len(), parts.join("; ")),
    }
}

/// "@a@x is still listed but says it moved to @a@y": an account whose list still names it.
pub fn still_listed_sentence(a: &AccountChange) -> String {
    format!(
        "{} is still listed but says it moved to {}",
        a.account,
        a.moved_to.as_deref().unwrap_or("another account")
    )
}

/// The line of one named account in a text diff.
pub fn line(a: &AccountChange) -> String {
    match a.change.as_str() {
        "added" => format!("+ {}", a.account),
        "moved" => format!("~ {}", still_listed_sentence(a)),
        "no-longer-visible" => format!(
            "? {} no longer visible ({})",
            a.account,
            a.because.as_deref().unwrap_or("its list can no longer be read")
        ),
        _ => match a.cause.as_deref() {
            Some("moved") => format!("> {} moved to {}", a.account, a.moved_to.as_deref().unwrap_or("?")),
            Some(c) => format!("- {} ({c})", a.account),
            None => format!("- {}", a.account),
        },
    }
}
