//! Bounded fan-out: one async job per item, at most `limit` in flight, results in input order.
//!
//! Every concurrent stage of the pipeline (seeds, actor fetches, NodeInfo, attribution) goes
//! through [`run`], so none spawns without bound and none can be ended by one bad item: a job
//! that panics is caught at its task boundary (tokio's `JoinError::is_panic`) and comes back
//! as that item's [`Panicked`], while the other jobs go on.

use crate::model::snapshot::Failure;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;

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

/// Run `job` on every item, at most `limit` (at least 1) at once; the results come back in
/// the order of `items`.
pub async fn run<T, R, F, Fut>(items: impl IntoIterator<Item = T>, limit: usize, job: F) -> Vec<Result<R, Panicked>>
where
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
    for (i, item) in items.into_iter().enumerate() {
        running.out.push(None);
        if running.set.len() >= limit {
            running.settle_one().await;
        }
        let handle = running.set.spawn(job(item));
        running.index_of.insert(handle.id(), i);
    }
    while !running.set.is_empty() {
        running.settle_one().await;
    }
    running
        .out
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Panicked("the task never finished".into()))))
        .collect()
}

/// The jobs in flight and the results so far.
struct Running<R> {
    set: JoinSet<R>,
    index_of: HashMap<Id, usize>,
    out: Vec<Option<Result<R, Panicked>>>,
}

impl<R: Send + 'static> Running<R> {
    /// Wait for one job and file its result under its item's index.
    async fn settle_one(&mut self) {
        let (id, result) = match self.set.join_next_with_id().await {
            Some(Ok((id, r))) => (id, Ok(r)),
            Some(Err(e)) => (e.id(), Err(Panicked::from_join(e))),
            None => return,
        };
        if let Some(slot) = self.index_of.remove(&id).and_then(|i| self.out.get_mut(i)) {
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
