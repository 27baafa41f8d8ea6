//! What one instance of a world is: the software it imitates, its REST API, and the faults,
//! limits and pauses it shows on demand.

use serde::{Deserialize, Serialize};

/// Server software an instance imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Software {
    #[default]
    Mastodon,
    Pleroma,
    Misskey,
    Gotosocial,
    Pixelfed,
    /// A plain ActivityPub server using `items` and unordered collections.
    Generic,
}

/// Whether the Mastodon REST API answers unauthenticated requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Open,
    /// 401 for every account endpoint (restricted to logged-in users).
    Closed,
    /// 404: not Mastodon-compatible.
    None,
    /// Account lookup answers, the follow lists answer 401 (lists restricted to users).
    LookupOnly,
}

/// Where [`Fault::RedirectSecret`] sends WebFinger: a link-local address, through a URL with
/// a user name, a password and a query token.
pub const SECRET_REDIRECT: &str = "http://admin:hunter2@169.254.169.254/latest/meta-data/?token=s3cr3t-t0ken";

/// A fault an instance shows on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    #[default]
    None,
    /// 500 on everything but robots.txt.
    Error500,
    /// Never answers (until the client times out).
    Stall,
    /// The first request other than robots.txt never answers (until the client times out or
    /// goes away); every later one is answered as usual: a crawl held at a known point, to be
    /// killed there.
    StallOnce,
    /// Broken JSON everywhere.
    MalformedJson,
    /// 5 MiB bodies.
    Oversized,
    /// Collection and API pages whose `next` points back to the first page.
    LoopNext,
    /// WebFinger redirects to a link-local address (169.254.169.254).
    RedirectPrivate,
    /// WebFinger redirects to a link-local address through a URL that carries credentials
    /// and a query token ([`SECRET_REDIRECT`]), which no output may repeat.
    RedirectSecret,
    /// Every third request is answered 429 without warning (reset 0.3 s later).
    Storm,
    /// WebFinger redirects to itself, forever.
    RedirectLoop,
    /// WebFinger redirects to a new URL each time (the same path, a query parameter `hop`
    /// counting up), forever: a chain with no loop in it.
    RedirectChain,
    /// List pages that repeat the first page's items with a fresh `next` link, forever.
    RepeatPages,
    /// List pages whose `next` is the page itself.
    SelfNext,
    /// After the first page, an endless sequence of new, empty pages.
    EmptyPages,
    /// Pages that mix items that are not accounts (`javascript:` and `data:` URIs, `null`,
    /// numbers, objects without `id`, REST accounts without a valid host) among the real ones.
    HostileItems,
    /// Everything but robots.txt is answered 429 with `Retry-After: N` (seconds).
    RetryAfter(u32),
    /// Everything but robots.txt is answered 429 with absurd values in all three rate-limit
    /// header families (`Retry-After: 1e300`, an `X-RateLimit-Reset` in year 9999, …).
    HostileRateLimit,
    /// REST `Link: rel="next"` and ActivityPub `first` links point to the same path on
    /// `mirror.DOMAIN` (another host: serve an instance of that name to see what it receives).
    ForeignPages,
    /// Actors' `following`/`followers` links name the same path on `mirror.DOMAIN` (another
    /// host: serve an instance of that name with an account of the same name to see whether
    /// its list is read and credited to this one).
    ForeignCollections,
    /// Actor documents claim to be on `mirror.DOMAIN` (their `id` names that host).
    ForeignActorIds,
    /// Embedded collection items (with `embed_items`) carry a forged `preferredUsername`
    /// (`forgedN`) and `name` ("Forged"), whatever server the actor is on.
    ForgedEmbeds,
    /// REST follow-list pages are broken JSON, and ActivityPub actors answer 404 (a broken
    /// API whose fallback fails too).
    MalformedRestLists,
    /// REST follow-list and ActivityPub collection requests are redirected (307) to the same
    /// path on `mirror.DOMAIN`.
    RedirectPagesForeign,
    /// REST follow-list requests are redirected (307) to the same host on port N.
    RedirectPort(u16),
    /// Nothing listens on the instance's address: connections are refused (a dead server
    /// whose name still resolves).
    Refused,
    /// Every Nth connection to the instance is reset (TCP RST) when its second request
    /// arrives, after a complete first response: a keep-alive connection the server dropped
    /// (Node, nginx). The request sent on it gets no answer.
    ResetKeepAlive(u32),
    /// Every Nth connection to the instance is closed (FIN) when its second request arrives,
    /// before any answer: "connection closed before message completed".
    CloseKeepAlive(u32),
    /// Every second connection to the instance (the 2nd, 4th …) is read only after this many
    /// milliseconds: a server slow to accept, whose requests arrive later than they were sent.
    SlowAccept(u64),
}

/// How the instance's name fails in DNS, on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DnsFault {
    #[default]
    None,
    /// SERVFAIL for every query.
    Servfail,
    /// No answer at all (the resolver times out).
    Timeout,
    /// The name does not exist (NXDOMAIN): a dead instance whose domain lapsed.
    Nxdomain,
}

/// A server-enforced rate limit (fixed windows, Mastodon's headers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimitSpec {
    pub limit: u32,
    pub window_secs: f64,
}

