//! `whohosts contacts FILE...`: read address books (vCard, CSV exports, text lists) and
//! mailboxes (mbox, Maildir), find who serves each address (MX, XMPP SRV, Matrix
//! discovery), attribute those servers like instances, store the measurement as a snapshot
//! of kind `contacts` (the database's lock held, as a crawl holds it) and print its report
//! from the store, with the trend of its series. On SIGINT/SIGTERM before its lookups are
//! done it stops at once, stores nothing (its snapshot is begun only when they are) and exits
//! with code 4.

use std::path::{Path, PathBuf};

use super::logging::{dns_warning, error_line, notice_line, warning_line};
use super::{print, AttributionArgs};
use crate::config::Config;
use crate::error::{Error, Result, EXIT_INTERRUPTED};
use crate::model::contact::{Address, ContactWeight};
use crate::model::format::Format;
use crate::pipeline::contacts::{Job, Stored};
use crate::report::contacts::{render, ContactsReport, LISTED};
use crate::store::{self, lock::DbLock, Store};

/// `contacts` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address books and mailboxes: vCard, CSV, text (one address a line), mbox, Maildir;
    /// the kind is told from the content
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Weigh each address once (`contacts`) or by the messages exchanged with it (`messages`,
    /// counted from the mailboxes given)
    #[arg(long, value_name = "WEIGHT", value_parser = ["contacts", "messages"], default_value = "contacts")]
    pub weight: String,
    /// Your own address (not a contact; repeatable); by default the most frequent sender of
    /// the mailboxes given
    #[arg(long, value_name = "ADDR")]
    pub me: Vec<String>,
    /// Output format
    #[arg(long, value_parser = super::formats::contacts(), default_value = "text")]
    pub format: Format,
    /// List the entries that name no usable address, with file and line, on stderr
    #[arg(long)]
    pub show_malformed: bool,
    /// The series this snapshot continues (its trend and `.change`s compare within it)
    /// [default: the files given, as absolute paths]
    #[arg(long, value_name = "NAME")]
    pub series: Option<String>,
    #[command(flatten)]
    pub attribution: AttributionArgs,
    /// What the lines on stderr call the files read, when not their paths (`demo --contacts`
    /// reads its book from a temporary file it removes: "the demo's contact book").
    #[arg(skip)]
    pub shown_as: Option<String>,
}

/// What `--show-malformed` says of a line that was not UTF-8.
pub const RECODED: &str = "not UTF-8: read as Windows-1252 (its addresses intact, its names perhaps misread)";

