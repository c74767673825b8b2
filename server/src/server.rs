//! Starting and stopping the server.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_sessions::session_store::ExpiredDeletion;

use crate::config::Settings;
use crate::core::state::AppState;
use crate::domain::platform::connector::Connectors;
use crate::core::store::Store;

/// A started server: its address, its state, and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Becomes true once the startup reads are done: the statistics index loaded and the lookup
    /// indexes warmed (or failed to). Benchmarks measure after it.
    pub warmed: tokio::sync::watch::Receiver<bool>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stop accepting, let in-flight requests finish, close the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.await.context("server task")?
    }

    /// Wait until the server stops by itself (a signal).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task")?
    }
}

/// Open the database, bootstrap it, bind the listener and serve in the background.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    let started = Instant::now();
    let memory = crate::core::store::EngineMemory::from_budget(settings.memory_budget_bytes);
    memory.apply();
    let store = Store::open(&settings.database, settings.database_user.as_deref(), settings.database_password.as_ref().map(crate::config::Secret::expose)).await?;
    let info = store.info().clone();
    tracing::info!(
        engine = %info.engine, location = %info.location, sync = %info.sync, schema = crate::core::store::SCHEMA_VERSION,
        memtable_mib = memory.memtable >> 20, block_cache_mib = memory.block_cache >> 20, "database open"
    );
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create data directory {}", settings.data_dir.display()))?;
    crate::domain::platform::setup::at_start(&store, &settings).await.map_err(|e| anyhow::anyhow!("setting the platform up failed: {e:?}"))?;

    let listener = TcpListener::bind(settings.listen).await.with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let state = AppState::new(store, settings);
    // Accounts created at first sign-in (certificates, directories) follow the identity rules.
    state.auth.set_provisioner(std::sync::Arc::new(crate::domain::identity::user::Provisioning));
    crate::domain::identity::profile::load(&state).await.map_err(|e| anyhow::anyhow!("reading custom profiles: {e:?}"))?;
    for id in crate::domain::identity::org::locked_ids(&state.store).await.map_err(|e| anyhow::anyhow!("reading locked organisations: {e:?}"))? {
        state.auth.set_org_locked(&id, true);
    }
    // The directory: as an administrator last set it, else the configuration file's [ldap].
    crate::domain::identity::directory::load(&state).await.context("[ldap]")?;
    // Several Waggle processes on one SurrealDB server: what each keeps in memory follows the
    // others' writes through the change feed the statistics index reads (docs/architecture.md).
    // (An embedded database is locked by the one process that opened it.)
    if state.store.is_shared() {
        state.stats.watch("audit", {
            let bus = state.audit.clone();
            move |changes| bus.relay(changes)
        });
        crate::core::auth::follow_other_instances(&state);
        crate::domain::identity::follow_other_instances(&state);
        crate::domain::catalog::follow_other_instances(&state);
        crate::domain::alert::follow_other_instances(&state);
    }
    let shutdown = CancellationToken::new();

    // MISP: the connections administrators saved, then the poll loop and the sighting listener.
    crate::domain::misp::load(&state).await.context("reading the MISP connections")?;
    state.service::<Connectors>().spawn_checker(shutdown.clone());
    crate::domain::misp::start(&state, shutdown.clone());
    // Analyzer definitions read, unfinished jobs queued again, the dispatcher started.
    crate::domain::analysis::engine::start(&state, shutdown.clone()).await.context("starting the analysis engine")?;
    {
        // Files a crash left without a record (written before a transaction that never committed),
        // and login failures past the throttle's window: at start, then every hour (for another Waggle process that crashed on the same data).
        let state = state.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                match crate::core::attachment::sweep(&state, crate::core::attachment::SWEEP_MIN_AGE).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "attachment store swept"),
                    Err(e) => tracing::warn!(error = ?e, "sweeping the attachment store failed"),
                }
                if let Err(e) = crate::core::auth::sweep_failures(&state.store).await {
                    tracing::warn!(error = ?e, "removing old login failures failed");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(crate::core::attachment::SWEEP_EVERY) => {}
                }
            }
        });
    }
    // Written last at shutdown: the statistics index's snapshot, before the database closes.
    let stats_task = state.stats.spawn(shutdown.clone());
    let (warmed_tx, warmed) = tokio::sync::watch::channel(false);
    {
        // Once the statistics index has read every record (so the two scans do not compete for
        // the disk), read the lookup indexes into the engine's cache.
        let state = state.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _done = warmed_tx;
            while !state.stats.is_ready() {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
            if let Err(e) = crate::core::store::warm::lookup_indexes(&state.store).await {
                tracing::warn!(error = %e, "warming the lookup indexes failed");
            }
            let _ = _done.send(true);
        });
    }
    {
        let sessions = state.sessions.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(600)) => {
                        if let Err(e) = sessions.delete_expired().await {
                            tracing::warn!(error = %e, "expired session cleanup failed");
                        }
                    }
                }
            }
        });
    }

    let app = crate::api::router(state.clone());
    let stop = shutdown.clone();
    let scheme = if state.settings.tls.is_some() { "https" } else { "http" };
    if state.settings.tls.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening on a network address without TLS: passwords, API keys and session cookies cross the network in clear; give --tls-cert and --tls-key (or put an HTTPS proxy in front)");
    }
    let task = match state.settings.tls.clone() {
        Some(tls) => {
            // Waggle terminates TLS itself (OpenSSL); the certificates, client CAs and CRLs are
            // read again on SIGHUP.
            let acceptor = crate::core::tls::shared_acceptor(&tls).map_err(|e| anyhow::anyhow!("TLS: {e}"))?;
            crate::core::tls::spawn_reload_on_sighup(tls, acceptor.clone()).context("SIGHUP handler")?;
            tokio::spawn(async move {
                crate::core::tls::serve(listener, acceptor, app, crate::core::tls::ServeOptions::default(), stop).await;
                let _ = stats_task.await;
                tracing::info!("server stopped; database closed");
                Ok(())
            })
        }
        None => {
            // Responses are written in several pieces (headers, then a compressed body): with Nagle's
            // algorithm on, a piece may wait for the client's delayed acknowledgement.
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY not set");
                }
            });
            tokio::spawn(async move {
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
                    .context("server")?;
                let _ = stats_task.await;
                tracing::info!("server stopped; database closed");
                Ok(())
            })
        }
    };
    tracing::info!(
        url = %format!("{scheme}://{addr}"),
        started_ms = started.elapsed().as_millis() as u64,
        version = crate::domain::platform::status::VERSION,
        "Waggle is ready"
    );
    Ok(Running { addr, state, warmed, shutdown, task })
}

/// Run until SIGINT or SIGTERM, then shut down cleanly.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let running = start(settings).await?;
    let shutdown = running.shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        shutdown.cancel();
    });
    running.wait().await
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
