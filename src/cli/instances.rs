//! `whohosts instances FILE`: survey a list of instances (one domain a line, or the JSON of
//! instances.social or fediverse.observer) the way the published studies did: NodeInfo users
//! and software of each, attribution, and the report weighted by users, active users and
//! instances.
//!
//! The survey is stored as a snapshot of kind `instances` (the database's lock held, as a
//! crawl holds it) and its report printed from the store, with the trend of the surveys of
//! the same list before it. As a crawl, it continues the unfinished survey of the same list
//! and filter (`--resume`: only that, failing when there is none; `--fresh`: a new survey
//! whatever is unfinished), and on SIGINT/SIGTERM stores what it surveyed, marks its snapshot interrupted
//! and exits with code 4.

use std::path::{Path, PathBuf};

use super::AttributionArgs;
use crate::config::Config;
use crate::error::{Error, Result, EXIT_INTERRUPTED};
use crate::model::format::Format;
use crate::pipeline::instances::Job;
use crate::report::instances::{write, InstancesReport};
use crate::store::{self, lock::DbLock, Store};

/// `instances` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The instance list: one domain (or URL, or handle) a line with `#` comments, or the
    /// JSON list of instances.social or fediverse.observer; the kind is told from the content
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only instances running this software (NodeInfo software.name, e.g. peertube)
    #[arg(long, value_name = "NAME")]
    pub software: Option<String>,
    /// Output format
    #[arg(long, value_parser = super::formats::instances(), default_value = "text")]
    pub format: Format,
    /// Rows per table in text and HTML (0: all)
    #[arg(long, default_value_t = 10, value_parser = super::usage::whole::<usize>)]
    pub top: usize,
    /// Write the report (in --format) to FILE instead of stdout (replaced atomically)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub resume: super::crawl::ResumeArgs,
    #[command(flatten)]
    pub attribution: AttributionArgs,
}

