//! The command line: argument definitions and one module per subcommand, each with a `run`.
//!
//! `main.rs` parses [`Cli`], sets up logging and calls [`run`]; everything else is here, so
//! the binary holds no logic. Flags override the config file; `WHOHOSTS_TOKEN` and
//! `WHOHOSTS_CONFIG` come from the environment.

pub mod alerts;
pub mod asn_db;
pub mod contacts;
pub mod crawl;
#[cfg(feature = "sim")]
pub mod demo;
pub mod diff;
pub mod export;
pub mod formats;
pub mod instances;
pub mod logging;
pub mod lookup;
pub mod output;
pub mod progress;
pub mod prune;
pub mod query;
pub mod report;
#[cfg(feature = "sim")]
pub mod sim;
pub mod snapshots;
pub mod usage;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::config::{Config, Paths};
use crate::error::{Error, Result};
use crate::model::attribution::AddressPolicy;

/// whohosts: how concentrated is your social graph, by instance and by who hosts it?
#[derive(Debug, Parser)]
#[command(name = "whohosts", version, about, term_width = 80)]
pub struct Cli {
    /// Configuration file [default: $WHOHOSTS_CONFIG, else $XDG_CONFIG_HOME/whohosts/config.toml
    /// or ~/.config/whohosts/config.toml if it exists, else the built-in defaults]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Snapshot database [default: `database` in config, then $XDG_DATA_HOME/whohosts/whohosts.db]
    #[arg(
        long,
        global = true,
        env = "WHOHOSTS_DB",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub db: Option<PathBuf>,
    /// No progress bar, only results and errors
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log output (-v info, -vv debug)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines on stderr as text or as one JSON object per line
    #[arg(long, global = true, value_enum, default_value = "text", value_name = "FORMAT")]
    pub log_format: logging::LogFormat,
    #[command(subcommand)]
    pub command: Command,
    /// Whether `--db` was given on the command line (not only through `WHOHOSTS_DB`).
    #[arg(skip)]
    pub db_given: bool,
}

/// The help of `demo --db`: the demo's database is a temporary one unless named.
#[cfg(feature = "sim")]
const DEMO_DB_HELP: &str = "Keep the demo's snapshots in FILE, a new database (one that holds snapshots is \
                            refused) [default: a temporary database, removed when the demo ends; \
                            WHOHOSTS_DB is not used]";

/// The command line as it is parsed: [`Cli`]'s, with `--db` described as `demo` uses it, and
/// hidden from the help of `sim`, which stores nothing (given there, it is refused when the
/// command runs).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let root = Cli::command();
    let db = root
        .get_arguments()
        .find(|a| a.get_id() == "db")
        .cloned()
        .expect("Cli has a --db argument");
    // A subcommand's own argument of the same id stands in for the global one there (clap
    // propagates a global argument only where none of its id exists); its value still
    // reaches `Cli::db`.
    #[cfg(feature = "sim")]
    let root = root
        .mut_subcommand("sim", |c| c.arg(db.clone().hide(true)))
        .mut_subcommand("demo", |c| {
            c.arg(db.clone().env(None::<&str>).help(DEMO_DB_HELP).long_help(None::<&str>))
        });
    negatives_are_values(root)
}

/// Let every argument that takes a value take a negative number (`--keep -1`), so that its
/// parser refuses it in words (see [`usage::whole`]) instead of clap taking it for a flag and
/// suggesting `-- -1`, which would not help.
fn negatives_are_values(c: clap::Command) -> clap::Command {
    let ids: Vec<clap::Id> = c
        .get_arguments()
        .filter(|a| a.get_action().takes_values())
        .map(|a| a.get_id().clone())
        .collect();
    let mut c = ids
        .into_iter()
        .fold(c, |c, id| c.mut_arg(id, |a| a.allow_negative_numbers(true)));
    let subs: Vec<String> = c.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        c = c.mut_subcommand(name, negatives_are_values);
    }
    c
}

