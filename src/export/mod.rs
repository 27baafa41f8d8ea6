//! Research exports: stored snapshots as pseudonymised, documented files that DuckDB,
//! pandas, R or Spark read as they are.
//!
//! # Architecture
//! - [`tables`] is the data dictionary (every table, field, type, description and key);
//!   [`table`] the shape every writer reads.
//! - [`privacy`] decides what a snapshot may show: [`pseudonym`] keyed HMAC pseudonyms, small
//!   instances generalised to their AS, opted-out accounts only in counts.
//! - [`rows`] fills the tables from a stored [`Snapshot`]; [`measures`] adds its stored
//!   metrics (the instance level re-bucketed after generalisation).
//! - [`contacts`] fills the tables of contacts snapshots (`contact_domains`, `contacts`),
//!   added to an export only when it holds one.
//! - [`files`] writes CSV (gzip or not) or Parquet; [`package`] and [`describe`] write
//!   `datapackage.json` and the README.md data dictionary; [`output`] puts it all in place
//!   atomically (a directory or a `.tar.gz`).

pub mod contacts;
pub mod describe;
pub mod files;
pub mod measures;
pub mod output;
pub mod package;
pub mod privacy;
pub mod pseudonym;
pub mod rows;
pub mod table;
pub mod tables;

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::model::snapshot::Snapshot;
use crate::store::{SnapshotInfo, Store};
use privacy::Privacy;
use pseudonym::Pseudonymiser;
use table::{count, Table, Value};

/// File format of the tables. Not [`crate::model::format::Format`], the formats a report, a
/// query, a diff or a lookup is written in: this one is how a set of tables is stored for
/// other tools to load (Parquet is no rendering of an answer, and an export's CSV is one file
/// per table), and `export --format` offers only these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

/// What to export, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Snapshot ids; empty = every complete snapshot.
    pub snapshots: Vec<i64>,
    /// Only snapshots started on or after this day (`YYYY-MM-DD`).
    pub since: Option<String>,
    pub format: Format,
    /// Gzip the CSV files.
    pub gzip: bool,
    /// Replace an existing output.
    pub force: bool,
    pub include_handles: bool,
    /// Exact per-account counts and days of last activity (`--precise`).
    pub precise: bool,
    pub min_instance_users: u64,
    pub min_group_members: u64,
    /// A directory, or a `.tar.gz`.
    pub out: PathBuf,
}

/// What the package says about itself.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub tool: String,
    pub created: String,
    pub snapshots: Vec<i64>,
    pub format: Format,
    pub gzip: bool,
    pub include_handles: bool,
    pub precise: bool,
    pub min_instance_users: u64,
    pub min_group_members: u64,
    /// Which key made the pseudonyms ([`Pseudonymiser::kind`]).
    pub key_kind: String,
    /// The ASN databases used, for `sources`.
    pub sources: Vec<String>,
    pub method: String,
    pub population: String,
}

/// The tables being filled.
pub struct Tables(Vec<Table>);

impl Tables {
    /// Table `name` (one of [`tables::all`]).
    pub fn get(&mut self, name: &str) -> &mut Table {
        let i = self.0.iter().position(|t| t.name == name);
        // Names are the constants of tables.rs, all present: a miss is a bug in this module.
        let i = i.expect("every table name used is one of tables::all()");
        &mut self.0[i]
    }

    /// The filled tables.
    pub fn into_vec(self) -> Vec<Table> {
        self.0
    }
}

/// The last path component of `text` (a database path must not reveal the exporter's home).
pub fn file_name_only(text: &str) -> String {
    text.rsplit('/').next().unwrap_or(text).to_string()
}

/// Check a `--since` value: a `YYYY-MM-DD` day.
///
/// # Errors
/// [`Error::Input`] ("not a date"), which the command line says with the flag and value.
pub fn parse_since(text: &str) -> Result<String> {
    let ok = text.len() == 10 && humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).is_ok();
    if ok {
        Ok(text.to_string())
    } else {
        Err(Error::Input("not a date (YYYY-MM-DD)".into()))
    }
}

