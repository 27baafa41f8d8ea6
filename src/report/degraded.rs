//! Data too thin to rate: the sentences `crawl` and `report` put on stderr (cron mails them)
//! when no list could be read or when lists hide more than `report.max_unseen_share` of the
//! accounts.

use super::plural;
use crate::metrics::Population;

/// Whether nothing at all was counted: no account from any list.
pub fn nothing_to_attribute(p: &Population) -> bool {
    p.accounts == 0
}

/// One sentence per way the data is degraded (empty when it is not).
pub fn warnings(p: &Population, max_unseen_share: f64) -> Vec<String> {
    let mut out = vec![];
    // When every seed failed, each has its own line on stderr already (and exit code 1).
    if p.lists > 0 && p.lists_complete + p.lists_partial == 0 {
        // Only the ways lists failed that occurred (no "0 refused").
        let how: Vec<String> = [
            (p.lists_hidden, "hidden"),
            (p.lists_not_exposed, "not exposed"),
            (p.lists_refused, "refused"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let failed = match p.seeds_failed {
            0 => String::new(),
            n => format!(", and {} failed", plural(n as u64, "seed")),
        };
        let how = match how.is_empty() {
            true => String::new(),
            false => format!(": {}", how.join(", ")),
        };
        out.push(format!(
            "no follow list could be read ({} of {}{how}{failed}), so there is nothing to attribute",
            plural(p.lists as u64, "list"),
            plural(p.seeds as u64, "seed"),
        ));
    } else if p.lists > 0 && nothing_to_attribute(p) {
        out.push("the lists read hold no account, so there is nothing to attribute".into());
    }
    let share = p.unseen_share();
    if share > max_unseen_share && p.accounts > 0 {
        out.push(format!(
            "{:.0} % of the accounts are unseen ({} declared by hidden or not-exposed lists, {} seen), more \
             than report.max_unseen_share ({max_unseen_share}): the figures describe only part of the graph",
            share * 100.0,
            p.accounts_unseen,
            p.accounts
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_when_nothing_was_read_and_when_most_is_unseen() {
        let hidden = Population {
            seeds: 2,
            lists: 2,
            lists_hidden: 1,
            lists_refused: 1,
            accounts_unseen: 30,
            ..Population::default()
        };
        assert_eq!(
            warnings(&hidden, 0.25),
            [
                "no follow list could be read (2 lists of 2 seeds: 1 hidden, 1 refused), so there is nothing to \
              attribute"
            ]
        );
        let thin = Population {
            lists: 2,
            lists_complete: 1,
            lists_hidden: 1,
            accounts: 10,
            accounts_unseen: 30,
            ..Population::default()
        };
        assert_eq!(
            warnings(&thin, 0.25),
            [
                "75 % of the accounts are unseen (30 declared by hidden or not-exposed lists, 10 seen), more than \
                 report.max_unseen_share (0.25): the figures describe only part of the graph"
            ]
        );
        assert!(warnings(&thin, 0.75).is_empty());
    }
}
