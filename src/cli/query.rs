//! `whohosts query`: run a trend query (one of `queries/*.sql`, or the user's own SQL file)
//! over the snapshot database, read-only, and print its rows.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::print;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::format::Format;
use crate::query::{self, Header};
use crate::report::text::wrap;
use crate::store;

/// `query` arguments.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["name", "list", "sql", "show"]))]
pub struct Args {
    /// The query to run (see --list)
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// List the shipped queries with their parameters and columns
    #[arg(long)]
    pub list: bool,
    /// Print the SQL of the shipped query NAME (what `query NAME` runs)
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,
    /// Run your own SQL from FILE instead (one statement; read-only)
    #[arg(long, value_name = "FILE", conflicts_with = "name")]
    pub sql: Option<PathBuf>,
    /// A parameter of the query, as name=value (repeatable)
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Output format
    #[arg(long, value_parser = super::formats::query(), default_value = "table")]
    pub format: Format,
}

fn parse_param(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err("is not NAME=VALUE".into()),
    }
}

/// What `query --list` prints: each query, what it answers, its parameters and columns,
/// wrapped to 80 columns.
pub fn listing() -> String {
    let mut out = String::new();
    for q in query::SHIPPED {
        let h = Header::parse(q.sql);
        let _ = writeln!(out, "{}", q.name);
        out += &wrap(&h.about, "    ", "    ");
        for p in &h.params {
            let default = match p.default.as_deref() {
                None => " (required)".to_string(),
                Some("null") => String::new(),
                Some(d) => format!(" (default {d})"),
            };
            out += &wrap(&format!("--param {}=…{default}: {}", p.name, p.about), "    ", "      ");
        }
        let columns: Vec<&str> = h.columns.iter().map(|c| c.name.as_str()).collect();
        out += &wrap(&format!("columns: {}", columns.join(", ")), "    ", "      ");
        out.push('\n');
    }
    out += &wrap(
        "`whohosts query --show NAME` prints a query's SQL; `whohosts query --sql FILE` runs your own.",
        "",
        "",
    );
    out
}

/// The most a `--sql` file is read: a query is text, and a larger file (or `/dev/zero`) is
/// refused before it fills memory.
const MAX_SQL_FILE: u64 = 1 << 20;

/// The text of `--sql FILE`: a regular file (a FIFO or device would block or never end) of
/// at most [`MAX_SQL_FILE`] bytes of UTF-8; anything else is one line naming the file.
fn read_sql_file(file: &Path) -> Result<String> {
    use std::io::Read;
    let refused = |message: String| Error::Query {
        name: file.display().to_string(),
        message,
    };
    let meta = std::fs::metadata(file).map_err(|e| Error::file("SQL file", file, e))?;
    if !meta.is_file() {
        return Err(refused("not a regular file: give a file of SQL text".into()));
    }
    let mut bytes = vec![];
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_SQL_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::file("SQL file", file, e))?;
    if bytes.len() as u64 > MAX_SQL_FILE {
        return Err(refused(format!(
            "the file is larger than {} MiB: a query is at most that much SQL text",
            MAX_SQL_FILE >> 20
        )));
    }
    // A NUL in UTF-8 text is said by `sql_of_file`; UTF-16 (a NUL in every other byte) is
    // no UTF-8 at all, and said so.
    String::from_utf8(bytes).map_err(|e| {
        refused(format!(
            "the file is not UTF-8 text (an invalid byte at byte offset {}): save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Run `query`.
///
/// # Errors
/// An unknown query or parameter, an unreadable `--sql` file, a statement that would write,
/// database errors.
pub fn run(config: &Config, args: Args, db: Option<&Path>) -> Result<i32> {
    if args.list {
        print(&listing())?;
        return Ok(0);
    }
    if let Some(name) = &args.show {
        print(query::find(name)?.sql)?;
        return Ok(0);
    }
    let (origin, sql) = match (&args.sql, args.name.as_deref()) {
        (Some(file), _) => {
            let text = read_sql_file(file)?;
            let sql = query::sql_of_file(&text).map_err(|message| Error::Query {
                name: file.display().to_string(),
                message,
            })?;
            (file.display().to_string(), sql.to_string())
        }
        // clap requires one of NAME, --list and --sql.
        (None, name) => {
            let name = name.unwrap_or_default();
            (name.to_string(), query::find(name)?.sql.to_string())
        }
    };
    // A parameter given twice (a cron line edited by appending) would silently take one value.
    for (i, (name, value)) in args.params.iter().enumerate() {
        if let Some((_, first)) = args.params[..i].iter().find(|(n, _)| n == name) {
            return Err(Error::QueryUsage {
                name: origin,
                message: format!("parameter \"{name}\" given twice ({first:?}, then {value:?}): give it once"),
            });
        }
    }
    let store = store::Store::open_read_only(&store::database_path(db, config))?;
    let conn = store.connection();
    query::check_pair(&origin, &args.params)?;
    let mut params = args.params.clone();
    // A database of contacts snapshots has no `accounts` weight: the query runs under the
    // latest snapshot's weight, and says so.
    if let Some((weight, line)) = query::default_weight(conn, &sql, &params) {
        super::logging::notice_line(&format!("query {origin}: {line}"));
        params.push(("weight".into(), weight));
    }
    // A comparison given only `from` compares it with the latest snapshot of its kind, named
    // here so that the pair is checked (one kind, one weight) as a pair given in full is.
    if let Some(to) = query::default_to(&store, &sql, &params)? {
        params.push(("to".into(), to));
    }
    // One series of one kind (`share`), and a comparison within one series: said when it
    // leaves others out.
    for (name, found) in [
        ("series", query::default_series(&store, &sql, &params)?),
        ("from", query::default_from(&store, &sql, &params)?),
    ] {
        if let Some((value, line)) = found {
            if let Some(line) = line {
                super::logging::notice_line(&format!("query {origin}: {line}"));
            }
            params.push((name.into(), value));
        }
    }
    let table = query::run_within(conn, &origin, &sql, &params, query::Limits::of(&config.query))?;
    // A level measured under other weights only (a contacts level under `accounts`) gives
    // an empty table: said, with the weights that have it.
    if let Some(line) = query::level_warning(conn, &sql, &params) {
        super::logging::notice_line(&format!("query {origin}: {line}"));
    }
    if let Some(warning) = query::name_warning(conn, &params) {
        super::logging::notice_line(&format!("query {origin}: {warning}"));
    }
    // Every row is read: a file opened without sharing a writer's index is checked before a
    // line is written, then the rows are written as they are rendered (no whole copy).
    store.check_unchanged()?;
    super::print_with(Box::new(|out: &mut dyn std::io::Write| {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::with_capacity(64 << 10, out);
        Ok(table.write(args.format, &mut out)?.and_then(|_| out.flush()))
    }))?;
    Ok(0)
}
