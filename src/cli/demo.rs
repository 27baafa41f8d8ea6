//! `whohosts demo`: the whole pipeline, offline, against a simulated fediverse started
//! in-process on loopback (its own DNS server and its own ASN fixture), stored in a
//! temporary database unless `--db` names one. The world changes over a few weeks; each week
//! is crawled into the database; the demo prints the report of the last week, which leads with
//! the headline and the trend of all weeks (from the stored metrics). `demo --contacts`
//! measures the simulator's demo contact book instead, as `whohosts contacts` would.

use std::path::Path;

use super::print;
use crate::config::Config;
use crate::crawl::CrawlOptions;
use crate::error::{Error, Result};
use crate::model::format::Format;
use crate::pipeline::{self, Job};
use crate::store::lock::DbLock;
use crate::store::{Resume, Store};
use whohosts_sim::timeline::Timeline;
use whohosts_sim::{self as sim, generate};

/// Weeks of changes in the demo's generated world (snapshots: one more).
pub const DEFAULT_WEEKS: u32 = 3;

/// `demo` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub world: super::WorldArgs,
    /// Handles to crawl [default: the world's demo accounts]
    #[arg(value_name = "HANDLE")]
    pub handles: Vec<String>,
    #[command(flatten)]
    pub view: super::report::View,
    #[command(flatten)]
    pub destination: super::report::Destination,
    /// Measure a demo contact book instead (who serves its contacts' mail, XMPP and Matrix),
    /// as `whohosts contacts` does (which has no -o, --json-copy, --top, --by or --weight:
    /// those of follows reports are refused with it)
    #[arg(long, conflicts_with_all = ["handles", "output", "json_copy", "top", "by", "weight"])]
    pub contacts: bool,
    /// With --contacts: list the book's entries that name no usable address, on stderr
    #[arg(long, requires = "contacts")]
    pub show_malformed: bool,
}

