//! The simulated fediverse: many virtual instances on loopback, their own DNS server, and an
//! ASN fixture for their address ranges. It drives the integration tests, the benchmarks and
//! `whohosts demo`; nothing in it ever reaches beyond 127.0.0.0/8.
//!
//! # Architecture
//! [`world`] describes a world and lays out addresses, [`generate`] makes one from a seed;
//! [`timeline`] adds the changes of later weeks and lets a running simulator step through
//! them ([`Running::set_week`]); [`dns`] serves its zone
//! over UDP on 127.0.0.1; [`server`] serves every instance over HTTP on its own 127.x.y.z
//! (one port for all), answering per software in [`routes`]. [`start`] runs it on the current
//! tokio runtime; [`Background`] runs it on a thread of its own for blocking callers (tests
//! that drive the real binary).

pub mod dns;
pub mod generate;
pub mod routes;
pub mod server;
pub mod timeline;
pub mod world;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::{Config, PrivateAddresses};
use crate::error::{Error, Result};
use server::Sim;
use timeline::{Stage, Timeline};
use world::Layout;

/// A running simulator. Dropping it stops every server task.
pub struct Running {
    /// The world of the week it started with; its request log covers every week.
    pub sim: Arc<Sim>,
    /// The week being served, and the means to change it.
    pub stage: Arc<Stage>,
    pub dns_addr: SocketAddr,
    pub http_port: u16,
    tasks: JoinSet<()>,
    tls: Option<Tls>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// Certificate files for serving the simulator over TLS.
#[derive(Debug, Clone)]
pub struct Tls {
    /// The server certificate chain (PEM), valid for the world's domains.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA that signed it, for the client to trust.
    pub ca: PathBuf,
}

fn acceptor(tls: &Tls) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &std::path::Path, e: String| Error::World(format!("TLS {}: {e}", what.display()));
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|i| i.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| bad(&tls.cert, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| bad(&tls.key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| bad(&tls.cert, e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Start serving `layout` over plain http on the current runtime.
///
/// # Errors
/// [`Error::World`] when a socket cannot be bound.
pub async fn start(layout: Layout) -> Result<Running> {
    start_with(layout, None).await
}

/// Start serving `layout`, over TLS when `tls` is given.
///
/// # Errors
/// [`Error::World`] when a socket cannot be bound or the certificates cannot be read.
pub async fn start_with(layout: Layout, tls: Option<Tls>) -> Result<Running> {
    start_timeline(Timeline::single(layout), tls).await
}

/// Start serving week 0 of `timeline`, over TLS when `tls` is given. The server listens on
/// the addresses of every week, so [`Running::set_week`] needs no new sockets.
///
/// # Errors
/// [`Error::World`] when a socket cannot be bound or the certificates cannot be read.
pub async fn start_timeline(timeline: Timeline, tls: Option<Tls>) -> Result<Running> {
    let acceptor = tls.as_ref().map(acceptor).transpose()?;
    let addresses = timeline.listen_addresses();
    let (port, listeners) = server::bind_all(&addresses)
        .await
        .map_err(|e| Error::World(format!("cannot bind simulator addresses: {e}")))?;
    let (udp, dns_addr) = dns::bind()
        .await
        .map_err(|e| Error::World(format!("cannot bind simulator DNS: {e}")))?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let stage = Arc::new(Stage::new(timeline, port, scheme));
    let mut tasks = JoinSet::new();
    tasks.spawn(dns::serve(udp, stage.zone.clone()));
    for l in listeners {
        tasks.spawn(server::serve(l, stage.sim.clone(), acceptor.clone()));
    }
    Ok(Running {
        sim: stage.sim(),
        stage,
        dns_addr,
        http_port: port,
        tasks,
        tls,
    })
}

impl Running {
    /// Serve week `n` of the timeline from now on (see [`Stage::set_week`]).
    ///
    /// # Errors
    /// [`Error::World`] when the timeline has no week `n`.
    pub fn set_week(&self, n: u32) -> Result<()> {
        self.stage.set_week(n)
    }

    /// The client settings that point whohosts at this simulator: its DNS server, its port,
    /// plain http allowed (or, over TLS, its CA trusted), loopback allowed (and nothing else
    /// private), a short timeout.
    pub fn client_config(&self) -> Config {
        let mut c = Config::default();
        match &self.tls {
            // Over TLS the client stays https-only and trusts the world's CA.
            Some(tls) => c.network.extra_root_certificates = vec![tls.ca.to_string_lossy().into_owned()],
            None => c.network.allow_http = true,
        }
        c.network.port = self.http_port;
        c.network.allow_private_addresses =
            PrivateAddresses::Networks(vec!["127.0.0.0/8".parse().expect("a valid network")]);
        c.network.request_timeout_secs = 5.0;
        c.network.retry_base_secs = 0.05;
        // The simulator is ours: a generous budget (its own rate limits still apply).
        c.rate_limit.requests = 10_000;
        c.rate_limit.period_secs = 1.0;
        c.rate_limit.paged_requests = 10_000;
        c.rate_limit.paged_period_secs = 1.0;
        c.rate_limit.burst = 100;
        c.network.host_concurrency = 4;
        c.dns.nameservers = vec![self.dns_addr.to_string()];
        c.dns.timeout_secs = 2.0;
        c
    }

    /// [`Running::client_config`] with attribution from this world's ASN fixture, written to
    /// `fixture` (ip-location-db CSV).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn config_with_fixture(&self, fixture: &Path) -> Result<Config> {
        with_fixture(&self.sim, self.client_config(), fixture)
    }
}

/// Write `sim`'s ASN fixture to `fixture` and point `config`'s attribution at it.
fn with_fixture(sim: &Sim, mut config: Config, fixture: &Path) -> Result<Config> {
    std::fs::write(fixture, sim.layout.asn_csv()).map_err(|e| Error::io(fixture, e))?;
    config.attribution.asn_database = fixture.into();
    Ok(config)
}

/// A simulator on a thread of its own, for callers that block (tests driving the binary).
pub struct Background {
    pub dns_addr: SocketAddr,
    pub http_port: u16,
    /// The world of the week it started with; its request log covers every week.
    pub sim: Arc<Sim>,
    /// The week being served, and the means to change it.
    pub stage: Arc<Stage>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    config: Config,
}

impl Background {
    /// Start `layout` on a new thread with its own runtime.
    ///
    /// # Errors
    /// [`Error::World`] when the simulator cannot start.
    pub fn start(layout: Layout) -> Result<Self> {
        Background::start_with(layout, None)
    }

    /// Start `layout` on a new thread, over TLS when `tls` is given.
    ///
    /// # Errors
    /// [`Error::World`] when the simulator cannot start.
    pub fn start_with(layout: Layout, tls: Option<Tls>) -> Result<Self> {
        Background::start_timeline(Timeline::single(layout), tls)
    }

    /// Start week 0 of `timeline` on a new thread, over TLS when `tls` is given.
    ///
    /// # Errors
    /// [`Error::World`] when the simulator cannot start.
    pub fn start_timeline(timeline: Timeline, tls: Option<Tls>) -> Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime can be built");
            rt.block_on(async move {
                match start_timeline(timeline, tls).await {
                    Ok(running) => {
                        let info = (
                            running.dns_addr,
                            running.http_port,
                            running.stage.clone(),
                            running.client_config(),
                        );
                        let _ = ready_tx.send(Ok(info));
                        let _ = stop_rx.await;
                        drop(running);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let (dns_addr, http_port, stage, config) = ready_rx
            .recv()
            .map_err(|_| Error::World("simulator thread ended before starting".into()))??;
        Ok(Background {
            dns_addr,
            http_port,
            sim: stage.sim(),
            stage,
            stop: Some(stop_tx),
            thread: Some(thread),
            config,
        })
    }

    /// See [`Running::set_week`].
    ///
    /// # Errors
    /// [`Error::World`] when the timeline has no week `n`.
    pub fn set_week(&self, n: u32) -> Result<()> {
        self.stage.set_week(n)
    }

    /// See [`Running::client_config`].
    pub fn client_config(&self) -> Config {
        self.config.clone()
    }

    /// See [`Running::config_with_fixture`].
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn config_with_fixture(&self, fixture: &Path) -> Result<Config> {
        with_fixture(&self.sim, self.client_config(), fixture)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
