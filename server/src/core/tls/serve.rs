//! The accept loop: TCP, TLS handshake (with a timeout), then HTTP/1.1 or HTTP/2 over hyper-util,
//! with the axum router as the service.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use openssl::ssl::{Ssl, SslAcceptor};
use openssl::x509::X509VerifyResult;
use tokio::net::{TcpListener, TcpStream};
use tokio_openssl::SslStream;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;

use super::{PeerCert, SharedAcceptor};

#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The TCP connection is closed when the TLS handshake takes longer.
    pub handshake_timeout: Duration,
    /// HTTP/1.1: the time a client has to send a request's headers (slow-loris guard).
    pub header_read_timeout: Duration,
    /// After shutdown is asked for, how long open connections may take to finish.
    pub drain_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: super::HANDSHAKE_TIMEOUT,
            header_read_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Serve `router` over TLS on `listener` until `shutdown` is cancelled, then let open
/// connections finish (at most `drain_timeout`).
///
/// Every request gets `ConnectInfo<SocketAddr>` (so `ConnectInfo<SocketAddr>` extractors work as
/// with `into_make_service_with_connect_info::<SocketAddr>()`) and, when the client presented a
/// verified certificate, an `Arc<PeerCert>`.
pub async fn serve(
    listener: TcpListener,
    acceptor: SharedAcceptor,
    router: Router,
    options: ServeOptions,
    shutdown: CancellationToken,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    // As axum::serve: the extended CONNECT protocol, for WebSockets over HTTP/2 (RFC 8441).
    builder.http2().timer(TokioTimer::new()).enable_connect_protocol();
    let graceful = GracefulShutdown::new();

    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // As axum::serve: a connection reset before accept is harmless; anything else
                    // (EMFILE) would spin, so wait a second.
                    if is_connection_error(&e) {
                        tracing::debug!(error = %e, "accept failed");
                    } else {
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        // A snapshot: a reload during the handshake does not affect this connection.
        let acceptor = acceptor.load_full();
        let router = router.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let handshake_timeout = options.handshake_timeout;

        tokio::spawn(async move {
            let stream = match tokio::time::timeout(handshake_timeout, handshake(&acceptor, tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::info!(%remote, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::info!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let peer = match peer_cert(&stream) {
                Ok(peer) => peer,
                Err(e) => {
                    tracing::warn!(%remote, error = %e, "client certificate unreadable; connection closed");
                    return;
                }
            };
            if let Some(p) = &peer {
                tracing::debug!(%remote, subject = %p.subject, serial = %p.serial, "client certificate verified");
            }
            let service = ServiceBuilder::new()
                .map_request(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(remote));
                    req.extensions_mut().insert(super::Secure);
                    if let Some(peer) = &peer {
                        req.extensions_mut().insert(Arc::clone(peer));
                    }
                    req
                })
                .service(router);
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::debug!("all TLS connections closed"),
        () = tokio::time::sleep(options.drain_timeout) => tracing::warn!("TLS connections still open after the drain timeout"),
    }
}

/// Why a handshake failed, with OpenSSL's verification result when a certificate was refused.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("{0}")]
    Setup(#[from] openssl::error::ErrorStack),
    #[error("{error} (client certificate: {verify})")]
    Verify { error: openssl::ssl::Error, verify: &'static str },
    #[error("{0}")]
    Tls(openssl::ssl::Error),
}

async fn handshake(acceptor: &SslAcceptor, tcp: TcpStream) -> Result<SslStream<TcpStream>, HandshakeError> {
    let ssl = Ssl::new(acceptor.context())?;
    let mut stream = SslStream::new(ssl, tcp)?;
    match Pin::new(&mut stream).accept().await {
        Ok(()) => Ok(stream),
        Err(error) => {
            let verify = stream.ssl().verify_result();
            if verify == X509VerifyResult::OK {
                Err(HandshakeError::Tls(error))
            } else {
                Err(HandshakeError::Verify { error, verify: verify.error_string() })
            }
        }
    }
}

/// The verified client certificate, if the client sent one.
fn peer_cert(stream: &SslStream<TcpStream>) -> Result<Option<Arc<PeerCert>>, openssl::error::ErrorStack> {
    let ssl = stream.ssl();
    let Some(cert) = ssl.peer_certificate() else { return Ok(None) };
    // With SslVerifyMode::PEER a certificate that fails verification aborts the handshake; this
    // guards against a configuration that would not (verify mode NONE still stores the cert).
    if ssl.verify_result() != X509VerifyResult::OK {
        return Ok(None);
    }
    PeerCert::from_x509(&cert).map(|p| Some(Arc::new(p)))
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}
