//! `whohosts demo`: the whole pipeline, offline, against a simulated fediverse started
//! in-process on loopback (its own DNS server and its own ASN fixture), stored in a
//! temporary database unless `--db` names one.

use std::path::Path;

use super::{print, ReportFormat};
use crate::config::Config;
use crate::crawl::CrawlOptions;
use crate::error::{Error, Result};
use crate::pipeline::Job;
use crate::sim::{self, generate};
use crate::store::Resume;

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
}

/// Run `demo`. The user's config only contributes politeness settings it does not override
/// (contact URL, budgets); the network settings point at the simulator.
///
/// # Errors
/// Simulator start-up, database or output errors.
pub async fn run(user_config: Config, args: Args, db: Option<&Path>, quiet: bool) -> Result<i32> {
    let w = args.world.world()?;
    let seeds = if args.handles.is_empty() {
        generate::demo_seeds(&w)
    } else {
        args.handles.clone()
    };
    if seeds.is_empty() {
        return Err(Error::World("has no demo accounts: name the handles to crawl".into()));
    }
    let (instances, accounts) = (w.instances.len(), w.accounts.len());
    let running = sim::start(w.layout()).await?;
    let dir = tempfile_dir()?;
    let mut config = running.config_with_fixture(&dir.join("sim-asn.csv"))?;
    config.contact_url = user_config.contact_url;
    config.attribution.organisations = user_config.attribution.organisations;
    let db = db.map_or_else(|| dir.join("demo.db"), Path::to_path_buf);
    let job = Job {
        seeds,
        options: CrawlOptions::default(),
        resume: Resume::Never,
        quiet,
    };
    let result = super::crawl::crawl_and_report(config, &job, &db, &args.view).await;
    if args.view.format == ReportFormat::Text && result.is_ok() {
        let about = format!(
            "(A simulated fediverse: {instances} instances, {accounts} accounts on 127.0.0.0/8; DNS at {}, HTTP port {}.)",
            running.dns_addr, running.http_port
        );
        print(&format!("\n{}", crate::report::text::wrap(&about, "", " ")))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(result?.0)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("whohosts-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}
