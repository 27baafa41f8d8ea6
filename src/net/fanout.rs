//! Bounded fan-out: one async job per item, at most `limit` in flight, results in the order
//! the items came.
//!
//! # Architecture
//! Every concurrent stage of the pipeline (seeds, actor fetches, NodeInfo, attribution) goes
//! through [`run_fair`] (or [`run`], its one-queue form), so none spawns without bound and none
//! can be ended by one bad item: a job that panics is caught at its task boundary (tokio's
//! `JoinError::is_panic`) and comes back as that item's [`Panicked`], while the other jobs go
//! on.
//!
//! Items wait in one queue per key (a host), each key with its own cap on jobs in flight; a
//! free slot goes to the keys in turn (round robin), so a key whose jobs wait (a host's rate
//! limit) holds at most its cap of the slots and never delays the items of another key. A key
//! is asked its cap again each time its turn comes ([`Cap`]): a key judged slow (a host that
//! stalled) runs one job at a time, and the slow keys together hold at most half the slots
//! ([`crate::net::ratelimit::slow_slots`]), so keys that answer keep their pace however many
//! others stall. Items
//! come from a channel and are taken as they arrive: the producer (a list's pages being read)
//! and the jobs (its accounts' actors fetched) overlap, and the fan-out ends when the channel
//! is closed and every job has finished.

use crate::model::snapshot::Failure;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::hash::Hash;

use tokio::sync::mpsc::{self, error::TryRecvError, UnboundedReceiver};
use tokio::task::{Id, JoinError, JoinSet};

/// A job that panicked (a bug), with the panic's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

impl Panicked {
    /// The failure kind stored for an item whose job panicked.
    pub const KIND: &'static str = "internal";

    fn from_join(e: JoinError) -> Panicked {
        if !e.is_panic() {
            return Panicked("the task was cancelled".into());
        }
        let payload = e.into_panic();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        Panicked(text)
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "internal error (a bug in whohosts, please report it): {}", self.0)
    }
}

/// How many jobs of one key may run at once, and whether the key is slow (a host that
/// stalled): a slow key runs one job at a time whatever its `jobs`, and the slow keys together
/// at most [`crate::net::ratelimit::slow_slots`] of the fan-out's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    pub jobs: usize,
    pub slow: bool,
}

impl From<usize> for Cap {
    /// A key that is not slow, with `jobs` jobs at once.
    fn from(jobs: usize) -> Cap {
        Cap { jobs, slow: false }
    }
}

/// Run `job` on every item, at most `limit` (at least 1) at once, in the order given; the
/// results come back in the order of `items`.
pub async fn run<T, R, F, Fut>(items: impl IntoIterator<Item = T>, limit: usize, job: F) -> Vec<Result<R, Panicked>>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    run_fair(queued(items), limit, |_| ((), limit), job).await
}

/// A closed channel holding `items`, in order: what [`run_fair`] takes when every item is
/// known before the fan-out starts.
pub fn queued<T>(items: impl IntoIterator<Item = T>) -> UnboundedReceiver<T> {
    let (tx, rx) = mpsc::unbounded_channel();
    for item in items {
        // The receiver is returned, so a send cannot fail here.
        let _ = tx.send(item);
    }
    rx
}

/// Run `job` on every item received from `items` until the channel is closed, at most
/// `limit` (at least 1) at once and at most `cap` (at least 1) of one key at once, where
/// `key` gives an item's `(key, cap)` ([`Cap`], or a number of jobs; asked again of a key's
/// next item each time the key's turn comes, so a key found slow meanwhile is held to one job);
/// free slots go to the keys in turn, and a key's items run in the order they came. The
/// results come back in the order the items were received.
pub async fn run_fair<T, K, C, R, F, Fut>(
    mut items: UnboundedReceiver<T>,
    limit: usize,
    key: impl Fn(&T) -> (K, C),
    job: F,
) -> Vec<Result<R, Panicked>>
where
    K: Eq + Hash + Clone,
    C: Into<Cap>,
    F: Fn(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let limit = limit.max(1);
    let mut running = Running {
        set: JoinSet::new(),
        index_of: HashMap::new(),
        out: vec![],
    };
    let cap = |item: &T| {
        let (k, c) = key(item);
        (k, c.into())
    };
    let mut lanes = Lanes::new(crate::net::ratelimit::slow_slots(limit));
    let mut open = true;
    loop {
        while open {
            match items.try_recv() {
                Ok(item) => running.queue(&mut lanes, &cap, item),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        while running.set.len() < limit {
            let Some((i, k, slow, item)) = lanes.take(&cap) else {
                break;
            };
            let handle = running.set.spawn(job(item));
            running.index_of.insert(handle.id(), (i, k, slow));
        }
        // With nothing in flight every key has room, so nothing queued is left behind.
        if !open && running.set.is_empty() {
            break;
        }
        tokio::select! {
            item = items.recv(), if open => match item {
                Some(item) => running.queue(&mut lanes, &cap, item),
                None => open = false,
            },
            () = running.settle_one(&mut lanes), if !running.set.is_empty() => {}
        }
    }
    running
        .out
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Panicked("the task never finished".into()))))
        .collect()
}