/// One virtual instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub domain: String,
    #[serde(default)]
    pub software: Software,
    pub provider: String,
    pub api: Option<Api>,
    /// ActivityPub requests need signatures (GoToSocial, authorized-fetch Mastodon).
    pub signed_only: Option<bool>,
    /// Collection items as embedded objects instead of URIs.
    #[serde(default)]
    pub embed_items: bool,
    /// WebFinger answers 404; only host-meta's LRDD template leads to it.
    #[serde(default)]
    pub host_meta_only: bool,
    /// A handle domain whose WebFinger this instance answers (`alice@example.com` hosted here).
    pub handle_domain: Option<String>,
    /// A domain whose WebFinger 301-redirects here.
    pub redirect_from: Option<String>,
    /// The domain is a CNAME to this name (managed hosting, CDN).
    pub cname: Option<String>,
    /// Also publish an AAAA record (in a range never connected to).
    #[serde(default)]
    pub ipv6: bool,
    #[serde(default)]
    pub robots_disallow: Vec<String>,
    pub rate_limit: Option<RateLimitSpec>,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub fault: Fault,
    #[serde(default)]
    pub dns_fault: DnsFault,
    pub users_total: Option<u64>,
    /// NodeInfo `software.name` served verbatim instead of the software's own (a hostile
    /// server's string).
    pub software_name: Option<String>,
    /// No NodeInfo (404).
    #[serde(default)]
    pub no_nodeinfo: bool,
    /// robots.txt served verbatim (real rules: groups, `Allow`, wildcards, `Crawl-delay`);
    /// replaces `robots_disallow`.
    pub robots_txt: Option<String>,
    /// robots.txt answers this status instead (5xx: do not crawl; 4xx: no rules).
    pub robots_status: Option<u16>,
    /// Every link the instance gives to itself says `http://`, even when served over TLS.
    #[serde(default)]
    pub plain_http_links: bool,
    /// The AAAA record (with `ipv6`) lies in this provider's range instead of the instance's.
    pub ipv6_provider: Option<String>,
    /// Further A records, one in each of these providers' ranges (served like the first).
    #[serde(default)]
    pub extra_ipv4: Vec<String>,
    /// Also publish AAAA `::1`, where the simulator listens too: a reachable IPv6 address.
    #[serde(default)]
    pub ipv6_loopback: bool,
    /// Publish the A record (default true); `false` with `ipv6_loopback` is an IPv6-only host.
    pub ipv4: Option<bool>,
    /// Pauses the server announces every few requests (`Retry-After`, `RateLimit-*`).
    pub announce: Option<Announce>,
    /// A hostile WebFinger: every handle of this domain is answered with the actor of this
    /// account (`user@domain` of another instance) as `self`, and the asked handle as
    /// `subject` (a claim the other instance does not confirm).
    pub webfinger_claims: Option<String>,
}

/// How a server announces a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnounceStyle {
    /// 429 with `Retry-After: <seconds>`.
    RetryAfterSeconds,
    /// 429 with `Retry-After: <HTTP date>` (whole seconds, so the pause ends on a second).
    RetryAfterDate,
    /// 429 with `RateLimit-Limit`, `RateLimit-Remaining: 0`, `RateLimit-Reset: <seconds>`.
    RatelimitOn429,
    /// A normal 200 carrying `RateLimit-Remaining: 0` and `RateLimit-Reset: <seconds>`.
    RatelimitExhausted,
    /// A normal 200 carrying `Retry-After: <seconds>` (meaningless on a success: not waited).
    RetryAfterOn200,
}

/// A pause announced on every `every`-th request to the instance (robots.txt not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announce {
    pub style: AnnounceStyle,
    pub every: u32,
    pub secs: u32,
}

impl Instance {
    /// A Mastodon instance on `provider` with everything else default.
    pub fn new(domain: &str, software: Software, provider: &str) -> Self {
        Instance {
            domain: domain.into(),
            software,
            provider: provider.into(),
            api: None,
            signed_only: None,
            embed_items: false,
            host_meta_only: false,
            handle_domain: None,
            redirect_from: None,
            cname: None,
            ipv6: false,
            robots_disallow: vec![],
            rate_limit: None,
            latency_ms: 0,
            fault: Fault::None,
            dns_fault: DnsFault::None,
            users_total: None,
            software_name: None,
            no_nodeinfo: false,
            robots_txt: None,
            robots_status: None,
            plain_http_links: false,
            ipv6_provider: None,
            extra_ipv4: vec![],
            ipv6_loopback: false,
            ipv4: None,
            announce: None,
            webfinger_claims: None,
        }
    }

    /// The REST API's behaviour (by software unless set).
    pub fn api(&self) -> Api {
        self.api.unwrap_or(match self.software {
            Software::Mastodon | Software::Pleroma => Api::Open,
            Software::Gotosocial => Api::Closed,
            Software::Misskey | Software::Pixelfed | Software::Generic => Api::None,
        })
    }

    /// Whether ActivityPub needs signatures (GoToSocial by default).
    pub fn signed_only(&self) -> bool {
        self.signed_only.unwrap_or(self.software == Software::Gotosocial)
    }
}
