//! robots.txt: fetched once per origin through the client itself, obeyed for every path
//! requested, its `Crawl-delay` spacing requests to the host; unreachable or failing hosts
//! are not crawled (RFC 9309).

use std::sync::Arc;

use url::Url;

use super::budget::origin_key;
use super::{refusal, Fetcher, Request};
use crate::config;
use crate::error::{Error, Result};

/// The product token robots.txt rules are matched against.
pub const ROBOTS_AGENT: &str = "whohosts";

pub(super) enum Robots {
    Rules(texting_robots::Robot),
    AllowAll,
    Unavailable(String),
    /// The host could not be reached at all: its requests fail with this.
    Unreachable(Arc<Error>),
}

impl Fetcher {
    /// Boxed with an explicit `Send`: robots.txt is fetched through [`Fetcher::fetch`] itself.
    pub(super) fn obey_robots<'a>(
        &'a self,
        url: &'a Url,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            // One robots.txt per origin, the host normalised as instance hosts are (no
            // trailing dot): `host.` and `host` share one.
            let key = origin_key(url);
            let cell = {
                let mut map = self.robots.lock().expect("robots map lock is never poisoned");
                map.entry(key).or_default().clone()
            };
            let robots = cell
                .get_or_init(|| async {
                    let mut robots_url = url.clone();
                    robots_url.set_path("/robots.txt");
                    robots_url.set_query(None);
                    robots_url.set_fragment(None);
                    let fetched = match self.charge(url, 0, true) {
                        Ok(()) => self.fetch(&robots_url, Request::accept("text/plain"), false).await,
                        Err(e) => Err(e),
                    };
                    let robots = Arc::new(match fetched {
                        Ok(p) if p.ok() => parse_robots(&p.body).map_or(Robots::AllowAll, Robots::Rules),
                        Ok(p) if (400..500).contains(&p.status) => Robots::AllowAll,
                        Ok(p) => Robots::Unavailable(format!("HTTP {}", p.status)),
                        // 502/503 retried to the end are still "unavailable" (RFC 9309).
                        Err(Error::RetriesExhausted { status, attempts, .. }) if status >= 500 => {
                            Robots::Unavailable(format!("HTTP {status} after {attempts} attempts"))
                        }
                        Err(e) => Robots::Unreachable(Arc::new(e)),
                    });
                    robots
                })
                .await;
            if let Robots::Rules(rules) = robots.as_ref() {
                // On every request: a host's gate dropped since (`Fetcher::forget`) is made
                // anew without it, while its robots.txt answer is kept.
                self.space_requests(url, rules.delay);
            }
            let host = url.host_str().unwrap_or_default().to_string();
            match robots.as_ref() {
                Robots::AllowAll => Ok(()),
                Robots::Rules(r) if r.allowed(url.as_str()) => Ok(()),
                Robots::Rules(_) => {
                    tracing::info!(host = %host, url = %super::Logged(url), "refused: robots.txt disallows it");
                    Err(Error::RobotsDisallowed {
                        host,
                        path: path_and_query(url),
                    })
                }
                Robots::Unreachable(e) => Err(Error::Again(e.clone())),
                Robots::Unavailable(why) => Err(refusal(
                    url,
                    format!("robots.txt unavailable ({why}), so the host is not crawled (RFC 9309)"),
                )),
            }
        })
    }

    /// Space requests to `url`'s host by its robots.txt `Crawl-delay` (seconds), capped at
    /// `network.max_wait_secs` (logged when its gate did not have it yet); a delay that is not
    /// a positive finite number is ignored.
    fn space_requests(&self, url: &Url, delay: Option<f32>) {
        let Some(secs) = delay.map(f64::from).filter(|d| d.is_finite() && *d > 0.0) else {
            return;
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let wait = config::seconds(secs).min(self.max_wait());
        if self.pool.gate(&host).set_crawl_delay(wait) {
            tracing::info!(host = %host, delay_secs = wait.as_secs_f64(), "robots.txt Crawl-delay");
        }
    }
}

/// The rules of a robots.txt `body` for [`ROBOTS_AGENT`]; `None` (allow everything) when the
/// body is not a robots.txt at all.
pub fn parse_robots(body: &[u8]) -> Option<texting_robots::Robot> {
    texting_robots::Robot::new(ROBOTS_AGENT, body).ok()
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}
