//! MISP both ways: events in as alerts and kept current, cases out as events updated in place,
//! sightings.
//!
//! Rules (all here, whatever the adapter):
//! - Connections (`[[misp]]` in the configuration file, or added by a platform administrator in
//!   the UI; a UI connection of the same name replaces the file's) are a server (`url` + `key`)
//!   or a feed directory (`feed`). Each has a purpose: import, export or both.
//! - Import ([`import`]): every `interval`, each importing connection is polled for what changed
//!   since its last poll (a server: events published since then; a feed: manifest entries whose
//!   `timestamp` is newer than their alert's). An event becomes the alert `(misp, <connection>,
//!   <event id or uuid>)` ([`event::to_alert`]); a changed event makes its alert exactly the
//!   event again (observables added and removed, counted as an occurrence), and when the alert
//!   became a followed case, the new observables are added to the case with a log entry in its
//!   "MISP" task. Filters (tags, creator organisation, age) skip events.
//! - Export ([`export`]): a case's IOC observables become a MISP event; exporting again updates
//!   the same event (attributes added, the ones Waggle added and no longer has deleted, tags
//!   kept in sync). The case remembers the event and the time of its last export.
//! - Sightings ([`sighting`]): an observable marked sighted (any API, the UI) is sighted on
//!   every exporting MISP server that knows its value; the observable keeps the count.
//! - Connections are managed by platform administrators; imports act in the connection's
//!   organisation as `misp:<name>`; exports and their list need the case's write rights.

pub mod client;
pub mod event;
mod export;
mod import;
mod sighting;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use app::model::{MispServer, MispServerInput, MispServerState, MispSyncReport};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use export::{export, exports_of};
pub use import::{check_can_import, import_case, sync_connection};

use crate::config::{MispConfig, Secret};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::secret::SecretBox;
use crate::core::state::{AppState, Service};
use crate::core::store::now_millis;
use crate::domain::platform::connector::{Connectors, MISP};
use crate::vars;

/// The MISP connections and what their last synchronisations did.
pub struct Misp {
    file: Vec<MispConfig>,
    ui: RwLock<Vec<MispConfig>>,
    reports: Mutex<HashMap<String, MispSyncReport>>,
    /// One synchronisation at a time in this process.
    running: tokio::sync::Mutex<()>,
    /// Each server connection's HTTP client, made once (its CA file read, a `skip_verify`
    /// warning logged, once) with the settings it was made from.
    clients: Mutex<HashMap<String, (MispConfig, Arc<client::Client>)>>,
}

impl Service for Misp {
    fn make(state: &AppState) -> Self {
        Misp { file: state.settings.misp.clone(), ui: RwLock::new(Vec::new()), reports: Mutex::default(), running: tokio::sync::Mutex::new(()), clients: Mutex::default() }
    }
}

impl Misp {
    /// Every connection in effect, with where it is defined (`file` or `ui`).
    pub fn connections(&self) -> Vec<(MispConfig, &'static str)> {
        let ui = self.ui.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut out: Vec<(MispConfig, &'static str)> = self.file.iter().filter(|f| !ui.iter().any(|u| u.name == f.name)).map(|f| (f.clone(), "file")).collect();
        out.extend(ui.into_iter().map(|u| (u, "ui")));
        out
    }

    pub fn get(&self, name: &str) -> Option<MispConfig> {
        self.connections().into_iter().map(|(c, _)| c).find(|c| c.name == name)
    }

    /// The HTTP client of server connection `c`: the one made before, unless `c`'s settings
    /// changed since.
    pub(crate) fn client(&self, c: &MispConfig) -> Result<Arc<client::Client>> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, client)) = clients.get(&c.name).filter(|(made_from, _)| made_from == c) {
            return Ok(client.clone());
        }
        let client = Arc::new(client::Client::new(c)?);
        clients.insert(c.name.clone(), (c.clone(), client.clone()));
        Ok(client)
    }

    fn record(&self, report: MispSyncReport) {
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).insert(report.server.clone(), report);
    }

    pub fn last_report(&self, name: &str) -> Option<MispSyncReport> {
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }
}

