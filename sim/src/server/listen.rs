//! The simulator's sockets: every instance address bound on one shared port, and each
//! connection served by hyper (over TLS when asked).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::{Doom, Sim};
use crate::timeline::Current;

/// Bind every address in `addresses` (127.x.y.z and `::1`) on one shared port.
///
/// # Errors
/// The bind error when no port works for all addresses after a few tries.
pub async fn bind_all(addresses: &[IpAddr]) -> std::io::Result<(u16, Vec<TcpListener>)> {
    let mut last_err = None;
    for _ in 0..8 {
        let probe = TcpListener::bind("127.0.0.1:0").await?;
        let port = probe.local_addr()?.port();
        drop(probe);
        let mut listeners = vec![];
        let mut failed = false;
        for a in addresses {
            match TcpListener::bind(SocketAddr::new(*a, port)).await {
                Ok(l) => listeners.push(l),
                Err(e) => {
                    last_err = Some(e);
                    failed = true;
                    break;
                }
            }
        }
        if !failed {
            return Ok((port, listeners));
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// Accept connections on `listener` forever, serving the current week of `sim` (over TLS
/// with `tls`).
pub async fn serve(listener: TcpListener, sim: Arc<Current<Sim>>, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Counted open until the connection is served to its end (either side closed it).
        let open = sim.get().connection_opened();
        let (doom, slow) = stream
            .local_addr()
            .map_or((None, std::time::Duration::ZERO), |a| sim.get().accepted(a.ip()));
        if doom == Some(Doom::Reset) {
            // Closing with a zero linger sends RST instead of FIN.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(std::time::Duration::ZERO));
        }
        let (sim, tls) = (sim.clone(), tls.clone());
        tokio::spawn(async move {
            let _open = open;
            if !slow.is_zero() {
                tokio::time::sleep(slow).await;
            }
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve_connection(stream, sim, doom.is_some()).await;
                    }
                }
                None => serve_connection(stream, sim, doom.is_some()).await,
            }
        });
    }
}

/// Serve one connection; a `doomed` one ends (reset or closed, as set up at accept) when its
/// second request arrives, unanswered.
async fn serve_connection<S>(stream: S, sim: Arc<Current<Sim>>, doomed: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let served = Arc::new(AtomicU32::new(0));
    let service = hyper::service::service_fn(move |req| {
        let sim = sim.get();
        let cut = doomed && served.fetch_add(1, Ordering::Relaxed) >= 1;
        async move {
            match cut {
                true => Err(std::io::Error::other("keep-alive fault: connection dropped")),
                false => Ok(sim.handle(req).await),
            }
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
