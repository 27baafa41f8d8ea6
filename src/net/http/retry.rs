//! Retrying 429, 502 and 503, and transient transport failures (a connection reset or closed
//! before the response was whole, a timeout): the host's gate entered for every attempt,
//! announced waits sat out up to `network.max_wait_secs` (longer ones refused), back-off with
//! jitter between attempts, and a host over its wait budget refused at once. An attempt that
//! times out is charged to its host's wait budget for the time it took, and no attempt is given
//! more time than its host has left of that budget, so a host that accepts connections and
//! never answers is given up after `network.max_host_wait_secs`, not a timeout later.

use std::time::{Duration, SystemTime};

use url::Url;

use super::{scrubbed, Fetcher, Logged, Page, Request};
use crate::config;
use crate::error::{Error, Result};
use crate::net::ratelimit::{server_wait, HostGate, ServerWait, REASON_BACKOFF, REASON_SERVER};

/// A failed attempt: the error, and whether another attempt may succeed.
pub(super) struct Failure {
    pub(super) error: Error,
    pub(super) transient: bool,
    /// The attempt ran out of time (connect or request timeout): the time it took counts
    /// towards the host's wait budget.
    pub(super) timed_out: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            transient: false,
            timed_out: false,
        }
    }
}

/// Whether a transport error is worth another attempt of the same GET: a timeout, or a
/// connection reset, aborted or closed before the whole response came (a keep-alive
/// connection the server dropped). Not a refused connection, not a DNS failure (the resolver's
/// own errors, which reqwest wraps).
pub(super) fn transient(e: &reqwest::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, TimedOut, UnexpectedEof};
    let causes = || std::iter::successors(Some(e as &dyn std::error::Error), |s| s.source());
    if causes().any(|s| s.is::<Error>()) {
        return false;
    }
    if e.is_timeout() {
        return true;
    }
    causes().any(
        |s| match (s.downcast_ref::<std::io::Error>(), s.downcast_ref::<hyper::Error>()) {
            (Some(io), _) => matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | TimedOut
            ),
            (_, Some(h)) => h.is_incomplete_message() || h.is_canceled(),
            _ => false,
        },
    )
}

impl Fetcher {
    /// Send `url` until it is answered for good, each attempt charged ([`Fetcher::charge`])
    /// but the first when it is `paid` already.
    pub(super) async fn with_retries(&self, url: &Url, req: Request<'_>, paid: bool) -> Result<Page> {
        let gate = self.pool.gate(url.host_str().unwrap_or_default());
        let host = gate.host().to_string();
        let net = &self.config.network;
        let max_wait = self.max_wait();
        let mut attempt = 0;
        // After a transport failure, the next attempt opens a connection of its own.
        let mut fresh = false;
        loop {
            // Charged before the gate counts it in `totals`: a request refused is not counted.
            if attempt > 0 || !paid {
                self.charge(url, 1, false)?;
            }
            let Some(pass) = self.pool.enter(&gate, req.paged).await else {
                return Err(self.over_wait_budget(&gate, url));
            };
            // Counted where the gate counts it (`totals`), before it is sent.
            if let Some(journal) = &self.journal {
                journal.sending(attempt > 0).await;
            }
            let started = std::time::Instant::now();
            let sent = self.send_once(url, req, pass.timeout(), fresh).await;
            // Charged before the pass gives its booking of the budget back, so a request
            // waiting for that booking sees the budget as it is.
            if let Err(Failure { timed_out: true, .. }) = &sent {
                gate.charge_timeout(started.elapsed());
            }
            drop(pass);
            let page = match sent {
                Ok(page) => page,
                Err(Failure {
                    error, transient: true, ..
                }) if attempt < net.max_retries => {
                    let wait = self.back_off(&gate, attempt);
                    tracing::info!(host = %gate.host(), url = %Logged(url), error = %scrubbed(&error), attempt = attempt + 1, wait_secs = wait.as_secs_f64(), "retrying");
                    attempt += 1;
                    fresh = true;
                    continue;
                }
                Err(failure) => return Err(failure.error),
            };
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
            let wait = self.back_off(&gate, attempt);
            let status = page.status;
            tracing::info!(host = %gate.host(), url = %Logged(url), status, attempt = attempt + 1, wait_secs = wait.as_secs_f64(), "retrying");
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
        tracing::info!(host = %gate.host(), url = %Logged(url), "refused: {}", scrubbed(&err));
        err
    }

    fn wait_too_long(&self, url: &Url, host: &str, wait: Duration) -> Error {
        let err = Error::WaitTooLong {
            url: url.to_string(),
            host: host.to_string(),
            wait_secs: wait.as_secs(),
            max_secs: self.config.network.max_wait_secs,
        };
        tracing::info!(host = %host, url = %Logged(url), wait_secs = wait.as_secs(), "refused: {}", scrubbed(&err));
        err
    }

    /// Pause the host for an exponential back-off with jitter, never above `max_wait_secs`,
    /// and count the retry; the pause chosen.
    fn back_off(&self, gate: &HostGate, attempt: u32) -> Duration {
        gate.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = self.config.network.retry_base_secs * 2f64.powi(attempt.min(16) as i32);
        let jittered = base * (1.0 + fastrand::f64() * 0.5);
        let wait = config::seconds(jittered).min(self.max_wait());
        gate.pause_for(wait, REASON_BACKOFF);
        wait
    }
}
