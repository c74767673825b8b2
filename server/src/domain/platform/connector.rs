//! Connectors to other instances (MISP, external Cortex) and their health, checked every
//! minute: a server is OK or ERROR; a connector is OK when all its servers answer, WARNING when
//! some do, ERROR when none does.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use app::model::{ConnectorStatus, Health, ServerStatus};
use tokio_util::sync::CancellationToken;

use crate::config::{RemoteServer, Settings};
use crate::core::state::{AppState, Service};
use crate::core::store::now_millis;

pub const ANALYSIS: &str = "cortex";
pub const MISP: &str = "misp";
pub const CHECK_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cortex,
    Misp,
}

#[derive(Clone)]
pub struct Connectors {
    servers: Arc<Vec<(Kind, RemoteServer)>>,
    status: Arc<RwLock<Vec<ConnectorStatus>>>,
    http: reqwest::Client,
}

impl Service for Connectors {
    fn make(state: &AppState) -> Self {
        Connectors::new(&state.settings)
    }
}

impl Connectors {
    pub fn new(settings: &Settings) -> Self {
        let mut servers = Vec::new();
        servers.extend(settings.cortex.iter().cloned().map(|s| (Kind::Cortex, s)));
        servers.extend(settings.misp.iter().cloned().map(|s| (Kind::Misp, s)));
        let pending = |s: &RemoteServer| ServerStatus {
            name: s.name.clone(),
            url: s.url.clone(),
            version: None,
            status: Health::Warning,
            message: Some("not checked yet".into()),
            checked_at: None,
        };
        let connector = |name: &str, list: &[RemoteServer]| {
            let servers: Vec<ServerStatus> = list.iter().map(pending).collect();
            ConnectorStatus {
                name: name.into(),
                enabled: !list.is_empty(),
                status: if list.is_empty() { Health::Ok } else { Health::Warning },
                servers,
            }
        };
        let status = vec![connector(ANALYSIS, &settings.cortex), connector(MISP, &settings.misp)];
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Connectors { servers: Arc::new(servers), status: Arc::new(RwLock::new(status)), http }
    }

    pub fn snapshot(&self) -> Vec<ConnectorStatus> {
        self.status.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn check_one(&self, kind: Kind, server: &RemoteServer) -> ServerStatus {
        let base = server.url.trim_end_matches('/');
        let (url, version_path): (String, &[&str]) = match kind {
            Kind::Cortex => (format!("{base}/api/status"), &["versions", "Cortex"]),
            Kind::Misp => (format!("{base}/servers/getVersion"), &["version"]),
        };
        let mut req = self.http.get(&url).header("Accept", "application/json");
        if let Some(key) = &server.key {
            req = match kind {
                Kind::Cortex => req.bearer_auth(key.expose()),
                Kind::Misp => req.header("Authorization", key.expose()),
            };
        }
        let (status, version, message) = match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                let version = version_path.iter().try_fold(&body, |v, k| v.get(*k)).and_then(|v| v.as_str()).map(str::to_string);
                (Health::Ok, version, None)
            }
            Ok(resp) => (Health::Error, None, Some(format!("HTTP {}", resp.status()))),
            Err(e) => (Health::Error, None, Some(if e.is_timeout() { "timed out".into() } else { "unreachable".into() })),
        };
        ServerStatus { name: server.name.clone(), url: server.url.clone(), version, status, message, checked_at: Some(now_millis()) }
    }

    /// Check every server once and publish the result; logs each change of health.
    pub async fn check_all(&self) {
        let mut results: Vec<(Kind, ServerStatus)> = Vec::new();
        for (kind, server) in self.servers.iter() {
            results.push((*kind, self.check_one(*kind, server).await));
        }
        let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
        for connector in status.iter_mut() {
            let kind = if connector.name == ANALYSIS { Kind::Cortex } else { Kind::Misp };
            let servers: Vec<ServerStatus> = results.iter().filter(|(k, _)| *k == kind).map(|(_, s)| s.clone()).collect();
            if servers.is_empty() {
                continue;
            }
            let health = Health::of_servers(servers.iter().map(|s| s.status));
            if health != connector.status {
                tracing::warn!(connector = %connector.name, from = ?connector.status, to = ?health, "connector health changed");
            }
            connector.status = health;
            connector.servers = servers;
        }
    }

    /// Check now, then every [`CHECK_INTERVAL`] until `shutdown`.
    pub fn spawn_checker(&self, shutdown: CancellationToken) {
        if self.servers.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                this.check_all().await;
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(CHECK_INTERVAL) => {}
                }
            }
        });
    }
}