/// The snapshots `options` asks for, oldest first.
///
/// # Errors
/// [`Error::Export`] for an unknown or incomplete snapshot, or when none is left.
pub fn select(store: &Store, options: &Options) -> Result<Vec<SnapshotInfo>> {
    let all = store.list()?;
    for id in &options.snapshots {
        match all.iter().find(|s| s.id == *id) {
            None => return Err(Error::Export(format!("no snapshot {id} in {}", store.path().display()))),
            Some(s) if s.status != "complete" => {
                return Err(Error::Export(format!(
                    "snapshot {id} is {}, not complete: only complete snapshots are exported",
                    s.status
                )))
            }
            Some(_) => {}
        }
    }
    let chosen: Vec<SnapshotInfo> = all
        .into_iter()
        .filter(|s| s.status == "complete")
        .filter(|s| options.snapshots.is_empty() || options.snapshots.contains(&s.id))
        .filter(|s| {
            options
                .since
                .as_ref()
                .is_none_or(|d| s.started_at.as_str() >= d.as_str())
        })
        .collect();
    if chosen.is_empty() {
        if let (Some(d), false) = (&options.since, options.snapshots.is_empty()) {
            let ids: Vec<String> = options.snapshots.iter().map(i64::to_string).collect();
            let (them, were) = match ids.len() {
                1 => ("snapshot", "was"),
                _ => ("snapshots", "were all"),
            };
            return Err(Error::Export(format!(
                "{them} {} {were} started before --since {d}: give --since an earlier date or leave it out",
                ids.join(", ")
            )));
        }
        let since = options
            .since
            .as_ref()
            .map(|d| format!(" started on or after {d}"))
            .unwrap_or_default();
        return Err(Error::Export(format!(
            "no complete snapshot{since} in {}",
            store.path().display()
        )));
    }
    Ok(chosen)
}

/// An ASN database's date as recorded (`DATE`, `DATE (file date)`, several files' joined by
/// ` + `): the oldest date, and `file` when any is a file's date rather than the data's own.
fn asn_date(recorded: &str) -> (Option<String>, &'static str) {
    let label = format!(" ({})", crate::attribution::asn::load::FILE_DATE);
    let mut source = "data";
    let mut oldest: Option<&str> = None;
    for part in recorded.split(" + ") {
        let date = match part.strip_suffix(label.as_str()) {
            Some(d) => {
                source = "file";
                d
            }
            None => part,
        };
        let date = date.trim();
        if !date.is_empty() && oldest.is_none_or(|o| date < o) {
            oldest = Some(date);
        }
    }
    (oldest.map(str::to_string), source)
}

fn snapshot_row(id: i64, info: &SnapshotInfo, snap: &Snapshot, omitted: usize) -> Vec<Value> {
    let db = snap.attribution.database.as_ref();
    let (date, source) = db.map(|d| asn_date(&d.date)).unzip();
    vec![
        id.into(),
        info.kind.as_str().into(),
        info.status.as_str().into(),
        snap.crawl.started_at.as_str().into(),
        snap.crawl.finished_at.as_str().into(),
        snap.crawl.tool.as_str().into(),
        serde_json::to_value(snap.attribution.address_policy)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .into(),
        snap.attribution.online_fallback.into(),
        db.map(|d| file_name_only(&d.file)).into(),
        db.map(|d| d.format.clone()).into(),
        db.map(|d| d.sha256.clone()).into(),
        date.flatten().into(),
        source.map(str::to_string).into(),
        db.map(|d| describe::licence(Some(&d.licence))).into(),
        db.map_or(Value::Null, |d| count(d.ranges_v4)),
        db.map_or(Value::Null, |d| count(d.ranges_v6)),
        count(snap.crawl.requests),
        count(snap.crawl.retries),
        count(omitted),
    ]
}

