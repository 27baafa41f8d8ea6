//! `whohosts report [SNAPSHOT]`: a stored snapshot's report, in text, JSON, CSV or HTML.
//! `crawl` and `demo` print through [`print_stored`] too, so the report of a snapshot is the
//! same whenever it is asked.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::print;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::{Level, Weight};
use crate::model::format::Format;
use crate::report::model::DEFAULT_LEVELS;
use crate::report::{self, text, Options, Report};
use crate::store::{self, Store};

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

/// Which levels and weight: shared by `crawl`, `demo`, `report` and `diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct Scope {
    /// Level to show; repeat for several [default: instance, organisation, as]
    #[arg(long = "by", value_name = "LEVEL",
          value_parser = PossibleValuesParser::new(names(Level::ALL, Level::as_str)).try_map(|s| s.parse::<Level>()))]
    pub by: Vec<Level>,
    /// What each bucket weighs (stated in every output) [default: accounts]
    #[arg(long, value_name = "W",
          value_parser = PossibleValuesParser::new(names(Weight::ALL, Weight::as_str)).try_map(|s| s.parse::<Weight>()))]
    pub weight: Option<Weight>,
}

impl Scope {
    /// The levels asked for, each once, in the order given; the default ones when none.
    pub fn levels(&self) -> Vec<Level> {
        let mut levels: Vec<Level> = vec![];
        for l in &self.by {
            if !levels.contains(l) {
                levels.push(*l);
            }
        }
        if levels.is_empty() {
            levels = DEFAULT_LEVELS.to_vec();
        }
        levels
    }

    /// The weight asked for, else `accounts`.
    pub fn weight(&self) -> Weight {
        self.weight.unwrap_or(Weight::Accounts)
    }

    /// Refuse a `--weight` given for snapshot `id`, which `is` describes ("a contacts
    /// snapshot, weighed by …"): the flag names weights of follows snapshots, and a contacts
    /// snapshot has only the one it was measured with (`contacts --weight
    /// contacts|messages`), a survey shows every weight it has.
    ///
    /// # Errors
    /// [`Error::Flag`] (a usage error) naming the weight and what the snapshot has.
    pub fn refuse_weight(&self, id: i64, is: &str) -> Result<()> {
        match self.weight {
            None => Ok(()),
            Some(w) => Err(Error::Flag {
                flag: "--weight",
                value: w.as_str().to_string(),
                message: format!("snapshot {id} is {is}; --weight names weights of follows snapshots"),
            }),
        }
    }
}

impl Scope {
    /// Refuse `--by` given for snapshot `id`, which `is` describes: a survey's report shows
    /// its own levels, and a silently ignored flag reads like one honoured.
    ///
    /// # Errors
    /// [`Error::Flag`] (a usage error) naming the levels given and what the snapshot shows.
    pub fn refuse_by(&self, id: i64, is: &str) -> Result<()> {
        if self.by.is_empty() {
            return Ok(());
        }
        let given: Vec<&str> = self.by.iter().map(|l| l.as_str()).collect();
        Err(Error::Flag {
            flag: "--by",
            value: given.join(","),
            message: format!("snapshot {id} is {is}; --by chooses the levels of a follows report"),
        })
    }
}

/// What a survey shows, for [`Scope::refuse_by`].
pub const SURVEY_LEVELS: &str =
    "a survey, reported at the AS, organisation and instance levels (JSON and CSV: every level)";

/// What a contacts snapshot measured under `weight` is, for [`Scope::refuse_weight`].
pub fn contacts_weighed(weight: &str) -> String {
    format!("a contacts snapshot, weighed by {weight} (the weight `contacts --weight` measured it with)")
}

/// What a survey is, for [`Scope::refuse_weight`].
pub const SURVEY_WEIGHED: &str = "a survey, reported under each weight it has (users, active, instances)";

/// What a report shows and how: shared by `crawl`, `demo` and `report`.
#[derive(Debug, Clone, clap::Args)]
pub struct View {
    #[command(flatten)]
    pub scope: Scope,
    /// Output format
    #[arg(long, value_parser = super::formats::report(), default_value = "text")]
    pub format: Format,
    /// Rows shown per level in the text and HTML reports (0: all)
    #[arg(long, default_value_t = 10, value_parser = super::usage::whole::<usize>)]
    pub top: usize,
}

impl View {
    /// The report options these flags ask for.
    pub fn options(&self) -> Options {
        Options {
            levels: self.scope.levels(),
            weight: self.scope.weight(),
            ..Options::default()
        }
    }
}

/// `report` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Snapshot id (see `whohosts snapshots`) [default: the latest complete one]
    #[arg(value_name = "SNAPSHOT", value_parser = super::usage::whole::<i64>)]
    pub snapshot: Option<i64>,
    #[command(flatten)]
    pub view: View,
    /// Write the report to FILE instead of stdout (replaced atomically)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub alerts: super::alerts::Args,
}