impl Cli {
    /// Parse the process's arguments with [`command`].
    ///
    /// # Errors
    /// Clap's error for a command line that does not parse (or `--help`, `--version`).
    pub fn parse_args() -> std::result::Result<Cli, clap::Error> {
        use clap::FromArgMatches;
        let matches = command().try_get_matches()?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.db_given = matches.value_source("db") == Some(clap::parser::ValueSource::CommandLine);
        Ok(cli)
    }

    /// Whether the command needs no worker threads (`lookup`: one target at a time, its DNS
    /// queries awaited in turn), so runs on the thread that starts it.
    pub fn single_threaded(&self) -> bool {
        matches!(self.command, Command::Lookup(_))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl the follow lists of HANDLEs and report who hosts them
    Crawl(crawl::Args),
    /// Run the whole pipeline offline against a simulated fediverse
    #[cfg(feature = "sim")]
    Demo(demo::Args),
    /// Show DNS, AS, range and organisation of hosts or addresses
    Lookup(lookup::Args),
    /// Who serves your contacts' mail, XMPP and Matrix: read address books and mailboxes
    Contacts(contacts::Args),
    /// Who hosts a list of instances, weighted by NodeInfo users, active users or instances
    Instances(instances::Args),
    /// Manage the offline IP-to-ASN database
    #[command(name = "asn-db", subcommand)]
    AsnDb(asn_db::Command),
    /// Serve a simulated fediverse on loopback until interrupted
    #[cfg(feature = "sim")]
    Sim(sim::Args),
    /// List the stored snapshots
    Snapshots(snapshots::Args),
    /// Report a stored snapshot (default: the latest complete one) as text, JSON, CSV or HTML
    Report(report::Args),
    /// Compare two snapshots: accounts, instances and hosts that changed, and the metrics
    Diff(diff::Args),
    /// Delete old snapshots and what only they referenced
    Prune(prune::Args),
    /// Run a trend query over the stored snapshots (see --list)
    Query(query::Args),
    /// Export snapshots as pseudonymised research files (CSV or Parquet + Data Package)
    Export(export::Args),
}

/// Smallest generated world (the generator needs a large instance and a tail).
#[cfg(feature = "sim")]
pub const MIN_WORLD_SIZE: usize = 3;

/// Largest generated world: each instance is served on a loopback address of its own.
#[cfg(feature = "sim")]
pub const MAX_WORLD_SIZE: usize = 10_000;

/// The most weeks of changes `--weeks` generates.
#[cfg(feature = "sim")]
pub const MAX_WEEKS: u32 = 520;

/// Which simulated world to serve (`demo`, `sim`).
#[cfg(feature = "sim")]
#[derive(Debug, Clone, clap::Args)]
pub struct WorldArgs {
    /// Seed of the generated world
    #[arg(long, default_value_t = 42, value_parser = usage::whole::<u64>)]
    pub seed: u64,
    /// Number of instances in the generated world (3 to 10000)
    #[arg(long, default_value_t = 80, value_parser = usage::whole_in(MIN_WORLD_SIZE, MAX_WORLD_SIZE))]
    pub size: usize,
    /// A world file instead of a generated world (TOML or JSON, see tests/fixtures/worlds)
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,
    /// Weeks of changes added to the generated world (accounts move, instances migrate, die,
    /// appear) [default: sim 0, demo 3]
    #[arg(long, value_name = "N", value_parser = usage::whole::<u32>)]
    pub weeks: Option<u32>,
}

#[cfg(feature = "sim")]
impl WorldArgs {
    /// The world file's world, or a generated one.
    ///
    /// # Errors
    /// [`Error::File`] or [`Error::Input`] naming the file; [`Error::Flag`] for `--weeks`
    /// over [`MAX_WEEKS`] (`--size` is held within its range by its parser).
    pub fn world(&self) -> Result<whohosts_sim::world::World> {
        match &self.world {
            Some(p) => Ok(whohosts_sim::world::World::load(p)?),
            None => {
                let weeks = self.weeks.unwrap_or(0);
                if weeks > MAX_WEEKS {
                    return Err(Error::Flag {
                        flag: "--weeks",
                        value: weeks.to_string(),
                        message: format!("at most {MAX_WEEKS} weeks (ten years) are generated"),
                    });
                }
                let mut w = whohosts_sim::generate::generate(self.seed, self.size);
                whohosts_sim::generate::add_weeks(&mut w, self.seed, weeks);
                Ok(w)
            }
        }
    }
}

/// The simulator's errors as the CLI reports them, with the same words: a world that cannot
/// be used or served is [`Error::Input`], a file keeps its own variant.
#[cfg(feature = "sim")]
impl From<whohosts_sim::Error> for Error {
    fn from(e: whohosts_sim::Error) -> Self {
        match e {
            whohosts_sim::Error::File { what, path, source } => Error::File {
                what,
                path,
                note: "",
                source,
            },
            whohosts_sim::Error::Io { path, source } => Error::Io { path, source },
            e => Error::Input(e.to_string()),
        }
    }
}

/// Attribution flags shared by `crawl` and `lookup`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AttributionArgs {
    /// IP-to-ASN database file (ip-location-db CSV, iptoasn TSV or .mmdb, gzip or not);
    /// repeat it to read several files as one, such as separate IPv4 and IPv6 files
    #[arg(long, value_name = "FILE")]
    pub asn_db: Vec<PathBuf>,
    /// Skip and count bad database lines instead of failing
    #[arg(long)]
    pub lenient: bool,
    /// Which addresses of a host count [config: split]
    #[arg(long, value_name = "POLICY", value_parser = ["split", "ipv4", "first"])]
    pub address_policy: Option<String>,
    /// Nameserver to use instead of the system's (ip or ip:port; repeatable)
    #[arg(long, value_name = "ADDR")]
    pub nameserver: Vec<String>,
}