/// Build the tables and the manifest of `chosen`.
///
/// # Errors
/// Store errors.
pub fn build(
    store: &Store,
    keys: &Pseudonymiser,
    options: &Options,
    chosen: &[SnapshotInfo],
) -> Result<(Vec<Table>, Manifest)> {
    let mut tables = Tables(tables::all());
    if chosen.iter().any(|s| s.kind == contacts::KIND) {
        tables.0.extend(contacts::tables());
    }
    let mut loaded = vec![];
    // Surveys: their snapshot for the method, their stored figures for the population.
    let mut surveys = vec![];
    for info in chosen {
        let snap = store.load(info.id)?;
        if info.kind == contacts::KIND {
            let min = privacy::MinGroup {
                members: options.min_group_members,
                users: options.min_instance_users,
            };
            let view = Privacy::new(keys, false, min, &snap, &Default::default()).with_precise(options.precise);
            contacts::add(&mut tables, info.id, store, keys, &view)?;
            tables.get("snapshots").push(snapshot_row(info.id, info, &snap, 0));
            continue;
        }
        let metrics = store.metrics(info.id)?;
        let min = privacy::MinGroup {
            members: options.min_group_members,
            users: options.min_instance_users,
        };
        if info.kind == crate::store::instances::KIND {
            // A survey lists no accounts: an instance's members are the users it declares,
            // so one is named when it declares at least the minimum of both.
            let per_host = rows::users_per_host(&snap);
            let view = Privacy::new(keys, false, min, &snap, &per_host).with_precise(options.precise);
            let omitted = rows::add(&mut tables, info.id, &snap, &view);
            let figures = store.survey_figures(info.id)?;
            measures::population(
                &mut tables,
                info.id,
                figures.iter().map(|(name, v)| (name.clone(), Some(v.round() as i64))),
            );
            measures::levels(&mut tables, info.id, &metrics, &view);
            tables
                .get("snapshots")
                .push(snapshot_row(info.id, info, &snap, omitted));
            surveys.push((info.id, snap, figures));
            continue;
        }
        let per_host = rows::accounts_per_host(&snap);
        let view = Privacy::new(keys, options.include_handles, min, &snap, &per_host).with_precise(options.precise);
        let omitted = rows::add(&mut tables, info.id, &snap, &view);
        measures::add(&mut tables, info.id, &metrics, &view);
        tables
            .get("snapshots")
            .push(snapshot_row(info.id, info, &snap, omitted));
        loaded.push((info.id, snap, metrics.population));
    }
    let mut snaps: Vec<(i64, &Snapshot)> = loaded.iter().map(|(i, s, _)| (*i, s)).collect();
    snaps.extend(surveys.iter().map(|(i, s, _)| (*i, s)));
    snaps.sort_by_key(|(i, _)| *i);
    let pops: Vec<(i64, &crate::metrics::Population)> = loaded.iter().map(|(i, _, p)| (*i, p)).collect();
    let survey_figures: Vec<(i64, &[(String, f64)])> = surveys.iter().map(|(i, _, f)| (*i, &f[..])).collect();
    let mut sources: Vec<String> = snaps
        .iter()
        .filter_map(|(_, s)| s.attribution.database.as_ref())
        .map(|d| format!("{} ({}, sha256 {})", file_name_only(&d.file), d.format, d.sha256))
        .collect();
    sources.dedup();
    let manifest = Manifest {
        tool: format!("whohosts {}", env!("CARGO_PKG_VERSION")),
        created: crate::model::time::now(),
        snapshots: chosen.iter().map(|s| s.id).collect(),
        format: options.format,
        gzip: options.gzip && options.format == Format::Csv,
        include_handles: options.include_handles,
        precise: options.precise,
        min_instance_users: options.min_instance_users,
        min_group_members: options.min_group_members,
        key_kind: keys.kind(),
        sources,
        method: describe::method(&snaps),
        population: describe::population(&pops, &survey_figures),
    };
    Ok((tables.into_vec(), manifest))
}

/// Write `tables` and their description into `staging`.
///
/// # Errors
/// [`Error::Io`] or [`Error::Export`] naming the file.
pub fn write(staging: &output::Staging, tables: &[Table], m: &Manifest) -> Result<()> {
    for t in tables {
        let (file, path) = staging.create(&package::file_name(t, m.format, m.gzip))?;
        match m.format {
            Format::Csv => files::csv_file(t, file, &path, m.gzip)?,
            Format::Parquet => files::parquet_file(t, file, &path)?,
        }
    }
    let json =
        serde_json::to_string_pretty(&package::datapackage(tables, m)).map_err(|e| Error::Export(e.to_string()))?;
    let put = |name: &str, text: &str| {
        let (mut f, p) = staging.create(name)?;
        std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| Error::io(p, e))
    };
    put("datapackage.json", &json)?;
    put("README.md", &package::readme(tables, m))
}

/// Export from `store` as `options` say: select, check the target, build, write, put in place.
///
/// # Errors
/// [`Error::Export`] for bad input (one line); I/O and store errors. Nothing is left behind.
pub fn export(store: &Store, keys: &Pseudonymiser, options: &Options) -> Result<Manifest> {
    let chosen = select(store, options)?;
    let staging = output::Staging::prepare(&options.out, options.force, options.include_handles)?;
    let (tables, manifest) = build(store, keys, options, &chosen)?;
    write(&staging, &tables, &manifest)?;
    // A tarball's entries carry the time of the latest snapshot exported, not the export's.
    let latest = store
        .list()?
        .into_iter()
        .filter(|s| manifest.snapshots.contains(&s.id))
        .map(|s| s.finished_at)
        .max()
        .and_then(|t| crate::model::time::parse(&t))
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    // Nothing put in place from a file that changed under a read that shared no `-shm`.
    store.check_unchanged()?;
    staging.commit(latest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::asn_date;

    #[test]
    fn the_asn_date_is_a_date_and_its_source_apart() {
        assert_eq!(
            asn_date("2026-11-21T00:00:00Z"),
            (Some("2026-11-21T00:00:00Z".into()), "data")
        );
        assert_eq!(
            asn_date("2026-12-08T02:24:17Z (file date)"),
            (Some("2026-12-08T02:24:17Z".into()), "file")
        );
        assert_eq!(
            asn_date("2026-12-01T00:00:00Z + 2026-11-02T00:00:00Z (file date)"),
            (Some("2026-11-02T00:00:00Z".into()), "file")
        );
        assert_eq!(asn_date(""), (None, "data"));
    }
}
