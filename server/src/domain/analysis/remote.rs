//! External Cortex servers (`[[cortex]]` in the configuration, as TheHive 3 used them): their
//! analyzers appear beside the local ones (every organisation may use them), a job on one is
//! queued like a local one, sent with Cortex's API and followed with `waitreport`; its report
//! and extracted files are stored here like a local job's. A job found running at start is
//! followed again (the remote job's id is kept), not sent twice.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use app::model::JobReport;
use serde_json::{Map, Value, json};

use super::job::{Row, Runner};
use super::run::{MAX_ARTIFACTS, artifact, failure, success, text_of};
use crate::core::analysis::cortex_client::{CortexClient, RemoteAnalyzer, RemoteFile};
use crate::core::attachment::{self, StoredFile};
use crate::core::error::{Error, Result};
use crate::core::state::{AppState, Service};
use crate::vars;

/// How long a server's analyzer list is reused.
const LIST_TTL: Duration = Duration::from_secs(60);
/// How long one `waitreport` waits; a job is followed until it ends.
const WAIT_STEP: Duration = Duration::from_secs(60);
/// A remote job not finished after this is given up.
const GIVE_UP: Duration = Duration::from_secs(24 * 3600);

type Listed = (Instant, std::result::Result<Vec<RemoteAnalyzer>, String>);

pub struct Remotes {
    clients: Vec<(String, CortexClient)>,
    lists: RwLock<HashMap<String, Listed>>,
}

impl Service for Remotes {
    fn make(state: &AppState) -> Self {
        let clients = state
            .settings
            .cortex
            .iter()
            .map(|s| (s.name.clone(), CortexClient::new(&s.name, &s.url, s.key.as_ref().map(|k| k.expose()).unwrap_or_default())))
            .collect();
        Remotes { clients, lists: RwLock::new(HashMap::new()) }
    }
}

impl Remotes {
    fn client(&self, server: &str) -> Option<&CortexClient> {
        self.clients.iter().find(|(n, _)| n == server).map(|(_, c)| c)
    }

    /// A server's analyzers (kept a minute); an unreachable server has none.
    async fn list(&self, server: &str) -> std::result::Result<Vec<RemoteAnalyzer>, String> {
        if let Some((at, l)) = self.lists.read().unwrap_or_else(|e| e.into_inner()).get(server) {
            if at.elapsed() < LIST_TTL {
                return l.clone();
            }
        }
        let client = self.client(server).ok_or_else(|| format!("no Cortex server {server}"))?;
        let fresh = client.analyzers().await.map_err(|e| e.to_string());
        if let Err(e) = &fresh {
            tracing::warn!(server, error = %e, "external Cortex analyzers could not be listed");
        }
        self.lists.write().unwrap_or_else(|e| e.into_inner()).insert(server.to_string(), (Instant::now(), fresh.clone()));
        fresh
    }
}

/// Every external server's analyzers: `(server, analyzer)`.
pub async fn analyzers(state: &AppState) -> Vec<(String, RemoteAnalyzer)> {
    let remotes = state.service::<Remotes>();
    let mut out = Vec::new();
    for (name, _) in &remotes.clients {
        if let Ok(list) = remotes.list(name).await {
            out.extend(list.into_iter().map(|a| (name.clone(), a)));
        }
    }
    out
}

/// Whether `server` is a configured external Cortex.
pub fn is_server(state: &AppState, server: &str) -> bool {
    state.settings.cortex.iter().any(|s| s.name == server)
}

/// The runner of a job on an external server's analyzer (its id or name).
pub(super) async fn runner(state: &AppState, server: &str, key: &str) -> Result<Runner> {
    if !is_server(state, server) {
        return Err(Error::NotFound(format!("Cortex server {server} not found")));
    }
    let list = state.service::<Remotes>().list(server).await.map_err(|e| Error::BadRequest(format!("Cortex server {server} cannot be reached: {e}")))?;
    let a = list.into_iter().find(|a| a.id == key || a.name == key).ok_or_else(|| Error::not_found("analyzer", key))?;
    Ok(Runner {
        cortex_id: server.to_string(),
        lane: format!("cortex:{server}:{}", a.id),
        analyzer_id: a.id,
        analyzer_name: a.name.clone(),
        definition: a.name,
        data_types: a.data_type_list,
        cache_minutes: 0,
        over_quota: app::model::OverQuota::Queue,
    })
}

