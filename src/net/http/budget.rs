//! The request budget: every request the client sends is charged before it goes out
//! (robots.txt, each redirect hop and each retry included), so under a limit
//! ([`Fetcher::limit_requests`]) no request past it is ever sent: it is refused instead, and
//! the budget remembers it was overrun ([`Fetcher::overrun`]).
//!
//! A response answered from the journal (a resumed crawl) is charged what it cost when it was
//! sent (the request, and a hop when it was redirected), and its origin's robots.txt once per
//! origin, fetched or not: a run and its resumption count the same up to the same point,
//! retries aside (a replayed response's retries are not known, so none is charged for it).

use std::collections::HashSet;

use url::Url;

use super::{refusal, Fetcher};
use crate::error::Result;
use crate::model::handle::InstanceHost;

/// The key robots.txt is kept under: the host normalised as instance hosts are (`host.` and
/// `host` share one) and the origin with its port.
pub(super) type OriginKey = (String, String);

/// The origin key of `url`.
pub(super) fn origin_key(url: &Url) -> OriginKey {
    let host = InstanceHost::new(url.host_str().unwrap_or_default())
        .as_str()
        .to_string();
    let origin = format!(
        "{}://{host}:{}",
        url.scheme(),
        url.port_or_known_default().unwrap_or_default()
    );
    (host, origin)
}

/// What was spent, against what limit.
#[derive(Debug)]
pub(super) struct Budget {
    spent: u64,
    limit: u64,
    /// A request was refused for want of budget.
    overrun: bool,
    /// The origins whose robots.txt was charged.
    robots: HashSet<OriginKey>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            spent: 0,
            limit: u64::MAX,
            overrun: false,
            robots: HashSet::new(),
        }
    }
}

impl Budget {
    /// Charge `n` requests, and the robots.txt of `origin` when it was not charged yet; when
    /// that passes the limit, nothing is charged and the limit is the error.
    fn charge(&mut self, n: u64, origin: Option<OriginKey>) -> std::result::Result<(), u64> {
        let origin = origin.filter(|k| !self.robots.contains(k));
        let cost = n + u64::from(origin.is_some());
        if self.spent.saturating_add(cost) > self.limit {
            self.overrun = true;
            return Err(self.limit);
        }
        self.spent += cost;
        self.robots.extend(origin);
        Ok(())
    }
}

impl Fetcher {
    fn budget(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.budget.lock().expect("budget lock is never poisoned")
    }

    /// Requests charged so far: every request sent, and every response the journal answered
    /// as it was charged when sent (see the module's notes): the same figure in a run and in
    /// its resumption, so a budget on it cuts at the same place.
    pub fn spent(&self) -> u64 {
        self.budget().spent
    }

    /// From now on send no request that would bring [`Fetcher::spent`] past `max`.
    pub fn limit_requests(&self, max: u64) {
        self.budget().limit = max;
    }

    /// Whether a request was refused because the limit was reached.
    pub fn overrun(&self) -> bool {
        self.budget().overrun
    }

    /// Charge `n` requests to `url`, and its robots.txt when `robots` and its origin's was
    /// not charged yet; refused (and nothing charged) when that passes the limit.
    pub(super) fn charge(&self, url: &Url, n: u64, robots: bool) -> Result<()> {
        let charged = self.budget().charge(n, robots.then(|| origin_key(url)));
        charged.map_err(|limit| refusal(url, format!("the crawl's budget of {limit} requests is spent")))
    }

    /// Charge a response the journal answered for `url` (its final address `last`).
    pub(super) fn charge_replayed(&self, url: &Url, last: &Url) -> Result<()> {
        self.charge(url, 1, true)?;
        match last == url {
            true => Ok(()),
            false => self.charge(last, 1, true),
        }
    }

    /// Let go of `host`'s robots.txt charges ([`Fetcher::forget`]): fetched again, it is
    /// charged again.
    pub(super) fn forget_charges(&self, host: &str) {
        self.budget().robots.retain(|(h, _)| h != host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under a limit of 5: a request and its origin's robots.txt cost 2, another request to
    /// the origin 1; a request to a new origin that would make 6 is refused, nothing charged,
    /// and the overrun remembered; a single request still fits, then nothing does.
    #[test]
    fn no_charge_passes_the_limit_and_robots_is_charged_once_per_origin() {
        let a = origin_key(&Url::parse("https://a.example/x").unwrap());
        let a_dot = origin_key(&Url::parse("https://A.example./y").unwrap());
        let b = origin_key(&Url::parse("https://b.example/").unwrap());
        let mut budget = Budget {
            limit: 5,
            ..Budget::default()
        };
        assert_eq!(budget.charge(1, Some(a)), Ok(()));
        assert_eq!(budget.charge(1, Some(a_dot)), Ok(()));
        assert_eq!(budget.spent, 3);
        assert!(!budget.overrun);
        assert_eq!(budget.charge(2, Some(b.clone())), Err(5));
        assert_eq!((budget.spent, budget.overrun), (3, true));
        assert_eq!(budget.charge(1, Some(b)), Ok(()));
        assert_eq!(budget.charge(1, None), Err(5));
        assert_eq!(budget.spent, 5);
    }
}
