//! `whohosts demo`: the whole pipeline, offline, against a simulated fediverse started
//! in-process on loopback (its own DNS server and its own ASN fixture), stored in a
//! temporary database unless `--db` names one. The world changes over a few weeks; each week
//! is crawled into the database and the demo ends with the trend the stored metrics show.

use std::fmt::Write as _;
use std::path::Path;

use rusqlite::types::Value;

use super::{print, ReportFormat};
use crate::config::Config;
use crate::crawl::CrawlOptions;
use crate::error::{Error, Result};
use crate::pipeline::{self, Job};
use crate::query::{self, Table};
use crate::sim::timeline::Timeline;
use crate::sim::{self, generate};
use crate::store::lock::DbLock;
use crate::store::{Resume, Store};

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
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Rows shown per grouping
    #[arg(long, default_value_t = 10)]
    pub top: usize,
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
    let seeds = if args.handles.is_empty() {
        generate::demo_seeds(&w)
    } else {
        args.handles.clone()
    };
    if seeds.is_empty() {
        return Err(Error::World("has no demo accounts: name the handles to crawl".into()));
    }
    let (instances, accounts, weeks) = (w.instances.len(), w.accounts.len(), w.last_week());
    let running = sim::start_timeline(Timeline::new(w)?, None).await?;
    let dir = tempfile_dir()?;
    let mut config = running.config_with_fixture(&dir.join("sim-asn.csv"))?;
    config.contact_url = user_config.contact_url;
    config.attribution.organisations = user_config.attribution.organisations;
    if args.format == ReportFormat::Text {
        print(&format!(
            "Simulated fediverse: {instances} instances, {accounts} accounts on 127.0.0.0/8 (DNS at {}, HTTP port {}), changing over {weeks} weeks.\n\nWeek 0:\n",
            running.dns_addr, running.http_port
        ))?;
    }
    let db = db.map_or_else(|| dir.join("demo.db"), Path::to_path_buf);
    let job = Job {
        seeds,
        options: CrawlOptions::default(),
        resume: Resume::Never,
        quiet,
    };
    let result = async {
        let (code, _) = super::crawl::crawl_and_report(config.clone(), &job, &db, args.format, args.top).await?;
        if args.format == ReportFormat::Text && weeks > 0 {
            let first = Store::open(&db)?.latest_complete()?.unwrap_or(1);
            let ids = later_weeks(&running, config, &job, &db).await?;
            print(&trend(&db, first, &ids)?)?;
        }
        Ok(code)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Crawl weeks 1 to the last into `db`: the ids of their snapshots.
async fn later_weeks(running: &sim::Running, config: Config, job: &Job, db: &Path) -> Result<Vec<i64>> {
    let _lock = DbLock::acquire(db, "demo")?;
    let writer = Store::open(db)?.writer()?;
    let job = Job {
        quiet: true,
        ..job.clone()
    };
    let mut ids = vec![];
    for week in 1..=running.stage.last_week() {
        running.set_week(week)?;
        ids.push(pipeline::run(&writer, config.clone(), &job).await?);
    }
    writer.close().await;
    Ok(ids)
}

/// The column `name` of `row` in `table`.
fn cell<'a>(table: &'a Table, row: &'a [Value], name: &str) -> &'a Value {
    table
        .columns
        .iter()
        .position(|c| c == name)
        .and_then(|i| row.get(i))
        .unwrap_or(&Value::Null)
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Real(f) => *f,
        _ => f64::NAN,
    }
}

/// Rows of shipped query `name` with `params`.
fn shipped(db: &Path, name: &str, params: &[(&str, String)]) -> Result<Table> {
    let conn = query::open_read_only(db)?;
    let given: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    query::run(&conn, name, query::find(name)?.sql, &given)
}

/// The stored concentration of the week-0 snapshot `first` and the later `ids`, and what
/// changed between the first and the last.
fn trend(db: &Path, first: i64, ids: &[i64]) -> Result<String> {
    let c = shipped(db, "concentration", &[])?;
    let mut out = String::from(
        "\nTrend, one snapshot a week (hosting organisations, weighted by accounts; stored metrics):\n  week  organisations   top 1   top 3  k50   HHI\n",
    );
    let weeks = std::iter::once(first).chain(ids.iter().copied());
    for (week, id) in weeks.enumerate() {
        let Some(row) = c
            .rows
            .iter()
            .find(|r| cell(&c, r, "snapshot_id") == &Value::Integer(id))
        else {
            continue;
        };
        let band = match cell(&c, row, "band") {
            Value::Text(b) => b.clone(),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {week:>4}  {:>13}  {:>5.1} %  {:>4.1} %  {:>3}  {:>4.0}  {band}",
            number(cell(&c, row, "buckets")),
            100.0 * number(cell(&c, row, "top1")),
            100.0 * number(cell(&c, row, "top3")),
            number(cell(&c, row, "k50")),
            number(cell(&c, row, "hhi")),
        );
    }
    let last = ids.last().copied().unwrap_or(first);
    let pair = [("from", first.to_string()), ("to", last.to_string())];
    let hosts = shipped(db, "host-changes", &pair)?.rows.len();
    let instances = shipped(db, "instance-changes", &pair)?.rows.len();
    let moved = shipped(db, "moved-accounts", &[("snapshot", last.to_string())])?
        .rows
        .len();
    let _ = writeln!(
        out,
        "\nSince week 0: {hosts} instances changed host, {instances} appeared, disappeared or became unreachable; {moved} followed accounts moved or lost their instance.\nAsk more with `whohosts --db FILE query --list` (keep the demo's snapshots with --db FILE)."
    );
    Ok(out)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("whohosts-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}