/// Send the job to its server (unless it already was), wait for its end, and make its report
/// (extracted files downloaded and stored here).
pub(super) async fn run(state: &AppState, row: &Row) -> (JobReport, Vec<StoredFile>) {
    match follow(state, row).await {
        Ok(done) => done,
        Err(message) => (failure(message, None), Vec::new()),
    }
}

async fn follow(state: &AppState, row: &Row) -> std::result::Result<(JobReport, Vec<StoredFile>), String> {
    let job = &row.job;
    let remotes = state.service::<Remotes>();
    let client = remotes.client(&job.cortex_id).ok_or_else(|| format!("Cortex server {} is no longer configured", job.cortex_id))?;
    let remote_id = match &row.remote_job {
        Some(id) => id.clone(),
        None => {
            let mut input = Map::new();
            input.insert("dataType".into(), json!(job.data_type));
            input.insert("tlp".into(), json!(job.tlp));
            input.insert("pap".into(), json!(job.pap));
            input.insert("message".into(), json!(job.message.clone().unwrap_or_default()));
            input.insert("parameters".into(), Value::Object(job.parameters.clone()));
            let file = match (&job.attachment, &job.data) {
                (Some(a), _) => {
                    let path = attachment::content_path(state, &a.id).map_err(|e| e.to_string())?;
                    let bytes = tokio::fs::read(&path).await.map_err(|e| format!("the file cannot be read: {e}"))?;
                    Some(RemoteFile { name: a.name.clone(), content_type: a.content_type.clone(), bytes })
                }
                (None, Some(d)) => {
                    input.insert("data".into(), json!(d));
                    None
                }
                (None, None) => return Err("the job has neither data nor a file".into()),
            };
            let sent = client.run(&job.analyzer_id, &Value::Object(input), file, false).await.map_err(|e| e.to_string())?;
            let id = sent.get("id").or_else(|| sent.get("_id")).and_then(Value::as_str).ok_or("the server answered no job id")?.to_string();
            // Kept, so a restart follows this job instead of sending it again.
            let _ = state
                .store
                .query("UPDATE type::record('job', $id) SET remoteJob = $r, cortexJobId = $r", vars! { "id" => job.id, "r" => id })
                .await;
            id
        }
    };
    let started = Instant::now();
    let done = loop {
        let v = client.wait_report(&remote_id, WAIT_STEP).await.map_err(|e| e.to_string())?;
        match v.get("status").and_then(Value::as_str) {
            Some("Success") | Some("Failure") => break v,
            Some("Deleted") => return Err(format!("the job was deleted on {}", job.cortex_id)),
            _ if started.elapsed() > GIVE_UP => return Err(format!("no report from {} after a day", job.cortex_id)),
            _ => {}
        }
    };
    let report = done.get("report").cloned().unwrap_or(Value::Null);
    if done.get("status").and_then(Value::as_str) != Some("Success") {
        let message = report.get("errorMessage").and_then(Value::as_str).unwrap_or("the analyzer failed").to_string();
        return Ok((failure(message, report.get("input").map(text_of)), Vec::new()));
    }
    let mut stored = Vec::new();
    let mut artifacts = Vec::new();
    for a in report.get("artifacts").and_then(Value::as_array).into_iter().flatten().take(MAX_ARTIFACTS) {
        let Some(file) = a.get("attachment").filter(|f| f.is_object()) else {
            artifacts.extend(artifact(a, None));
            continue;
        };
        let (Some(id), Some(name)) = (file.get("id").and_then(Value::as_str), file.get("name").and_then(Value::as_str)) else { continue };
        let bytes = client.download(id).await.map_err(|e| e.to_string())?;
        match attachment::save_bytes(state, name, file.get("contentType").and_then(Value::as_str), bytes).await {
            Ok(f) => {
                artifacts.extend(artifact(a, Some(f.attachment().clone())));
                stored.push(f);
            }
            Err(e) => tracing::warn!(error = ?e, "an external analyzer's file artifact could not be stored"),
        }
    }
    Ok((success(&report, artifacts), stored))
}
