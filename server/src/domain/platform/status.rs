//! Platform status and health, shared by `/api/status`, `/api/health` and the UI.

use app::model::{AppStatus, ConnectorStatus, Health};

use crate::core::state::AppState;
use crate::domain::platform::connector::{ANALYSIS, Connectors};
use crate::core::store::SCHEMA_VERSION;
use crate::vars;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The SurrealDB library this binary embeds.
pub const SURREALDB_VERSION: &str = "3.3";

/// Authentication methods enabled on this instance.
/// The sign-in methods that are on (TheHive's `authType`, shown by the login page and the
/// About page): local passwords, API keys, Basic, sessions, then `ldap` and `pki` when configured.
pub fn auth_methods(state: &AppState) -> Vec<String> {
    let mut m: Vec<String> = vec!["local".into(), "key".into(), "basic".into(), "session".into()];
    if state.auth.directory().is_some() {
        m.push("ldap".into());
    }
    let tls_certificates = state.settings.tls.as_ref().is_some_and(|t| t.client_auth != crate::config::ClientAuth::Off);
    if tls_certificates || state.settings.certificates.header.is_some() {
        m.push("pki".into());
    }
    m
}

async fn database_health(state: &AppState) -> Health {
    match state.store.query("RETURN 1", vars! {}).await {
        Ok(_) => Health::Ok,
        Err(e) => {
            tracing::error!(error = ?e, "database health check failed");
            Health::Error
        }
    }
}

/// The connectors and their servers; the analysis connector includes the embedded engine
/// (`local`) when analyzers directories are configured.
pub fn connectors(state: &AppState) -> Vec<ConnectorStatus> {
    let mut list = state.service::<Connectors>().snapshot();
    if let Some(local) = crate::domain::analysis::engine::local_status(state) {
        if let Some(c) = list.iter_mut().find(|c| c.name == ANALYSIS) {
            c.servers.insert(0, local);
            c.enabled = true;
            c.status = Health::of_servers(c.servers.iter().map(|s| s.status));
        }
    }
    list
}

/// Worst of the database and the enabled connectors.
pub async fn health(state: &AppState) -> Health {
    let connectors = connectors(state).iter().filter(|c| c.enabled).fold(Health::Ok, |h, c| h.worst(c.status));
    database_health(state).await.worst(connectors)
}

/// The status as `caller` may see it: the connectors' server addresses only for platform
/// administrators (they tell where the MISP and analysis servers are).
pub async fn status_for(state: &AppState, caller: &crate::core::auth::Caller) -> AppStatus {
    let mut s = status(state).await;
    if !caller.is_platform_admin() {
        for server in s.connectors.iter_mut().flat_map(|c| c.servers.iter_mut()) {
            server.url.clear();
        }
    }
    s
}

pub async fn status(state: &AppState) -> AppStatus {
    let info = state.store.info();
    AppStatus {
        version: VERSION.into(),
        database_version: SURREALDB_VERSION.into(),
        storage: format!("{} ({})", info.engine, info.sync),
        schema_version: SCHEMA_VERSION,
        auth_methods: auth_methods(state),
        connectors: connectors(state),
        health: health(state).await,
    }
}