/// Run `demo`. The user's config only contributes politeness settings it does not override
/// (contact URL, budgets); the network settings point at the simulator.
///
/// # Errors
/// Simulator start-up, database or output errors.
pub async fn run(user_config: Config, args: Args, db: Option<&Path>, quiet: bool) -> Result<i32> {
    let mut world = args.world.clone();
    world.weeks.get_or_insert(DEFAULT_WEEKS);
    let w = world.world()?;
    if args.contacts {
        return contacts(user_config, w, args.view.format, args.show_malformed, db, quiet).await;
    }
    let seeds = if args.handles.is_empty() {
        generate::demo_seeds(&w)
    } else {
        args.handles.clone()
    };
    if seeds.is_empty() {
        let name = args
            .world
            .world
            .as_deref()
            .map_or("generated".into(), |p| p.display().to_string());
        let some = generate::suggested_seeds(&w, 5);
        return Err(Error::Input(if some.is_empty() {
            format!("world {name} has no account that follows anyone: nothing to crawl")
        } else {
            format!(
                "world {name} has no demo account: name handles to crawl, such as {}",
                some.join(" ")
            )
        }));
    }
    let (output, json_copy) = args.destination.check()?;
    if let Some(db) = db {
        check_new(db, false)?;
    }
    let (instances, accounts, weeks) = (w.instances.len(), w.accounts.len(), w.last_week());
    let running = sim::start_timeline(Timeline::new(w)?, None).await?;
    let dir = tempfile_dir()?;
    let mut config = super::sim::client_config(&running, &dir.join("sim-asn.csv"))?;
    config.contact_url = user_config.contact_url;
    config.attribution.organisations = user_config.attribution.organisations;
    let kept = db;
    let db = db.map_or_else(|| dir.join("demo.db"), Path::to_path_buf);
    let job = Job {
        seeds,
        options: CrawlOptions::default(),
        resume: Resume::Never,
        quiet,
        clock_offset_secs: 0,
    };
    let result = async {
        earlier_weeks(&running, config.clone(), &job, &db).await?;
        running.set_week(weeks)?;
        let (code, r) = super::crawl::crawl_and_report(config, &job, &db, &args.view, output.as_ref()).await?;
        if let (Some(out), Some(r)) = (&json_copy, &r) {
            out.write(crate::report::render(r, Format::Json, 0, false)?.as_bytes())?;
        }
        if args.view.format == Format::Text && output.is_none() {
            let last = r.as_ref().map_or(i64::from(weeks) + 1, |r| r.snapshot.id);
            let about = format!(
                "(A simulated fediverse: {instances} instances, {accounts} accounts on 127.0.0.0/8, DNS at {}, \
                 HTTP port {}, changing over {weeks} weeks: one snapshot a week. {})",
                running.dns_addr,
                running.http_port,
                next_steps(kept, last)
            );
            print(&format!("\n{}", crate::report::text::wrap(&about, "", "")))?;
        }
        Ok(code)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// What `demo --contacts`'s lines on stderr call its contact book (a temporary file).
pub const DEMO_BOOK: &str = "the demo's contact book";

/// The series `demo --contacts` stores its measurements under.
const DEMO_SERIES: &str = "demo";

/// Refuse a `--db` that already holds crawl snapshots or surveys: the demo's weeks would be
/// stored after them dated in the past (the demo dates its last week today), and a real
/// crawl's or survey's database would get simulated crawls beside its own data. A new file,
/// an empty one, or a database of contacts snapshots only is used. With `contacts` (for
/// `demo --contacts`), contacts snapshots other than the demo's are refused too: a real
/// book's series would get a simulated measurement beside it.
///
/// # Errors
/// [`Error::Flag`] naming the file and how many snapshots of each kind it holds; the
/// store's errors for a file that is not a whohosts database.
fn check_new(db: &Path, contacts: bool) -> Result<()> {
    if !std::fs::metadata(db).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let store = Store::open_read_only(db)?;
    let list = store.list()?;
    let count = |kind: &str| list.iter().filter(|s| s.kind == kind).count() as u64;
    let mut others = 0;
    for s in list
        .iter()
        .filter(|s| contacts && s.kind == crate::store::contacts::KIND)
    {
        if store.request(s.id)?["series"].as_str() != Some(DEMO_SERIES) {
            others += 1;
        }
    }
    let held: Vec<String> = [
        (count("follows"), "crawl snapshot"),
        (count(crate::store::instances::KIND), "survey (of instances)"),
        (others, "contacts snapshot"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| match (*n, *what) {
        (1, what) => format!("1 {what}"),
        (n, "survey (of instances)") => format!("{n} surveys (of instances)"),
        (n, what) => crate::report::plural(n, what),
    })
    .collect();
    if held.is_empty() {
        return Ok(());
    }
    let what = if contacts { "its contact book" } else { "its weeks" };
    Err(Error::Flag {
        flag: "--db",
        value: db.display().to_string(),
        message: format!(
            "already holds {}; the demo writes {what} into a new database: name a new file",
            held.join(" and ")
        ),
    })
}

/// A path as a POSIX shell reads it back: as it is when it holds only safe characters, else
/// in single quotes.
fn shell_word(p: &Path) -> String {
    let s = p.to_string_lossy();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./+:@=,%".contains(c)) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// What the demo's closing note suggests: commands on the database the snapshots were kept
/// in (`kept`, the last one `last`), or how to keep them when they went to a temporary one.
fn next_steps(kept: Option<&Path>, last: i64) -> String {
    let on = |db: &str| {
        let diff = if last > 1 {
            format!("`whohosts --db {db} diff {} {last}`, ", last - 1)
        } else {
            String::new()
        };
        format!("`whohosts --db {db} report --format html -o report.html`, {diff}`whohosts --db {db} query --list`")
    };
    match kept {
        Some(db) => format!("They are in {}: try {}.", db.display(), on(&shell_word(db))),
        None => format!(
            "They were in a temporary database, now removed: to keep them, run `{}`, then try {}.",
            keep_command(),
            on("demo.db")
        ),
    }
}

/// This demo's command line with `--db demo.db` added (the same world and seeds again).
fn keep_command() -> String {
    let mut words = vec!["whohosts".to_string()];
    let mut rest: Vec<String> = std::env::args_os().skip(1).map(|a| shell_word(Path::new(&a))).collect();
    // Before any `--`, after which every word is a handle.
    let at = rest.iter().position(|w| w == "--").unwrap_or(rest.len());
    rest.insert(at, "--db demo.db".into());
    words.extend(rest);
    words.join(" ")
}

/// `demo --contacts`: the demo contact book measured against the world (week 0) with the
/// names that serve it; `--show-malformed` as `contacts` takes it.
async fn contacts(
    user_config: Config,
    mut w: whohosts_sim::world::World,
    format: Format,
    show_malformed: bool,
    db: Option<&Path>,
    quiet: bool,
) -> Result<i32> {
    if let Some(db) = db {
        check_new(db, true)?;
    }
    let book = whohosts_sim::contact_book::demo_book(&mut w);
    let running = sim::start(w.layout()).await?;
    let dir = tempfile_dir()?;
    let result = async {
        let mut config = super::sim::client_config(&running, &dir.join("sim-asn.csv"))?;
        config.contact_url = user_config.contact_url;
        config.attribution.organisations = user_config.attribution.organisations;
        // The user's own provider and gateway rules name the demo's servers too.
        config.attribution.mail_providers = user_config.attribution.mail_providers;
        config.attribution.mail_gateways = user_config.attribution.mail_gateways;
        let file = dir.join("contacts.vcf");
        crate::files::write(&file, book.as_bytes(), 0o600).map_err(|e| Error::io(&file, e))?;
        let args = super::contacts::Args {
            files: vec![file],
            weight: "contacts".into(),
            me: vec![],
            format,
            show_malformed,
            series: Some(DEMO_SERIES.into()),
            attribution: super::AttributionArgs::default(),
            // The book is a temporary file, removed when the demo ends: not a name to give.
            shown_as: Some(DEMO_BOOK.into()),
        };
        let db = db.map_or_else(|| dir.join("demo.db"), Path::to_path_buf);
        let code = super::contacts::run(config, args, Some(&db), quiet).await?;
        if format == Format::Text {
            let about = format!(
                "(A demo contact book, a vCard of {} cards, measured in a simulated world: DNS at {}. \
                 Measure yours with `whohosts contacts FILE...`: vCard, CSV exports, text lists, mbox, Maildir.)",
                book.matches("BEGIN:VCARD").count(),
                running.dns_addr
            );
            print(&format!("\n{}", crate::report::text::wrap(&about, "", "")))?;
        }
        Ok(code)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A simulated week, in seconds.
const WEEK_SECS: i64 = 7 * 86_400;

/// Crawl weeks 0 to the one before the last into `db`, one snapshot each (the last week is
/// crawled by `crawl_and_report`, which prints the report with the trend of them all).
async fn earlier_weeks(running: &sim::Running, config: Config, job: &Job, db: &Path) -> Result<()> {
    let _lock = DbLock::acquire(db, "demo")?;
    let writer = Store::open(db)?.writer()?;
    let last = running.stage.last_week();
    for week in 0..last {
        running.set_week(week)?;
        // Simulated dates one week apart, the last week's snapshot dated now.
        let job = Job {
            clock_offset_secs: -i64::from(last - week) * WEEK_SECS,
            ..job.clone()
        };
        pipeline::run(&writer, config.clone(), &job).await?;
    }
    writer.close().await;
    Ok(())
}

/// The demo's own directory for its temporary database and ASN fixture: private (0700) as
/// the data directory is, under a fresh unpredictable name in the system's temporary
/// directory (never one another user planted there).
fn tempfile_dir() -> Result<std::path::PathBuf> {
    let near = std::env::temp_dir().join("whohosts-demo");
    crate::files::new_private_dir(&near).map_err(|e| Error::io(&near, e))
}
