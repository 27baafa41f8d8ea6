//! Whether the run's nameserver still answers: the cut-off that keeps a dead nameserver from
//! costing every query its full timeout and tries.
//!
//! Each query's end is told here: an answer of any kind (records, NXDOMAIN, SERVFAIL, no
//! records) starts the count again; a query that timed out with no answer at all adds one.
//! After `dns.not_answering_after` such queries in a row, *and* when nothing at all has
//! answered for twice the time one query may take (`quiet_for`), and a probe goes unanswered
//! too, the nameserver is taken for not answering, for the rest of the run: the queries still waiting fail at once, and so
//! does every later one ([`crate::error::DNS_NOT_ANSWERING`]), counted as cut. Failures that
//! are neither (a refused connection, no route) come back at once anyway and leave the count
//! as it is.
//!
//! The time matters because queries run side by side: a list whose first few dozen domains
//! are dead has that many queries time out together on a nameserver that answers every
//! other name, so a count alone would give up on a working nameserver. Even then the
//! nameserver is asked once more before it is given up ([`Verdict::Probe`]): a question every
//! working nameserver answers (the root's NS records; an NXDOMAIN or a refusal is an answer
//! too). An answer starts the count again; silence gives it up.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How the nameserver has been answering during this run.
pub(super) struct Health {
    /// Queries in a row that time out before the nameserver is taken for not answering
    /// (0: never).
    limit: usize,
    /// How long nothing may answer before the nameserver is taken for not answering.
    quiet: Duration,
    /// Queries that timed out since the last answer, and when that answer came (or the run
    /// began).
    streak: Mutex<(usize, Instant)>,
    /// Set once, when the probe asked after the streak reached `limit` went unanswered;
    /// never cleared.
    dead: AtomicBool,
    /// Whether a probe is out (one at a time).
    probing: AtomicBool,
    /// The same, for queries waiting on an answer.
    dead_tx: watch::Sender<bool>,
    /// Queries failed at once because the nameserver was not answering.
    cut: AtomicUsize,
}

/// What the caller of [`Health::heard`] is to do.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nothing.
    Carry,
    /// Ask the nameserver the probe question and tell the outcome ([`Health::probed`]).
    Probe,
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
    pub(super) fn new(limit: usize, quiet: Duration) -> Self {
        Health {
            limit,
            quiet,
            streak: Mutex::new((0, Instant::now())),
            dead: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            dead_tx: watch::Sender::new(false),
            cut: AtomicUsize::new(0),
        }
    }

    /// Queries in a row that time out before the nameserver is taken for not answering.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// How long nothing may answer before the nameserver is taken for not answering.
    pub(super) fn quiet(&self) -> Duration {
        self.quiet
    }

    /// Whether the nameserver has been taken for not answering.
    pub(super) fn dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Tell the end of one query.
    pub(super) fn heard(&self, heard: Heard) -> Verdict {
        let mut streak = self
            .streak
            .lock()
            .expect("DNS health lock is never poisoned: no panics while held");
        match heard {
            Heard::Answer if !self.dead() => *streak = (0, Instant::now()),
            Heard::Silence => {
                streak.0 += 1;
                if self.limit > 0
                    && streak.0 >= self.limit
                    && streak.1.elapsed() >= self.quiet
                    && !self.dead()
                    && !self.probing.swap(true, Ordering::AcqRel)
                {
                    return Verdict::Probe;
                }
            }
            Heard::Answer | Heard::Other => {}
        }
        Verdict::Carry
    }

    /// Tell the probe's outcome: `answered` (any answer) starts the count again, silence
    /// takes the nameserver for not answering.
    pub(super) fn probed(&self, answered: bool) {
        if answered {
            self.heard(Heard::Answer);
        } else if !self.dead.swap(true, Ordering::AcqRel) {
            self.dead_tx.send_replace(true);
        }
        self.probing.store(false, Ordering::Release);
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
        let h = Health::new(3, Duration::ZERO);
        h.heard(Heard::Silence);
        h.heard(Heard::Silence);
        h.heard(Heard::Answer);
        h.heard(Heard::Silence);
        h.heard(Heard::Other);
        assert_eq!(h.heard(Heard::Silence), Verdict::Carry);
        assert!(!h.dead());
        assert_eq!(h.heard(Heard::Silence), Verdict::Probe);
        assert_eq!(h.heard(Heard::Silence), Verdict::Carry, "one probe at a time");
        assert!(!h.dead(), "not before the probe went unanswered");
        h.probed(true);
        assert!(!h.dead(), "the probe was answered: the count starts again");
        for _ in 0..2 {
            assert_eq!(h.heard(Heard::Silence), Verdict::Carry);
        }
        assert_eq!(h.heard(Heard::Silence), Verdict::Probe);
        h.probed(false);
        assert!(h.dead());
        h.heard(Heard::Answer);
        assert!(h.dead(), "once taken for not answering, for the rest of the run");
        let never = Health::new(0, Duration::ZERO);
        for _ in 0..100 {
            assert_eq!(never.heard(Heard::Silence), Verdict::Carry);
        }
        assert!(!never.dead());
    }

    /// Timeouts that end together, before a second round could have gone unanswered, are
    /// dead domains on a nameserver that may well answer: not enough to give it up.
    #[test]
    fn timeouts_together_are_not_a_dead_nameserver_until_it_stays_quiet() {
        let h = Health::new(5, Duration::from_millis(150));
        for _ in 0..32 {
            assert_eq!(h.heard(Heard::Silence), Verdict::Carry);
        }
        h.heard(Heard::Answer);
        std::thread::sleep(Duration::from_millis(200));
        for _ in 0..4 {
            assert_eq!(
                h.heard(Heard::Silence),
                Verdict::Carry,
                "an answer started the count again"
            );
        }
        assert_eq!(
            h.heard(Heard::Silence),
            Verdict::Probe,
            "five in a row after the quiet time"
        );
    }
}
