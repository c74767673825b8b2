//! Connectors to other instances (MISP, external Cortex) and their health, checked every
//! minute: a server is OK or ERROR; a connector is OK when all its servers answer, WARNING when
//! some do, ERROR when none does.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use app::model::{ConnectorStatus, Health, ServerStatus};
use tokio_util::sync::CancellationToken;

use crate::config::{MispConfig, RemoteServer, Settings};
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

/// One server to check: a remote server with the HTTP client that reaches it (its CA), or a
/// MISP feed directory (healthy when its manifest reads).
#[derive(Clone)]
struct Target {
    kind: Kind,
    server: RemoteServer,
    feed: Option<std::path::PathBuf>,
    http: Option<reqwest::Client>,
}

#[derive(Clone)]
pub struct Connectors {
    servers: Arc<RwLock<Vec<Target>>>,
    status: Arc<RwLock<Vec<ConnectorStatus>>>,
    http: reqwest::Client,
}

/// The HTTP client for a MISP connection: its CA file, or no verification when asked.
pub fn misp_client(m: &MispConfig, timeout: Duration) -> std::result::Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = &m.ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("CA file {}: {e}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| format!("CA file {}: {e}", ca.display()))?;
        b = b.add_root_certificate(cert);
    }
    if m.skip_verify {
        tracing::warn!(misp = %m.name, "TLS certificates of this MISP server are not verified (skip_verify)");
        b = b.danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| format!("HTTP client: {e}"))
}

fn misp_targets(list: &[MispConfig]) -> Vec<Target> {
    list.iter()
        .map(|m| Target {
            kind: Kind::Misp,
            server: m.remote().unwrap_or_else(|| RemoteServer { name: m.name.clone(), url: String::new(), key: None }),
            feed: if m.url.is_none() { m.feed.clone() } else { None },
            http: misp_client(m, Duration::from_secs(5)).ok(),
        })
        .collect()
}

fn pending(s: &RemoteServer) -> ServerStatus {
    ServerStatus { name: s.name.clone(), url: s.url.clone(), version: None, status: Health::Warning, message: Some("not checked yet".into()), checked_at: None }
}

impl Service for Connectors {
    fn make(state: &AppState) -> Self {
        Connectors::new(&state.settings)
    }
}

impl Connectors {
    pub fn new(settings: &Settings) -> Self {
        let mut servers: Vec<Target> = settings.cortex.iter().map(|s| Target { kind: Kind::Cortex, server: s.clone(), feed: None, http: None }).collect();
        servers.extend(misp_targets(&settings.misp));
        let misp: Vec<RemoteServer> = servers.iter().filter(|t| t.kind == Kind::Misp).map(|t| t.server.clone()).collect();
        let connector = |name: &str, list: &[RemoteServer]| {
            let servers: Vec<ServerStatus> = list.iter().map(pending).collect();
            ConnectorStatus {
                name: name.into(),
                enabled: !list.is_empty(),
                status: if list.is_empty() { Health::Ok } else { Health::Warning },
                servers,
            }
        };
        let status = vec![connector(ANALYSIS, &settings.cortex), connector(MISP, &misp)];
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Connectors { servers: Arc::new(RwLock::new(servers)), status: Arc::new(RwLock::new(status)), http }
    }

    /// The MISP connections changed (an administrator edited them): check these from now on.
    pub fn set_misp(&self, list: &[MispConfig]) {
        let targets = misp_targets(list);
        {
            let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = status.iter_mut().find(|c| c.name == MISP) {
                let old = std::mem::take(&mut c.servers);
                c.servers = targets
                    .iter()
                    .map(|t| old.iter().find(|s| s.name == t.server.name && s.url == t.server.url).cloned().unwrap_or_else(|| pending(&t.server)))
                    .collect();
                c.enabled = !targets.is_empty();
                c.status = if targets.is_empty() { Health::Ok } else { Health::of_servers(c.servers.iter().map(|s| s.status)) };
            }
        }
        let mut servers = self.servers.write().unwrap_or_else(|e| e.into_inner());
        servers.retain(|t| t.kind != Kind::Misp);
        servers.extend(targets);
    }

    pub fn snapshot(&self) -> Vec<ConnectorStatus> {
        self.status.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn check_one(&self, target: &Target) -> ServerStatus {
        let (kind, server) = (target.kind, &target.server);
        if let Some(feed) = &target.feed {
            let manifest = feed.join("manifest.json");
            let read = tokio::fs::read(&manifest).await.map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&b).map_err(|e| e.to_string()));
            let (status, message) = match read {
                Ok(m) => (Health::Ok, Some(format!("feed of {} events", m.len()))),
                Err(e) => (Health::Error, Some(format!("{}: {e}", manifest.display()))),
            };
            return ServerStatus { name: server.name.clone(), url: feed.display().to_string(), version: None, status, message, checked_at: Some(now_millis()) };
        }
        let base = server.url.trim_end_matches('/');
        let (url, version_path): (String, &[&str]) = match kind {
            Kind::Cortex => (format!("{base}/api/status"), &["versions", "Cortex"]),
            Kind::Misp => (format!("{base}/servers/getVersion"), &["version"]),
        };
        let mut req = target.http.as_ref().unwrap_or(&self.http).get(&url).header("Accept", "application/json");
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
        let targets = self.servers.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut results: Vec<(Kind, ServerStatus)> = Vec::new();
        for target in &targets {
            results.push((target.kind, self.check_one(target).await));
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
