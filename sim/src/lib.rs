//! The simulated fediverse: many virtual instances on loopback, their own DNS server, and an
//! ASN fixture for their address ranges. It drives whohosts' integration tests, benchmarks and
//! `whohosts demo`; nothing in it ever reaches beyond 127.0.0.0/8.
//!
//! It knows nothing of whohosts: it says where it listens ([`Running::dns_addr`],
//! [`Running::http_port`], [`Running::ca`]) and writes its ASN fixture where it is asked
//! ([`Running::write_asn_fixture`], licence [`FIXTURE_LICENCE`]); the client builds its own
//! settings from those.
//!
//! # Architecture
//! [`world`] describes a world and lays out addresses, [`generate`] makes one from a seed;
//! [`timeline`] adds the changes of later weeks and lets a running simulator step through
//! them ([`Running::set_week`]); [`dns`] serves its zone
//! over UDP on 127.0.0.1; [`server`] serves every instance over HTTP on its own 127.x.y.z
//! (one port for all), answering per software in [`routes`]. [`start`] runs it on the current
//! tokio runtime; [`Background`] runs it on a thread of its own for blocking callers (tests
//! that drive the real binary). [`contact_book`] gives `whohosts demo --contacts` its address
//! book and the `[[dns]]` names that serve it. Failures are [`Error`]s.

pub mod contact_book;
pub mod dns;
pub mod error;
pub mod generate;
pub mod routes;
pub mod server;
pub mod timeline;
pub mod world;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;

pub use error::{Error, Result};
use server::Sim;
use timeline::{Stage, Timeline};
use world::Layout;

/// A running simulator. Dropping it stops every server task.
pub struct Running {
    /// The world of the week it started with; its request log covers every week.
    pub sim: Arc<Sim>,
    /// The week being served, and the means to change it.
    pub stage: Arc<Stage>,
    /// Where its DNS server answers (UDP on 127.0.0.1): the client's only nameserver.
    pub dns_addr: SocketAddr,
    /// The one port every instance serves on (http, or https with [`Running::ca`]).
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
    tasks.spawn(dns::serve(udp, stage.zone.clone(), stage.stats()));
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

    /// The CA that signed the server certificate, when serving over TLS: the client trusts
    /// it (and stays https-only); without TLS the simulator speaks plain http.
    pub fn ca(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca.as_path())
    }

    /// Write this world's ASN fixture (ip-location-db CSV, licence [`FIXTURE_LICENCE`]) to
    /// `path`.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn write_asn_fixture(&self, path: &Path) -> Result<()> {
        write_fixture(&self.sim, path)
    }
}

/// The licence the simulator's ASN fixture states: its ranges are made up on 127.0.0.0/8.
pub const FIXTURE_LICENCE: &str = "the simulator's own table of made-up ranges";

/// Write `sim`'s ASN fixture to `path`.
fn write_fixture(sim: &Sim, path: &Path) -> Result<()> {
    std::fs::write(path, sim.layout.asn_csv()).map_err(|e| Error::io(path, e))
}

/// A simulator on a thread of its own, for callers that block (tests driving the binary).
pub struct Background {
    /// See [`Running::dns_addr`].
    pub dns_addr: SocketAddr,
    /// See [`Running::http_port`].
    pub http_port: u16,
    /// The world of the week it started with; its request log covers every week.
    pub sim: Arc<Sim>,
    /// The week being served, and the means to change it.
    pub stage: Arc<Stage>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    ca: Option<PathBuf>,
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
                            running.ca().map(Path::to_path_buf),
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
        let (dns_addr, http_port, stage, ca) = ready_rx
            .recv()
            .map_err(|_| Error::World("simulator thread ended before starting".into()))??;
        Ok(Background {
            dns_addr,
            http_port,
            sim: stage.sim(),
            stage,
            stop: Some(stop_tx),
            thread: Some(thread),
            ca,
        })
    }

    /// See [`Running::set_week`].
    ///
    /// # Errors
    /// [`Error::World`] when the timeline has no week `n`.
    pub fn set_week(&self, n: u32) -> Result<()> {
        self.stage.set_week(n)
    }

    /// See [`Running::ca`].
    pub fn ca(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// See [`Running::write_asn_fixture`].
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn write_asn_fixture(&self, path: &Path) -> Result<()> {
        write_fixture(&self.sim, path)
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
