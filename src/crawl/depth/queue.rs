//! The frontier of a deeper crawl as a trait ([`Queue`]): the crawl layer says what it needs,
//! the store keeps it (the pipeline hands a store-backed queue in); [`MemoryQueue`] is the
//! same in memory, for crawls without a database.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

use crate::error::Result;

/// A queue operation in flight.
pub type Work<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// What became (or is to become) of an account met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// A seed of the command: never expanded again.
    Seed,
    /// Waiting to be expanded.
    Pending,
    /// Its lists were read.
    Expanded,
    /// It opted out of crawlers: never expanded.
    OptedOut,
    /// No handle is known for it: nothing to resolve.
    NoHandle,
    /// Left unexpanded by `--max-accounts`, `--max-hosts` or `--max-requests`.
    CutAccounts,
    CutHosts,
    CutRequests,
}

impl State {
    /// The word stored.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Seed => "seed",
            State::Pending => "pending",
            State::Expanded => "expanded",
            State::OptedOut => "opted_out",
            State::NoHandle => "no_handle",
            State::CutAccounts => "cut_accounts",
            State::CutHosts => "cut_hosts",
            State::CutRequests => "cut_requests",
        }
    }

    /// The state stored as `s`.
    pub fn parse(s: &str) -> Option<State> {
        [
            State::Seed,
            State::Pending,
            State::Expanded,
            State::OptedOut,
            State::NoHandle,
            State::CutAccounts,
            State::CutHosts,
            State::CutRequests,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Whether the crawl walks items in this state (the others are only counted).
    pub fn is_candidate(self) -> bool {
        matches!(
            self,
            State::Pending | State::Expanded | State::CutAccounts | State::CutHosts | State::CutRequests
        )
    }
}

/// An account met, once per snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The actor URI, else the handle in lower case.
    pub key: String,
    /// How many lists away from a seed it was first listed (0: a seed).
    pub depth: u32,
    pub handle: Option<String>,
    /// Its instance.
    pub host: Option<String>,
    pub state: State,
}

/// Where a deeper crawl's frontier lives.
pub trait Queue: Send + Sync {
    /// Add `items` in order after those already there; an item whose key is already there (at
    /// any depth, in any state) is left as it was: an account is met once per snapshot.
    fn offer(&self, items: Vec<Item>) -> Work<'_, ()>;
    /// Up to `n` candidates ([`State::is_candidate`]) of `depth` after position `after`, in
    /// order, with their positions.
    fn next(&self, depth: u32, after: i64, n: usize) -> Work<'_, Vec<(i64, Item)>>;
    /// Record what became of the items with these keys.
    fn mark(&self, states: Vec<(String, State)>) -> Work<'_, ()>;
    /// How many items are in each state.
    fn count(&self) -> Work<'_, BTreeMap<State, u64>>;
}

/// A [`Queue`] in memory.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    inner: Mutex<(HashMap<String, usize>, Vec<Item>)>,
}

impl MemoryQueue {
    fn with<T>(&self, f: impl FnOnce(&mut (HashMap<String, usize>, Vec<Item>)) -> T) -> T {
        // Every change is a single push or assignment: a poisoned lock still holds a
        // consistent queue.
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Queue for MemoryQueue {
    fn offer(&self, items: Vec<Item>) -> Work<'_, ()> {
        self.with(|(keys, all)| {
            for item in items {
                if !keys.contains_key(&item.key) {
                    keys.insert(item.key.clone(), all.len());
                    all.push(item);
                }
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn next(&self, depth: u32, after: i64, n: usize) -> Work<'_, Vec<(i64, Item)>> {
        let found = self.with(|(_, all)| {
            let from = usize::try_from(after + 1).unwrap_or(0);
            all.iter()
                .enumerate()
                .skip(from)
                .filter(|(_, i)| i.depth == depth && i.state.is_candidate())
                .take(n)
                .map(|(p, i)| (p as i64, i.clone()))
                .collect()
        });
        Box::pin(async move { Ok(found) })
    }

    fn mark(&self, states: Vec<(String, State)>) -> Work<'_, ()> {
        self.with(|(keys, all)| {
            for (key, state) in states {
                if let Some(i) = keys.get(&key).and_then(|&p| all.get_mut(p)) {
                    i.state = state;
                }
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn count(&self) -> Work<'_, BTreeMap<State, u64>> {
        let counts = self.with(|(_, all)| {
            let mut c = BTreeMap::new();
            for i in all.iter() {
                *c.entry(i.state).or_default() += 1;
            }
            c
        });
        Box::pin(async move { Ok(counts) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, depth: u32, state: State) -> Item {
        Item {
            key: key.into(),
            depth,
            handle: Some(format!("@{key}@x.example")),
            host: Some("x.example".into()),
            state,
        }
    }

    #[tokio::test]
    async fn an_account_met_twice_is_kept_once_in_its_first_place() {
        let q = MemoryQueue::default();
        q.offer(vec![item("s", 0, State::Seed), item("a", 1, State::Pending)])
            .await
            .unwrap();
        q.offer(vec![
            item("a", 2, State::OptedOut),
            item("s", 1, State::Pending),
            item("b", 1, State::Pending),
        ])
        .await
        .unwrap();
        let next = q.next(1, -1, 10).await.unwrap();
        assert_eq!(
            next,
            vec![(1, item("a", 1, State::Pending)), (2, item("b", 1, State::Pending))]
        );
        assert_eq!(q.next(1, 1, 10).await.unwrap().len(), 1);
        q.mark(vec![("a".into(), State::CutHosts)]).await.unwrap();
        let counts = q.count().await.unwrap();
        assert_eq!(counts.get(&State::CutHosts), Some(&1));
        assert_eq!(counts.get(&State::Seed), Some(&1));
        assert_eq!(State::parse("cut_requests"), Some(State::CutRequests));
    }
}