/// One key's queue: its items waiting (with their index) and its jobs in flight.
struct Lane<T> {
    waiting: VecDeque<(usize, T)>,
    busy: usize,
    /// The key is in `turn` or `parked`.
    queued: bool,
}

/// The queues of every key; the keys whose turn may come (`turn`, each at most once, with an
/// item waiting), and the slow keys set aside while the slow keys hold all they may.
struct Lanes<K, T> {
    lanes: HashMap<K, Lane<T>>,
    turn: VecDeque<K>,
    parked: VecDeque<K>,
    /// Jobs of slow keys in flight, and how many may be.
    slow_busy: usize,
    slow_limit: usize,
}

impl<K: Eq + Hash + Clone, T> Lanes<K, T> {
    fn new(slow_limit: usize) -> Self {
        Lanes {
            lanes: HashMap::new(),
            turn: VecDeque::new(),
            parked: VecDeque::new(),
            slow_busy: 0,
            slow_limit: slow_limit.max(1),
        }
    }

    fn push(&mut self, i: usize, k: K, item: T) {
        let lane = self.lanes.entry(k.clone()).or_insert_with(|| Lane {
            waiting: VecDeque::new(),
            busy: 0,
            queued: false,
        });
        lane.waiting.push_back((i, item));
        if !lane.queued {
            lane.queued = true;
            self.turn.push_back(k);
        }
    }

    /// The next item to run, whether its key is slow: the first waiting item of the first
    /// key in turn that has room (its cap asked of that item, [`Cap`]). A key without room
    /// leaves the turn until one of its jobs ends; a slow key while the slow keys are at their
    /// limit waits parked until one of theirs ends.
    fn take(&mut self, cap: &impl Fn(&T) -> (K, Cap)) -> Option<(usize, K, bool, T)> {
        for _ in 0..self.turn.len() {
            let k = self.turn.pop_front()?;
            let Some(lane) = self.lanes.get_mut(&k) else { continue };
            let Some((_, head)) = lane.waiting.front() else {
                lane.queued = false;
                continue;
            };
            let Cap { jobs, slow } = cap(head).1;
            let room = if slow { 1 } else { jobs.max(1) };
            if lane.busy >= room {
                lane.queued = false;
                continue;
            }
            if slow && self.slow_busy >= self.slow_limit {
                self.parked.push_back(k);
                continue;
            }
            let (i, item) = lane.waiting.pop_front()?;
            lane.busy += 1;
            if slow {
                self.slow_busy += 1;
            }
            if lane.waiting.is_empty() {
                lane.queued = false;
            } else {
                self.turn.push_back(k.clone());
            }
            return Some((i, k, slow, item));
        }
        None
    }

    /// A job of `k` (of a slow key when `slow`) finished: the key may have its turn again,
    /// and the parked slow keys too when it was slow.
    fn done(&mut self, k: &K, slow: bool) {
        if slow {
            self.slow_busy = self.slow_busy.saturating_sub(1);
            self.turn.extend(self.parked.drain(..));
        }
        let Some(lane) = self.lanes.get_mut(k) else { return };
        lane.busy = lane.busy.saturating_sub(1);
        if !lane.queued && !lane.waiting.is_empty() {
            lane.queued = true;
            self.turn.push_back(k.clone());
        } else if !lane.queued && lane.busy == 0 && lane.waiting.is_empty() {
            self.lanes.remove(k);
        }
    }
}

/// The jobs in flight and the results so far.
struct Running<K, R> {
    set: JoinSet<R>,
    index_of: HashMap<Id, (usize, K, bool)>,
    out: Vec<Option<Result<R, Panicked>>>,
}