fn platform_admin(caller: &Caller, action: &str) -> Result<()> {
    if caller.is_platform_admin() { Ok(()) } else { Err(Error::forbidden(action)) }
}

fn secrets(state: &AppState) -> Result<SecretBox> {
    SecretBox::load_or_create(&state.settings.data_dir).map_err(|e| Error::Internal(anyhow::anyhow!("the secrets key cannot be read: {e}")))
}

/// A connection an administrator saved, as stored (`misp_server`, keyed by name; the key
/// sealed).
#[derive(Serialize, Deserialize)]
struct StoredConnection {
    server: MispServer,
    #[serde(default)]
    key: Option<String>,
}

/// At start: the connections administrators saved, next to the file's.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let mut r = state.store.query("SELECT server, key FROM misp_server", vars! {}).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let rows: Vec<StoredConnection> = r.rows(0).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut list = Vec::new();
    for row in rows {
        let key = match row.key {
            Some(k) => Some(Secret::from(secrets(state).and_then(|b| b.open(&k).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))).map_err(|e| anyhow::anyhow!("MISP {}: its key: {e:?}", row.server.name))?)),
            None => None,
        };
        list.push(MispConfig::from_view(&row.server, key));
    }
    let misp = state.service::<Misp>();
    *misp.ui.write().unwrap_or_else(|e| e.into_inner()) = list;
    let connections: Vec<MispConfig> = misp.connections().into_iter().map(|(c, _)| c).collect();
    // A removed or changed connection's client (and the key it holds) is not kept.
    misp.clients.lock().unwrap_or_else(|e| e.into_inner()).retain(|name, (made_from, _)| connections.iter().any(|c| &c.name == name && c == made_from));
    state.service::<Connectors>().set_misp(&connections);
    Ok(())
}

/// Every connection with its health and last synchronisation (platform administrators).
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<MispServerState>> {
    platform_admin(caller, "see the MISP connections")?;
    let misp = state.service::<Misp>();
    let health = state.service::<Connectors>().snapshot();
    let servers: Vec<app::model::ServerStatus> = health.into_iter().filter(|c| c.name == MISP).flat_map(|c| c.servers).collect();
    Ok(misp
        .connections()
        .into_iter()
        .map(|(c, origin)| {
            let h = servers.iter().find(|s| s.name == c.name);
            MispServerState {
                server: c.view(origin),
                status: h.map(|h| h.status).unwrap_or(app::model::Health::Warning),
                version: h.and_then(|h| h.version.clone()),
                message: h.and_then(|h| h.message.clone()),
                last_sync: misp.last_report(&c.name),
            }
        })
        .collect())
}

/// The names of the connections a case may be exported to (the export dialog).
pub fn export_targets(state: &AppState) -> Vec<String> {
    state.service::<Misp>().connections().into_iter().filter(|(c, _)| c.url.is_some() && c.purpose.exports()).map(|(c, _)| c.name).collect()
}

/// Add or change a connection (platform administrators); a file connection changed here is
/// replaced by the saved one.
pub async fn save(state: &AppState, caller: &Caller, input: MispServerInput) -> Result<MispServer> {
    platform_admin(caller, "change the MISP connections")?;
    let misp = state.service::<Misp>();
    let name = input.server.name.trim().to_string();
    let current = misp.get(&name);
    let key = match input.key.as_deref() {
        Some("") => None,
        Some(k) => Some(Secret::from(k.trim())),
        None => current.as_ref().and_then(|c| c.key.clone()),
    };
    let mut view = input.server.clone();
    view.name = name.clone();
    view.tags = view.tags.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    let config = MispConfig::from_view(&view, key);
    config.check().map_err(|e| Error::BadRequest(format!("MISP {name}: {e}")))?;
    // The CA file must read and parse now, not at the first poll.
    if config.ca_file.is_some() {
        crate::domain::platform::connector::misp_client(&config, std::time::Duration::from_secs(5)).map_err(|e| Error::BadRequest(format!("MISP {name}: {e}")))?;
    }
    let sealed = match &config.key {
        Some(k) => Some(secrets(state)?.try_seal(k.expose()).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?),
        None => None,
    };
    let mut stored_view = config.view("ui");
    stored_view.key_set = false;
    state
        .store
        .query("UPSERT type::record('misp_server', $name) CONTENT { server: $server, key: $key, changedBy: $by, changedAt: $at }", vars! { "name" => name, "server" => stored_view, "key" => sealed, "by" => caller.login, "at" => now_millis() })
        .await?;
    crate::core::auth::events::record(&state.store, crate::core::auth::events::Kind::SettingsChanged, &caller.login, Some(&caller.login), None, Some(&format!("MISP connection {name} saved"))).await;
    load(state).await.map_err(Error::Internal)?;
    state.service::<Connectors>().check_all().await;
    Ok(config.view("ui"))
}

