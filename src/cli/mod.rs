//! The command line: argument definitions and one module per subcommand, each with a `run`.
//!
//! `main.rs` parses [`Cli`], sets up logging and calls [`run`]; everything else is here, so
//! the binary holds no logic. Flags override the config file; `WHOHOSTS_TOKEN` and
//! `WHOHOSTS_CONFIG` come from the environment.

pub mod asn_db;
pub mod crawl;
pub mod demo;
pub mod export;
pub mod lookup;
pub mod prune;
pub mod query;
pub mod report;
pub mod sim;
pub mod snapshots;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::asn::{self, AsnDb};
use crate::attribution::Attributor;
use crate::config::{AddressPolicy, Config, Paths};
use crate::dns::{AddressGate, Dns};
use crate::error::{Error, Result};
use crate::http::Fetcher;
use crate::org::Orgs;

/// whohosts: how concentrated is your social graph, by instance and by who hosts it?
#[derive(Debug, Parser)]
#[command(name = "whohosts", version, about, term_width = 100)]
pub struct Cli {
    /// Configuration file [default: $WHOHOSTS_CONFIG, then $XDG_CONFIG_HOME/whohosts/config.toml]
    #[arg(
        long,
        global = true,
        env = "WHOHOSTS_CONFIG",
        hide_env_values = true,
        value_name = "FILE"
    )]
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
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More log output (-v info, -vv debug)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl the follow lists of HANDLEs and report who hosts them
    Crawl(crawl::Args),
    /// Run the whole pipeline offline against a simulated fediverse
    Demo(demo::Args),
    /// Show DNS, AS, range and organisation of hosts or addresses
    Lookup(lookup::Args),
    /// Manage the offline IP-to-ASN database
    #[command(name = "asn-db", subcommand)]
    AsnDb(asn_db::Command),
    /// Serve a simulated fediverse on loopback until interrupted
    Sim(sim::Args),
    /// List the stored snapshots
    Snapshots(snapshots::Args),
    /// Print the stored report of a snapshot (default: the latest complete one)
    Report(report::Args),
    /// Delete old snapshots and what only they referenced
    Prune(prune::Args),
    /// Run a trend query over the stored snapshots (see --list)
    Query(query::Args),
    /// Export snapshots as pseudonymised research files (CSV or Parquet + Data Package)
    Export(export::Args),
}

/// Output formats of `lookup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Tsv,
}

/// Output formats of reports (`crawl`, `demo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// The most weeks of changes `--weeks` generates.
pub const MAX_WEEKS: u32 = 520;

/// Which simulated world to serve (`demo`, `sim`).
#[derive(Debug, Clone, clap::Args)]
pub struct WorldArgs {
    /// Seed of the generated world
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of instances in the generated world
    #[arg(long, default_value_t = 80)]
    pub size: usize,
    /// A world file instead of a generated world (TOML or JSON, see tests/fixtures/worlds)
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,
    /// Weeks of changes added to the generated world (accounts move, instances migrate, die,
    /// appear) [default: sim 0, demo 3]
    #[arg(long, value_name = "N")]
    pub weeks: Option<u32>,
}

