//! Retrying 429, 502 and 503: the host's gate entered for every attempt, announced waits sat
//! out up to `network.max_wait_secs` (longer ones refused), back-off with jitter between
//! attempts, and a host over its wait budget refused at once.

use std::time::{Duration, SystemTime};

use url::Url;

use super::{Fetcher, Page, Request};
use crate::config;
use crate::error::{Error, Result};
use crate::net::ratelimit::{server_wait, HostGate, ServerWait, REASON_BACKOFF, REASON_SERVER};

impl Fetcher {
    pub(super) async fn with_retries(&self, url: &Url, req: Request<'_>) -> Result<Page> {
        let gate = self.pool.gate(url.host_str().unwrap_or_default());
        let host = gate.host().to_string();
        let net = &self.config.network;
        let max_wait = self.max_wait();
        let mut attempt = 0;
        loop {
            let Some(pass) = self.pool.enter(&gate, req.paged).await else {
                return Err(self.over_wait_budget(&gate, url));
            };
            let sent = self.send_once(url, req).await;
            drop(pass);
            let page = sent?;
            let retryable = matches!(page.status, 429 | 502 | 503);
            match server_wait(page.status, &page.headers, SystemTime::now(), max_wait) {
                ServerWait::Pause(wait) => gate.pause_for(wait, REASON_SERVER),
                ServerWait::TooLong(wait) if retryable => return Err(self.wait_too_long(url, &host, wait)),
                ServerWait::TooLong(_) | ServerWait::None => {}
            }
            if !retryable {
                return Ok(page);
            }
            if attempt >= net.max_retries {
                return Err(Error::RetriesExhausted {
                    url: url.to_string(),
                    attempts: attempt.saturating_add(1),
                    status: page.status,
                });
            }
            self.back_off(&gate, url, attempt, page.status);
            attempt += 1;
        }
    }

    /// `network.max_wait_secs`.
    pub(super) fn max_wait(&self) -> Duration {
        config::seconds(self.config.network.max_wait_secs)
    }

    /// Why a request to a host over its wait budget is refused.
    fn over_wait_budget(&self, gate: &HostGate, url: &Url) -> Error {
        let budget_secs = self.config.network.max_host_wait_secs;
        let err = Error::HostWaitBudget {
            url: url.to_string(),
            host: gate.host().to_string(),
            budget_secs,
        };
        tracing::info!(host = %gate.host(), url = %url, "refused: {err}");
        err
    }

    fn wait_too_long(&self, url: &Url, host: &str, wait: Duration) -> Error {
        let err = Error::WaitTooLong {
            url: url.to_string(),
            host: host.to_string(),
            wait_secs: wait.as_secs(),
            max_secs: self.config.network.max_wait_secs,
        };
        tracing::info!(host = %host, url = %url, wait_secs = wait.as_secs(), "refused: {err}");
        err
    }

    /// Pause the host for an exponential back-off with jitter, never above `max_wait_secs`.
    fn back_off(&self, gate: &HostGate, url: &Url, attempt: u32, status: u16) {
        gate.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = self.config.network.retry_base_secs * 2f64.powi(attempt.min(16) as i32);
        let jittered = base * (1.0 + fastrand::f64() * 0.5);
        let wait = config::seconds(jittered).min(self.max_wait());
        tracing::info!(host = %gate.host(), url = %url, status, attempt = attempt + 1, wait_secs = wait.as_secs_f64(), "retrying");
        gate.pause_for(wait, REASON_BACKOFF);
    }
}