impl<K: Eq + Hash + Clone, R: Send + 'static> Running<K, R> {
    /// Give a received item its index (its result's place) and queue it under its key.
    fn queue<T>(&mut self, lanes: &mut Lanes<K, T>, key: &impl Fn(&T) -> (K, Cap), item: T) {
        let i = self.out.len();
        self.out.push(None);
        lanes.push(i, key(&item).0, item);
    }

    /// Wait for one job and file its result under its item's index. Cancel-safe: nothing
    /// happens after the only await.
    async fn settle_one<T>(&mut self, lanes: &mut Lanes<K, T>) {
        let (id, result) = match self.set.join_next_with_id().await {
            Some(Ok((id, r))) => (id, Ok(r)),
            Some(Err(e)) => (e.id(), Err(Panicked::from_join(e))),
            None => return,
        };
        let Some((i, k, slow)) = self.index_of.remove(&id) else {
            return;
        };
        lanes.done(&k, slow);
        if let Some(slot) = self.out.get_mut(i) {
            *slot = Some(result);
        }
    }
}

impl From<&Panicked> for Failure {
    /// The failure of an item whose task panicked (kind `internal`).
    fn from(p: &Panicked) -> Failure {
        Failure {
            kind: Panicked::KIND.to_string(),
            message: p.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_in_input_order_with_bounded_concurrency() {
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let out = run(0..20u64, 3, |i| {
            let (now, peak) = (now.clone(), peak.clone());
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                // Later items finish first, so order comes from the index, not completion.
                tokio::time::sleep(Duration::from_millis(20 - i)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                i * 10
            }
        })
        .await;
        assert_eq!(out, (0..20).map(|i| Ok(i * 10)).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert!(run(Vec::<u8>::new(), 0, |i| async move { i }).await.is_empty());
    }

    /// A key whose jobs wait holds only its cap of the slots: with 3 slots, slow items first
    /// and a cap of 1 per key, every fast item is done before the second slow one starts.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_key_never_delays_another_keys_items() {
        let log = Arc::new(std::sync::Mutex::new(vec![]));
        let (tx, rx) = mpsc::unbounded_channel();
        for item in ["slow0", "slow1", "slow2", "fast0", "fast1", "fast2", "fast3"] {
            tx.send(item).unwrap();
        }
        drop(tx);
        let key = |s: &&str| (s.starts_with("slow"), 1);
        let out = run_fair(rx, 3, key, |s| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(format!("start {s}"));
                let ms = if s.starts_with("slow") { 150 } else { 10 };
                tokio::time::sleep(Duration::from_millis(ms)).await;
                log.lock().unwrap().push(format!("end {s}"));
                s.len()
            }
        })
        .await;
        assert_eq!(out, vec![Ok(5); 7]);
        let log = log.lock().unwrap().clone();
        let at = |e: &str| log.iter().position(|l| l == e).unwrap();
        assert!(at("end fast3") < at("start slow1"), "{log:?}");
        assert_eq!(log.iter().filter(|l| l.starts_with("start slow")).count(), 3);
    }

    /// Items are run as they arrive, not once the channel is closed: the second item is
    /// only sent once the first one's job has run, and results keep the order of arrival.
    #[tokio::test]
    async fn items_run_as_they_arrive() {
        let (tx, rx) = mpsc::unbounded_channel::<u32>();
        let (ran_tx, mut ran_rx) = mpsc::unbounded_channel::<u32>();
        let producer = async move {
            tx.send(1).unwrap();
            let first = ran_rx.recv().await;
            tx.send(2).unwrap();
            first
        };
        let fanned = run_fair(
            rx,
            4,
            |_| ((), 4),
            |i| {
                let ran_tx = ran_tx.clone();
                async move {
                    let _ = ran_tx.send(i);
                    i * 10
                }
            },
        );
        let (first, out) = tokio::time::timeout(Duration::from_secs(5), async { tokio::join!(producer, fanned) })
            .await
            .expect("the fan-out takes items before its channel closes");
        assert_eq!((first, out), (Some(1), vec![Ok(10), Ok(20)]));
    }

    #[tokio::test]
    async fn a_panicking_job_is_that_items_failure_only() {
        let out = run(["a", "boom", "c", "fmt"], 2, |s| async move {
            match s {
                "boom" => panic!("bad item {s}"),
                "fmt" => std::panic::panic_any(42u8),
                _ => s.to_uppercase(),
            }
        })
        .await;
        assert_eq!(
            out,
            vec![
                Ok("A".to_string()),
                Err(Panicked("bad item boom".into())),
                Ok("C".to_string()),
                Err(Panicked("a panic without a message".into())),
            ]
        );
        assert_eq!(
            Panicked("x".into()).to_string(),
            "internal error (a bug in whohosts, please report it): x"
        );
    }
}
