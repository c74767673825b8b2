//! TLS termination with OpenSSL, and X.509 client certificates.
//!
//! Infrastructure only: this module knows nothing of users. It terminates TLS, verifies an
//! optional client certificate against the configured CAs and CRLs, and hands every request of
//! the connection an `Arc<PeerCert>` (request extension) describing the verified certificate.
//! Mapping a `PeerCert` to an account is the business of the auth layer.
//!
//! - [`acceptor`]: builds the `SslAcceptor` from files (certificate chain, key, client CAs, CRLs).
//! - [`peer`]: [`PeerCert`], what a handler can read of the verified client certificate.
//! - [`serve`]: the accept loop (TCP, handshake with a timeout, HTTP/1.1 + HTTP/2 with hyper-util).
//! - [`reload`]: re-reading the files on SIGHUP, swapping the acceptor atomically.

pub mod acceptor;
pub mod peer;
pub mod reload;
pub mod serve;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use openssl::ssl::SslAcceptor;

pub use crate::config::{ClientAuth, TlsConfig};
pub use acceptor::{TlsError, build_acceptor};
pub use peer::PeerCert;
pub use reload::{reload, spawn_reload_on_sighup};
pub use serve::{ServeOptions, serve};

/// The acceptor in use, swapped as a whole on reload. Connections take a snapshot of it when
/// they are accepted; connections already open keep the configuration of their handshake.
pub type SharedAcceptor = Arc<ArcSwap<SslAcceptor>>;

/// Build the acceptor from `config` and wrap it for [`serve`] and [`reload`].
pub fn shared_acceptor(config: &TlsConfig) -> Result<SharedAcceptor, TlsError> {
    Ok(Arc::new(ArcSwap::from_pointee(build_acceptor(config)?)))
}

/// Marks every request that came over TLS (HSTS is sent only then).
#[derive(Clone, Copy, Debug)]
pub struct Secure;

/// The default handshake timeout.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
