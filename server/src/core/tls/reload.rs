//! Re-reading the TLS files without a restart.

use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

use super::{SharedAcceptor, TlsConfig, TlsError, build_acceptor};

/// Rebuild the acceptor from the files and swap it in. On error the current acceptor stays.
/// New connections use the new acceptor; open connections keep theirs (a certificate revoked
/// by the new CRL stays usable on a keep-alive connection opened before the reload).
pub async fn reload(config: &TlsConfig, current: &SharedAcceptor) -> Result<(), TlsError> {
    let config = config.clone();
    // File reads and parsing: off the async workers.
    let acceptor = tokio::task::spawn_blocking(move || build_acceptor(&config))
        .await
        .map_err(|e| TlsError::Config(format!("reload task: {e}")))??;
    current.store(Arc::new(acceptor));
    Ok(())
}

/// Reload on every SIGHUP, logging the outcome. Must be called within a tokio runtime.
pub fn spawn_reload_on_sighup(config: TlsConfig, current: SharedAcceptor) -> std::io::Result<JoinHandle<()>> {
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match reload(&config, &current).await {
                Ok(()) => tracing::info!("TLS configuration reloaded"),
                Err(e) => tracing::error!(error = %e, "TLS reload failed; keeping the previous configuration"),
            }
        }
    }))
}