/// Run `instances`.
///
/// # Errors
/// A file that cannot be read or is no instance list, resolver or database errors. Hosts
/// that fail are part of the report, not errors.
pub async fn run(mut config: Config, args: Args, db: Option<&Path>, quiet: bool) -> Result<i32> {
    args.attribution.apply(&mut config)?;
    let out = args.output.as_deref().map(super::output::Output::check).transpose()?;
    // The database is checked first, as `crawl` and `contacts` check it: a bad `--db` is one
    // line, with nothing of the list printed before it.
    let path = store::database_path(db, &config);
    store::create_data_dir(db, &config)?;
    store::schema::check_to_open(&path)?;
    let list = crate::instances::list::read(&args.file)?;
    // A bad entry as said: its echo (already cut short) escaped, and why it is bad.
    let said =
        |b: &crate::instances::list::BadEntry| format!("{:?}: {}", crate::model::text::cleaned(&b.text, 200), b.reason);
    // A list that names no instance measures nothing (a wrong file given, most often): said
    // in one line naming its first bad entry, nothing stored, no line per entry.
    if list.hosts.is_empty() {
        let bad = match list.bad.first() {
            None => String::new(),
            Some(first) => format!(
                " ({} skipped; the first, line {}: {})",
                crate::report::plural(list.bad.len() as u64, "bad entry"),
                first.line,
                said(first)
            ),
        };
        return Err(Error::Input(format!(
            "{}: names no instance to survey{bad}",
            args.file.display()
        )));
    }
    // Bad entries are listed one a line; under -q one warning still counts them, so a cron
    // survey mails that its list has entries it skipped.
    match (quiet, list.bad.len()) {
        (_, 0) => {}
        (true, n) => super::logging::warning_line(&format!(
            "{}: {} skipped (run without -q to list them)",
            args.file.display(),
            crate::report::plural(n as u64, "bad entry")
        )),
        (false, _) => {
            for b in &list.bad {
                super::logging::notice_line(&format!("{}:{}: {}", args.file.display(), b.line, said(b)));
            }
        }
    }
    let job = Job {
        list: std::fs::canonicalize(&args.file)
            .unwrap_or_else(|_| args.file.clone())
            .display()
            .to_string(),
        software: args.software.clone(),
        resume: args.resume.mode(),
    };
    // What can be refused before the first request (a missing --asn-db file …) is, before
    // the database is touched: a refused run stores nothing. Then the database is locked
    // before any request, as a crawl does.
    let dns = config.dns.clone();
    let ready = crate::pipeline::Ready::new(config, quiet)?;
    let _lock = DbLock::acquire(&path, "instances")?;
    let store = Store::open(&path)?;
    let writer = store.writer()?;
    let stop = super::crawl::stop_requested();
    let surveyed = crate::pipeline::instances::survey_into(&writer, ready, list, &job, quiet, stop).await;
    writer.close().await;
    let surveyed = surveyed?;
    if surveyed.interrupted {
        super::logging::error_line(&format!(
            "interrupted after surveying {} of {} instances; snapshot {} kept: run the same command again to continue it",
            surveyed.stored, surveyed.listed, surveyed.id
        ));
        return Ok(i32::from(EXIT_INTERRUPTED));
    }
    // A survey where no instance answered is reported too (each instance and why it
    // failed), as a contacts run whose every lookup failed.
    let failed = surveyed.nothing_answered;
    // Built and written in one read of the database: its instances' rows (JSON) are read in
    // the same state as the rest of the report, whatever a `prune` does meanwhile.
    let (unresolved, dead) = store.reading(|| {
        let report = if failed {
            InstancesReport::failed(&store, surveyed.id)?
        } else {
            InstancesReport::stored(&store, surveyed.id)?
        };
        let (format, top) = (args.format, args.top);
        let write: super::output::Writing<'_> = Box::new(|w: &mut dyn std::io::Write| write(&report, format, top, w));
        match out {
            Some(out) => out.write_with(write)?,
            None => super::print_with(write)?,
        }
        if let Some(line) = crate::report::instances::unmatched_filter(&report) {
            super::logging::warning_line(&line);
        }
        let failures = report.failures.iter().map(|(_, kind, message)| (kind, message));
        Ok(unresolved(failures, report.population.listed, &dns))
    })?;
    // Then one line (even under -q, so cron mails it): nothing rated, stored as failed (no
    // baseline for the next survey), exit code 1.
    if failed {
        let of = crate::report::plural(surveyed.listed as u64, "instance");
        let why = match &dead {
            Some(dead) => format!("{}: no instance answered (of {of})", dead.sentence()),
            None => format!("no instance answered (of {of}: every DNS lookup or NodeInfo read failed)"),
        };
        super::logging::warning_line(&format!(
            "{why}, so nothing is rated; snapshot {} is stored as failed",
            surveyed.id
        ));
        return Ok(1);
    }
    if let Some(line) = super::logging::dns_warning(
        &unresolved,
        dead.as_ref(),
        ("instance", "instances"),
        "see \"NodeInfo not read\" in the report",
    ) {
        super::logging::warning_line(&line);
    }
    Ok(0)
}

/// The instances whose domain did not resolve, counted by DNS answer, and the nameserver
/// taken for not answering, if one was (the instances that timed out before it was are
/// counted as not answering too): what the one warning line says.
fn unresolved<'a>(
    failures: impl Iterator<Item = (&'a String, &'a String)>,
    listed: usize,
    dns: &crate::config::Dns,
) -> (crate::net::dns::Unresolved, Option<crate::net::dns::NotAnswering>) {
    use crate::store::kinds::{dns_answer, failure_kind};
    let answers: Vec<&str> = failures
        .filter_map(|(kind, message)| dns_answer(&failure_kind(kind, message)))
        .collect();
    let dead = answers
        .contains(&crate::net::dns::DNS_NOT_ANSWERING)
        .then(|| crate::net::dns::NotAnswering::of(dns));
    let mut unresolved = crate::net::dns::Unresolved {
        of: listed,
        ..Default::default()
    };
    for a in answers {
        match a {
            "timeout" if dead.is_some() => unresolved.add(crate::net::dns::DNS_NOT_ANSWERING),
            a => unresolved.add(a),
        }
    }
    (unresolved, dead)
}