/// Build the report of snapshot `id` and print it (coloured on a terminal without
/// `NO_COLOR`); returns the report.
///
/// # Errors
/// Store errors; [`Error::Io`] for stdout.
pub fn print_stored(store: &Store, id: i64, view: &View) -> Result<Report> {
    let r = Report::build(store, id, &view.options())?;
    let color = text::color_wanted(std::io::stdout().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
    let text = report::render(&r, view.format, view.top, color)?;
    store.check_unchanged()?;
    print(&text)?;
    Ok(r)
}

/// Build the report of snapshot `id` and write it to `out` (`-o`, uncoloured), or print it
/// when there is none; returns the report.
///
/// # Errors
/// Store errors; [`Error::Io`] or [`Error::Output`] for where it goes.
pub fn emit_stored(store: &Store, id: i64, view: &View, out: Option<&super::output::Output>) -> Result<Report> {
    match out {
        None => print_stored(store, id, view),
        Some(out) => {
            let r = Report::build(store, id, &view.options())?;
            let text = report::render(&r, view.format, view.top, false)?;
            store.check_unchanged()?;
            out.write(text.as_bytes())?;
            Ok(r)
        }
    }
}

/// `-o FILE` and `--json-copy FILE` of `crawl` and `demo`: where the report goes.
#[derive(Debug, Clone, clap::Args)]
pub struct Destination {
    /// Write the report (in --format) to FILE instead of stdout (replaced atomically)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the full report as JSON to FILE (replaced atomically)
    #[arg(long, value_name = "FILE")]
    pub json_copy: Option<PathBuf>,
}

impl Destination {
    /// Both destinations, checked before any work: (`-o`, `--json-copy`).
    ///
    /// # Errors
    /// [`Error::Output`] naming the one that cannot be written.
    pub fn check(&self) -> Result<(Option<super::output::Output>, Option<super::output::Output>)> {
        use super::output::Output;
        Ok((
            self.output.as_deref().map(Output::check).transpose()?,
            self.json_copy.as_deref().map(Output::check).transpose()?,
        ))
    }
}

/// The snapshot `asked`, else the latest complete one (of `kind` when given).
///
/// # Errors
/// [`Error::Store`] when there is no complete snapshot (of that kind).
pub fn pick(store: &Store, asked: Option<i64>, kind: Option<&str>) -> Result<i64> {
    match asked {
        Some(id) => Ok(id),
        None => store.latest_complete(kind)?.ok_or_else(|| {
            let what = kind.map(|k| format!("{k} ")).unwrap_or_default();
            Error::Store(format!("no complete {what}snapshot in {} yet", store.path().display()))
        }),
    }
}

/// Run `report`.
///
/// # Errors
/// [`Error::Store`] when there is no such (or no complete) snapshot; database errors.
pub fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    let store = Store::open_read_only(&store::database_path(db, config))?;
    let a = &args.alerts;
    // Alerts read a crawl's figures: without an id they take the latest follows snapshot, a
    // contacts snapshot stored since (by the same cron) notwithstanding.
    let alerting = !a.fail_if.is_empty() || !a.warn_if.is_empty() || a.metrics_file.is_some();
    let id = pick(&store, args.snapshot, alerting.then_some("follows"))?;
    let alerts = args.alerts.clone().check(config)?;
    // The one `-o` of the tool: a regular file is replaced atomically, anything else (a
    // device, a FIFO, /dev/stdout) written through; checked before the work.
    let out = args.output.as_deref().map(super::output::Output::check).transpose()?;
    match store.kind(id)?.as_deref() {
        Some(crate::report::contacts_diff::KIND) => return contacts(&store, id, &args, out.as_ref()),
        Some(crate::report::survey_diff::KIND) => return survey(&store, id, &args, out.as_ref()),
        _ => {}
    }
    // A crawl stored failed printed its report (why each seed failed) as it ended; it
    // measured nothing, so `report` has none, no figures and no rule to check.
    store.refuse_unfinished(id)?;
    let r = emit_stored(&store, id, &args.view, out.as_ref())?;
    alerts.finish(&store, id, r.weight)
}

/// Refuse the alert flags on a snapshot that is not a follows snapshot (`what` it is): a
/// usage error (exit code 2), as `--by` and `--weight` there are.
fn refuse_alerts(id: i64, what: &str, a: &super::alerts::Args) -> Result<()> {
    if a.fail_if.is_empty() && a.warn_if.is_empty() && a.metrics_file.is_none() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "snapshot {id} is {what}: --fail-if, --warn-if and --metrics-file read follows snapshots"
    )))
}

/// `report` of a survey (kind `instances`): the report `instances` printed (weighted by users,
/// active users and instances; `--by` and `--weight` are refused), with the trend of the
/// surveys of the same list.
fn survey(store: &Store, id: i64, args: &Args, out: Option<&super::output::Output>) -> Result<i32> {
    refuse_alerts(id, "a survey", &args.alerts)?;
    args.view.scope.refuse_weight(id, SURVEY_WEIGHED)?;
    args.view.scope.refuse_by(id, SURVEY_LEVELS)?;
    // Built and written in one read of the database (its JSON instances included); written as
    // it is read, so checked once it is and before it is put in place: `-o FILE` is not
    // replaced by a report of a file that changed (stdout has had its lines; the command fails).
    store.reading(|| {
        let r = crate::report::instances::InstancesReport::stored(store, id)?;
        let (format, top) = (args.view.format, args.view.top);
        let write: super::output::Writing<'_> = Box::new(|w: &mut dyn std::io::Write| {
            let written = crate::report::instances::write(&r, format, top, w)?;
            store.check_unchanged()?;
            Ok(written)
        });
        match out {
            Some(out) => out.write_with(write),
            None => super::print_with(write),
        }
    })?;
    Ok(0)
}

/// `report` of a contacts snapshot: its own report (every level it has; `--by` names
/// levels of follows and does not apply, `--weight` is refused), in any report format.
fn contacts(store: &Store, id: i64, args: &Args, out: Option<&super::output::Output>) -> Result<i32> {
    refuse_alerts(id, "a contacts snapshot", &args.alerts)?;
    let r = crate::report::contacts::ContactsReport::build(store, id)?;
    args.view
        .scope
        .refuse_weight(id, &contacts_weighed(r.measurement.weight))?;
    let text = crate::report::contacts::render(&r, args.view.format, args.view.top);
    store.check_unchanged()?;
    match out {
        Some(out) => out.write(text.as_bytes())?,
        None => print(&text)?,
    }
    Ok(0)
}
