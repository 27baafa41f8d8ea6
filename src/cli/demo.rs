//! `whohosts demo`: the whole pipeline, offline, against a simulated fediverse started
//! in-process on loopback (its own DNS server and its own ASN fixture).

use std::sync::Arc;

use super::{print, Context, ReportFormat};
use crate::config::Config;
use crate::crawl::CrawlOptions;
use crate::error::{Error, Result};
use crate::sim::{self, generate};

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
    /// Rows shown per grouping (0: all)
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

/// Run `demo`. The user's config only contributes politeness settings it does not override
/// (contact URL, budgets); the network settings point at the simulator.
///
/// # Errors
/// Simulator start-up or output errors.
pub async fn run(user_config: Config, args: Args, quiet: bool) -> Result<i32> {
    let w = args.world.world()?;
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
        return Err(Error::World(if some.is_empty() {
            format!("{name} has no account that follows anyone: nothing to crawl")
        } else {
            format!(
                "{name} has no demo account: name handles to crawl, such as {}",
                some.join(" ")
            )
        }));
    }
    let (instances, accounts) = (w.instances.len(), w.accounts.len());
    let running = sim::start(w.layout()).await?;
    let dir = tempfile_dir()?;
    let mut config = running.config_with_fixture(&dir.join("sim-asn.csv"))?;
    config.contact_url = user_config.contact_url;
    config.attribution.organisations = user_config.attribution.organisations;
    let ctx = Context::new(config)?;
    let attributor = Arc::new(ctx.attributor(quiet)?);
    if args.format == ReportFormat::Text {
        print(&format!(
            "Simulated fediverse: {instances} instances, {accounts} accounts on 127.0.0.0/8 (DNS at {}, HTTP port {}).\n\n",
            running.dns_addr, running.http_port
        ))?;
    }
    let snap = super::crawl::snapshot(&ctx, &attributor, &seeds, &CrawlOptions::default(), quiet).await;
    let _ = std::fs::remove_dir_all(&dir);
    match args.format {
        ReportFormat::Json => print(&snap.to_json())?,
        ReportFormat::Text => print(&snap.render(args.top))?,
    }
    Ok(0)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("whohosts-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}