/// Remove a connection saved in the UI (a file connection stays: it is in the file).
pub async fn remove(state: &AppState, caller: &Caller, name: &str) -> Result<()> {
    platform_admin(caller, "change the MISP connections")?;
    let mut r = state.store.query("DELETE type::record('misp_server', $name) RETURN BEFORE", vars! { "name" => name }).await?;
    let gone: Vec<Value> = r.rows(0)?;
    if gone.is_empty() {
        return Err(if state.service::<Misp>().get(name).is_some() {
            Error::BadRequest(format!("MISP {name} is defined in the configuration file: remove it there"))
        } else {
            Error::not_found("MISP connection", name)
        });
    }
    crate::core::auth::events::record(&state.store, crate::core::auth::events::Kind::SettingsChanged, &caller.login, Some(&caller.login), None, Some(&format!("MISP connection {name} removed"))).await;
    load(state).await.map_err(Error::Internal)
}

/// Synchronise every importing connection now (platform administrators; `full`: every event
/// again, not only what changed).
pub async fn sync_all(state: &AppState, caller: &Caller, full: bool) -> Result<Vec<MispSyncReport>> {
    platform_admin(caller, "synchronise MISP")?;
    let mut out = Vec::new();
    for (c, _) in state.service::<Misp>().connections() {
        if c.purpose.imports() {
            out.extend(sync_connection(state, &c, full, false).await);
        }
    }
    Ok(out)
}

/// Whether a synchronisation runs in this process now.
pub fn sync_in_progress(state: &AppState) -> bool {
    state.service::<Misp>().running.try_lock().is_err()
}

/// The poll loop (each connection at its interval, the first poll at start) and the sighting
/// listener, until `shutdown`.
pub fn start(state: &AppState, shutdown: CancellationToken) {
    sighting::spawn(state, shutdown.clone());
    let state = state.clone();
    tokio::spawn(async move {
        let mut next: HashMap<String, std::time::Instant> = HashMap::new();
        loop {
            let now = std::time::Instant::now();
            for (c, _) in state.service::<Misp>().connections() {
                if !c.purpose.imports() {
                    continue;
                }
                let due = next.get(&c.name).is_none_or(|t| *t <= now);
                if due {
                    // A stop does not wait for a synchronisation (each alert is its own transaction).
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = sync_connection(&state, &c, false, true) => {}
                    }
                    let every = crate::config::parse_duration(&c.interval).unwrap_or(std::time::Duration::from_secs(3600));
                    next.insert(c.name.clone(), std::time::Instant::now() + every);
                }
                if shutdown.is_cancelled() {
                    return;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            }
        }
    });
}

/// Shared by the import and the sighting listener: the organisation a connection works in.
async fn org_caller(state: &AppState, c: &MispConfig) -> Result<Caller> {
    let name = c.organisation.clone().unwrap_or_else(|| state.settings.org.clone());
    let org = crate::domain::identity::org::by_name(&state.store, &name).await?.ok_or_else(|| Error::BadRequest(format!("MISP {}: organisation {name} does not exist", c.name)))?;
    Ok(Caller::service(&format!("misp:{}", c.name), &org.id, &org.name))
}