/// Run `contacts`.
///
/// # Errors
/// A bad `--me`, resolver or database errors. A source that is no contact source is one
/// line on stderr and exit code 1; the other sources are still measured.
pub async fn run(mut config: Config, args: Args, db: Option<&Path>, quiet: bool) -> Result<i32> {
    args.attribution.apply(&mut config)?;
    let me: Vec<Address> = args
        .me
        .iter()
        .map(|m| {
            Address::classify(m).map_err(|why| Error::Flag {
                flag: "--me",
                value: m.clone(),
                message: why.to_string(),
            })
        })
        .collect::<Result<_>>()?;
    let weight = if args.weight == "messages" {
        ContactWeight::Messages
    } else {
        ContactWeight::Contacts
    };
    let book = crate::contacts::read(&args.files);
    // Each source refused is one line; the others are still measured, and the exit code is 1.
    for e in &book.refused {
        error_line(&e.to_string());
    }
    if book.sources.is_empty() {
        return Ok(1);
    }
    let code = i32::from(!book.refused.is_empty());
    if weight == ContactWeight::Messages && book.messages == 0 {
        return Err(Error::Flag {
            flag: "--weight",
            value: args.weight.clone(),
            message: "needs a mailbox (mbox or Maildir) among the files: none holds a message".into(),
        });
    }
    let owner = book.owner(&me);
    let shown = |file: &Path| match &args.shown_as {
        Some(name) => name.clone(),
        None => file.display().to_string(),
    };
    // The list asked for is printed even under `-q`, which silences only what was not asked.
    if args.show_malformed {
        for m in &book.malformed {
            notice_line(&format!("{}:{}: {:?}: {}", shown(&m.file), m.line, m.text, m.reason));
        }
        for (file, line) in &book.recoded_lines {
            notice_line(&format!("{}:{line}: {RECODED}", shown(file)));
        }
        if book.recoded > book.recoded_lines.len() as u64 {
            notice_line(&format!(
                "… and {} more lines not in UTF-8",
                book.recoded - book.recoded_lines.len() as u64
            ));
        }
    }
    // Entries that name no usable address are data lost: one warning per file, even under
    // `-q` (so cron mails it), as the crawl's warnings about lost data are.
    if !args.show_malformed {
        for (file, n) in &book.malformed_by_source {
            warning_line(&format!(
                "{}: {} (--show-malformed lists them)",
                shown(file),
                crate::report::plural(*n as u64, "malformed entry")
            ));
        }
    }
    if !quiet {
        if !args.show_malformed && book.recoded > 0 {
            let n = book.recoded;
            notice_line(&format!(
                "{} not in UTF-8, read as Windows-1252 (addresses intact; --show-malformed lists them)",
                crate::report::plural(n, "line"),
            ));
        }
        if me.is_empty() && !owner.is_empty() {
            let names: Vec<String> = owner.iter().map(ToString::to_string).collect();
            notice_line(&format!(
                "taking {} as your own address (the most frequent sender; --me to say otherwise)",
                names.join(", ")
            ));
        }
    }
    let book = book.without(&owner);
    let job = Job {
        series: args.series.clone().unwrap_or_else(|| default_series(&args.files)),
        files: args.files.iter().map(|f| f.display().to_string()).collect(),
        weight,
    };
    // The database is checked (and locked) before any request, as a crawl does.
    let path = store::database_path(db, &config);
    store::create_data_dir(db, &config)?;
    store::schema::check_to_open(&path)?;
    let _lock = DbLock::acquire(&path, "contacts")?;
    let store = Store::open(&path)?;
    let writer = store.writer()?;
    let stop = super::crawl::stop_requested();
    let max_lookups = config.contacts.max_lookups_per_domain;
    let stored = crate::pipeline::contacts::measure_into(&writer, config, &book, &job, quiet, stop).await;
    writer.close().await;
    match stored? {
        // SIGINT or SIGTERM before the measurement was done: nothing was begun, so nothing is
        // stored; said on one line, exit code 4.
        Stored::Interrupted => {
            error_line("interrupted before the lookups were done; nothing stored: run the same command again");
            Ok(i32::from(EXIT_INTERRUPTED))
        }
        // Domains that did not resolve are one warning (even under -q, so cron mails it),
        // counted by answer; the report lists them.
        Stored::Complete { id, lookups } => {
            let r = ContactsReport::build(&store, id)?;
            print(&render(&r, args.format, LISTED))?;
            // The report counts contacts: the domains that did not resolve are said with
            // the contacts they hold, which "Server not found" counts.
            let (dead, all) = lookups.unresolved_contacts;
            let mut unresolved = lookups.unresolved.clone();
            unresolved.holding = Some(format!("{dead} of {}", crate::report::plural(all, "contact")));
            if let Some(line) = dns_warning(
                &unresolved,
                lookups.not_answering.as_ref(),
                ("domain", "domains"),
                "see \"Server not found\" in the report",
            ) {
                warning_line(&line);
            }
            if let Some(line) = not_looked_up_line(&lookups.not_looked_up, max_lookups) {
                if !quiet {
                    notice_line(&line);
                }
            }
            Ok(code)
        }
        // As a crawl whose every seed failed: said on stderr (even under -q), not rated,
        // stored as failed, exit code 1.
        Stored::NothingServed {
            id,
            measurement,
            lookups,
        } => {
            let domains = crate::report::plural(lookups.unresolved.of as u64, "domain");
            let why = match &lookups.not_answering {
                Some(dead) => format!("{}: no domain resolved (of {domains})", dead.sentence()),
                None => format!("every DNS lookup failed ({domains}; is the resolver reachable?)"),
            };
            warning_line(&format!(
                "{why}, so no server was found and nothing is rated; snapshot {id} is stored as failed"
            ));
            print(&render(&ContactsReport::of(measurement), args.format, LISTED))?;
            Ok(1)
        }
    }
}

/// `700 fediverse contacts not looked up by WebFinger (contacts.max_lookups_per_domain =
/// 300): 700 of masto.example; …`: the contacts beyond the cap, by domain (most first);
/// `None` when the cap was not reached.
fn not_looked_up_line(by_domain: &std::collections::BTreeMap<String, usize>, cap: usize) -> Option<String> {
    if by_domain.is_empty() {
        return None;
    }
    let mut by: Vec<(&String, &usize)> = by_domain.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let n: usize = by.iter().map(|(_, n)| **n).sum();
    let listed: Vec<String> = by.iter().map(|(d, n)| format!("{n} of {d}")).collect();
    Some(format!(
        "{} not looked up by WebFinger (contacts.max_lookups_per_domain = {cap}): {}; each counted on \
         the instance its domain's other contacts were found on",
        crate::report::plural(n as u64, "fediverse contact"),
        listed.join(", ")
    ))
}

/// The series of a run that names none: its files as absolute paths (links resolved; a file
/// that cannot be resolved, missing this week, made absolute all the same, so the cron line
/// continues its series once the file is back), sorted, so the same files in any order
/// continue one series.
fn default_series(files: &[PathBuf]) -> String {
    let mut paths: Vec<String> = files
        .iter()
        .map(|f| {
            std::fs::canonicalize(f)
                .or_else(|_| std::path::absolute(f))
                .unwrap_or_else(|_| f.clone())
                .display()
                .to_string()
        })
        .collect();
    paths.sort();
    paths.dedup();
    paths.join(" ")
}
