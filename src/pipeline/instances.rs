//! Instance lists surveyed: the list read, each instance's NodeInfo read once
//! ([`crate::instances::read_nodeinfo`]), each host attributed as the crawl attributes its
//! instances (the same [`Attributor`], the address the client connected to), through the one
//! bounded fan-out. `report::instances` weighs the result.

use std::sync::Arc;

use super::Context;
use crate::attribution::Attributor;
use crate::instances::{self, List, Survey};
use crate::model::attribution::AttributionSource;
use crate::net::fanout;
use crate::net::progress::Progress;

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