impl AttributionArgs {
    /// Apply these flags over the config.
    ///
    /// # Errors
    /// [`Error::Flag`] naming the flag with a bad value.
    pub fn apply(&self, config: &mut Config) -> Result<()> {
        for ns in &self.nameserver {
            crate::config::parse_nameserver(ns).map_err(|_| Error::Flag {
                flag: "--nameserver",
                value: ns.clone(),
                message: "expected an IP address, or ip:port".into(),
            })?;
        }
        if !self.asn_db.is_empty() {
            config.attribution.asn_database =
                Paths::Many(self.asn_db.iter().map(|p| p.to_string_lossy().into_owned()).collect());
            // The configured licence was stated for the configured files, not for these.
            config.attribution.asn_licence = None;
        }
        config.attribution.lenient |= self.lenient;
        if let Some(p) = &self.address_policy {
            config.attribution.address_policy = p.parse::<AddressPolicy>()?;
        }
        if !self.nameserver.is_empty() {
            config.dns.nameservers = self.nameserver.clone();
        }
        config.validate()
    }
}

/// Load the configuration named by `--config`, else `$WHOHOSTS_CONFIG` (when not empty), else
/// the XDG location if that file exists, else the defaults.
///
/// # Errors
/// [`Error::File`] naming the config file (and `$WHOHOSTS_CONFIG` when it came from there),
/// or [`Error::Config`].
pub fn load_config(explicit: Option<&Path>) -> Result<Config> {
    if let Some(p) = explicit {
        return Config::load(p);
    }
    if let Some(p) = std::env::var_os("WHOHOSTS_CONFIG").filter(|p| !p.is_empty()) {
        return Config::load(Path::new(&p)).map_err(|e| match e {
            Error::File { what, path, source, .. } => Error::File {
                what,
                path,
                note: " (from $WHOHOSTS_CONFIG)",
                source,
            },
            e => e,
        });
    }
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    match xdg.map(|d| d.join("whohosts/config.toml")).filter(|p| p.is_file()) {
        Some(p) => Config::load(&p),
        None => Ok(Config::default()),
    }
}

