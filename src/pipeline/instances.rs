//! Instance lists surveyed: the list read, each instance's NodeInfo read once
//! ([`crate::instances::read_nodeinfo`]), each host attributed as the crawl attributes its
//! instances (the same [`Attributor`], the address the client connected to), through the one
//! bounded fan-out. `report::instances` weighs the result.
//!
//! [`survey_into`] stores the survey as a snapshot of kind `instances` through the one store
//! writer: its instances in batches of [`BATCH`] (one transaction each), then the figures of
//! every level under each weight, computed once by [`InstancesReport::build`], with the
//! completion.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{Context, Ready};
use crate::attribution::Attributor;
use crate::error::Result;
use crate::instances::{self, List, Survey};
use crate::model::attribution::AttributionSource;
use crate::net::fanout;
use crate::net::progress::Progress;
use crate::report::instances::{InstancesReport, Options};
use crate::store::instances::{Figures, KIND};
use crate::store::{Begin, Resume, Status, Writer};

/// Instances written per transaction.
pub const BATCH: usize = 500;

/// What a survey is asked for.
#[derive(Debug, Clone)]
pub struct Job {
    /// The list file, as named (absolute when it can be).
    pub list: String,
    /// Only instances running this software (`--software`).
    pub software: Option<String>,
}

/// The request stored with a survey (JSON): the list, the filter, what the list held and
/// the series it continues (`domains`: SHA-256 of the distinct hosts listed, sorted, one a
/// line, so the same instances in any order or spelling continue one series).
fn request(job: &Job, report: &InstancesReport, survey: &Survey) -> String {
    let mut hosts: Vec<&str> = survey.instances.iter().map(|i| i.host.as_str()).collect();
    hosts.sort_unstable();
    let mut sha = Sha256::new();
    for h in hosts {
        sha.update(h.as_bytes());
        sha.update(b"\n");
    }
    serde_json::json!({
        "list": job.list,
        "software": report.software_filter,
        "format": survey.format,
        "instances": survey.instances.len(),
        "duplicates": survey.duplicates,
        "max_users": survey.max_users,
        "domains": sha.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>(),
    })
    .to_string()
}

/// Survey `list` as `job` asks and store it through `writer`; the snapshot's id. Instances
/// that fail are stored rows, not errors.
///
/// # Errors
/// Configuration, resolver and database errors; a survey whose rows could not all be stored
/// is marked failed.
pub async fn survey_into(writer: &Writer, ready: Ready, list: List, job: &Job, quiet: bool) -> Result<i64> {
    let configuration = serde_json::to_string(ready.config()).expect("the configuration serialises");
    let (ctx, attributor) = ready.into_parts(None);
    let attributor = Arc::new(attributor);
    let (survey, source) = survey(&ctx, attributor, list, quiet).await;
    let options = Options {
        software: job.software.clone(),
    };
    let report = InstancesReport::build(survey.clone(), source.clone(), &options);
    let tool = format!("whohosts {}", env!("CARGO_PKG_VERSION"));
    let begun = writer
        .begin(Begin {
            kind: KIND,
            request: request(job, &report, &survey),
            configuration,
            tool: tool.clone(),
            started_at: survey.started_at.clone(),
            resume: Resume::Never,
        })
        .await?;
    let id = begun.id;
    let stored = async {
        for (n, batch) in survey.instances.chunks(BATCH).enumerate() {
            writer.survey_rows(id, n * BATCH, batch.to_vec()).await?;
        }
        let figures = Figures {
            bad: survey.bad.clone(),
            levels: report.levels(),
            population: report.figures(),
            finished_at: survey.finished_at.clone(),
            tool,
            attribution: source,
        };
        writer.complete_survey(id, figures).await
    }
    .await;
    if let Err(e) = stored {
        let _ = writer.set_status(id, Status::Failed).await;
        return Err(e);
    }
    Ok(id)
}

/// Survey `list`: NodeInfo, claims judged, attribution. Failures are rows, never errors.
pub async fn survey(
    ctx: &Context,
    attributor: Arc<Attributor>,
    list: List,
    quiet: bool,
) -> (Survey, AttributionSource) {
    let started_at = crate::model::time::now();
    let progress = Progress::new(0, quiet);
    ctx.fetcher.show_waits(&progress);
    let concurrency = ctx.config.network.global_concurrency;
    let max_users = ctx.config.instances.max_users;
    let mut rows = instances::read_nodeinfo(&ctx.fetcher, &list.hosts, concurrency, max_users, &progress).await;
    progress.note("attributing hosts");
    progress.add_work(rows.len() as u64);
    let jobs: Vec<(String, Option<std::net::IpAddr>)> = rows.iter().map(|r| (r.host.clone(), r.connected)).collect();
    let attributed = fanout::run(jobs, concurrency, |(host, connected)| {
        let (a, progress) = (attributor.clone(), progress.clone());
        async move {
            let h = a.host(&host, connected).await;
            progress.work_done(1);
            h
        }
    })
    .await;
    for (row, a) in rows.iter_mut().zip(attributed) {
        match a {
            Ok(h) => row.attribution = Some(h),
            Err(p) => {
                progress.work_done(1);
                progress.warn(&format!("attributing {}: {p}", row.host));
            }
        }
    }
    progress.finish();
    let survey = Survey {
        format: list.format,
        instances: rows,
        duplicates: list.duplicates,
        bad: list.bad,
        max_users,
        started_at,
        finished_at: crate::model::time::now(),
    };
    (survey, attributor.source())
}
