//! Whether the run's nameserver still answers: the cut-off that keeps a dead nameserver from
//! costing every query its full timeout and tries.
//!
//! Each query's end is told here: an answer of any kind (records, NXDOMAIN, SERVFAIL, no
//! records) starts the count again; a query that timed out with no answer at all adds one.
//! After `dns.not_answering_after` such queries in a row the nameserver is taken for not
//! answering, for the rest of the run: the queries still waiting fail at once, and so does
//! every later one ([`crate::error::DNS_NOT_ANSWERING`]), counted as cut. Failures that are
//! neither (a refused connection, no route) come back at once anyway and leave the count as
//! it is.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;

/// How the nameserver has been answering during this run.
pub(super) struct Health {
    /// Queries in a row that time out before the nameserver is taken for not answering
    /// (0: never).
    limit: usize,
    /// Queries that timed out since the last answer.
    streak: Mutex<usize>,
    /// Set once, when the streak reaches `limit`; never cleared.
    dead: AtomicBool,
    /// The same, for queries waiting on an answer.
    dead_tx: watch::Sender<bool>,
    /// Queries failed at once because the nameserver was not answering.
    cut: AtomicUsize,
}

/// What a query's end says of the nameserver.
pub(super) enum Heard {
    /// Some answer came (records, or an answer that there are none).
    Answer,
    /// The query timed out with no answer at all.
    Silence,
    /// Neither: a local or connection failure that came back at once.
    Other,
}

impl Health {
    pub(super) fn new(limit: usize) -> Self {
        Health {
            limit,
            streak: Mutex::new(0),
            dead: AtomicBool::new(false),
            dead_tx: watch::Sender::new(false),
            cut: AtomicUsize::new(0),
        }
    }

    /// Queries in a row that time out before the nameserver is taken for not answering.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the nameserver has been taken for not answering.
    pub(super) fn dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Tell the end of one query.
    pub(super) fn heard(&self, heard: Heard) {
        let mut streak = self
            .streak
            .lock()
            .expect("DNS health lock is never poisoned: no panics while held");
        match heard {
            Heard::Answer if !self.dead() => *streak = 0,
            Heard::Silence => {
                *streak += 1;
                if self.limit > 0 && *streak >= self.limit && !self.dead.swap(true, Ordering::AcqRel) {
                    self.dead_tx.send_replace(true);
                }
            }
            Heard::Answer | Heard::Other => {}
        }
    }

    /// Count one query failed at once.
    pub(super) fn cut_one(&self) {
        self.cut.fetch_add(1, Ordering::Relaxed);
    }

    /// Queries failed at once so far.
    pub(super) fn cut(&self) -> usize {
        self.cut.load(Ordering::Relaxed)
    }

    /// Resolves when the nameserver is taken for not answering (at once if it already is).
    pub(super) async fn until_dead(&self) {
        let mut rx = self.dead_tx.subscribe();
        // The sender lives as long as `self`, so this only ends when the flag is set.
        let _ = rx.wait_for(|dead| *dead).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_starts_the_count_again_and_the_limit_is_final() {
        let h = Health::new(3);
        h.heard(Heard::Silence);
        h.heard(Heard::Silence);
        h.heard(Heard::Answer);
        h.heard(Heard::Silence);
        h.heard(Heard::Other);
        h.heard(Heard::Silence);
        assert!(!h.dead());
        h.heard(Heard::Silence);
        assert!(h.dead());
        h.heard(Heard::Answer);
        assert!(h.dead(), "once taken for not answering, for the rest of the run");
        let never = Health::new(0);
        for _ in 0..100 {
            never.heard(Heard::Silence);
        }
        assert!(!never.dead());
    }
}