/// Write a message to stdout, safe for a terminal ([`crate::model::text::terminal`]; rendered
/// answers have been made safe in their format already); a closed pipe is not an error the
/// user needs to see.
///
/// # Errors
/// [`Error::Io`] for write errors other than a broken pipe.
pub fn print(text: &str) -> Result<()> {
    let text = crate::model::text::terminal_with_colour(text);
    print_with(Box::new(|out: &mut dyn Write| Ok(out.write_all(text.as_bytes()))))
}

/// As [`print`], an answer written to stdout by `f` as it is made (safe in its format
/// already, as every rendered answer is).
///
/// # Errors
/// `f`'s; [`Error::Io`] for write errors other than a broken pipe.
pub fn print_with(f: output::Writing<'_>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let written = f(&mut out)?;
    stdout_result(written.and_then(|_| out.flush()))
}

/// The outcome of a write to stdout: a closed pipe ends the process quietly (exit 0), as
/// `whohosts lookup - | head` expects.
///
/// # Errors
/// [`Error::Io`] for write errors other than a broken pipe.
pub fn stdout_result(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::io("<stdout>", e)),
        Ok(()) => Ok(()),
    }
}

/// Run the parsed command; returns the process exit code.
///
/// # Errors
/// Whatever the subcommand fails with; `main` prints it on one line.
pub async fn run(cli: Cli) -> Result<i32> {
    // `sim` stores nothing: a --db given to it is a mistake worth saying (WHOHOSTS_DB set for
    // the other commands is not).
    let stores_nothing = match &cli.command {
        #[cfg(feature = "sim")]
        Command::Sim(_) => Some("sim"),
        _ => None,
    };
    if let (Some(name), Some(db), true) = (stores_nothing, &cli.db, cli.db_given) {
        return Err(Error::Flag {
            flag: "--db",
            value: db.display().to_string(),
            message: format!("`{name}` stores no snapshot, so it takes no database"),
        });
    }
    let config = load_config(cli.config.as_deref())?;
    let db = cli.db.as_deref();
    match cli.command {
        Command::Crawl(args) => crawl::run(config, args, db, cli.quiet).await,
        // The demo writes into a database named on its command line, else a temporary one:
        // never into the one WHOHOSTS_DB names for real crawls.
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(config, args, db.filter(|_| cli.db_given), cli.quiet).await,
        Command::Snapshots(args) => snapshots::run(&config, args, db),
        Command::Report(args) => report::run(&config, args, db),
        Command::Diff(args) => diff::run(&config, args, db),
        Command::Prune(args) => prune::run(&config, args, db).await,
        Command::Query(args) => query::run(&config, args, db),
        Command::Export(args) => export::run(&config, args, db, cli.quiet),
        Command::Lookup(args) => lookup::run(config, args, cli.quiet).await,
        Command::Contacts(args) => contacts::run(config, args, db, cli.quiet).await,
        Command::Instances(args) => instances::run(config, args, db, cli.quiet).await,
        Command::AsnDb(cmd) => asn_db::run(config, cmd).await,
        #[cfg(feature = "sim")]
        Command::Sim(args) => sim::run(args).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Group ids repeated in `cmd` or any of its subcommands, as `command: id`.
    fn repeated_groups(cmd: &clap::Command, out: &mut Vec<String>) {
        let mut ids: Vec<&str> = cmd.get_groups().map(|g| g.get_id().as_str()).collect();
        ids.sort_unstable();
        for pair in ids.windows(2).filter(|p| p[0] == p[1]) {
            out.push(format!("{}: {}", cmd.get_name(), pair[0]));
        }
        for sub in cmd.get_subcommands() {
            repeated_groups(sub, out);
        }
    }

    /// clap checks the definition only in debug builds, when a command is parsed: two
    /// flattened groups of one id made `whohosts crawl` panic in a debug build while release
    /// builds (CI's) ran. The group ids are checked here in any build, and clap's own checks
    /// in a debug one.
    #[test]
    fn the_command_line_definition_is_consistent() {
        let cmd = super::Cli::command();
        let mut repeated = vec![];
        repeated_groups(&cmd, &mut repeated);
        assert_eq!(repeated, Vec::<String>::new());
        cmd.debug_assert();
    }
}