impl WorldArgs {
    /// The world file's world, or a generated one.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::World`] naming the file.
    pub fn world(&self) -> Result<crate::sim::world::World> {
        match &self.world {
            Some(p) => crate::sim::world::World::load(p),
            None => {
                let weeks = self.weeks.unwrap_or(0);
                if weeks > MAX_WEEKS {
                    return Err(Error::World(format!(
                        "--weeks {weeks}: at most {MAX_WEEKS} weeks (ten years) are generated"
                    )));
                }
                let mut w = crate::sim::generate::generate(self.seed, self.size);
                crate::sim::generate::add_weeks(&mut w, self.seed, weeks);
                Ok(w)
            }
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
    /// [`Error::ConfigValue`] for a bad value.
    pub fn apply(&self, config: &mut Config) -> Result<()> {
        if !self.asn_db.is_empty() {
            config.attribution.asn_database =
                Paths::Many(self.asn_db.iter().map(|p| p.to_string_lossy().into_owned()).collect());
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

/// Load the configuration named by `--config`, `$WHOHOSTS_CONFIG` or the XDG location.
///
/// # Errors
/// [`Error::Io`] or [`Error::Config`].
pub fn load_config(explicit: Option<&Path>) -> Result<Config> {
    if let Some(p) = explicit {
        return Config::load(p);
    }
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    match xdg.map(|d| d.join("whohosts/config.toml")).filter(|p| p.is_file()) {
        Some(p) => Config::load(&p),
        None => Ok(Config::default()),
    }
}

/// The network stack of a run.
pub struct Context {
    pub config: Arc<Config>,
    pub dns: Arc<Dns>,
    pub fetcher: Arc<Fetcher>,
}

impl Context {
    /// Build resolver and client from `config`.
    ///
    /// # Errors
    /// Resolver or client construction errors.
    pub fn new(config: Config) -> Result<Self> {
        Context::with_journal(config, None)
    }

    /// As [`Context::new`], with every response recorded in (and replayed from) `journal`.
    ///
    /// # Errors
    /// Resolver or client construction errors.
    pub fn with_journal(config: Config, journal: Option<Arc<dyn crate::http::Journal>>) -> Result<Self> {
        let config = Arc::new(config);
        let gate = AddressGate::new(config.network.allow_private_addresses.clone());
        let dns = Arc::new(Dns::new(&config.dns, gate)?);
        let mut fetcher = Fetcher::new(config.clone(), dns.clone())?;
        if let Some(j) = journal {
            fetcher = fetcher.with_journal(j);
        }
        Ok(Context {
            config,
            dns,
            fetcher: Arc::new(fetcher),
        })
    }

    /// The attributor the config asks for. Says once on stderr when no database is found.
    ///
    /// # Errors
    /// Database load errors.
    pub fn attributor(&self, quiet: bool) -> Result<Attributor> {
        let a = &self.config.attribution;
        let db = match database_files(&self.config) {
            Some(files) => Some(Arc::new(asn::load::load_all(&files, a.lenient)?)),
            None => {
                if !quiet {
                    let fallback = if a.online_fallback {
                        "asking Team Cymru's DNS service instead"
                    } else {
                        "hosts will not be attributed (attribution.online_fallback = false)"
                    };
                    eprintln!(
                        "whohosts: no IP-to-ASN database (run `whohosts asn-db update` or pass --asn-db); {fallback}"
                    );
                }
                None
            }
        };
        Ok(Attributor::new(
            db.map(|d: Arc<AsnDb>| d),
            Orgs::new(&a.organisations),
            self.dns.clone(),
            a.address_policy,
            a.online_fallback,
        ))
    }
}

/// The database files the config names, or the downloaded one, if any.
pub fn database_files(config: &Config) -> Option<Vec<PathBuf>> {
    let files = config.attribution.asn_database.list();
    if !files.is_empty() {
        return Some(files);
    }
    asn::store::current(&config.data_dir()).map(|p| vec![p])
}

/// Write to stdout; a closed pipe is not an error the user needs to see.
///
/// # Errors
/// [`Error::Io`] for write errors other than a broken pipe.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
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
    let config = load_config(cli.config.as_deref())?;
    let db = cli.db.as_deref();
    match cli.command {
        Command::Crawl(args) => crawl::run(config, args, db, cli.quiet).await,
        Command::Demo(args) => demo::run(config, args, db, cli.quiet).await,
        Command::Snapshots(args) => snapshots::run(&config, args, db),
        Command::Report(args) => report::run(&config, args, db),
        Command::Prune(args) => prune::run(&config, args, db).await,
        Command::Query(args) => query::run(&config, args, db),
        Command::Export(args) => export::run(&config, args, db, cli.quiet),
        Command::Lookup(args) => lookup::run(config, args, cli.quiet).await,
        Command::AsnDb(cmd) => asn_db::run(config, cmd).await,
        Command::Sim(args) => sim::run(args).await,
    }
}
